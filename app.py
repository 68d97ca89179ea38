"""Entry point: routes and frames only (page config, navigation, the shared sidebar)."""

from ui.kit.auth import refuse_if_misconfigured, show_note
from ui.kit.frame import frame, framed
from ui.kit.nav import navigation
from ui.kit.page import run_guarded

page = navigation()
refuse_if_misconfigured()  # broken sign-in settings: a clear message on every page, nothing else
f = frame()
show_note(f.identity)
with framed(f):
    run_guarded(page.run, page.title)
