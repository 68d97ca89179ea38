"""A `streamlit run app.py` server on 127.0.0.1 for the browser and concurrency measures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import OUT, ROOT

START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    log: Path

    def memory_mb(self) -> dict[str, float]:
        """The server process's current RSS and its high-water mark (VmHWM), in MB."""
        out: dict[str, float] = {}
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        out[line.split(":")[0]] = int(line.split()[1]) / 1024
        except OSError:
            pass
        return {
            "rss_mb": round(out.get("VmRSS", 0.0), 1),
            "peak_mb": round(out.get("VmHWM", 0.0), 1),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@contextmanager
def streamlit_server(db_url: str, name: str) -> Iterator[Server]:
    """Start the app on a free loopback port with DATABASE_URL=db_url; stop it afterwards."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("DATABASE_READ_URL", None)
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"server-{name}.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield Server(base_url=base, pid=proc.pid, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
