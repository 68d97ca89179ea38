"""The server process's memory: garbage collected off the rerun path, fewer malloc arenas, and
freed memory handed back to the system.

Streamlit runs a full `gc.collect()` after every script run (`runner.postScriptGC`). With
pandas, SQLAlchemy and plotly loaded that walks a million objects: about 0.1-0.15 s holding the
GIL, 60 % of the server's time per rerun, which every other session waits for. It is off in
.streamlit/config.toml; instead a daemon thread collects every TIDY_EVERY_S seconds (Python's own
generational collector still runs as allocations build up). Before its first round the thread
imports every console module (what the pages import anyway), collects once and freezes what is
alive (`gc.freeze`): the libraries' ~150k long-lived objects are never walked again, so a
collection costs what the sessions and caches hold, not 0.16 s.

glibc gives threads their own malloc arenas (up to 8 per core), and memory freed inside an arena
stays with the process: after 30 sessions the server holds tens of MB of free heap. One GIL-bound
process needs few arenas, so the count is capped at MALLOC_ARENAS, and the same thread calls
malloc_trim so that memory freed after a burst of reruns goes back. Elsewhere than glibc only the
collection runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import logging
import pkgutil
import threading
import time

log = logging.getLogger("console.memory")

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
MALLOC_ARENAS = 2
TIDY_EVERY_S = 10.0
THREAD_NAME = "console-memory"

_started = False
_glibc = False
_lock = threading.Lock()


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def tidy(libc: ctypes.CDLL | None) -> int:
    """Collect the reference cycles the reruns left, then hand freed heap back; objects collected."""
    found = gc.collect()
    if libc is not None:
        libc.malloc_trim(0)
    return found


def freeze_startup() -> int:
    """Import every console module, collect, and move what is alive to the permanent generation
    (never collected, never walked again); the number of objects frozen."""
    import ui

    for mod in pkgutil.iter_modules(ui.__path__, "ui."):
        try:
            importlib.import_module(mod.name)
        except Exception:  # noqa: BLE001 - a module that cannot load here is simply not frozen
            log.warning("not preloaded: %s", mod.name, exc_info=True)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _tidy_forever(libc: ctypes.CDLL | None) -> None:
    log.info("%d long-lived objects frozen", freeze_startup())
    while True:
        time.sleep(TIDY_EVERY_S)
        tidy(libc)


def tune() -> bool:
    """Cap the malloc arenas (glibc) and start the tidying thread, once per process; False if not glibc."""
    global _started, _glibc
    with _lock:
        if _started:
            return _glibc
        libc = _libc()
        if libc is not None:
            libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        threading.Thread(target=_tidy_forever, args=(libc,), name=THREAD_NAME, daemon=True).start()
        _started, _glibc = True, libc is not None
        log.info(
            "garbage collected every %.0f s off the rerun path; malloc arenas %s",
            TIDY_EVERY_S,
            f"capped at {MALLOC_ARENAS}" if libc is not None else "untouched (not glibc)",
        )
        return libc is not None
