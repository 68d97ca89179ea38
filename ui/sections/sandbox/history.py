"""Sandbox sections: version history, comparison of two versions, rollback, outcomes per version."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.auth import EDIT_CONFIG
from db.commands import sandbox as cmd
from db.errors import ConflictError, PermissionDenied, ValidationFailed
from db.queries import meta
from db.queries import sandbox as q
from ui.kit.diff import diff
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, freshness, report_refusal, show_json, to_tz
from ui.sections.sandbox.form import flash


def history(f: Frame, row: dict[str, Any]) -> None:
    """Versions with who, when and note; compare any two; roll back to one."""
    hist = data.fetch(q.config_history, config_id=row["id"])
    freshness(hist, key="sandbox_history", tz=f.tz)
    if "console_config_history" not in data.fetch(meta.existing_tables):
        st.warning(meta.table_missing_message("console_config_history"), icon="⚠️")
    st.dataframe(
        to_tz(hist, f.tz)[
            ["version", "changed_by", "changed_at", "note", "name", "strategy_id", "user_id"]
        ],
        hide_index=True,
    )
    export_buttons(hist, key="sandbox_history_export", filename="config_history")
    known = hist[
        hist["version"].notna()
    ]  # a version stored as text ('v2-not-an-int') has no number
    versions = [int(v) for v in known["version"]]
    if len(versions) >= 2:
        _compare(known, versions)
    if pd.isna(row["version"]):
        st.caption(
            "This config's stored version is not a whole number: it cannot be rolled back. "
            "Clone it to keep a copy as a new config."
        )
    elif versions:
        _rollback(f, row, known, versions)


def _compare(hist: pd.DataFrame, versions: list[int]) -> None:
    st.subheader("Compare versions")
    c1, c2, c3 = st.columns([1, 1, 1])
    a = c1.selectbox("Version a", versions, index=1, key="sandbox_cmp_a")
    b = c2.selectbox("Version b", versions, index=0, key="sandbox_cmp_b")
    changed_only = c3.toggle("Changed keys only", value=True, key="sandbox_cmp_changed")
    by_version = hist.set_index("version")
    rows = []
    for field in ("name", "strategy_id", "user_id"):
        va, vb = str(by_version.loc[a, field]), str(by_version.loc[b, field])
        if va != vb or not changed_only:
            rows.append({"key": f"({field})", "a": va, "b": vb, "changed": va != vb})
    table = pd.concat(
        [
            pd.DataFrame(rows, columns=["key", "a", "b", "changed"]),
            diff(
                by_version.loc[a, "config_data"],
                by_version.loc[b, "config_data"],
                changed_only=changed_only,
            ),
        ],
        ignore_index=True,
    )
    if table.empty:
        st.caption("The two versions are the same.")
    else:
        st.dataframe(table, hide_index=True, key="sandbox_cmp_table")


def _rollback(f: Frame, row: dict[str, Any], hist: pd.DataFrame, versions: list[int]) -> None:
    st.subheader("Roll back")
    older = [v for v in versions if v != int(row["version"])]
    if not older:
        st.caption("There is only one version.")
        return
    target = st.selectbox("Restore the content of version", older, key="sandbox_rb_version")
    with st.expander("Content of that version"):
        show_json(hist.set_index("version").loc[target, "config_data"], key="sandbox_rb_content")
    note = st.text_input("Note", key="sandbox_rb_note")
    if st.button(
        f"Roll back to version {target} (makes version {int(row['version']) + 1})",
        key="sandbox_rb_go",
        disabled=not f.identity.can(EDIT_CONFIG),
    ):
        try:
            res = cmd.rollback_config(
                data.write_engine(),
                identity=f.identity,
                config_id=row["id"],
                loaded_version=int(row["version"]),
                to_version=int(target),
                note=note or None,
            )
        except (ConflictError, PermissionDenied, ValidationFailed, SQLAlchemyError) as exc:
            report_refusal(exc)
            return
        flash(f"Rolled back: version {res.version} has the content of version {target}.")
        data.invalidate("sandbox", "meta")
        st.rerun()


def outcomes(f: Frame, row: dict[str, Any]) -> None:
    """What each version produced, per activation window."""
    out = data.fetch(q.outcomes, config_id=row["id"])
    freshness(out, key="sandbox_outcomes", tz=f.tz)
    if out.empty:
        st.info("No versions known for this config.", icon="ℹ️")
        return
    if out["errors_logged"].isna().all() and "critical_error_logs" not in data.fetch(
        meta.existing_tables
    ):
        st.warning(
            "Errors logged are not shown: " + meta.table_missing_message("critical_error_logs"),
            icon="⚠️",
        )
    st.caption(
        "Windows start at a version change or an activation change; errors logged count every "
        "critical error in the window (errors do not name a config)."
    )
    st.dataframe(to_tz(out, f.tz), hide_index=True)
    export_buttons(out, key="sandbox_outcomes_export", filename="config_outcomes")
