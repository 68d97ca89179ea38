"""Scans: scan runs per strategy (status, duration, stalls, failures), one scan's detail, comparisons."""

from ui.kit.page import start
from ui.sections import scans as ui

f = start("Scans", tables=("scan_sessions",))

view = ui.controls(f)
ui.notices(view, f)
ui.export_panel(view, f)
ui.runs_and_detail(view, f)
ui.strategy_panel(f, view.thresholds)
