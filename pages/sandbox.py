"""Sandbox: strategy configs (edit, version, compare, roll back, activate), their test runs, outcomes and
AI conversations, the historical cache and usage. Writes are permission-checked and audited in db.commands."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db import data
from db.queries import sandbox as q
from ui.kit import urlstate
from ui.kit.page import start
from ui.kit.widgets import guard
from ui.sections.sandbox import ai as sandbox_ai
from ui.sections.sandbox import cache as sandbox_cache
from ui.sections.sandbox import configs as sb
from ui.sections.sandbox import form as sandbox_form
from ui.sections.sandbox import history as sandbox_history
from ui.sections.sandbox import runs as sandbox_runs

f = start("Sandbox", tables=("sandbox_strategy_configs",))
sandbox_form.show_flash()

CONFIG_VIEWS = {
    "edit": "Edit",
    "history": "History",
    "runs": "Test runs",
    "outcomes": "Outcomes",
    "ai": "AI chats",
}
GLOBAL_VIEWS = {"ai_totals": "AI totals", "cache": "Historical cache", "usage": "Usage"}
VIEWS = {**CONFIG_VIEWS, **GLOBAL_VIEWS}


def _views() -> str:
    view = urlstate.choice("view", list(VIEWS), "edit")
    picked = st.segmented_control(
        "View", list(VIEWS), default=view, format_func=VIEWS.get, key="sandbox_view"
    )
    view = picked or view
    urlstate.put(view=None if view == "edit" else view)
    return view


def _config_views(view: str, config_id: str, configs: pd.DataFrame) -> None:
    if config_id == sandbox_form.NEW:
        st.subheader("New config")
        sandbox_form.editor(f, None)
        return
    detail = data.fetch(q.config_detail, config_id=config_id)
    if detail.empty:
        st.warning("That config does not exist (any more). Choose another one.", icon="⚠️")
        sandbox_form.go_to(None)
        return
    row = detail.iloc[0].to_dict()
    listed = configs.loc[configs["id"] == config_id]
    row.update(
        listed.iloc[0][["test_runs", "ai_conversations"]].to_dict() if not listed.empty else {}
    )
    sb.summary(row, f)
    sb.actions(f, row)
    if view == "edit":
        sandbox_form.editor(f, row)
    elif view == "history":
        sandbox_history.history(f, row)
    elif view == "runs":
        sandbox_runs.runs(f, row)
    elif view == "outcomes":
        sandbox_history.outcomes(f, row)
    elif view == "ai":
        sandbox_ai.conversations(f, row)


with guard("Configs"):
    strategy_ids, user_ids, active = sb.filters()
    configs = data.fetch(q.configs, strategy_ids=strategy_ids, user_ids=user_ids, active=active)
    sb.config_list(f, configs, filtered=bool(strategy_ids or user_ids or active != "all"))
    view = _views()
    if view in GLOBAL_VIEWS:
        {
            "ai_totals": sandbox_ai.all_totals,
            "cache": sandbox_cache.cache,
            "usage": sandbox_cache.usage,
        }[view](f)
    else:
        config_id = sb.pick_config(f, configs)
        if config_id:
            with guard(VIEWS[view]):
                _config_views(view, config_id, configs)
        else:
            st.caption(
                "Choose a config above (or a row of the table) to edit it, see its history, runs and chats."
            )
