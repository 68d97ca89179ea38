"""Demo data: the backend's nine tables in its real shapes, consistent across tables, fast and deterministic.

`generate(engine, rows=N)` writes N rows into each big table (system_health_status,
critical_error_logs, scan_sessions, opportunity_snapshots) and plausible smaller counts into the
sandbox tables. `python -m demo.generate [--url URL] [--rows N] [--seed S] [--profile history|window]`.

One story runs through all tables: incidents per service (generated backwards from `now`, so the
recent past is the same at every size) turn that service's health DEGRADED/DOWN, bring a burst of
its errors, and make V1 scans that depend on it FAIL; opportunities come from COMPLETED scans (or
from V2 live scans without one); config activations change the outcomes of later test runs.

Profiles: "history" keeps a fixed density (the last 24 h look the same whatever N is; more rows
reach further back; only about a day of snapshots is unexpired), "window" puts every row in the
last 24 h with every snapshot unexpired (the worst case for the console).
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select

from db.engine import writer
from db.models import (
    Base,
)
from demo import snapshots as snaps
from demo import vocab
from demo.plan import (
    DAY,
    HOUR,
    MINUTE,
    PROFILES,
    SEC,
    SECONDS_ONLY_SHARE,
    WINDOW_SPAN,
    Clock,
    Cursor,
    Incident,
    Plan,
    Row,
    make_plan,
    seconds_only,
    uuid_maker,
)
from demo.sandbox import (
    AI_COLUMNS,
    CACHE_COLUMNS,
    CONFIG_COLUMNS,
    RUN_COLUMNS,
    STATS_COLUMNS,
    Sandbox,
    sandbox_sizes,
)

Progress = Callable[[float, str], None]
BATCH_ROWS = 20_000  # rows per executemany batch and per transaction


HEALTH_STEP = 2 * MINUTE  # one check per service every 2 minutes ("history")
ERROR_BIN = 5 * MINUTE  # errors are placed per 5-minute bin, weighted by the incidents in it
ERRORS_PER_BIN = 3.0  # background errors per bin ("history"); bursts add BURST_WEIGHT times that
BURST_WEIGHT = {"DOWN": 25.0, "DEGRADED": 10.0}
LINKED_SHARE = (
    0.72  # snapshots that belong to a scan; the rest are V2 live (no scan, a few dangling)
)
SNAPSHOT_TTL = DAY  # "history": about one day of snapshots is unexpired now
ODD_SHARE = 0.015  # share of non-numeric response_time_ms / error_count_24h

ERROR_SERVICES: tuple[str | None, ...] = (
    "opportunity_cache",
    "strategy_specific_scanner",
    "universe_loader",
    "strategy_ai_service",
    None,
)
ERROR_BACKGROUND = (0.35, 0.5, 0.6, 0.8, 1.0)  # cumulative weights of ERROR_SERVICES outside bursts

# ---------------------------------------------------------------- system_health_status

HEALTH_COLUMNS = (
    "id",
    "check_timestamp",
    "service_name",
    "status",
    "response_time_ms",
    "error_count_24h",
    "details",
)


def health_rows(plan: Plan, clock: Clock) -> Iterator[Row]:
    """Checks every 2 minutes per service (denser in "window"), newest just before now."""
    rng = plan.rng("health")
    r, uid = rng.random, uuid_maker(rng)
    services = list(vocab.HEALTH_SERVICES)
    n_s = len(services)
    slots = -(-plan.rows // n_s)
    step = HEALTH_STEP if plan.profile == "history" else max(n_s, WINDOW_SPAN // max(slots, 1))
    end = plan.now_us - 20 * SEC
    cursors = [Cursor(plan.incidents[s]) for s in services]
    for j in range(plan.rows):
        back = plan.rows - 1 - j  # 0 = the newest check
        k = back % n_s
        t = end - (back // n_s) * step - k * (step // n_s) - int(r() * step / (4 * n_s))
        if r() < SECONDS_ONLY_SHARE:
            t = seconds_only(t)
        service = services[k]
        inc = cursors[k].at(t)
        yield (uid(), clock.db(t), service, *_health_values(r, service, inc, t))


def _health_values(
    r: Callable[[], float], service: str, inc: Incident | None, t: int
) -> tuple[Any, ...]:
    """(status, response_time_ms, error_count_24h, details) for one check."""
    base = vocab.HEALTH_SERVICES[service]
    if inc is None:
        u = r()
        status = "HEALTHY" if u < 0.985 else vocab.ODD_HEALTHY[int((u - 0.985) / 0.015 * 6)]
        resp: int | None = int(base * (0.6 + r() * 0.8)) or None
        count: int | None = int(r() * 3) if r() < 0.2 else None  # the backend stores 0 as NULL
        details = "{}" if r() < 0.4 else '{"error": null, "source": "health_check"}'
    else:
        u = r()
        if u < 0.85:
            status = inc[2]
        elif u < 0.95:
            status = "DOWN" if inc[2] == "DEGRADED" else "DEGRADED"
        else:
            status = vocab.ODD_UNHEALTHY[int((u - 0.95) / 0.05 * 6)]
        down = status in ("DOWN", "OFFLINE", "ERROR", "unhealthy")
        resp = None if down and r() < 0.3 else int(base * (4 + r() * 8) * (3 if down else 1))
        count = int(3 + (t - inc[0]) / MINUTE * (2 + r()))
        errs = vocab.HEALTH_ERRORS[service]
        details = f'{{"error": "{errs[int(r() * len(errs))]}", "source": "health_check", "incident": true}}'
    resp_s: Any = str(resp) if resp else None
    count_s: Any = str(count) if count else None
    if r() < ODD_SHARE:
        resp_s = vocab.ODD_NUMBERS[int(r() * len(vocab.ODD_NUMBERS))]
    if r() < ODD_SHARE:
        count_s = vocab.ODD_NUMBERS[int(r() * len(vocab.ODD_NUMBERS))]
    return status, resp_s, count_s, details


# ---------------------------------------------------------------- critical_error_logs

ERROR_COLUMNS = (
    "id",
    "error_type",
    "message",
    "details",
    "service",
    "user_id",
    "created_at",
    "resolved_at",
    "resolution_notes",
    "severity",
)
Burst = tuple[str, int, int, float, int]  # service, from, to, weight, incident end


def _error_bins(plan: Plan) -> list[tuple[int, int, int, list[Burst]]]:
    """(bin start, bin end, error count, bursts) oldest first; exactly plan.rows errors in all.

    Counts come from cumulative weights walked backwards from now, so in "history" the newest bins
    get the same counts whatever the size; "window" scales the weights to fit the last 24 h.
    """
    services = [s for s in ERROR_SERVICES if s is not None]
    starts = {s: [i[0] for i in plan.incidents[s]] for s in services}
    end = plan.now_us - 10 * SEC
    bins: list[tuple[int, int, float, list[Burst]]] = []
    total, b1 = 0.0, end
    n_bins = WINDOW_SPAN // ERROR_BIN
    while (
        (total < plan.rows * 1.0 / ERRORS_PER_BIN)
        if plan.profile == "history"
        else len(bins) < n_bins
    ):
        b0 = b1 - ERROR_BIN
        bursts = _bursts(plan, services, starts, b0, b1)
        w = 1.0 + sum(b[3] for b in bursts)
        bins.append((b0, b1, w, bursts))
        total += w
        b1 = b0
        if plan.rows == 0:
            break
    scale = plan.rows / total if plan.profile == "window" and total else ERRORS_PER_BIN
    out, cum, given = [], 0.0, 0
    for b0, b1_, w, bursts in bins:
        cum += w * scale
        count = min(int(cum), plan.rows) - given
        given += count
        out.append((b0, b1_, count, bursts))
    if given < plan.rows:  # rounding: the oldest bin takes the rest
        b0, b1_, count, bursts = out[-1]
        out[-1] = (b0, b1_, count + plan.rows - given, bursts)
    out.reverse()
    return out


def _bursts(
    plan: Plan, services: list[str], starts: dict[str, list[int]], b0: int, b1: int
) -> list[Burst]:
    found: list[Burst] = []
    for s in services:
        i = bisect.bisect_left(starts[s], b1) - 1
        if i >= 0:
            inc = plan.incidents[s][i]
            lo, hi = max(b0, inc[0]), min(b1, inc[1], plan.now_us)
            if hi > lo:
                found.append((s, lo, hi, BURST_WEIGHT[inc[2]] * (hi - lo) / ERROR_BIN, inc[1]))
    return found


def error_rows(plan: Plan, clock: Clock) -> Iterator[Row]:
    """Background errors plus bursts inside incidents of the service that logs them."""
    rng = plan.rng("errors")
    r, uid = rng.random, uuid_maker(rng)
    pools = {s: vocab.error_pool(rng, s) for s in ERROR_SERVICES}
    now = plan.now_us
    for b0, b1, count, bursts in _error_bins(plan):
        total_w = 1.0 + sum(b[3] for b in bursts)
        events = []
        for _ in range(count):
            u = r() * total_w
            if u < 1.0:
                idx = bisect.bisect_left(ERROR_BACKGROUND, r())
                events.append((b0 + int(r() * (b1 - b0)), ERROR_SERVICES[idx], 0))
                continue
            u -= 1.0
            for s, lo, hi, w, inc_end in bursts:
                if u < w or (s, lo) == bursts[-1][:2]:
                    events.append((lo + int(r() * (hi - lo)), s, inc_end))
                    break
                u -= w
        events.sort(key=lambda e: e[0])
        for t, service, inc_end in events:
            yield _error_row(r, uid, pools[service], service, t, inc_end, now, clock)


def _error_row(
    r: Callable[[], float],
    uid: Callable[[], str],
    pool: Sequence[tuple[str, str, str]],
    service: str | None,
    t: int,
    inc_end: int,
    now: int,
    clock: Clock,
) -> Row:
    etype, message, details = pool[int(r() * len(pool))]
    u = r()
    severity = "HIGH" if u < 0.85 else "MEDIUM" if u < 0.95 else "LOW"
    resolved = None
    if inc_end and inc_end < now - 30 * MINUTE and r() < 0.75:
        resolved = min(inc_end + int((5 + r() * 55) * MINUTE), now - MINUTE)
    elif not inc_end and t < now - 2 * HOUR and r() < 0.4:
        resolved = t + int(min(12 * HOUR, now - t - MINUTE) * (0.02 + r() * 0.98))
    notes = (
        vocab.RESOLUTION_NOTES[int(r() * len(vocab.RESOLUTION_NOTES))]
        if resolved and r() < 0.75
        else None
    )
    if r() < SECONDS_ONLY_SHARE:
        t = seconds_only(t)
    return (
        uid(),
        etype,
        message,
        details,
        service,
        None,
        clock.db(t),
        clock.db(resolved) if resolved else None,
        notes,
        severity,
    )


# ---------------------------------------------------------------- scan_sessions + opportunity_snapshots

SCAN_COLUMNS = (
    "id",
    "strategy",
    "symbols_scanned",
    "started_at",
    "completed_at",
    "opportunities_found",
    "status",
    "error_message",
    "scan_parameters",
)
SNAPSHOT_COLUMNS = (
    "opportunity_id",
    "symbol",
    "strategy_type",
    "data",
    "created_at",
    "expires_at",
    "last_updated",
    "scan_session_id",
    "is_active",
    "cache_hits",
    "premium",
    "max_loss",
    "probability_profit",
    "expected_value",
    "days_to_expiration",
    "underlying_price",
    "liquidity_score",
)
SCANS_PER_DAY = sum(24 * 60 / iv for _, iv, _ in vocab.SCAN_STRATEGIES)


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` by `weights` exactly (largest remainder)."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _worst_of(plan: Plan, services: Sequence[str]) -> list[tuple[int, int, str, str]]:
    """Non-overlapping (start, end, worst state, its service) over the incidents of `services`."""
    spans = [(a, b, st, s) for s in services for a, b, st in plan.incidents[s]]
    cuts = sorted({x for a, b, _, _ in spans for x in (a, b)})
    spans.sort()
    out: list[tuple[int, int, str, str]] = []
    live: list[tuple[int, int, str, str]] = []
    nxt = 0
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        while nxt < len(spans) and spans[nxt][0] <= lo:
            live.append(spans[nxt])
            nxt += 1
        live = [sp for sp in live if sp[1] > lo]
        if live:
            worst = max(live, key=lambda sp: sp[2] == "DOWN")
            out.append((lo, hi, worst[2], worst[3]))
    return out


def _scan_times(plan: Plan) -> Iterator[tuple[int, int]]:
    """(start time, strategy index) of every scan, oldest first, each strategy at its own interval."""
    counts = _allocate(plan.rows, [1 / iv for _, iv, _ in vocab.SCAN_STRATEGIES])
    end = plan.now_us - 5 * SEC
    rng = plan.rng("scan-phase")
    streams = []
    for k, ((_, interval, _), n) in enumerate(zip(vocab.SCAN_STRATEGIES, counts, strict=True)):
        step = int(interval * MINUTE) if plan.profile == "history" else WINDOW_SPAN // max(n, 1)
        phase = int(rng.random() * step)
        streams.append(_every(end - phase, step, n, k))
    return heapq.merge(*streams)


def _every(last: int, step: int, n: int, k: int) -> Iterator[tuple[int, int]]:
    """n times `step` apart, ending at `last`, tagged with strategy index k."""
    for j in range(n):
        yield last - (n - 1 - j) * step, k


@dataclass
class _ScanState:
    """Counters of the joint scan/snapshot pass."""

    linked_target: int
    free_target: int
    linked: int = 0
    free: int = 0
    snap_no: int = 0
    prev_t: int = 0


class _ScanWriter:
    """Builds scans and their snapshots in one pass, so counts and links agree."""

    def __init__(self, plan: Plan, clock: Clock, *, dangling: bool) -> None:
        self.plan, self.clock, self.dangling = plan, clock, dangling
        rng = plan.rng("scans")
        self.r, self.uid = rng.random, uuid_maker(rng)
        self.deps = Cursor(_worst_of(plan, vocab.SCAN_DEPENDENCIES))  # type: ignore[arg-type]
        self.symbols = list(vocab.PRICES)
        self.free_weights = [w for w, _ in snaps.FREE_SHAPES]
        self.free_builders = [b for _, b in snaps.FREE_SHAPES]
        self.params = [
            (name, vocab.dumps(p["symbols"]), vocab.dumps(p), p["symbols"])
            for name, _, p in vocab.SCAN_STRATEGIES
        ]
        linked = round(plan.rows * LINKED_SHARE)
        self.state = _ScanState(linked_target=linked, free_target=plan.rows - linked)
        self.last_epoch: dict[tuple[str, str], int] = {}
        now = plan.now_us
        span = plan.span(SCANS_PER_DAY)
        # forced oddities, placed at times every size has (clamped into the span)
        self.stuck_at = sorted(max(now - span, now - m * MINUTE) for m in (150, 90))
        self.backwards_at: int | None = max(now - span, now - 240 * MINUTE)

    def rows(self) -> Iterator[tuple[Row | None, list[Row]]]:
        """(scan row, its snapshot rows) oldest first; a last (None, rest) flushes the quotas."""
        n = self.plan.rows
        for i, (t, k) in enumerate(_scan_times(self.plan)):
            yield self._scan(i, n, t, k)
        yield None, self._flush()

    def _scan(self, i: int, n: int, t: int, k: int) -> tuple[Row, list[Row]]:
        r, st = self.r, self.state
        name, symbols_json, params_json, symbols = self.params[k]
        t += int(r() * 2 * SEC)
        status, completed, error = self._outcome(t, name)
        scan_id = self.uid()
        out: list[Row] = []
        deficit = (i + 1) * st.linked_target // n - st.linked
        if (
            completed is not None
            and status == "COMPLETED"
            and deficit > 0
            and not (name in ("theta_crop", "volatility_play") and r() < 0.5)
        ):
            want = min(deficit, vocab.SCAN_MAX_OPPS[name], len(symbols))
            picks = (
                symbols[:]
                if want == len(symbols)
                else [symbols[int(r() * len(symbols))] for _ in range(want)]
            )
            builder = snaps.BY_SCAN_STRATEGY[name]
            for sym in dict.fromkeys(picks):
                at = min(
                    completed + int((1 + r() * 300) * 1000), self.plan.now_us - 1000
                )  # never after now
                out.append(self._snapshot(at, sym, builder, scan_id))
            st.linked += len(out)
        found = len(out)
        free_due = (i + 1) * st.free_target // n - st.free
        out.extend(self._free(st.prev_t or t - MINUTE, t, free_due))
        st.prev_t = t
        if r() < SECONDS_ONLY_SHARE:
            t = seconds_only(t)
        clock = self.clock
        row = (
            scan_id,
            name,
            symbols_json,
            clock.db(t),
            clock.db(completed) if completed else None,
            found,
            status,
            error,
            params_json,
        )
        return row, out

    def _outcome(self, t: int, name: str) -> tuple[str, int | None, str | None]:
        """(status, completed_at, error_message) from the dependencies' health at start time."""
        r, now = self.r, self.plan.now_us
        dur = int(vocab.SCAN_DURATION_S[name] * (0.3 + r() * 1.4) * SEC)
        if self.stuck_at and t >= self.stuck_at[0]:
            self.stuck_at.pop(0)
            return "RUNNING", None, None
        if t + dur > now:
            return "RUNNING", None, None
        seg = self.deps.at(t)
        worst, culprit = (seg[2], seg[3]) if seg else (None, None)  # type: ignore[misc]
        p_fail = 0.8 if worst == "DOWN" else 0.35 if worst == "DEGRADED" else 0.004
        u = r()
        if u < p_fail:
            msgs = vocab.SCAN_FAILURES[culprit or vocab.SCAN_DEPENDENCIES[int(r() * 3)]]
            msg = msgs[int(r() * len(msgs))].format(s=name, S=name.upper())
            return "FAILED", t + dur, msg
        if u < p_fail + 0.003:
            return (
                "CANCELLED",
                (t + dur if r() < 0.5 else None),
                "Cancelled: scheduler shutting down",
            )
        if t < now - 2 * HOUR and r() < 0.00005:  # a few more stuck scans at large sizes
            return "RUNNING", None, None
        if self.backwards_at is not None and t >= self.backwards_at or r() < 0.00002:
            self.backwards_at = None  # clock skew: completed before it started
            return "COMPLETED", t - int((0.5 + r() * 3600) * SEC), None
        return "COMPLETED", t + dur, None

    def _free(self, lo: int, hi: int, count: int) -> list[Row]:
        """V2 live snapshots (no scan; a few point to a scan that does not exist) between two scans."""
        if count <= 0:
            return []
        r = self.r
        times = sorted(lo + int(r() * (hi - lo)) for _ in range(count))
        syms, weights, builders = self.symbols, self.free_weights, self.free_builders
        out = []
        for t in times:
            builder = builders[bisect.bisect_left(weights, r())]
            scan_id = self.uid() if r() < 0.03 else None
            if not self.dangling:  # PostgreSQL and MySQL enforce the FK the backend never checks
                scan_id = None
            out.append(self._snapshot(t, syms[int(r() * len(syms))], builder, scan_id))
        self.state.free += count
        return out

    def _flush(self) -> list[Row]:
        st = self.state
        rest = st.linked_target - st.linked + st.free_target - st.free
        st.free_target += st.linked_target - st.linked
        st.linked = st.linked_target
        return self._free(st.prev_t or self.plan.now_us - MINUTE, self.plan.now_us - SEC, rest)

    def _snapshot(
        self, t: int, sym: str, builder: Callable[..., snaps.Snapshot], scan_id: str | None
    ) -> Row:
        r, plan, st = self.r, self.plan, self.state
        st.snap_no += 1
        px = round(vocab.PRICES[sym] * (0.97 + r() * 0.06), 2)
        epoch = t // SEC
        key = (builder.__name__, sym)
        epoch = max(epoch, self.last_epoch.get(key, 0) + 1)  # ids without a counter stay unique
        self.last_epoch[key] = epoch
        oid, stype, data, m = builder(r, st.snap_no, sym, px, self.clock.iso(t), t // DAY, epoch)
        if t < plan.now_us - 7 * DAY and r() < 0.25:
            data = snaps.partial(oid, sym, stype, m)
        if r() < 0.03:  # the backend's upsert replaced data but left these columns stale
            m = (
                round(m[0] * 0.9, 2),
                m[1],
                round(m[2] - 0.04, 3),
                round(m[3] * 0.8, 2),
                m[4] + 1,
                m[5],
                m[6],
            )
        if plan.profile == "window":
            expires = plan.now_us + 10 * MINUTE + int(r() * 23 * HOUR)
        else:
            expires = t + SNAPSHOT_TTL + int(r() * HOUR)
        live = expires > plan.now_us
        updated = t + int(r() * min(expires - t, max(plan.now_us - t, 0))) if r() < 0.5 else t
        active = r() < 0.98 if live else r() < 0.35
        clock = self.clock
        created = clock.db(t)
        return (
            oid,
            sym,
            stype,
            data,
            created,
            clock.db(expires),
            created if updated == t else clock.db(updated),
            scan_id,
            active,
            int(r() ** 3 * 6),
            *m,
        )


# ---------------------------------------------------------------- loading

TABLES = Base.metadata.tables
BIG_TABLES = (
    "system_health_status",
    "critical_error_logs",
    "scan_sessions",
    "opportunity_snapshots",
)


class _Loader:
    """Executemany batches of prepared Core inserts, one transaction per batch.

    PostgreSQL gets the same batches through COPY (psycopg's executemany sends one statement per
    row: about 10x slower); the values are the same Python objects either way.
    """

    def __init__(self, conn: Connection, total: int, progress: Progress | None) -> None:
        self.conn, self.total, self.progress = conn, max(total, 1), progress
        self.sqlite = conn.dialect.name == "sqlite"
        self.copy = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
        self.done = 0
        self.written: dict[str, int] = {}
        self._sql: dict[str, tuple[str, tuple[str, ...]]] = {}

    def prepare(self, table: Table, columns: tuple[str, ...]) -> None:
        if self.copy:
            sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"  # our own table and column names
        else:
            sql = str(
                insert(table).inline().compile(dialect=self.conn.dialect, column_keys=list(columns))
            )
        self._sql[table.name] = (sql, columns)
        self.written.setdefault(table.name, 0)

    def write(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        sql, columns = self._sql[table]
        with self.conn.begin():
            if self.copy:
                raw: Any = self.conn.connection.driver_connection
                with raw.cursor() as cur, cur.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                params: Any = (
                    rows if self.sqlite else [dict(zip(columns, row, strict=True)) for row in rows]
                )
                self.conn.exec_driver_sql(sql, params)
        self.written[table] += len(rows)
        self.done += len(rows)
        if self.progress:
            self.progress(min(self.done / self.total, 1.0), f"{table} {self.written[table]:,}")

    def stream(self, table: str, rows: Iterator[Row]) -> None:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                self.write(table, batch)
                batch = []
        self.write(table, batch)


@contextmanager
def _sqlite_bulk(conn: Connection, tables: Sequence[Table]) -> Iterator[None]:
    """SQLite: no fsync during the load; the indexes of still-empty tables are built once at the end.

    Building an index after a bulk load costs less than maintaining it row by row (measured: 1M
    snapshots with their 15 indexes, 39 s maintained against 14 s loaded then built).
    They are our models' own (the same DDL `create_all` emits) and are recreated even on error.
    """
    raw: Any = conn.connection.driver_connection
    pragmas = ("synchronous", "cache_size", "threads", "mmap_size")
    before = {p: raw.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas}
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-262144")
    raw.execute("PRAGMA threads=2")  # index builds may sort on a helper thread
    raw.execute("PRAGMA mmap_size=2147483648")  # index builds read the whole table: no copies
    existing = {t.name: {ix["name"] for ix in inspect(conn).get_indexes(t.name)} for t in tables}
    empty = [
        t for t in tables if conn.execute(select(func.count()).select_from(t)).scalar_one() == 0
    ]
    conn.commit()
    dropped = [ix for t in empty for ix in t.indexes if ix.name in existing[t.name]]
    with conn.begin():
        for ix in dropped:
            ix.drop(conn)
    try:
        yield
    finally:
        with conn.begin():
            for ix in dropped:
                ix.create(conn, checkfirst=True)
        for pragma, value in before.items():  # the pooled connection goes back as it came
            raw.execute(f"PRAGMA {pragma}={int(value)}")


@contextmanager
def _no_bulk() -> Iterator[None]:
    yield


def generate(
    engine: Engine,
    *,
    rows: int,
    seed: int = 7,
    profile: str = "history",
    progress: Progress | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Fill the backend's nine tables with demo data; returns rows written per table.

    `rows` rows go into each big table; the sandbox tables get smaller counts (`sandbox_sizes`).
    Existing rows are kept (the tables are expected to be empty: ids and cache keys of a second run
    for the same day would collide). Times are relative to `now` (default: the current UTC time).
    Dangling references (batch config ids, scan ids that point nowhere) are written only on
    SQLite, where the backend's foreign keys are not enforced; PostgreSQL and MySQL reject them.
    """
    plan = make_plan(rows=rows, seed=seed, profile=profile, now=now)
    Base.metadata.create_all(engine)
    sandbox_total = sum(sandbox_sizes(rows).values()) + 60
    with writer(engine).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        clock = Clock(sqlite=sqlite)
        loader = _Loader(conn, 4 * rows + sandbox_total, progress)
        big = [Base.metadata.tables[name] for name in BIG_TABLES]
        with _sqlite_bulk(conn, big) if sqlite else _no_bulk():
            _load_big(plan, clock, loader)
        _load_sandbox(plan, clock, loader)
    if progress:
        progress(1.0, "done")
    return dict(loader.written)


def _load_big(plan: Plan, clock: Clock, loader: _Loader) -> None:
    loader.prepare(TABLES["system_health_status"], HEALTH_COLUMNS)
    loader.prepare(TABLES["critical_error_logs"], ERROR_COLUMNS)
    loader.prepare(TABLES["scan_sessions"], SCAN_COLUMNS)
    loader.prepare(TABLES["opportunity_snapshots"], SNAPSHOT_COLUMNS)
    loader.stream("system_health_status", health_rows(plan, clock))
    loader.stream("critical_error_logs", error_rows(plan, clock))
    scans: list[Row] = []
    snapshots: list[Row] = []
    for scan, snaps_ in _ScanWriter(plan, clock, dangling=loader.sqlite).rows():
        if scan is not None:
            scans.append(scan)
        snapshots.extend(snaps_)
        if len(scans) >= BATCH_ROWS or len(snapshots) >= BATCH_ROWS:
            loader.write("scan_sessions", scans)  # scans first: their snapshots reference them
            loader.write("opportunity_snapshots", snapshots)
            scans, snapshots = [], []
    loader.write("scan_sessions", scans)
    loader.write("opportunity_snapshots", snapshots)


def _load_sandbox(plan: Plan, clock: Clock, loader: _Loader) -> None:
    sb = Sandbox(plan, clock, dangling=loader.sqlite)
    for table, columns in (
        ("sandbox_strategy_configs", CONFIG_COLUMNS),
        ("sandbox_test_runs", RUN_COLUMNS),
        ("sandbox_ai_conversations", AI_COLUMNS),
        ("sandbox_historical_cache", CACHE_COLUMNS),
        ("sandbox_stats", STATS_COLUMNS),
    ):
        loader.prepare(TABLES[table], columns)
    loader.write("sandbox_strategy_configs", sb.config_rows())
    loader.write("sandbox_test_runs", sb.run_rows())
    loader.write("sandbox_ai_conversations", sb.ai_rows())
    loader.write("sandbox_historical_cache", sb.cache_rows())
    loader.write("sandbox_stats", sb.stats_rows())


# ---------------------------------------------------------------- CLI


def _bar(stream: Any) -> Progress:
    def show(frac: float, what: str) -> None:
        filled = int(frac * 30)
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {frac * 100:5.1f}% {what:<40}")
        stream.flush()

    return show


def main(argv: list[str] | None = None) -> int:
    """`python -m demo.generate`: create missing tables, migrate ours, load demo data, report."""
    from db.engine import make_engine
    from db.schema import migrate
    from db.settings import BrokenSettings, configured_url, safe_url

    ap = argparse.ArgumentParser(
        prog="python -m demo.generate", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--url", help="database URL (default: the configured one)")
    ap.add_argument(
        "--rows", type=int, default=20_000, help="rows in each big table (default 20000)"
    )
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument(
        "--profile", choices=PROFILES, default="history", help="time layout (default history)"
    )
    args = ap.parse_args(argv)
    try:
        url = args.url or configured_url()
    except BrokenSettings as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = make_engine(url, read_timeout=False)
    started = time.perf_counter()
    try:
        Base.metadata.create_all(engine)
        migrate.upgrade(engine)
        written = generate(
            engine, rows=args.rows, seed=args.seed, profile=args.profile, progress=_bar(sys.stderr)
        )
    except Exception as exc:  # noqa: BLE001 - the CLI reports, it does not trace
        print(
            f"\ndemo data failed on {safe_url(url)}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    print(file=sys.stderr)
    print(f"demo data written to {safe_url(url)} in {time.perf_counter() - started:.1f} s")
    for table, n in written.items():
        print(f"  {table:<28} {n:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
