"""Sandbox page (placeholder until its issue builds it out)."""

from ui.page import start

f = start("Sandbox", tables=("sandbox_strategy_configs",))
