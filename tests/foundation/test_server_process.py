"""The server process: memory tuning once per process, garbage collected off the rerun path, and
at most three pages running at once."""

from __future__ import annotations

import gc
import threading
import tomllib
import weakref
from pathlib import Path

from ui.perf import memory

ROOT = Path(__file__).resolve().parents[2]


def _tidiers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == memory.THREAD_NAME]


def test_tune_starts_one_tidying_thread_however_often_it_is_called() -> None:
    assert memory.tune() is True  # glibc (Debian): the arenas are capped and the thread runs
    assert memory.tune() is True
    memory.tune()
    tidiers = _tidiers()
    assert len(tidiers) == 1
    assert tidiers[0].daemon  # never keeps the server from exiting


def test_streamlit_does_not_collect_after_every_rerun_and_the_tidier_collects_cycles() -> None:
    # A full collection after each run held the GIL ~0.1 s per rerun for every session.
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False

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


def test_at_most_three_pages_run_at_once_and_the_rest_wait_their_turn() -> None:
    from ui.kit import page

    lock = threading.Lock()
    running = {"now": 0, "most": 0, "done": 0}
    release = threading.Event()

    def fake_page() -> None:
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        release.wait(5)
        with lock:
            running["now"] -= 1
            running["done"] += 1

    threads = [threading.Thread(target=page.run_guarded, args=(fake_page, "t")) for _ in range(7)]
    for t in threads:
        t.start()
    deadline = threading.Event()
    for _ in range(100):  # until three are inside (the others are queued)
        with lock:
            if running["now"] == page.MAX_RUNNING_PAGES:
                break
        deadline.wait(0.02)
    with lock:
        assert running["now"] == page.MAX_RUNNING_PAGES
    release.set()
    for t in threads:
        t.join(10)
    assert running["done"] == 7  # every queued page ran
    assert running["most"] == page.MAX_RUNNING_PAGES
