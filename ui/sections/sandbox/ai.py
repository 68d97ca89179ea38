"""Sandbox sections: AI conversations as a chat (plain text only) and their totals per config and model."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from db import data
from db.queries import sandbox as q
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, fmt_count, freshness, local_time


def _cost(value: Any, raw: Any) -> str:
    if value is None or pd.isna(value):
        return f"cost unreadable ({raw})" if raw is not None else "cost unknown"
    return f"${value:.4f}"


def conversations(f: Frame, row: dict[str, Any]) -> None:
    """The config's conversations as a chat, with model, tokens and cost under each answer."""
    chats = data.fetch(q.ai_conversations, config_id=row["id"])
    freshness(chats, key="sandbox_ai", tz=f.tz)
    totals = data.fetch(q.ai_totals, config_id=row["id"])
    if not totals.empty:
        c1, c2, c3 = st.columns(3)
        c1.metric("Conversations", fmt_count(int(totals["conversations"].sum())))
        c2.metric("Tokens", fmt_count(int(totals["tokens"].fillna(0).sum())))
        c3.metric("Cost (USD)", f"${totals['cost_usd'].fillna(0).sum():.4f}")
        st.dataframe(
            totals[["model_used", "conversations", "tokens", "cost_usd", "unparsed_costs"]],
            hide_index=True,
        )
    if chats.empty:
        st.info(
            "No AI conversations for this config (the backend does not persist them at its HEAD).",
            icon="ℹ️",
        )
        return
    st.caption(
        f"The latest {len(chats)} conversation(s), oldest first. Messages are shown as plain text."
    )
    for chat in chats.itertuples():
        with st.chat_message("user"):
            st.text(chat.user_message or "")
        with st.chat_message("assistant"):
            st.text(chat.ai_response or "")
            st.text(
                f"{local_time(chat.created_at, f.tz)} · {chat.model_used or 'unknown model'} · "
                f"{'' if pd.isna(chat.tokens_used) else int(chat.tokens_used)} tokens · "
                f"{_cost(chat.cost_usd, chat.estimated_cost)}"
            )
    export_buttons(chats, key="sandbox_ai_export", filename="ai_conversations")


def all_totals(f: Frame) -> None:
    """Totals per config and model over every config."""
    totals = data.fetch(q.ai_totals)
    freshness(totals, key="sandbox_ai_totals", tz=f.tz)
    if totals.empty:
        st.info("No AI conversations in this database.", icon="ℹ️")
        return
    st.dataframe(totals, hide_index=True)
    export_buttons(totals, key="sandbox_ai_totals_export", filename="ai_totals")
