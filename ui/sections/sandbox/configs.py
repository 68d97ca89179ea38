"""Sandbox page sections: the config list with filters, the selection, activation and deletion."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.auth import ACTIVATE_CONFIG, DELETE_CONFIG, EDIT_CONFIG
from db.commands import sandbox as cmd
from db.errors import ConflictError, PermissionDenied
from db.queries import sandbox as q
from perf.derived import derived
from ui.kit import urlstate
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, freshness, report_refusal, to_tz
from ui.sections.sandbox.form import GOTO, NEW, flash, go_to, start_clone

ACTIVE_CHOICES = ["all", "active", "inactive"]
ACTIVE_WIDTH_PX = 160
PICK_LABELS = "sandbox_pick_labels"  # config id -> picker label, fixed per session
TABLE_PICK = "sandbox_table_pick"  # the table selection last acted on
CONFIRM = "sandbox_confirm"  # (action, config id) waiting for confirmation
LIST_COLUMNS = [
    "name",
    "strategy_id",
    "user_id",
    "version",
    "is_active",
    "updated_at",
    "deployed_at",
    "test_runs",
    "ai_conversations",
]


def filters() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """Strategy, user and active filters (in the URL)."""
    values = data.fetch(q.config_filter_values)
    strategies = sorted(set(values["strategy_id"].dropna()))
    users = sorted(set(values["user_id"].dropna()))
    # Rows are horizontal containers: one block each, where st.columns adds a block per column.
    row = st.container(horizontal=True)
    picked_s = row.multiselect(
        "Strategy",
        strategies,
        default=urlstate.many("strategy", strategies),
        key="sandbox_strategy_filter",
    )
    picked_u = row.multiselect(
        "User", users, default=urlstate.many("user", users), key="sandbox_user_filter"
    )
    active = row.selectbox(
        "Active",
        ACTIVE_CHOICES,
        index=ACTIVE_CHOICES.index(urlstate.choice("active", ACTIVE_CHOICES, "all")),
        key="sandbox_active_filter",
        width=ACTIVE_WIDTH_PX,
    )
    urlstate.put(strategy=picked_s, user=picked_u, active=None if active == "all" else active)
    return tuple(picked_s), tuple(picked_u), active


def config_list(f: Frame, configs: pd.DataFrame, *, filtered: bool = False) -> None:
    """The filtered configs as a table, with freshness and export. Without any config the table is
    still drawn (its headers show what a config has), under a message saying how to create one."""
    freshness(configs, key="sandbox_configs", tz=f.tz)
    if configs.empty:
        st.info(_empty_message(f, filtered=filtered), icon="ℹ️")
    st.dataframe(
        derived(config_table, configs, table=True, tz=f.tz),
        hide_index=True,
        key="sandbox_config_table",
        on_select="rerun",
        selection_mode="single-row",
    )
    if configs.empty:
        return
    picked = tuple(
        st.session_state.get("sandbox_config_table", {}).get("selection", {}).get("rows", [])
    )
    # Act on a click only once: a row that stays ticked must not override a later choice in the picker.
    if picked != st.session_state.get(TABLE_PICK):
        st.session_state[TABLE_PICK] = picked
        if picked and picked[0] < len(configs):
            chosen = str(configs.iloc[picked[0]]["id"])  # a position, resolved to the key at once
            if chosen != urlstate.text("config"):
                go_to(chosen)
                st.rerun()
    export_buttons(configs, key="sandbox_configs_export", filename="sandbox_configs")


def config_table(configs: pd.DataFrame, *, tz: tzinfo) -> pd.DataFrame:
    """The listed columns, times in `tz`."""
    return to_tz(configs, tz)[LIST_COLUMNS]


def _empty_message(f: Frame, *, filtered: bool) -> str:
    if filtered:
        return "No configs match the filters. Clear a filter to see more."
    if f.identity.can(EDIT_CONFIG):
        return 'No configs yet. Create one with the "New config" button below.'
    return "No configs yet. A strategy developer (or an admin) can create the first one."


def pick_config(f: Frame, configs: pd.DataFrame) -> str:
    """The selected config id ('new' in create mode, '' for none), kept in the URL."""
    # The browser keeps a selectbox's choice as its label, so labels must be unique (names repeat in
    # real data) and must not change while the page is open (another session's save renames or
    # re-versions a config): each config keeps the label it had when this session first saw it,
    # and the options keep that label's order.
    names: dict[str, str] = st.session_state.setdefault(PICK_LABELS, {})
    for i, n in zip(configs["id"].astype(str), configs["name"].astype(str), strict=True):
        names.setdefault(i, f"{n}  ·  {i[:8]}")
    if GOTO in st.session_state:
        st.session_state["sandbox_pick"] = st.session_state.pop(GOTO)
    current = st.session_state.get("sandbox_pick", urlstate.text("config"))
    ids = sorted({str(i) for i in configs["id"]}, key=lambda i: (names[i].lower(), i))
    options = ["", NEW, *ids] if f.identity.can(EDIT_CONFIG) else ["", *ids]
    if current and current not in options:
        options.append(current)  # a config outside the filters (or just created) stays selectable
    labels = {"": "(choose a config)", NEW: "➕ New config", **names}
    # The URL decides on a fresh page; afterwards the widget's own state (set through go_to).
    index: dict[str, Any] = (
        {}
        if "sandbox_pick" in st.session_state
        else {"index": options.index(current) if current in options else 0}
    )
    row = st.container(horizontal=True, vertical_alignment="bottom")
    chosen = row.selectbox(
        "Config", options, format_func=lambda v: labels.get(v, v), key="sandbox_pick", **index
    )
    urlstate.put(config=chosen or None)
    if f.identity.can(EDIT_CONFIG) and row.button(
        "New config",
        key="sandbox_new",
        type="primary",
        icon=":material/add:",
        disabled=chosen == NEW,
        width="content",
    ):
        go_to(NEW)
        st.rerun()
    return chosen


def actions(f: Frame, row: dict[str, Any]) -> None:
    """Clone, activate/deactivate and delete buttons, each write behind a confirmation."""
    bar = st.container(horizontal=True)
    if bar.button(
        "Clone",
        key="sandbox_clone",
        icon=":material/content_copy:",
        disabled=not f.identity.can(EDIT_CONFIG),
    ):
        start_clone(row)
        go_to(NEW)
        st.rerun()
    verb = "deactivate" if row["is_active"] else "activate"
    if bar.button(
        verb.capitalize(),
        key="sandbox_toggle",
        icon=":material/power_settings_new:",
        disabled=not f.identity.can(ACTIVATE_CONFIG),
    ):
        st.session_state[CONFIRM] = (verb, row["id"])
    deps = int(row.get("test_runs") or 0) + int(row.get("ai_conversations") or 0)
    if bar.button(
        "Delete",
        key="sandbox_delete",
        icon=":material/delete:",
        disabled=not f.identity.can(DELETE_CONFIG),
        help="Only configs without test runs or AI conversations can be deleted",
    ):
        st.session_state[CONFIRM] = ("delete" if deps == 0 else "blocked", row["id"])
    _confirmation(f, row)


def _confirmation(f: Frame, row: dict[str, Any]) -> None:
    pending = st.session_state.get(CONFIRM)
    if not pending or pending[1] != row["id"]:
        return
    action = pending[0]
    if action == "blocked":
        st.warning(
            "This config has test runs or AI conversations, so it cannot be deleted. "
            "Deactivate it instead?",
            icon="⚠️",
        )
        action = "deactivate" if row["is_active"] else ""
    elif action == "activate":
        st.warning(
            "Activate this config? Any other active config of the same strategy is deactivated "
            "in the same step.",
            icon="⚠️",
        )
    elif action == "deactivate":
        st.warning("Deactivate this config?", icon="⚠️")
    else:
        st.warning(
            "Delete this config for good? Its version history and audit trail are kept.", icon="⚠️"
        )
    st.text(f"{row['name']}  ({row['strategy_id']})")
    c1, c2 = st.columns(2)
    if action and c1.button(f"Yes, {action}", key="sandbox_confirm_yes", type="primary"):
        st.session_state.pop(CONFIRM, None)
        _do(f, action, row)
    if c2.button("Cancel", key="sandbox_confirm_no"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()


def _do(f: Frame, action: str, row: dict[str, Any]) -> None:
    engine = data.write_engine()
    try:
        if action == "delete":
            cmd.delete_config(engine, identity=f.identity, config_id=row["id"])
            go_to(None)
            flash("Config deleted.")
        else:
            others = cmd.set_active(
                engine, identity=f.identity, config_id=row["id"], active=action == "activate"
            )
            if action == "activate":
                flash(
                    "Config activated."
                    + (
                        f" {len(others)} other config(s) of the strategy deactivated."
                        if others
                        else ""
                    )
                )
            else:
                flash("Config deactivated.")
    except (PermissionDenied, ConflictError, SQLAlchemyError) as exc:
        report_refusal(exc)
        return
    data.invalidate("sandbox", "meta")
    st.rerun()


def summary(row: dict[str, Any], f: Frame) -> None:
    """The selected config's state in one line of plain text."""
    deployed = row["deployed_at"]
    when = "never" if pd.isna(deployed) else f"{deployed.astimezone(f.tz):%Y-%m-%d %H:%M}"
    state = "ACTIVE" if row["is_active"] else "inactive"
    version = "? (not a whole number)" if pd.isna(row["version"]) else int(row["version"])
    st.text(
        f"{row['name']} · {row['strategy_id']} · user {row['user_id']} · version {version} · "
        f"{state} · deployed {when}"
    )
