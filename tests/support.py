"""Test helpers shared by the station's tests: a settable clock, logins, a live server."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from server import config

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
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class StationProcess:
    """`clinicq serve --demo` as its own process on 127.0.0.1 (for restarts, memory and
    start-up figures); `stop()` ends it. Used by the tests and by the benchmarks."""

    def __init__(self, database: Path, port: int | None = None, *extra: str,
                 config_file: Path | None = TEST_CONFIG) -> None:
        """`config_file=None` runs the shipped config.toml (the benchmarks measure that)."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        config_args = ["--config", str(config_file)] if config_file is not None else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--no-banner", *config_args,
             "--port", str(self.port), "--database", str(database), *extra],
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = started + 30
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"station exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    self.healthy_after = time.perf_counter() - started
                    return
            except requests.ConnectionError:
                time.sleep(0.01)
        self.stop()
        raise RuntimeError("station did not become healthy in 30 s")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
