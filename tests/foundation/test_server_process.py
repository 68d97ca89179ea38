"""The server process (perf.memory): memory tuning once per process, garbage collected off the
rerun path; with CONSOLE_PERF=off, Streamlit's own collection after every run."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from streamlit import config

import perf
from perf import memory


def _tidiers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == memory.THREAD_NAME]


def test_tune_starts_one_tidying_thread_however_often_it_is_called() -> None:
    assert memory.tune() is True  # glibc (Debian): the arenas are capped and the thread runs
    assert memory.tune() is True
    memory.tune()
    tidiers = _tidiers()
    assert len(tidiers) == 1
    assert tidiers[0].daemon  # never keeps the server from exiting


def test_streamlit_collects_after_every_rerun_only_when_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(perf.SWITCH, "off")
    assert memory.tune() is False
    assert config.get_option("runner.postScriptGC") is True
    monkeypatch.setenv(perf.SWITCH, "on")
    memory.tune()
    assert config.get_option("runner.postScriptGC") is False


def test_the_tidier_collects_cycles() -> None:
    memory.tune()
    assert memory.frozen.wait(30)  # the thread's startup freeze is behind us (it would keep a, b)

    class Node:
        other: object = None

    gc.disable()  # no automatic collection between the two checks
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a reference cycle: only the cyclic collector frees it
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None
        assert memory.tidy(memory._libc()) >= 2
        assert gone() is None
    finally:
        gc.enable()
