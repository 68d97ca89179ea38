"""The console's pages, defined once: app.py builds st.navigation from them, and a page run on
its own (deep link to a fresh server, see STREAMLIT_NOTES.md) shows the same menu as links."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    url_path: str
    help: str


SECTIONS: dict[str, list[PageSpec]] = {
    "Monitor": [
        PageSpec(
            "pages/health.py",
            "Health",
            ":material/monitor_heart:",
            "health",
            "Service status, uptime, latency and incidents from system_health_status.",
        ),
        PageSpec(
            "pages/errors.py",
            "Errors",
            ":material/error:",
            "errors",
            "Critical errors grouped by fingerprint, with triage and resolution.",
        ),
    ],
    "Scanner": [
        PageSpec(
            "pages/scans.py",
            "Scans",
            ":material/radar:",
            "scans",
            "Scan runs per strategy: status, duration, stalls and failures.",
        ),
        PageSpec(
            "pages/opportunities.py",
            "Opportunities",
            ":material/trending_up:",
            "opportunities",
            "A screener over the opportunity snapshots.",
        ),
    ],
    "Sandbox": [
        PageSpec(
            "pages/sandbox.py",
            "Sandbox",
            ":material/science:",
            "sandbox",
            "Strategy configs: edit, version, compare, activate; test runs and AI chats.",
        ),
        PageSpec(
            "pages/audit.py",
            "Audit log",
            ":material/history:",
            "audit",
            "Every write the console made: who, when, what, before and after.",
        ),
    ],
}


def navigation() -> st.navigation:  # type: ignore[valid-type]
    """st.navigation over every page, sectioned, the first page the default."""
    first = SECTIONS["Monitor"][0]
    pages = {
        section: [
            st.Page(
                p.path,
                title=p.title,
                icon=p.icon,
                url_path=p.url_path,
                help=p.help,
                default=p is first,
            )
            for p in specs
        ]
        for section, specs in SECTIONS.items()
    }
    return st.navigation(pages, position="sidebar")


def fallback_links() -> None:
    """The same menu as page links, for a page Streamlit ran without app.py."""
    with st.sidebar:
        for section, specs in SECTIONS.items():
            st.caption(section)
            for p in specs:
                try:
                    st.page_link(p.path, label=p.title, icon=p.icon)
                except StreamlitAPIException:
                    # The page is not registered in this run mode (a page file run as the
                    # main script, as in a test): the menu is simply left out.
                    return


def nav_link(page: str, label: str, icon: str, query_params: dict[str, str]) -> None:
    """A link to another page with its URL state; where navigation is not set up (a page run on its
    own, see STREAMLIT_NOTES.md) the parameters are shown to paste instead."""
    try:
        st.page_link(page, label=label, icon=icon, query_params=query_params)
    except StreamlitAPIException:
        st.caption(f"{label}: open {page} with these URL parameters")
        st.code("&".join(f"{k}={v}" for k, v in query_params.items()), language=None)
