"""Where a page's script time goes: cProfile of one cold and one warm run, project code first.

`python -m bench.profile_page --url URL --page errors [--top 25]`
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys

from bench.common import ROOT, registered_pages


def profile(url: str, page_path: str, top: int) -> str:
    """The cumulative-time profile of the page's cold run and warm run, as text."""
    import streamlit as st
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    from bench.worker import _app

    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_READ_URL", None)
    current: dict[str, cProfile.Profile | None] = {"prof": None}
    original = ScriptRunner._run_script

    def profiled(self: object, *args: object, **kwargs: object) -> object:
        prof = current["prof"]
        if prof is None:
            return original(self, *args, **kwargs)  # type: ignore[arg-type]
        prof.enable()  # AppTest runs the script in a thread of its own: profile that thread
        try:
            return original(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            prof.disable()

    ScriptRunner._run_script = profiled  # type: ignore[method-assign]
    at = _app(page_path)
    at.run()
    out = io.StringIO()
    for label in ("cold", "warm"):
        if label == "cold":
            st.cache_data.clear()
            st.cache_resource.clear()
        prof = cProfile.Profile()
        current["prof"] = prof
        at.run()
        current["prof"] = None
        out.write(f"==== {label}\n")
        stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
        stats.print_stats(str(ROOT), top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_page")
    parser.add_argument("--url", required=True)
    parser.add_argument("--page", required=True)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    page = next(p for p in registered_pages() if p.url_path == args.page)
    print(profile(args.url, page.path, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
