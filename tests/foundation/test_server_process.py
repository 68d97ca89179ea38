"""The server process: memory tuning once per process, and at most three pages running at once."""

from __future__ import annotations

import threading

from ui import memory


def _trimmers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "console-malloc-trim"]


def test_tune_starts_one_trimming_thread_however_often_it_is_called() -> None:
    assert memory.tune() is True  # glibc (Debian): the arenas are capped and the thread runs
    memory.tune()
    memory.tune()
    trimmers = _trimmers()
    assert len(trimmers) == 1
    assert trimmers[0].daemon  # never keeps the server from exiting



def test_at_most_three_pages_run_at_once_and_the_rest_wait_their_turn() -> None:
    from ui import page

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
