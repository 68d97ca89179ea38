"""The config editor: structured fields and raw JSON kept in sync on every change, a draft that is
never lost (session state, per config: Check, a refused save, a conflict, another view or tab keep
it), each problem shown at its field, validation before any write, and the conflict panel.

No st.form: a form sends its values only on submit, so the raw JSON could not show what the fields
held, and whatever was typed was lost when the user left the form without submitting. Every edit
goes into the draft on the rerun it causes (`_sync`), and from there into the other widgets.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.auth import EDIT_CONFIG
from db.commands import sandbox as cmd
from db.errors import ConflictError, PermissionDenied, ValidationFailed, classify
from db.queries import sandbox as q
from db.types import InvalidJSON
from domain import config_schema as cs
from ui.kit import urlstate
from ui.kit.diff import diff
from ui.kit.frame import Frame
from ui.kit.widgets import show_json

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
META = {
    "name": ("Name", cs.NAME_MAX),
    "strategy_id": ("Strategy id", cs.STRATEGY_MAX),
    "user_id": ("User", cs.USER_MAX),
    "note": ("Note (why this change)", cs.NOTE_MAX),
}
WRITE_PROBLEMS = (
    "permission",
    "conflict",
    "database",
)  # refusals of the write itself, shown by the buttons


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


def _version_of(row: dict[str, Any]) -> int | None:
    value = row.get("version")
    return None if value is None or pd.isna(value) else int(value)


def _editable_text(config_data: Any) -> tuple[str, int]:
    """What the raw editor starts with, and the stored length when that was too long to load.

    Stored text that is not JSON (InvalidJSON) is shown as it is, to be fixed; a JSON string (the
    backend stored "not-a-dict") as the JSON it is. Text longer than the editor takes is not loaded
    (it is shown cut).
    """
    if isinstance(config_data, InvalidJSON):
        text = str(config_data)
    else:
        text = cs.to_json_text({} if config_data is None else config_data)
    return ("", len(text)) if len(text) > cs.MAX_JSON_CHARS else (text, 0)


def new_draft(row: dict[str, Any] | None, *, name: str | None = None) -> dict[str, Any]:
    """A draft from a config row (or an empty one for a new config)."""
    row = row or {}
    loaded = {k: row.get(k) for k in ("name", "strategy_id", "user_id", "config_data")}
    text, oversized = _editable_text(row.get("config_data"))
    return {
        "loaded": loaded,
        "config_id": row.get("id"),
        "loaded_version": _version_of(row) if row else 0,
        "name": name if name is not None else str(row.get("name") or ""),
        "strategy_id": str(row.get("strategy_id") or ""),
        "user_id": str(row.get("user_id") or "default_user"),
        "json": text,
        "oversized": oversized,
        "note": "",
        "token": uuid.uuid4().hex,
        "checked": False,
        "saving": False,
        "errors": {},
        "conflict": None,
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


def _wkey(d: dict[str, Any], key: str, what: str) -> str:
    # The draft's token is part of every key: after a save the next draft has new widgets, and a
    # click that arrives late (a double click) targets a button that no longer exists.
    return f"sandbox_{what}_{key}_{d['token']}"


def _parsed(text: str) -> Any:
    if not text.strip():
        return {}  # an empty editor is an empty config to the fields (a save still asks for {})
    report = cs.Report()
    value = cs.parse_json(text, report)
    return value if report.ok else None


# --- every edit goes into the draft at once ----------------------------------------------------------


def _sync(d: dict[str, Any], key: str) -> None:
    """Take what the user changed in any widget since the last run into the draft, then show the draft
    in every widget: the raw JSON holds what the fields hold, and the fields what the JSON holds.

    One pass before any widget is drawn, not a callback per widget: several widgets may change in
    one rerun (the browser sends them together), and each must be taken whatever the order. A widget
    is set only where its value differs, so a field the user is typing in is never overwritten.
    """
    state, seen = st.session_state, d.setdefault("seen", {})

    def edited(what: str) -> bool:
        wkey = _wkey(d, key, what)
        return wkey in state and state[wkey] != seen.get(wkey)

    for what in META:
        if edited(what):
            d[what] = state[_wkey(d, key, what)] or ""
    if edited("json"):
        d["json"] = state[_wkey(d, key, "json")] or ""
    typed = {p: state[_wkey(d, key, f"f_{p}")] or "" for p in FIELD_LABELS if edited(f"f_{p}")}
    base = _parsed(d["json"]) if typed else None
    if isinstance(base, dict):  # the fields are disabled while the JSON is not an object
        d["json"] = cs.to_json_text(cs.apply_fields(base, typed))
    data = _parsed(d["json"])
    shown = (
        {f"f_{p}": v for p, v in cs.fields_from_data(data).items()}
        if isinstance(data, dict)
        else {}
    )
    # An edited field keeps the text as typed ("7 , 21"), not as the JSON would write it.
    shown.update({f"f_{p}": v for p, v in typed.items()})
    for what, value in {
        **{m: d[m][: META[m][1]] for m in META},
        "json": d["json"],
        **shown,
    }.items():
        wkey = _wkey(d, key, what)
        if state.get(wkey) != value:
            state[wkey] = value
        seen[wkey] = value


def _on_check(key: str) -> None:
    d = _drafts()[key]
    d["checked"], d["saving"], d["errors"] = True, False, {}


def _on_fix_dotted(key: str) -> None:
    d = _drafts()[key]
    data = _parsed(d["json"])
    if isinstance(data, dict):
        d["json"] = cs.to_json_text(cs.fix_dotted_keys(data))


# --- validation and the write ----------------------------------------------------------------------


def _validate(d: dict[str, Any]) -> tuple[cs.Draft | None, cs.Report]:
    return cs.validate(
        name=d["name"], strategy_id=d["strategy_id"], user_id=d["user_id"], config_json=d["json"]
    )


def _unchanged(d: dict[str, Any], valid: cs.Draft) -> bool:
    now = {
        "name": valid.name,
        "strategy_id": valid.strategy_id,
        "user_id": valid.user_id,
        "config_data": valid.config_data,
    }
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
            new_id = cmd.create_config(
                engine,
                identity=f.identity,
                name=valid.name,
                strategy_id=valid.strategy_id,
                user_id=valid.user_id,
                config_data=valid.config_data,
                note=note or None,
            )
            done[d["token"]] = 1
            go_to(new_id)
            flash("Config created (version 1, inactive).")
        else:
            res = cmd.save_config(
                engine,
                identity=f.identity,
                config_id=d["config_id"],
                loaded_version=d["loaded_version"],
                name=valid.name,
                strategy_id=valid.strategy_id,
                user_id=valid.user_id,
                config_data=valid.config_data,
                note=note or None,
            )
            done[d["token"]] = res.version
            flash(
                f"Already saved as version {res.version}; the repeated click was ignored."
                if res.repeated
                else f"Saved as version {res.version}."
            )
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


# --- drawing ---------------------------------------------------------------------------------------


def _problems_at(problems: dict[str, list[str]], *keys: str) -> None:
    """The problems of `keys`, right where they are called (below their field); plain text only."""
    for k in keys:
        for message in problems.get(k, []):
            st.code(f"{k}: {message}", language=None, wrap_lines=True)


def _where(problem_key: str) -> str:
    """Our own label for where a problem is shown (never the key itself: keys can be database text)."""
    if problem_key in META:
        return META[problem_key][0]
    if problem_key in FIELD_LABELS:
        return FIELD_LABELS[problem_key].split(" (")[0]
    return f"{problem_key.capitalize()} section" if problem_key in cs.SECTIONS else "Raw JSON"


def _meta_input(d: dict[str, Any], key: str, what: str, problems: dict[str, list[str]]) -> None:
    label, limit = META[what]
    st.text_input(label, max_chars=limit, key=_wkey(d, key, what))
    _problems_at(problems, what)


def _fields(d: dict[str, Any], key: str, problems: dict[str, list[str]], report: cs.Report) -> None:
    data = _parsed(d["json"])
    editable = isinstance(data, dict)
    if not editable:
        st.info(
            "The raw JSON is not a JSON object yet: fix it in the Raw JSON tab. The fields show what it "
            "holds once it parses.",
            icon="ℹ️",
        )
    unknown = report.unknown_messages()
    for section in cs.SECTIONS:
        st.caption(section.capitalize())
        row = st.container(horizontal=True)  # one block, where st.columns adds one per column
        for path in (p for p in FIELD_LABELS if p.startswith(section + ".")):
            cell = row.container()
            cell.text_input(
                FIELD_LABELS[path],
                max_chars=cs.FIELD_MAX_CHARS,
                key=_wkey(d, key, f"f_{path}"),
                disabled=not editable,
            )
            with cell:
                _problems_at(problems, path)
        _problems_at(problems, section)
        for k, message in unknown.items():
            if k.startswith(section + "."):
                st.text(f"⚠️ {message}")
    others = {k: m for k, m in unknown.items() if "." not in k}
    if others:
        st.caption("Other keys")
        for message in others.values():
            st.text(f"⚠️ {message}")


def _raw(
    d: dict[str, Any],
    key: str,
    problems: dict[str, list[str]],
    report: cs.Report,
    shown_elsewhere: set[str],
) -> None:
    st.text_area(
        "config_data (JSON)",
        height=300,
        max_chars=cs.MAX_JSON_CHARS,
        key=_wkey(d, key, "json"),
        help=f"At most {cs.MAX_JSON_CHARS:,} characters",
    )
    _problems_at(problems, *[k for k in problems if k not in shown_elsewhere])
    if d["oversized"]:
        st.warning(
            f"The stored config_data has {d['oversized']:,} characters, more than the editor takes "
            f"({cs.MAX_JSON_CHARS:,}): it was not loaded. Whatever you write here replaces it when saved.",
            icon="⚠️",
        )
        with st.expander("The stored config_data"):
            show_json(d["loaded"]["config_data"], key=f"sandbox_stored_{key}")
    if report.dotted_keys:
        st.button(
            "Fix dotted keys",
            key=_wkey(d, key, "fixdots"),
            icon=":material/build:",
            on_click=_on_fix_dotted,
            args=(key,),
            help='Move top-level keys like "universe.primary_symbols" into their section',
        )


def _summary(d: dict[str, Any], report: cs.Report, problems: dict[str, list[str]]) -> None:
    field_problems = {k: m for k, m in problems.items() if k not in WRITE_PROBLEMS}
    if field_problems:
        n = sum(len(m) for m in field_problems.values())
        where = ", ".join(dict.fromkeys(_where(k) for k in field_problems))
        what = f"{n} problem{'s' if n != 1 else ''}, each shown at its field ({where})"
        if d["saving"]:
            st.error(f"Not saved: {what}. Your draft is kept.", icon="🚫")
        else:
            st.warning(f"Check: {what}.", icon="⚠️")
    for k in WRITE_PROBLEMS:
        if k in problems:
            st.error("Not saved. Your draft is kept.", icon="🚫")
            _problems_at(problems, k)
    if d["checked"] and not problems:
        extra = (
            f" ({len(report.unknown_keys)} unknown, kept as they are)"
            if report.unknown_keys
            else ""
        )
        st.success(
            f"Valid: {report.keys_checked} keys checked{extra}. Nothing is saved until you save.",
            icon="✅",
        )


def _version_notices(d: dict[str, Any], row: dict[str, Any] | None, key: str) -> None:
    """A version saved since the draft was loaded (the form keeps what the user types), or a stored
    version no save can number."""
    if row is None or d["conflict"]:
        return
    current = _version_of(row)
    if current is None or d["loaded_version"] is None:
        st.warning(
            "This config's stored version is not a whole number, so no new version can be saved over it. "
            "Clone it to keep your changes as a new config.",
            icon="⚠️",
        )
        return
    if current == d["loaded_version"]:
        return
    st.info(
        f"Version {current} was saved since this form loaded version {d['loaded_version']}.",
        icon="ℹ️",
    )
    if st.button(f"Load version {current} (discard my draft)", key=f"sandbox_loadnew_{key}"):
        _drafts().pop(key, None)
        st.rerun()


def conflict_panel(f: Frame, d: dict[str, Any], key: str) -> None:
    """Who saved what since the draft was loaded, and that version; reload, or save the draft on top."""
    current = d["conflict"]["current"]
    if current is None:
        st.error("This config was deleted since you loaded it. Your draft is kept.", icon="🚫")
        if st.button("Create a new config from my draft", key=f"sandbox_recreate_{key}"):
            _drafts()[NEW] = {
                **d,
                "config_id": None,
                "loaded_version": 0,
                "conflict": None,
                "token": uuid.uuid4().hex,
            }
            go_to(NEW)
            st.rerun()
        return
    st.warning(
        f"Someone saved version {current} after you loaded version {d['loaded_version']}. "
        "Nothing was saved; your draft is kept.",
        icon="⚠️",
    )
    hist = data.fetch(q.config_history, config_id=d["config_id"])
    between = hist[(hist["version"] > d["loaded_version"]) & (hist["version"] <= current)]
    st.dataframe(between[["version", "changed_by", "changed_at", "note"]], hide_index=True)
    old = hist.loc[hist["version"] == d["loaded_version"], "config_data"]
    new = hist.loc[hist["version"] == current, "config_data"]
    if len(old) and len(new):
        st.caption(f"What changed from version {d['loaded_version']} (a) to version {current} (b):")
        st.dataframe(diff(old.iloc[0], new.iloc[0]), hide_index=True)
    if len(new):
        with st.expander(f"The whole config_data of version {current}"):
            show_json(new.iloc[0], key=f"sandbox_conflict_json_{key}")
    st.caption(
        f"Saving your draft on top makes it version {current + 1} as it stands: where the other save changed "
        "a key your draft also holds, your draft's value wins."
    )
    c1, c2 = st.columns(2)
    if c1.button(f"Reload version {current} (discard my draft)", key=f"sandbox_reload_{key}"):
        _drafts().pop(key, None)
        st.rerun()
    if c2.button(
        f"Save my draft on top of version {current}", key=f"sandbox_ontop_{key}", type="primary"
    ):
        d["loaded_version"], d["conflict"], d["loaded"] = current, None, {}  # {}: never "unchanged"
        d["checked"], d["saving"], d["errors"] = True, True, {}
        valid, _ = _validate(d)
        if valid is not None:
            why = f"saved on top of version {current} after a conflict"
            _save(f, d, valid, f"{d['note']} ({why})" if d["note"] else why, key)
        st.rerun()


def editor(f: Frame, row: dict[str, Any] | None) -> None:
    """The create (row None) or edit form of a config."""
    key = NEW if row is None else str(row["id"])
    d = _draft_for(key, row)
    _sync(d, key)
    can_edit = f.identity.can(EDIT_CONFIG)
    if not can_edit:
        st.info("Your roles allow viewing only; saving is disabled.", icon="👁️")
    _version_notices(d, row, key)
    if d["conflict"]:
        conflict_panel(f, d, key)
    valid, report = _validate(d)
    problems = {**(report.errors if d["checked"] else {}), **d["errors"]}
    _meta_input(d, key, "name", problems)
    ids = st.container(horizontal=True)
    for what in ("strategy_id", "user_id"):
        with ids.container():
            _meta_input(d, key, what, problems)
    at_fields = {*META, *FIELD_LABELS, *cs.SECTIONS, *WRITE_PROBLEMS}
    t_fields, t_json = st.tabs(["Fields", "Raw JSON"], key=f"sandbox_tabs_{key}")
    with t_fields:
        _fields(d, key, problems, report)
    with t_json:
        _raw(d, key, problems, report, at_fields)
    _meta_input(d, key, "note", problems)
    buttons = st.container(horizontal=True)
    buttons.button(
        "Check", key=_wkey(d, key, "check"), icon=":material/rule:", on_click=_on_check, args=(key,)
    )
    label = "Create config" if row is None else "Save new version"
    unnumbered = row is not None and d["loaded_version"] is None
    if buttons.button(
        label,
        key=_wkey(d, key, "save"),
        type="primary",
        icon=":material/save:",
        disabled=not can_edit or unnumbered,
    ):
        d["checked"], d["saving"], d["errors"] = True, True, {}
        if valid is not None:
            _save(f, d, valid, d["note"], key)
        st.rerun()
    _summary(d, report, problems)
