"""The config editor: one form with structured fields and raw JSON kept in sync, a draft that is
never lost (session state, per config), validation before any write, and the conflict panel."""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import config_schema as cs
from db import data
from db.auth import EDIT_CONFIG
from db.commands import sandbox as cmd
from db.errors import ConflictError, PermissionDenied, ValidationFailed, classify
from db.queries import sandbox as q
from db.types import InvalidJSON
from ui import urlstate
from ui.sandbox_diff import diff
from ui.shell import Frame

DRAFTS = "sandbox_drafts"  # {config id or "new": draft}
DONE = "sandbox_done_tokens"  # {idempotency token: version saved}
FLASH = "sandbox_flash"
NEW = "new"
FIELD_LABELS = {
    "trading.target_dte_range": "Target DTE range (min, max days)",
    "trading.delta_target": "Delta target (0–1)",
    "trading.max_positions": "Max positions",
    "trading.wing_widths": "Wing widths (comma separated)",
    "risk.profit_target": "Profit target (fraction of credit)",
    "risk.loss_limit": "Loss limit (multiple of credit)",
    "universe.primary_symbols": "Primary symbols (comma or space separated)",
    "universe.universe_name": "Universe name",
}


GOTO = "sandbox_goto"  # a config to select on the next run (the picker widget is already drawn in this one)


def go_to(config_id: str | None) -> None:
    """Select `config_id` (None: nothing) from the next run on, in the URL and in the picker."""
    st.session_state[GOTO] = config_id or ""
    if config_id:
        urlstate.put(config=config_id)
    else:
        urlstate.remove("config")


def flash(message: str) -> None:
    """A one-time success message for the next run (our own text only, never database text)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    """Show and clear the pending success message."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message, icon="✅")


def _drafts() -> dict[str, dict[str, Any]]:
    return st.session_state.setdefault(DRAFTS, {})


def _editable_text(config_data: Any) -> str:
    """What the raw editor starts with: stored text that is not JSON is shown as it is, to be fixed.

    A plain str counts too: pandas 3 turns an all-text object column into strings, dropping the
    InvalidJSON marker, and a JSON string is no valid config either.
    """
    if isinstance(config_data, InvalidJSON | str):
        return str(config_data)
    return cs.to_json_text({} if config_data is None else config_data)


def new_draft(row: dict[str, Any] | None, *, name: str | None = None) -> dict[str, Any]:
    """A draft from a config row (or an empty one for a new config)."""
    row = row or {}
    config_data = row.get("config_data")
    loaded = {k: row.get(k) for k in ("name", "strategy_id", "user_id", "config_data")}
    return {"loaded": loaded,
        "config_id": row.get("id"), "loaded_version": int(row.get("version") or 0),
        "name": name if name is not None else str(row.get("name") or ""),
        "strategy_id": str(row.get("strategy_id") or ""), "user_id": str(row.get("user_id") or "default_user"),
        "json": _editable_text(config_data),
        "token": uuid.uuid4().hex, "rev": 0, "errors": {}, "unknown": [], "dotted": [], "conflict": None,
        "dirty": False,
    }


def start_clone(row: dict[str, Any]) -> None:
    """Open the create form pre-filled with a copy of `row`."""
    d = new_draft(row, name=f"Copy of {row.get('name') or ''}"[: cs.NAME_MAX])
    d["config_id"], d["loaded_version"] = None, 0
    _drafts()[NEW] = d


def _draft_for(key: str, row: dict[str, Any] | None) -> dict[str, Any]:
    drafts = _drafts()
    if key not in drafts:
        drafts[key] = new_draft(row)
    return drafts[key]


def _newer_notice(d: dict[str, Any], row: dict[str, Any] | None, key: str) -> None:
    """The form keeps the version it loaded (what the user types is never swapped out under them)."""
    if row is None or d["conflict"] or int(row["version"]) == d["loaded_version"]:
        return
    st.info(f"Version {int(row['version'])} was saved since this form loaded version {d['loaded_version']}.",
            icon="ℹ️")
    if st.button(f"Load version {int(row['version'])} (discard my draft)", key=f"sandbox_loadnew_{key}"):
        _drafts().pop(key, None)
        st.rerun()


def _parsed(text: str) -> Any:
    report = cs.Report()
    value = cs.parse_json(text, report)
    return value if report.ok else None


def _fields(d: dict[str, Any], key: str) -> tuple[dict[str, str], dict[str, str]]:
    shown = cs.fields_from_data(_parsed(d["json"]) or {})
    values = {}
    for section in cs.SECTIONS:
        st.caption(section.capitalize())
        paths = [p for p in FIELD_LABELS if p.startswith(section + ".")]
        row = st.container(horizontal=True)  # one block, where st.columns adds one per column
        for path in paths:
            values[path] = row.text_input(FIELD_LABELS[path], shown[path],
                                         key=f"sandbox_f_{key}_{d['token']}_{d['rev']}_{path}")
    return values, shown


def _merge(d: dict[str, Any], text: str, fields: dict[str, str], shown: dict[str, str]) -> str:
    """The JSON after a submit: the edited text with the changed structured fields written in."""
    changed = {k: v for k, v in fields.items() if v != shown[k]}
    if not changed:
        return text
    base = _parsed(text)
    if not isinstance(base, dict):
        return text  # the JSON must be fixed first; the report says so
    return cs.to_json_text(cs.apply_fields(base, changed))


def _check(d: dict[str, Any]) -> cs.Draft | None:
    draft, report = cs.validate(name=d["name"], strategy_id=d["strategy_id"], user_id=d["user_id"],
                                config_json=d["json"])
    d["errors"], d["unknown"], d["dotted"] = report.errors, report.unknown_keys, report.dotted_keys
    return draft


def _unchanged(d: dict[str, Any], valid: cs.Draft) -> bool:
    now = {"name": valid.name, "strategy_id": valid.strategy_id, "user_id": valid.user_id,
           "config_data": valid.config_data}
    return d["config_id"] is not None and now == d["loaded"]


def _save(f: Frame, d: dict[str, Any], valid: cs.Draft, note: str, key: str) -> None:
    done = st.session_state.setdefault(DONE, {})
    if _unchanged(d, valid):
        flash(f"Nothing changed since version {d['loaded_version']}; no new version was made.")
        _drafts().pop(key, None)
        st.rerun()
    if d["token"] in done:
        flash(f"Already saved as version {done[d['token']]}; the repeated click was ignored.")
        _drafts().pop(key, None)
        st.rerun()
    engine = data.write_engine()
    try:
        if d["config_id"] is None:
            new_id = cmd.create_config(engine, identity=f.identity, name=valid.name, strategy_id=valid.strategy_id,
                                       user_id=valid.user_id, config_data=valid.config_data, note=note or None)
            done[d["token"]] = 1
            go_to(new_id)
            flash("Config created (version 1, inactive).")
        else:
            res = cmd.save_config(engine, identity=f.identity, config_id=d["config_id"],
                                  loaded_version=d["loaded_version"], name=valid.name,
                                  strategy_id=valid.strategy_id, user_id=valid.user_id,
                                  config_data=valid.config_data, note=note or None)
            done[d["token"]] = res.version
            flash(f"Already saved as version {res.version}; the repeated click was ignored." if res.repeated
                  else f"Saved as version {res.version}.")
    except cmd.SaveConflict as exc:
        d["conflict"] = {"current": exc.current_version}
        data.invalidate("sandbox")
        return
    except (ValidationFailed, PermissionDenied, ConflictError, SQLAlchemyError) as exc:
        _write_failed(d, exc)
        return
    _drafts().pop(key, None)
    data.invalidate("sandbox", "meta")
    st.rerun()


def _write_failed(d: dict[str, Any], exc: Exception) -> None:
    if isinstance(exc, ValidationFailed):
        d["errors"] = exc.errors
    elif isinstance(exc, PermissionDenied):
        d["errors"] = {"permission": [str(exc) + " (nothing was written)"]}
    elif isinstance(exc, ConflictError):
        d["errors"] = {"conflict": [str(exc)]}
    else:
        d["errors"] = {"database": [classify(exc).message]}


def _report(d: dict[str, Any], key: str) -> None:
    if d["errors"]:
        st.error("Not saved: fix the problems below. Your draft is kept.", icon="🚫")
        st.code("\n".join(f"{k}: {m}" for k, ms in d["errors"].items() for m in ms), language=None)
    if d["dotted"] and st.button("Fix dotted keys", key=f"sandbox_fixdots_{key}", icon=":material/build:",
                                 help="Move top-level keys like \"universe.primary_symbols\" into their section"):
        d["json"] = cs.to_json_text(cs.fix_dotted_keys(_parsed(d["json"]) or {}))
        d["rev"] += 1
        _check(d)
        st.rerun()
    if d["unknown"]:
        st.caption("Keys the console does not know (allowed, kept as they are):")
        st.code(", ".join(d["unknown"]), language=None)


def conflict_panel(f: Frame, d: dict[str, Any], key: str) -> None:
    """Who saved what since the draft was loaded; reload, or save the draft on top."""
    current = d["conflict"]["current"]
    if current is None:
        st.error("This config was deleted since you loaded it. Your draft is kept.", icon="🚫")
        if st.button("Create a new config from my draft", key=f"sandbox_recreate_{key}"):
            _drafts()[NEW] = {**d, "config_id": None, "loaded_version": 0, "conflict": None}
            go_to(NEW)
            st.rerun()
        return
    st.warning(f"Someone saved version {current} after you loaded version {d['loaded_version']}. "
               "Nothing was saved; your draft is kept.", icon="⚠️")
    hist = data.fetch(q.config_history, config_id=d["config_id"])
    between = hist[(hist["version"] > d["loaded_version"]) & (hist["version"] <= current)]
    st.dataframe(between[["version", "changed_by", "changed_at", "note"]], hide_index=True)
    old = hist.loc[hist["version"] == d["loaded_version"], "config_data"]
    new = hist.loc[hist["version"] == current, "config_data"]
    if len(old) and len(new):
        st.caption(f"What changed from version {d['loaded_version']} (a) to version {current} (b):")
        st.dataframe(diff(old.iloc[0], new.iloc[0]), hide_index=True)
    c1, c2 = st.columns(2)
    if c1.button(f"Reload version {current} (discard my draft)", key=f"sandbox_reload_{key}"):
        _drafts().pop(key, None)
        st.rerun()
    if c2.button(f"Save my draft on top of version {current}", key=f"sandbox_ontop_{key}", type="primary"):
        d["loaded_version"], d["conflict"], d["loaded"] = current, None, {}  # {}: never "unchanged"
        valid = _check(d)
        if valid is not None:
            _save(f, d, valid, "saved on top after a conflict", key)
        st.rerun()


def editor(f: Frame, row: dict[str, Any] | None) -> None:
    """The create (row None) or edit form of a config."""
    key = NEW if row is None else str(row["id"])
    d = _draft_for(key, row)
    can_edit = f.identity.can(EDIT_CONFIG)
    if not can_edit:
        st.info("Your roles allow viewing only; saving is disabled.", icon="👁️")
    _newer_notice(d, row, key)
    if d["conflict"]:
        conflict_panel(f, d, key)
    # Widget and form ids carry the draft's token: a click that arrives after a save (a double
    # click) targets the previous form, which no longer exists, and is ignored.
    with st.form(f"sandbox_form_{key}_{d['token']}", enter_to_submit=False):
        rev = f"{d['token']}_{d['rev']}"
        name = st.text_input("Name", d["name"], key=f"sandbox_name_{key}_{rev}")
        ids = st.container(horizontal=True)
        strategy_id = ids.text_input("Strategy id", d["strategy_id"], key=f"sandbox_strategy_{key}_{rev}")
        user_id = ids.text_input("User", d["user_id"], key=f"sandbox_user_{key}_{rev}")
        t_fields, t_json = st.tabs(["Fields", "Raw JSON"])
        with t_fields:
            fields, shown = _fields(d, key)
        with t_json:
            text = st.text_area("config_data (JSON)", d["json"], height=300, key=f"sandbox_json_{key}_{rev}")
        note = st.text_input("Note (why this change)", key=f"sandbox_note_{key}_{rev}")
        buttons = st.container(horizontal=True)
        checked = buttons.form_submit_button("Check", icon=":material/rule:")
        label = "Create config" if row is None else "Save new version"
        saved = buttons.form_submit_button(label, type="primary", disabled=not can_edit, icon=":material/save:")
    if checked or saved:
        d.update(name=name, strategy_id=strategy_id, user_id=user_id, json=_merge(d, text, fields, shown), dirty=True)
        d["rev"] += 1
        valid = _check(d)
        if saved and valid is not None:
            _save(f, d, valid, note, key)
        st.rerun()
    _report(d, key)

