"""Entry point: routes and frames only (page config, navigation, the shared sidebar)."""

from ui.auth import refuse_if_misconfigured, show_note
from ui.nav import navigation
from ui.page import run_guarded
from ui.shell import frame, framed

page = navigation()
refuse_if_misconfigured()  # broken sign-in settings: a clear message on every page, nothing else
f = frame()
show_note(f.identity)
with framed(f):
    run_guarded(page.run, page.title)
