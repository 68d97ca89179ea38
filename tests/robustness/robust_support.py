"""Shared helpers of the robustness and browser tests: the registered pages, what AppTest
shows, and the patterns of leaked error details."""

from __future__ import annotations

import ast
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
DEMO_ROWS = 3_000
DEMO_SEED = 7
APP = ROOT / "app.py"


@dataclass(frozen=True)
class PageSpec:
    """A page registered in app.py: its script path, URL path and title."""

    path: str
    url_path: str
    title: str

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @property
    def source(self) -> str:
        return (ROOT / self.path).read_text(encoding="utf-8")


def registered_pages() -> list[PageSpec]:
    """Every page app.py registers: its `st.Page(...)` calls, or the list in ui.kit.nav it routes through."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    pages = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page" and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            path = first.value
            pages.append(
                PageSpec(
                    path=path,
                    url_path=str(kw.get("url_path") or Path(path).stem),
                    title=str(kw.get("title") or Path(path).stem),
                )
            )
    if not pages:  # app.py delegates to ui.kit.nav: read its page list
        from ui.kit import nav

        pages = [
            PageSpec(path=p.path, url_path=p.url_path, title=p.title)
            for specs in nav.SECTIONS.values()
            for p in specs
        ]
    return pages


PAGES = registered_pages()
PAGE_IDS = [p.name for p in PAGES]

_URLSTATE_CALL = re.compile(
    r"urlstate\.(choice|integer|text|many|flag)\(\s*[\"']([A-Za-z0-9_]+)[\"']"
)


def _imported_ui_modules(source: str) -> list[Path]:
    """ui/*.py modules a page imports (`from ui import x`, `from ui.x import ...`, `import ui.x`)."""
    out = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ui":
                names = [a.name for a in node.names]
            elif node.module.startswith("ui."):
                names = [node.module.split(".", 1)[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".", 1)[1] for a in node.names if a.name.startswith("ui.")]
        for name in names:
            path = ROOT / "ui" / f"{name.split('.')[0]}.py"
            if path.exists() and path.name not in (
                "shell.py",
                "page.py",
                "widgets.py",
                "urlstate.py",
            ):
                out.append(path)
    return out


def url_params(page: PageSpec) -> dict[str, str]:
    """The URL parameters a page reads through ui.kit.urlstate (name -> kind), from its source
    and the page's own ui modules; the shell's `range`, `tz`, `from`, `to` included."""
    found = {"range": "choice", "tz": "choice", "from": "text", "to": "text"}
    sources = [page.source] + [
        p.read_text(encoding="utf-8") for p in _imported_ui_modules(page.source)
    ]
    for src in sources:
        for kind, name in _URLSTATE_CALL.findall(src):
            found.setdefault(name, kind)
    return found


# --- what AppTest shows -------------------------------------------------------------------

# Elements that show text literally: database text may appear there.
PLAIN_TYPES = {
    "text",
    "code",
    "json",
    "arrow_data_frame",
    "dataframe",
    "table",
    "plotly_chart",
    "selectbox",
    "multiselect",
    "download_button",
    "vega_lite_chart",
    "arrow_vega_lite_chart",
}
# Proto fields rendered as Markdown by the frontend.
MARKDOWN_FIELDS = {"body", "label", "help", "placeholder", "caption"}
OPTION_MARKDOWN_TYPES = {"radio", "button_group"}


def _strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, path)


def _nodes(at: Any) -> Iterator[Any]:
    stack = [at._tree]
    while stack:
        node = stack.pop()
        yield node
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            stack.extend(children.values())


def _proto_dict(node: Any) -> dict[str, Any]:
    proto = getattr(node, "proto", None)
    if proto is None:
        return {}
    try:
        return MessageToDict(proto, preserving_proto_field_name=True)
    except Exception:  # noqa: BLE001 - some node protos are not messages
        return {}


def all_texts(at: Any) -> list[tuple[str, str]]:
    """(element type, text) for every string any element of the last run carries."""
    out = []
    for node in _nodes(at):
        kind = str(getattr(node, "type", ""))
        for path, s in _strings(_proto_dict(node)):
            if path and path[-1] in (
                "id",
                "form_id",
                "page_script_hash",
                "icon",
                "data",
                "spec",
                "figure",
            ):
                continue
            out.append((kind, s))
    return out


def markdown_texts(at: Any) -> list[tuple[str, str]]:
    """(element type, text) for every string the browser would render as Markdown."""
    out = []
    for node in _nodes(at):
        kind = str(getattr(node, "type", ""))
        if kind in PLAIN_TYPES:
            continue
        for path, s in _strings(_proto_dict(node)):
            if not path:
                continue
            leaf = path[-1]
            if kind == "metric" and leaf == "body":
                continue  # the metric value is plain text
            if leaf in MARKDOWN_FIELDS or (
                kind in OPTION_MARKDOWN_TYPES and ("options" in path or leaf == "content")
            ):
                out.append((kind, s))
    return out


# Error details a user must never see: SQL, driver and exception names, tracebacks, file paths.
LEAK_PATTERNS = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"\bSELECT\b[\s\S]{0,400}\bFROM\b"),
    re.compile(r"\b(INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b"),
    re.compile(r"sqlalchemy|psycopg|pymysql|sqlite3\.|sqlalche\.me", re.I),
    re.compile(r"\b[A-Z]\w*(Error|Exception)\b(?!\s+log)"),
    re.compile(r"/work/|/tmp/|/root/|site-packages|\.py\b"),
    re.compile(r"\[SQL|\[parameters|%\(\w+\)s"),
]


def leaks(texts: list[tuple[str, str]], *, ignore: tuple[str, ...] = ()) -> list[str]:
    """Texts that reveal error details (after removing echoes of `ignore`, the test's own input)."""
    bad = []
    for kind, s in texts:
        for token in sorted(ignore, key=len, reverse=True):
            if token:
                s = s.replace(token, "").replace(token[:80], "")
        for rx in LEAK_PATTERNS:
            m = rx.search(s)
            if m:
                bad.append(f"{kind}: {m.group(0)!r} in {s[:160]!r}")
                break
    return bad


def exceptions(at: Any) -> list[str]:
    """Messages of st.exception elements (uncaught errors) of the last run."""
    return [f"{e.value}" for e in at.exception]


def alerts(at: Any, kind: str) -> list[str]:
    """Bodies of the warning/error/info/success elements of the last run."""
    return [str(e.value) for e in getattr(at, kind)]


def prepare_database(
    url: str, *, demo: bool = True, messy_seed: int | None = None
) -> dict[str, Any]:
    """Create all tables (backend + ours) at `url`, then demo rows (demo.generate) and/or messy rows."""
    from db.engine import make_engine
    from db.models import Base
    from db.schema import migrate

    info: dict[str, Any] = {"demo": False, "markers": set()}
    engine = make_engine(url, read_timeout=False)
    try:
        Base.metadata.create_all(engine)
        migrate.upgrade(engine)
        if demo:
            try:
                from demo import generate as demo_module
            except ImportError:
                demo_module = None  # the generator is not there yet: tables stay empty
            if demo_module is not None and hasattr(demo_module, "generate"):
                demo_module.generate(engine, rows=DEMO_ROWS, seed=DEMO_SEED, progress=None)
                info["demo"] = True
        if messy_seed is not None:
            from demo import messy

            info["markers"] = messy.generate(engine, seed=messy_seed).markers
    finally:
        engine.dispose()
    return info


def choose_option(widget: Any, index: int) -> None:
    """Choose option `index` of a selectbox/radio as the browser does: by its shown label.

    AppTest's own `select_index` maps the label back through `format_func` and breaks when the
    labels differ from the values; the browser sends the label, and so does this.
    """
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    ws = WidgetState()
    ws.id = widget.id
    ws.string_value = widget.options[index]
    widget.__class__ = type(
        f"Chosen{type(widget).__name__}",
        (type(widget),),
        {"_widget_state": property(lambda self: ws)},
    )


# --- throwaway databases on the servers ------------------------------------------------------

SERVER_URLS = {
    "postgresql": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mariadb": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
REQUIRED = {e.strip() for e in os.environ.get("REQUIRE_ENGINES", "").split(",") if e.strip()}
ENGINE_KINDS = ["sqlite", "postgresql", "mariadb"]


def _admin(kind: str):  # type: ignore[no-untyped-def]
    return create_engine(
        SERVER_URLS[kind], isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


def create_server_db(kind: str) -> str:
    """A throwaway database on the PostgreSQL/MariaDB server (skip, or fail when required)."""
    name = f"console_robust_{uuid.uuid4().hex[:10]}"
    try:
        admin = _admin(kind)
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(
                    text(
                        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        msg = f"{kind} not reachable: {type(exc).__name__}"
        if kind in REQUIRED:
            pytest.fail(msg + " (required by REQUIRE_ENGINES)")
        pytest.skip(msg)
    return make_url(SERVER_URLS[kind]).set(database=name).render_as_string(hide_password=False)


def drop_server_db(kind: str, url: str) -> None:
    name = make_url(url).database
    admin = _admin(kind)
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


def prepare_schema(url: str) -> None:
    """All backend tables plus the console's own (through Alembic, as in production)."""
    from db.engine import make_engine
    from db.models import Base
    from db.schema import migrate

    eng = make_engine(url, read_timeout=False)
    try:
        Base.metadata.create_all(eng)
        migrate.upgrade(eng)
    finally:
        eng.dispose()
