"""The benchmark's table (markdown) and the issue's targets checked against it.

`python -m bench.report [--profile history]` re-renders bench/out/results-<profile>.json.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.common import OUT, load_json

# The targets (2-core machine, SQLite, history profile).
COLD_MAX_S = 0.3
WARM_MAX_S = 0.05
GROWTH_MAX = 1.5
NAIVE_MIN_RATIO = 25
PEAK_MAX_MB = 250
BROWSER_MAX_RATIO = 1.2
CONCURRENCY_P95_MAX_RATIO = 3
WINDOW_COLD_MAX_S = 2.0


def _f(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _rows_label(rows: int) -> str:
    return (
        f"{rows // 1_000_000}M"
        if rows >= 1_000_000 and rows % 1_000_000 == 0
        else f"{rows // 1000}k"
    )


def page_table(res: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines of page x interaction x size, and the flat rows for the target checks."""
    sizes: list[int] = res["sizes"]
    small = min(sizes)
    pr = res.get("page_results", {})
    nr = res.get("naive_results", {})
    lines = [
        "| page | interaction | rows | cold s | warm s | cold / cold@"
        + _rows_label(small)
        + " | naive cold s | naive/ours cold | naive warm s | naive/ours warm | peak RSS MB | py peak MB | problems |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    flat: list[dict[str, Any]] = []
    for page in res["pages"]:
        name = page["url_path"]
        big = next((t for t in page["tables"] if f"{t}|{small}" in nr), None)
        base = (pr.get(f"{name}|{small}") or {}).get("results", {})
        for rows in sizes:
            r = pr.get(f"{name}|{rows}") or {}
            if "error" in r or not r:
                lines.append(
                    f"| {name} | – | {_rows_label(rows)} | failed: {r.get('error', 'not run')[:80]} |"
                    + " |" * 9
                )
                continue
            naive = (
                ((nr.get(f"{big}|{rows}") or {}).get("results") or {}).get("open", {})
                if big
                else {}
            )
            for kind, m in r["results"].items():
                cold, warm = m["cold_s"], m["warm_s"]
                growth = _ratio(cold, (base.get(kind) or {}).get("cold_s"))
                nc, nw = (
                    naive.get("cold_s") if kind == "open" else None,
                    naive.get("warm_s") if kind == "open" else None,
                )
                probs = "; ".join(m.get("problems", []))[:60]
                lines.append(
                    f"| {name} | {m['label'] if kind != 'open' else 'open'} | {_rows_label(rows)} | {_f(cold)} | "
                    f"{_f(warm)} | {_f(growth, 2)} | {_f(nc, 2)} | {_f(_ratio(nc, cold), 0)} | {_f(nw, 2)} | "
                    f"{_f(_ratio(nw, warm), 0)} | {r['peak_rss_mb']:.0f} | {_f(r.get('py_peak_mb'), 0)} | {probs} |"
                )
                flat.append(
                    {
                        "page": name,
                        "kind": kind,
                        "rows": rows,
                        "cold": cold,
                        "warm": warm,
                        "growth": growth,
                        "naive_ratio": _ratio(nc, cold),
                        "peak": r["peak_rss_mb"],
                        "problems": m.get("problems"),
                    }
                )
    return lines, flat


def compact_table(res: dict[str, Any], flat: list[dict[str, Any]]) -> list[str]:
    """One line per page and size: open cold/warm, the slowest interaction, growth, naive ratio, peak."""
    lines = [
        "| page | rows | open cold s | open warm s | slowest interaction cold / warm s | cold/10k | naive/ours "
        "| peak MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for page in res["pages"]:
        for rows in res["sizes"]:
            mine = [r for r in flat if r["page"] == page["url_path"] and r["rows"] == rows]
            if not mine:
                continue
            op = next((r for r in mine if r["kind"] == "open"), mine[0])
            worst = max(mine, key=lambda r: r["cold"] or 0)
            grow = max((r["growth"] for r in mine if r["growth"] is not None), default=None)
            lines.append(
                f"| {page['url_path']} | {_rows_label(rows)} | {_f(op['cold'])} | {_f(op['warm'])} | "
                f"{worst['kind']} {_f(worst['cold'])} / {_f(max(r['warm'] or 0 for r in mine))} | "
                f"{_f(grow, 1)} | {_f(op['naive_ratio'], 0)} | {op['peak']:.0f} |"
            )
    return lines


def browser_table(res: dict[str, Any]) -> list[str]:
    srv = res.get("server", {})
    empty, big = srv.get("browser_empty"), srv.get("browser_big")
    if not empty or not big:
        return []
    label = _rows_label(max(res["sizes"]))
    lines = [
        f"| page | empty db (floor) s | {label} s | ratio | {label} first load (cold server cache) s | rendered |",
        "|---|---|---|---|---|---|",
    ]
    for path, b in big.items():
        e = empty.get(path, {})
        lines.append(
            f"| {path} | {_f(e.get('median_s'), 2)} | {_f(b.get('median_s'), 2)} | "
            f"{_f(_ratio(b.get('median_s'), e.get('median_s')), 2)} | {_f(b.get('first_s'), 2)} | "
            f"{b.get('element')} |"
        )
    return lines


CONCURRENCY_MODELS = {"concurrency": "back to back", "concurrency_users": "users, 1-3 s think time"}


def concurrency_table(res: dict[str, Any]) -> list[str]:
    srv = res.get("server", {})
    if not any(srv.get(k) for k in CONCURRENCY_MODELS):
        return []
    lines = [
        "| load model | sessions | reruns done/planned | p50 s | p95 s | p95 / p95@1 | max s | errors | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, model in CONCURRENCY_MODELS.items():
        conc = srv.get(key) or {}
        one = (conc.get("1") or {}).get("p95_s")
        for n, c in conc.items():
            lines.append(
                f"| {model} | {n} | {c['reruns']}/{c['expected']} | {_f(c['p50_s'])} | {_f(c['p95_s'])} | "
                f"{_f(_ratio(c['p95_s'], one), 1)} | {_f(c['max_s'])} | {c['errors']} | "
                f"{_f(c['wall_s'], 1)} |"
            )
            if c.get("error_samples"):
                lines.append(f"|  |  | errors: {'; '.join(c['error_samples'])[:150]} | | | | | | |")
    return lines


def _check(ok: bool | None, text: str) -> str:
    return f"- {'MET' if ok else ('not measured' if ok is None else 'NOT MET')}: {text}"


def targets(res: dict[str, Any], flat: list[dict[str, Any]]) -> list[str]:
    big = max(res["sizes"])
    at_big = [r for r in flat if r["rows"] == big]
    if not at_big:
        return ["- no page results"]
    out: list[str] = []
    if res["profile"] == "window":
        worst = max(at_big, key=lambda r: r["cold"] or 0)
        return [
            _check(
                worst["cold"] <= WINDOW_COLD_MAX_S,
                f"window profile: every page cold <= {WINDOW_COLD_MAX_S} s at {_rows_label(big)} "
                f"(worst {worst['page']}/{worst['kind']} {_f(worst['cold'])} s)",
            )
        ]
    worst_cold = max(at_big, key=lambda r: r["cold"] or 0)
    worst_warm = max(at_big, key=lambda r: r["warm"] or 0)
    out.append(
        _check(
            worst_cold["cold"] <= COLD_MAX_S,
            f"cold <= {COLD_MAX_S} s at {_rows_label(big)} "
            f"(worst {worst_cold['page']}/{worst_cold['kind']} {_f(worst_cold['cold'])} s)",
        )
    )
    out.append(
        _check(
            worst_warm["warm"] <= WARM_MAX_S,
            f"warm <= {WARM_MAX_S} s "
            f"(worst {worst_warm['page']}/{worst_warm['kind']} {_f(worst_warm['warm'])} s)",
        )
    )
    growths = [r for r in at_big if r["growth"] is not None]
    if growths:
        w = max(growths, key=lambda r: r["growth"])
        out.append(
            _check(
                w["growth"] <= GROWTH_MAX,
                f"cold at {_rows_label(big)} <= {GROWTH_MAX} x cold at "
                f"{_rows_label(min(res['sizes']))} (worst {w['page']}/{w['kind']} {_f(w['growth'], 2)} x)",
            )
        )
    ratios = [r for r in at_big if r["naive_ratio"] is not None]
    out.append(
        _check(
            min(r["naive_ratio"] for r in ratios) >= NAIVE_MIN_RATIO if ratios else None,
            f">= {NAIVE_MIN_RATIO} x faster than naive, cold, at {_rows_label(big)} "
            + (
                f"(lowest {min(ratios, key=lambda r: r['naive_ratio'])['page']} "
                f"{min(r['naive_ratio'] for r in ratios):.0f} x)"
                if ratios
                else ""
            ),
        )
    )
    peak = max(r["peak"] for r in at_big)
    srv_mem = res.get("server", {}).get("server_memory", {}).get("peak_mb")
    out.append(
        _check(
            peak < PEAK_MAX_MB and (srv_mem is None or srv_mem < PEAK_MAX_MB),
            f"peak memory < {PEAK_MAX_MB} MB (AppTest process per page max {peak:.0f} MB; "
            f"streamlit server VmHWM {_f(srv_mem, 0)} MB after browser + concurrency)",
        )
    )
    srv = res.get("server", {})
    if srv.get("browser_big") and srv.get("browser_empty"):
        rs = [
            (_ratio(b.get("median_s"), srv["browser_empty"].get(p, {}).get("median_s")), p)
            for p, b in srv["browser_big"].items()
        ]
        rs = [(r, p) for r, p in rs if r is not None]
        if rs:
            w = max(rs)
            out.append(
                _check(
                    w[0] <= BROWSER_MAX_RATIO,
                    f"browser <= {BROWSER_MAX_RATIO} x empty-database floor "
                    f"(worst {w[1]} {w[0]:.2f} x)",
                )
            )
    for key, model in CONCURRENCY_MODELS.items():
        conc = srv.get(key)
        if conc and conc.get("1") and conc.get("10"):
            r10 = _ratio(conc["10"]["p95_s"], conc["1"]["p95_s"])
            out.append(
                _check(
                    r10 is not None and r10 <= CONCURRENCY_P95_MAX_RATIO,
                    f"10 sessions ({model}) p95 <= {CONCURRENCY_P95_MAX_RATIO} x single ({_f(r10, 1)} x)",
                )
            )
        if conc and conc.get("30"):
            out.append(
                _check(
                    conc["30"]["errors"] == 0,
                    f"no errors at 30 sessions ({model}): {conc['30']['errors']}",
                )
            )
    problems = sorted({p for r in flat for p in (r["problems"] or [])})
    if problems:
        out.append(f"- pages reported problems: {'; '.join(problems)[:200]}")
    return out


def render(res: dict[str, Any]) -> str:
    lines, flat = page_table(res)
    dbs = "; ".join(
        f"{_rows_label(int(r))}: generated in {d.get('generate_s', '?')} s"
        for r, d in res["databases"].items()
    )
    parts = [
        f"# Benchmark ({res['profile']} profile, {'with' if res.get('indexes') else 'without'} recommended indexes)",
        "",
        f"{res['started']} → {res.get('finished')}; {res['machine']}, load {res.get('load_at_end')} at end "
        "(the 2 cores are shared with other developers: CPU timings are noisy; medians of "
        f"{res['runs']} runs). Databases: {dbs}.",
        "Script times are AppTest script-run wall times in a process per page pinned to one CPU, its sizes "
        "taking turns run by run (peak RSS = that process's high-water mark over all its sizes, imports "
        "included; py peak = tracemalloc peak of one cold open at that size); cold = "
        "st.cache_data and st.cache_resource cleared right before the run (new connections, fresh "
        "SQLite page cache; the OS file cache stays warm); warm = the same run repeated.",
        "",
        *lines,
    ]
    b = browser_table(res)
    if b:
        parts += [
            "",
            "Browser (Playwright + Chromium): navigation to script finished and every visible "
            "dataframe/chart rendered; median of runs after a first load.",
            "",
            *b,
        ]
    c = concurrency_table(res)
    if c:
        parts += [
            "",
            "Concurrency: protocol-level websocket sessions (Streamlit's BackMsg/ForwardMsg) against "
            "one `streamlit run` server on 127.0.0.1, each session cycling through the pages; "
            "time per rerun = rerun request to script_finished.",
            "",
            *c,
        ]
    srv = res.get("server", {})
    mem = srv.get("server_memory")
    if mem:
        empty = srv.get("server_empty_after_browser") or {}
        after_browser = srv.get("server_after_browser") or {}
        parts += [
            "",
            "Streamlit server peak RSS (VmHWM): empty database after the browser runs "
            f"{empty.get('peak_mb', '–')} MB; largest database after the browser runs "
            f"{after_browser.get('peak_mb', '–')} MB; after the 1/10/30-session runs {mem['peak_mb']} MB.",
        ]
    parts += ["", "## Targets", "", *targets(res, flat)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("--profile", default="history")
    parser.add_argument(
        "--compact", action="store_true", help="one line per page and size, then the targets"
    )
    args = parser.parse_args(argv)
    res = load_json(OUT / f"results-{args.profile}.json")
    if not res:
        print("no results yet: run python -m bench.run", file=sys.stderr)
        return 1
    if args.compact:
        _, flat = page_table(res)
        print(
            "\n".join(
                [
                    *compact_table(res, flat),
                    "",
                    *browser_table(res),
                    "",
                    *concurrency_table(res),
                    "",
                    *targets(res, flat),
                ]
            )
        )
        return 0
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
