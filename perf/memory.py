"""The server process's memory: garbage collected off the rerun path, fewer malloc arenas, and
freed memory handed back to the system (perf/README.md, "memory")."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import logging
import pkgutil
import threading
import time
from types import ModuleType

from streamlit import config

import perf

log = logging.getLogger("console.memory")

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
MALLOC_ARENAS = 2
TIDY_EVERY_S = 10.0
THREAD_NAME = "console-memory"

_started = False
_glibc = False
_lock = threading.Lock()
frozen = threading.Event()  # set once the startup objects are frozen


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


def freeze_startup(package: ModuleType | None) -> int:
    """Import the modules of `package` (what the pages import anyway), collect, and move what is
    alive to the permanent generation (never walked again); the number of objects frozen."""
    if package is not None:
        for mod in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            try:
                importlib.import_module(mod.name)
            except Exception:  # noqa: BLE001 - a module that cannot load here is simply not frozen
                log.warning("not preloaded: %s", mod.name, exc_info=True)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _tidy_forever(libc: ctypes.CDLL | None, package: ModuleType | None) -> None:
    log.info("%d long-lived objects frozen", freeze_startup(package))
    frozen.set()
    while True:
        time.sleep(TIDY_EVERY_S)
        tidy(libc)


def tune(preload: ModuleType | None = None) -> bool:
    """Once per process: cap the malloc arenas (glibc) and start the tidying thread, which first
    imports `preload`'s modules and freezes them; False if not glibc or switched off. Switched off,
    Streamlit collects after every run again (its default)."""
    global _started, _glibc
    on = perf.enabled()
    # Streamlit reads this option after every script run; a full collection per rerun is the default.
    config.set_option("runner.postScriptGC", not on, where_defined=__name__)
    if not on:
        return False
    with _lock:
        if _started:
            return _glibc
        libc = _libc()
        if libc is not None:
            libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        threading.Thread(
            target=_tidy_forever, args=(libc, preload), name=THREAD_NAME, daemon=True
        ).start()
        _started, _glibc = True, libc is not None
        log.info(
            "garbage collected every %.0f s off the rerun path; malloc arenas %s",
            TIDY_EVERY_S,
            f"capped at {MALLOC_ARENAS}" if libc is not None else "untouched (not glibc)",
        )
        return libc is not None
