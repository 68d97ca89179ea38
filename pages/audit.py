"""Audit log page (placeholder until the sandbox issue builds it out)."""

from ui.page import start

f = start("Audit log", tables=("console_audit_log",))
