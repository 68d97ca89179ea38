"""Fixtures of the foundation tests: the backend's real databases and a read-only view of them."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"
if not FIXTURES.exists():
    FIXTURES = Path(os.environ.get("SHARED_DIR", "/work/shared")) / "fixtures"
