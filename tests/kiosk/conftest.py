"""Fixtures for the kiosk agent tests: a station that can go down and come back on one port,
a Socket.IO client playing the kiosk screen, QR images dropped into a scanner folder, and the
agent running in a thread with its Socket.IO link to the station."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import segno
import socketio
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from hardware.printer import FakePrinter, Printer
from hardware.scanner import Scanner, open_scanner
from kiosk.agent import KioskAgent, Outcome
from kiosk.client import StationClient
from kiosk.link import StationLink

KIOSK_TOKEN = "demo-kiosk-token"


class StationOnOnePort:
    """The app on a real HTTP server whose port survives `down()` / `up()`."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.port = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = None


class ScreenClient:
    """A Socket.IO client connected as the kiosk, like the kiosk screen; keeps `kiosk.result`s.

    Long-polling rather than WebSocket: the same room and messages, and under pytest a
    websocket-client disconnect waits 3 s for a close frame.
    """

    def __init__(self, url: str) -> None:
        self.results: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("kiosk.result", lambda data: self.results.put(data))
        self.client.connect(url, auth={"token": KIOSK_TOKEN}, transports=["polling"],
                            wait_timeout=5)

    def next(self, timeout: float = 5) -> dict[str, Any]:
        return self.results.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()


class ScanFolder:
    """A folder an `images:` scanner watches; `show(text)` drops a QR code of `text` into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def show(self, text: str) -> None:
        self.count += 1
        hidden = self.path / f".{self.count:03d}.png"  # the driver skips dot files
        segno.make(text, micro=False).save(hidden, scale=6, border=4)
        hidden.rename(self.path / f"{self.count:03d}.png")


class RunningAgent:
    """The agent in a thread; `wait()` returns its next outcome."""

    def __init__(self, agent: KioskAgent, outcomes: queue.Queue[Outcome]) -> None:
        self.agent = agent
        self._outcomes = outcomes
        self._thread = threading.Thread(target=agent.run, daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 10) -> Outcome:
        return self._outcomes.get(timeout=timeout)

    def stop(self) -> None:
        self.agent.stop()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


@pytest.fixture
def kiosk_station(app: Flask) -> Iterator[StationOnOnePort]:
    station = StationOnOnePort(app)
    yield station
    station.down()


@pytest.fixture
def kiosk_screen(kiosk_station: StationOnOnePort) -> Iterator[ScreenClient]:
    screen = ScreenClient(kiosk_station.url)
    yield screen
    screen.close()


@pytest.fixture
def scan_folder(tmp_path: Path) -> ScanFolder:
    folder = tmp_path / "scans"
    folder.mkdir()
    return ScanFolder(folder)


@pytest.fixture
def start_kiosk_agent(kiosk_station: StationOnOnePort, scan_folder: ScanFolder
                      ) -> Iterator[Callable[..., RunningAgent]]:
    """Start an agent on the scan folder, linked over Socket.IO unless `linked=False` (and
    returned once the link is up); other keyword arguments go to KioskAgent."""
    running: list[RunningAgent] = []
    clients: list[StationClient] = []

    def start(printer: Printer | None = None, scanner: Scanner | None = None,
              linked: bool = True, **options: Any) -> RunningAgent:
        outcomes: queue.Queue[Outcome] = queue.Queue()
        client = StationClient(kiosk_station.url, KIOSK_TOKEN, timeout=(1.0, 3.0))
        clients.append(client)
        options.setdefault("backoff", (0.1, 0.4))
        if linked:
            # polling, like ScreenClient: a websocket close waits 3 s under pytest
            options["link"] = StationLink(kiosk_station.url, KIOSK_TOKEN,
                                          transports=["polling"], retry_max=0.5)
        agent = KioskAgent(
            client,
            scanner or open_scanner(f"images:{scan_folder.path}", dedupe_seconds=0.0),
            printer if printer is not None else FakePrinter(),
            on_outcome=outcomes.put, **options)
        running.append(RunningAgent(agent, outcomes))
        if linked:
            assert options["link"].wait_connected(5), "the agent's link did not come up"
        return running[-1]

    yield start
    for r in running:
        r.stop()
    for c in clients:
        c.close()
