"""`streamlit run app.py` on 127.0.0.1, started as the README starts it, on a database of the caller's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 15
# Settings of the caller's shell that would serve another database or address than asked for.
CLEARED_ENV = ("DATABASE_READ_URL", "STREAMLIT_SERVER_ADDRESS", "STREAMLIT_SERVER_ALLOWED_HOSTS")
OPTIONS = {
    "server.headless": "true",
    "server.address": "127.0.0.1",
    "server.fileWatcherType": "none",
    "browser.gatherUsageStats": "false",
}


@dataclass(frozen=True)
class Server:
    """A running console server: its port, process and log file."""

    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def memory_mb(self) -> dict[str, float]:
        """The process's resident memory now (rss_mb) and at its peak (peak_mb, VmHWM)."""
        found: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text(encoding="ascii").splitlines():
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line.split(":")[0]] = int(line.split()[1]) / 1024
        except OSError:
            pass
        return {
            "rss_mb": round(found.get("VmRSS", 0.0), 1),
            "peak_mb": round(found.get("VmHWM", 0.0), 1),
        }


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(port: int, args: Sequence[str] = ()) -> list[str]:
    """The README's `streamlit run app.py`, headless on 127.0.0.1:`port`, then `args`."""
    options = {**OPTIONS, "server.port": str(port)}
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    return [sys.executable, "-m", "streamlit", "run", "app.py", *flags, *args]


def _healthy(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(server):
        if not server.alive():
            raise RuntimeError(
                f"streamlit exited with {server.proc.returncode}:\n{server.log()[-3000:]}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"streamlit not healthy after {START_TIMEOUT_S} s:\n{server.log()[-3000:]}"
            )
        time.sleep(0.3)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running_server(
    database_url: str,
    log_path: Path,
    *,
    port: int | None = None,
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """The console on `database_url` (extra CLI `args`, e.g. --secrets.files), its output in
    `log_path`; yielded once /_stcore/health answers, stopped on leaving."""
    port = port or free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    for name in CLEARED_ENV:
        env.pop(name, None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command(port, args), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(port=port, proc=proc, log_path=log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(proc)
