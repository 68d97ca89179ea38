"""Opportunities: a screener over the opportunity snapshots (filters, sort and page in the URL)."""

from ui.kit.page import start
from ui.sections import opportunities as ui

f = start("Opportunities", tables=("opportunity_snapshots",))

ui.freshness_banner(f)
flt, view = ui.controls(f)
ui.funnel_panel(flt)
ui.table_and_detail(flt, view, f)
ui.charts_panel(flt)
ui.export_panel(flt, view)
