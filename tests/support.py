"""Test helpers shared by the station's tests: a settable clock, logins, a live server."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from server import config
from server.serving import DevRequestHandler

TZ = ZoneInfo("Asia/Shanghai")
# The tests' own station; the shipped config.toml is an operator's file (tests/test_config.py).
TEST_CONFIG = Path(__file__).resolve().parent / "data" / "station.toml"
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
KIOSK = {"Authorization": "Bearer demo-kiosk-token"}
DISPLAY = {"Authorization": "Bearer demo-display-token"}


T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 5.0, *, every: float = 0.01,
               what: str | Callable[[], object] = "the condition") -> T:
    """Poll `condition` until it returns something truthy, and return that; fail after
    `timeout` seconds, naming `what` (or its value, when it is a function). For tests that wait
    for another thread or process instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"not true after {timeout} s: {described}")
        time.sleep(every)


def station_settings(**overrides: object) -> config.Settings:
    """Settings from the tests' own configuration, with keyword overrides."""
    return config.load(TEST_CONFIG, **overrides)


class FakeClock:
    """The station's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def login(client: FlaskClient, username: str = "demo-nurse") -> dict[str, str]:
    """Log `client` in; returns the headers its unsafe requests must carry."""
    r = client.post("/api/v1/login", json={"username": username, "password": username})
    assert r.status_code == 200, r.get_json()
    return {"X-CSRF-Token": r.get_json()["csrf_token"]}


class LiveServer:
    """The app on a real HTTP server on 127.0.0.1, in a thread; `stop()` ends it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True,
                                   request_handler=DevRequestHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


class StationProcess:
    """`clinicq serve --demo` as its own process on 127.0.0.1, the production way (gunicorn)
    unless `extra` says `--dev` (for restarts, graceful stops, memory and start-up figures);
    `stop()` ends it. Used by the tests and by the benchmarks."""

    def __init__(self, database: Path, port: int | None = None, *extra: str,
                 config_file: Path | None = TEST_CONFIG, log: Path | None = None) -> None:
        """`config_file=None` runs the shipped config.toml (the benchmarks measure that)."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab") if log else None  # closed by stop()
        output = self._log or subprocess.DEVNULL
        started = time.perf_counter()
        config_args = ["--config", str(config_file)] if config_file is not None else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--no-banner", *config_args,
             "--host", "127.0.0.1", "--port", str(self.port), "--database", str(database),
             *extra],
            cwd=Path(__file__).resolve().parent.parent, stdout=output, stderr=output)
        if not _healthy(self.proc, self.url, "station"):
            self.stop()
            raise RuntimeError("station did not become healthy in 30 s")
        self.healthy_after = time.perf_counter() - started

    def pids(self) -> list[int]:
        """The station's processes: gunicorn's arbiter and its worker (or the one --dev)."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            # every thread's children: the worker starts Litestream from a thread of its own
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo += [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    pass
        return found

    def serving_pid(self) -> int:
        """The process that serves: gunicorn's worker (the arbiter's fork, so the same command
        line), or the one process under --dev; not Litestream nor the synthesis process."""
        root = self.proc.pid
        command = Path(f"/proc/{root}/cmdline").read_bytes()
        forks = [pid for pid in self.pids()[1:] if _cmdline(pid) == command]
        return forks[0] if forks else root

    def rss_mb(self) -> float:
        """Resident memory of all the station's processes together."""
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next((int(line.split()[1]) for line in status.splitlines()
                           if line.startswith("VmRSS:")), 0)
        return total / 1024 if total else float("nan")

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM (a graceful stop), SIGKILL after `timeout` s; returns the exit code."""
        _terminate(self.proc, timeout)
        if self._log:
            self._log.close()
        return self.proc.returncode


def _healthy(proc: subprocess.Popen[bytes], url: str, what: str, within: float = 30) -> bool:
    """Wait until `url/healthz` answers 200 (True), or `within` s pass (False); a process
    that exits first is an error."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except requests.ConnectionError:
            time.sleep(0.01)
        except requests.Timeout:
            pass  # gunicorn listens before its worker has loaded the app
    return False


def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout` s; reaped either way."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CentralProcess:
    """`clinicq central serve --demo` as its own process on 127.0.0.1 (`extra`: e.g.
    `--workers 4`); `stop()` ends it, `start()` starts it again on the same port and database."""

    def __init__(self, database_url: str, port: int | None = None, *extra: str,
                 log: Path | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        output: Any = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "central", "serve", "--demo",
             "--database-url", self.database_url, "--host", "127.0.0.1",
             "--port", str(self.port), "--timezone", "Asia/Shanghai", *self.extra],
            cwd=Path(__file__).resolve().parent.parent, stdout=output, stderr=output)
        if self.log:
            output.close()
        if not _healthy(self.proc, self.url, "central"):
            self.stop()
            raise RuntimeError("central did not become healthy in 30 s")

    def stop(self, timeout: float = 10) -> None:
        if self.proc is not None:
            _terminate(self.proc, timeout)
            self.proc = None


def station_config(tmp_path: Path, **central: object) -> Path:
    """A copy of the tests' station configuration with `[central]` keys replaced."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    for key, value in central.items():
        rendered = json.dumps(value) if isinstance(value, str) else str(value)
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {rendered}", text)
        assert n == 1, f"no [central] key {key} in {TEST_CONFIG}"
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path
