"""Load: 1, 10 and 30 sessions speaking Streamlit's protocol to one server on 127.0.0.1,
each cycling through every page, back to back and then as users with 1-3 s think time
(bench/concurrency.py); p50/p95 per rerun, errors, and the server's memory before,
right after and 20 s after the sessions end.  `python -m bench.sessions [--db PATH] [--reruns N]`

(bench/load.py does the same with real Chromium pages; on 2 cores its 30 browsers starve the
server, so this protocol client is the measure of the server itself.)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.concurrency import THINK_S, measure
from bench.server import streamlit_server
from ui.kit.nav import SECTIONS

SETTLE_S = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--db", default="bench/dbs/history-1000000.db", help="SQLite file (bench.dbs builds it)"
    )
    parser.add_argument("--reruns", type=int, default=6, help="reruns per session")
    parser.add_argument(
        "--no-users", action="store_true", help="skip the think-time (users) load model"
    )
    args = parser.parse_args()
    pages = [p.url_path for specs in SECTIONS.values() for p in specs]
    db = Path(args.db).resolve()
    with streamlit_server(f"sqlite:///{db}", "sessions") as srv:
        before = srv.memory_mb()
        results = measure(srv.base_url, pages, levels=(1, 10, 30), reruns=args.reruns)
        right_after = srv.memory_mb()
        time.sleep(SETTLE_S)
        settled = srv.memory_mb()
        # The same 30 sessions again: memory that keeps growing per round would be a leak.
        results["30 again"] = measure(srv.base_url, pages, levels=(30,), reruns=args.reruns)["30"]
        time.sleep(SETTLE_S)
        second = srv.memory_mb()
        if not args.no_users:
            users = measure(
                srv.base_url, pages, levels=(1, 10, 30), reruns=args.reruns, think=THINK_S
            )
            results.update({f"{n} users": r for n, r in users.items()})
            after_users = srv.memory_mb()
    for level, r in results.items():
        print(
            f"{level:>3} sessions: "
            + ", ".join(f"{k}={v}" for k, v in r.items() if not isinstance(v, list))
            + (f", error messages={r['errors'][:3]}" if isinstance(r.get("errors"), list) else "")
        )
    print(
        f"server memory MB: before {before}, right after {right_after}, {SETTLE_S} s after {settled}, "
        f"{SETTLE_S} s after a second round of 30 {second}"
        + (
            ""
            if args.no_users
            else f", after 1/10/30 users with {THINK_S} s think time {after_users}"
        )
    )
    out = Path("bench/out/sessions.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "pages": pages,
                "results": results,
                "memory": [
                    before,
                    right_after,
                    settled,
                    second,
                    None if args.no_users else after_users,
                ],
            },
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
