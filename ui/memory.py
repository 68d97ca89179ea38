"""The server process's memory: fewer malloc arenas, and freed memory handed back to the system.

Streamlit runs each session's script in a thread of its own. glibc gives threads their own
malloc arenas (up to 8 per core), and memory freed inside an arena stays with the process: after
30 sessions the server holds tens of MB of free heap. One GIL-bound process needs few arenas, so
the count is capped at MALLOC_ARENAS, and a daemon thread calls malloc_trim every TRIM_EVERY_S
seconds so that memory freed after a burst of reruns goes back. Elsewhere than glibc this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time

log = logging.getLogger("console.memory")

M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
MALLOC_ARENAS = 2
TRIM_EVERY_S = 30.0

_started = False
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


def _trim_forever(libc: ctypes.CDLL) -> None:
    while True:
        time.sleep(TRIM_EVERY_S)
        libc.malloc_trim(0)


def tune() -> bool:
    """Cap the malloc arenas and start the trimming thread, once per process; False if not glibc."""
    global _started
    with _lock:
        if _started:
            return True
        libc = _libc()
        if libc is None:
            return False
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        threading.Thread(target=_trim_forever, args=(libc,), name="console-malloc-trim", daemon=True).start()
        _started = True
        log.info("malloc arenas capped at %d, trimmed every %.0f s", MALLOC_ARENAS, TRIM_EVERY_S)
        return True
