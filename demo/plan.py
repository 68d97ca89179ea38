"""The clock, ids and plan shared by the demo data generators (demo.generate): time as integer microseconds.

A `Plan` holds what every table needs: the size, the profile, `now` and the incidents per service,
drawn backwards from `now` so that the recent past is the same whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from demo import vocab

Row = tuple[Any, ...]

PROFILES = ("history", "window")
SEC = 1_000_000  # microseconds
MINUTE = 60 * SEC
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1)
WINDOW_SPAN = DAY - 10 * MINUTE  # "window": every row inside the last 24 h, with a margin
SECONDS_ONLY_SHARE = 0.03  # share of backend timestamps written without microseconds
# Incidents that always exist just before `now`, so every size shows a recent outage and one ongoing.
RECENT_INCIDENTS = [
    ("yfinance", 85, 55, "DEGRADED"),
    ("opportunity_cache", 80, 50, "DOWN"),
    ("strategy_specific_scanner", 45, 30, "DEGRADED"),
    ("strategy_ai_service", 15, -60, "DEGRADED"),
]

Incident = tuple[int, int, str]  # start_us, end_us, state


def to_us(dt: datetime) -> int:
    """Microseconds since 1970 of a naive UTC datetime."""
    return (dt - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """The naive UTC datetime of microseconds since 1970."""
    return EPOCH + timedelta(microseconds=us)


def seconds_only(us: int) -> int:
    """The time without its fraction, as SQLite's CURRENT_TIMESTAMP writes it."""
    return us - us % SEC


def uuid_maker(rng: Random) -> Callable[[], str]:
    """uuid4-shaped ids drawn from `rng` (deterministic, unlike uuid.uuid4)."""
    bits = rng.getrandbits
    variant = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}

    def make() -> str:
        h = f"{bits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:]}"

    return make


class Clock:
    """Timestamps from microseconds: for the driver (SQLite text as SQLAlchemy writes it, else datetime)
    and as ISO text for JSON payloads. Formatting goes through a per-hour prefix cache: it is hot."""

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self._caches: dict[str, dict[int, str]] = {" ": {}, "T": {}}

    def _text(self, us: int, sep: str) -> str:
        hour, rest = divmod(us, HOUR)
        cache = self._caches[sep]
        prefix = cache.get(hour)
        if prefix is None:
            if len(cache) > 100_000:  # bounded: rows arrive roughly in time order
                cache.clear()
            prefix = cache[hour] = from_us(hour * HOUR).strftime(f"%Y-%m-%d{sep}%H:")
        m, rest = divmod(rest, MINUTE)
        s, f = divmod(rest, SEC)
        return f"{prefix}{m:02d}:{s:02d}.{f:06d}" if f else f"{prefix}{m:02d}:{s:02d}"

    def db(self, us: int) -> Any:
        """The value to bind for a DateTime column."""
        return self._text(us, " ") if self.sqlite else from_us(us)

    def iso(self, us: int) -> str:
        """ISO 8601 without offset, as the backend's isoformat() writes into JSON."""
        return self._text(us, "T")


@dataclass(frozen=True)
class Plan:
    """Inputs every table generator shares: the size, the clock, the profile and the incidents."""

    rows: int
    seed: int
    profile: str
    now_us: int
    incidents: dict[str, list[Incident]]

    def span(self, per_day: float) -> int:
        """Microseconds of history that `rows` rows cover at `per_day` rows per day."""
        if self.profile == "window":
            return WINDOW_SPAN
        return int(self.rows / per_day * DAY) + MINUTE

    def rng(self, name: str) -> Random:
        """An independent random stream per table, so tables do not shift each other."""
        return Random(f"{self.seed}:{name}")


def draw_incidents(seed: int, now_us: int, horizon: int) -> dict[str, list[Incident]]:
    """Outages per service, drawn backwards from now so the recent ones do not depend on the size."""
    out: dict[str, list[Incident]] = {s: [] for s in vocab.HEALTH_SERVICES}
    for service, start_min, end_min, state in RECENT_INCIDENTS:
        out[service].append((now_us - start_min * MINUTE, now_us - end_min * MINUTE, state))
    for service, (gap_h, down_share) in vocab.INCIDENT_RATE.items():
        rng = Random(f"{seed}:incidents:{service}")
        t = now_us - 3 * HOUR
        while t > now_us - horizon:
            t -= int(rng.expovariate(1 / gap_h) * HOUR)
            down = rng.random() < down_share
            dur = int((8 + rng.expovariate(1 / (20 if down else 40))) * MINUTE)
            out[service].append((t - dur, t, "DOWN" if down else "DEGRADED"))
            t -= dur + 20 * MINUTE
    return {s: sorted(v) for s, v in out.items()}


class Cursor:
    """The incident of one service at a time; times must (mostly) move forward."""

    def __init__(self, spans: list[Incident]) -> None:
        self.spans, self.i = spans, 0

    def at(self, t: int) -> Incident | None:
        spans, i = self.spans, self.i
        while i < len(spans) and spans[i][1] <= t:
            i += 1
        self.i = i
        return spans[i] if i < len(spans) and spans[i][0] <= t else None


def make_plan(*, rows: int, seed: int, profile: str, now: datetime | None) -> Plan:
    """The shared plan for one run (validates the arguments)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
    if rows < 0:
        raise ValueError("rows must be >= 0")
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    now_us = to_us(now)
    horizon = DAY * 2 if profile == "window" else int(rows / 600 * DAY) + 2 * DAY
    return Plan(
        rows=rows,
        seed=seed,
        profile=profile,
        now_us=now_us,
        incidents=draw_incidents(seed, now_us, horizon),
    )
