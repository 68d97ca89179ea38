"""Entry point: routes and frames only (page config, navigation, the shared sidebar)."""

import streamlit as st

from ui.shell import frame, framed

PAGES = {
    "Monitor": [
        st.Page("pages/health.py", title="Health", icon=":material/monitor_heart:", url_path="health",
                default=True, help="Service status, uptime, latency and incidents from system_health_status."),
        st.Page("pages/errors.py", title="Errors", icon=":material/error:", url_path="errors",
                help="Critical errors grouped by fingerprint, with triage and resolution."),
    ],
    "Scanner": [
        st.Page("pages/scans.py", title="Scans", icon=":material/radar:", url_path="scans",
                help="Scan runs per strategy: status, duration, stalls and failures."),
        st.Page("pages/opportunities.py", title="Opportunities", icon=":material/trending_up:",
                url_path="opportunities", help="A screener over the opportunity snapshots."),
    ],
    "Sandbox": [
        st.Page("pages/sandbox.py", title="Sandbox", icon=":material/science:", url_path="sandbox",
                help="Strategy configs: edit, version, compare, activate; test runs and AI chats."),
        st.Page("pages/audit.py", title="Audit log", icon=":material/history:", url_path="audit",
                help="Every write the console made: who, when, what, before and after."),
    ],
}

page = st.navigation(PAGES, position="sidebar")
with framed(frame()):
    page.run()
