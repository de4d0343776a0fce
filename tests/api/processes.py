"""Real server processes for tests: start ``serve_child.py`` on a free port, wait (bounded) until
it answers, stop it, read what it logged."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CHILD = Path(__file__).resolve().parent / "serve_child.py"
ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 60.0
POLL_S = 0.05


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll ``check`` until it is true; fail the test after ``deadline_s`` seconds."""
    pause = threading.Event()
    end = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}")
        pause.wait(POLL_S)


class ServerProcess:
    """One server process with its own environment; its output goes to ``log_path``."""

    def __init__(self, folder: Path, env: dict[str, str], name: str = "server") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"{name}.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "MATCHER_RATE_LIMIT_PER_MINUTE": "1000000",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready: bool = True) -> ServerProcess:
        """Start it and wait until it serves HTTP (and, with ``ready``, until /readyz is 200)."""
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(CHILD), str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=ROOT,
            )

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log()}")
            try:
                status = httpx.get(f"{self.base}/readyz", timeout=2.0, trust_env=False)
            except httpx.TransportError:
                return False
            return status.status_code == 200 or not ready

        wait_for(up, START_DEADLINE_S, "the server to start")
        return self

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP request to the server."""
        return httpx.request(method, f"{self.base}{path}", timeout=30.0, trust_env=False, **kwargs)

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
