"""The data layer: the backend's models, engines, settings, queries (reads), commands (writes)
and schema (migrations and indexes)."""
