"""The kiosk agent's Socket.IO link to the station (kiosk deployable): print jobs pushed to it.

The kiosk screen issues tickets too (walk-in buttons, typed codes). The station pushes each
answer to the room `kiosk:<device id>` as `kiosk.result`, marked with who asked; the agent
prints those the screen asked for, and skips its own scans, which it printed already. Staff
reprints arrive as `kiosk.print`. Socket.IO delivers at most once, and a ticket issued while
the link is down is not caught up: the screen shows its number, so the gap is only logged.

python-socketio reconnects by itself once connected; this class retries the first connection
too, so the agent can start before the station does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import socketio

from contracts.backoff import Backoff
from contracts.protocol import AGENT, SCREEN, KioskPrint

log = logging.getLogger("kiosk.link")


@dataclass(frozen=True)
class PrintJob:
    """A ticket the station asked this kiosk to print."""

    ticket: dict[str, Any]
    origin: str  # "screen" (issued on this kiosk's screen) or "reprint" (asked by staff)
    status: int | None = None  # the screen's answer: 201 new ticket, 200 checked in before
    by: str | None = None  # reprint: the staff member who asked


def job_from_result(payload: Any) -> PrintJob | None:
    """The print job in a `kiosk.result`, or None: refusals, notices and the agent's own scans
    print nothing here."""
    if not isinstance(payload, dict) or payload.get("source") != SCREEN:
        return None
    data = payload.get("data")
    if not payload.get("ok") or payload.get("notice") is not None or not isinstance(data, dict) \
            or not data.get("number"):
        return None
    status = payload.get("status")
    return PrintJob(data, SCREEN, status if isinstance(status, int) else None)


def job_from_print(payload: Any) -> PrintJob | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
        return None
    message = KioskPrint.from_dict(payload)
    if not message.ticket.get("number"):
        return None
    return PrintJob(message.ticket, message.reason, by=message.by)


class StationLink:
    """One Socket.IO connection as this kiosk's agent; hands print jobs to `on_job`."""

    def __init__(self, base_url: str, token: str, *, transports: Sequence[str] | None = None,
                 retry_max: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._transports = list(transports) if transports is not None else None
        self._retry_max = retry_max
        self._on_job: Callable[[PrintJob], None] = lambda job: None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self._sio = socketio.Client(reconnection=True, reconnection_delay=0.5,
                                    reconnection_delay_max=retry_max)
        self._sio.on("connect", self._connected)
        self._sio.on("disconnect", self._disconnected)
        self._sio.on("kiosk.result", self._result)
        self._sio.on("kiosk.print", self._print)

    def start(self, on_job: Callable[[PrintJob], None]) -> None:
        """Connect in the background (retrying) and pass every print job to `on_job`."""
        self._on_job = on_job
        self._thread = threading.Thread(target=self._first_connect, name="kiosk-link",
                                        daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sio.shutdown()  # disconnects, or stops python-socketio's own reconnecting

    def _first_connect(self) -> None:
        backoff = Backoff(0.5, self._retry_max)
        while not self._stop.is_set():
            try:
                self._sio.connect(self.base_url, auth={"token": self._token, "source": AGENT},
                                  transports=self._transports, wait_timeout=5)
            except (socketio.exceptions.ConnectionError, ValueError) as err:
                if backoff.failures == 0:
                    log.warning("no link to the station yet (%s); tickets issued on the kiosk "
                                "screen are not printed until it is up; retrying", err)
                self._stop.wait(backoff.delay())
                continue
            return  # from now on python-socketio reconnects by itself

    def _connected(self) -> None:
        self.connected.set()
        log.info("linked to the station: tickets issued on this kiosk's screen are printed here")

    def _disconnected(self, *_: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("link to the station lost; tickets issued on the kiosk screen until it "
                        "is back will not be printed (the screen shows their numbers)")

    def _result(self, payload: Any = None) -> None:
        job = job_from_result(payload)
        if job is not None:
            self._on_job(job)

    def _print(self, payload: Any = None) -> None:
        job = job_from_print(payload)
        if job is None:
            log.warning("ignored a malformed kiosk.print message")
            return
        self._on_job(job)
