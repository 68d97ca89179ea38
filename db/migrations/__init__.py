"""The backend seed's migrations, rewritten to produce correct DDL on every engine."""
