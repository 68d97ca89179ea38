"""Opportunities page (placeholder until its issue builds it out)."""

from ui.page import start

f = start("Opportunities", tables=("opportunity_snapshots",))
