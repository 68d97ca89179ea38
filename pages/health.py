"""Health page (placeholder until its issue builds it out)."""

from ui.page import start

f = start("Health", tables=("system_health_status",))
