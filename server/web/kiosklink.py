"""Web (layer 4): the station's link to its kiosks, one Flask extension (`kiosks`).

A kiosk is two programs on one token: its screen (a page) and its agent (scanner in, printer
out), each with its own Socket.IO connection. The link knows

- which agents are connected, so staff reprints (`kiosk.print`) reach a printer;
- which kiosk issued each recent ticket, so a reprint goes back to the kiosk the resident used;
- the last result pushed to each kiosk, replayed to a screen that reconnects within
  REPLAY_SECONDS (Socket.IO delivers at most once).

Views that answer a kiosk call `kiosks.relay(answer)`: the answer (ticket or refusal) also goes
to that kiosk's screen in the room `kiosk:<device id>`, marked `source` agent or screen, and
an agent prints what its screen asked for. It is the views' call rather than a station-service
listener because a replayed booking and a refusal change nothing and publish no event, yet the
screen must show both.

In memory on purpose: after a restart a reprint goes to the first kiosk online, which is good
enough, and nothing has to be stored for a ticket that is never reprinted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_socketio import SocketIO

from contracts.protocol import AGENT, SCREEN, SOURCE_HEADER, KioskPrint, KioskResult

from ..engine.errors import DomainError
from .broadcast import listened
from .errors import RequestError, describe
from .security import current_principal

log = logging.getLogger(__name__)

REPLAY_SECONDS = 15.0  # long enough for a reconnecting screen, short enough for the next resident
EXTENSION = "clinicq.kiosks"
Answer = tuple[Response, int]


class _Link:
    """One app's kiosk link: its Socket.IO, its connected agents, its recent results."""

    def __init__(self, socketio: SocketIO, remember: int) -> None:
        self.socketio = socketio
        self.lock = threading.Lock()
        self.agents: dict[str, tuple[str, str]] = {}  # socket sid -> (device id, name)
        self.issuers: OrderedDict[str, str] = OrderedDict()  # ticket id -> device id
        self.results: dict[str, tuple[float, dict[str, Any]]] = {}  # device id -> last push
        self.remember = remember


class KioskLink:
    """Created unbound; `init_app(app, socketio)` gives each app its own link."""

    def __init__(self, remember: int = 2000) -> None:
        self.remember = remember

    def init_app(self, app: Flask, socketio: SocketIO) -> None:
        app.extensions[EXTENSION] = _Link(socketio, self.remember)

    @staticmethod
    def _link() -> _Link:
        link: _Link = current_app.extensions[EXTENSION]
        return link

    # -- agents ------------------------------------------------------------------------------

    def agent_connected(self, sid: str, device_id: str, name: str) -> None:
        link = self._link()
        with link.lock:
            link.agents[sid] = (device_id, name)

    def agent_disconnected(self, sid: str) -> None:
        link = self._link()
        with link.lock:
            link.agents.pop(sid, None)

    def online(self) -> dict[str, str]:
        """Device id -> name of every kiosk with an agent connected, by id."""
        link = self._link()
        with link.lock:
            return dict(sorted(link.agents.values()))

    def choose(self, ticket_id: str, wanted: str | None = None) -> tuple[str, str] | None:
        """(device id, name) to print `ticket_id` at: `wanted` if its agent is connected; by
        default the kiosk that issued the ticket, else the first one online; None if none is."""
        online = self.online()
        if wanted is not None:
            return (wanted, online[wanted]) if wanted in online else None
        link = self._link()
        with link.lock:
            issuer = link.issuers.get(ticket_id)
        if issuer in online:
            return issuer, online[issuer]
        return next(iter(online.items()), None)

    def reprint(self, device_id: str, message: KioskPrint) -> None:
        self._link().socketio.emit("kiosk.print", message.to_dict(), to=f"kiosk:{device_id}")

    # -- screens -----------------------------------------------------------------------------

    def push(self, device_id: str, result: KioskResult) -> None:
        """Show `result` on the screen(s) of kiosk `device_id` (room joined on connect)."""
        link = self._link()
        payload = result.to_dict()
        ticket_id, number = result.data.get("id"), result.data.get("number")
        with link.lock:
            link.results[device_id] = (time.monotonic(), payload)
            if result.ok and isinstance(ticket_id, str):
                link.issuers[ticket_id] = device_id
                link.issuers.move_to_end(ticket_id)
                while len(link.issuers) > link.remember:
                    link.issuers.popitem(last=False)
        if result.ok and result.source == SCREEN and result.notice is None and \
                device_id not in self.online():
            # nothing to catch up later: the screen shows the number, the resident can note it
            log.warning("kiosk %s: ticket %s issued on its screen while its agent is not "
                        "connected; not printed", device_id, number)
        room = f"kiosk:{device_id}"
        if listened(link.socketio, room):  # else kept for the screen's reconnect (recent)
            link.socketio.emit("kiosk.result", payload, to=room)

    def recent(self, device_id: str) -> dict[str, Any] | None:
        """The last result pushed to this kiosk if it is at most REPLAY_SECONDS old.

        A held scan is sent the moment the station is back, often before the kiosk screen has
        reconnected; the screen gets that result when it does.
        """
        link = self._link()
        with link.lock:
            entry = link.results.get(device_id)
        if entry is None or time.monotonic() - entry[0] > REPLAY_SECONDS:
            return None
        return entry[1]

    def relay(self, answer: Callable[[], Answer]) -> Answer:
        """Run the view's `answer`; when a kiosk asked, push the answer or the refusal to that
        kiosk's screen as well (the app's error handler still answers the caller)."""
        who = current_principal()
        if who is None or who.kind != "device" or who.role != "kiosk":
            return answer()
        source = AGENT if request.headers.get(SOURCE_HEADER) == AGENT else SCREEN
        try:
            response, status = answer()
        except (DomainError, RequestError) as err:
            code, error = describe(err.code, err.params)
            self.push(who.id, KioskResult(code, False, error.to_dict(), source=source))
            raise
        self.push(who.id, KioskResult(status, 200 <= status < 300, response.get_json(),
                                      source=source))
        return response, status


kiosks = KioskLink()
