"""The one room for speed mechanisms: everything here exists only to make pages faster.

Each mechanism is listed in perf/README.md with the measurement that justifies it and what it
relies on. `enabled()` is the switch: CONSOLE_PERF=off turns every mechanism off, and the pages
must show the same content either way (tests/foundation/test_perf_switch.py).
"""

from __future__ import annotations

import os

SWITCH = "CONSOLE_PERF"


def enabled() -> bool:
    """Whether the speed mechanisms are on (the default); CONSOLE_PERF=off turns them all off."""
    return os.environ.get(SWITCH, "on").strip().lower() not in ("off", "0", "false", "no")
