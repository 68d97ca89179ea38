"""Errors page (placeholder until its issue builds it out)."""

from ui.page import start

f = start("Errors", tables=("critical_error_logs",))
