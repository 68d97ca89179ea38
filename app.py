"""Entry point: routes and frames only (page config, navigation, the shared sidebar)."""

from ui.nav import navigation
from ui.page import run_guarded
from ui.shell import frame, framed

page = navigation()
with framed(frame()):
    run_guarded(page.run, page.title)
