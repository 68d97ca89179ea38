"""Scans page (placeholder until its issue builds it out)."""

from ui.page import start

f = start("Scans", tables=("scan_sessions",))
