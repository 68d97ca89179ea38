"""Plotly figures built without plotly's property-by-property validation (perf/README.md,
"unvalidated figures")."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import plotly.graph_objects as go

import perf

T = TypeVar("T")


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain trace and layout dicts written with plotly's own property names;
    validated only when switched off."""
    return go.Figure(data=data, layout=layout, _validate=not perf.enabled())


def built_once(build: Callable[[], T]) -> Callable[[], T]:
    """`build()` made once per process (callers copy before changing it); each time when switched off."""
    once = functools.cache(build)

    @functools.wraps(build)
    def get() -> T:
        return once() if perf.enabled() else build()

    return get
