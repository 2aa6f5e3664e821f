"""Web (layer 4): Socket.IO — a snapshot on connect and on `resync`, then numbered deltas.

Every watcher joins the room `station` and receives every delta, so a gap in `seq` always
means a loss. Targeted rooms (`display:<id>`, `kiosk:<id>`, `counter:<id>`, `service:<code>`)
carry messages for one screen. Connections are authenticated on connect.

A counter's break is no ticket's event: when one begins or ends, every watcher gets
`counters` (every counter with `paused`, every service's queue summary with `open_counters`).
A console says which counter it works at with `watch {"counter": id}`; the answer's `held_by`
names the other staff already at that counter.

A kiosk agent connects with its kiosk's token and `source: "agent"`: it joins only its kiosk's
room (it prints; it shows no queue), and while it is connected that kiosk can print reprints.

A resident's phone page connects with `auth={"ticket": <the ticket's code>}`: it joins
`phones`, gets `ticket` (its ticket, no name) on connect and on `resync`, and a `phone` delta
per change: the ticket changed and the head of the queues touched, with no name and nothing
private, one message for every phone (numbered like the others, so a gap means a loss).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, request, session
from flask_socketio import SocketIO, emit, join_room, leave_room

from contracts.protocol import AGENT

from .. import notices, presenter
from ..announcer import Announcer
from ..auth import Principal
from ..config import Settings
from ..station import Published, StationService
from .bodies import SocketJSON, quiet_engineio
from .kiosklink import kiosks
from .security import accounts

log = logging.getLogger(__name__)

# Every watcher is in exactly one of these two, so each gets every delta once: public screens
# (displays, kiosk screens) the public view of a ticket; consoles the staff view (booking id,
# screening answers, age) and the alerts that carry health details (a reaction).
STATION_ROOM = "station"
PHONE_ROOM = "phones"
STAFF_ROOM = "staff"
ALERTS = frozenset({"observation.reaction"})


def init_app(app: Flask, station: StationService, settings: Settings,
             announcer: Announcer | None = None) -> SocketIO:
    """Attach Socket.IO to `app`; one instance per app, so tests can run several side by side."""
    socketio = SocketIO(app, async_mode="threading", max_http_buffer_size=64 * 1024,
                        json=SocketJSON)  # payloads decoded within limits
    quiet_engineio()
    kiosks.init_app(app, socketio)
    handlers = _Handlers(station, settings, socketio)
    app.extensions["clinicq.sockets"] = handlers  # revoking a device drops its sockets
    socketio.on_event("connect", handlers.connect)
    socketio.on_event("disconnect", handlers.disconnect)
    socketio.on_event("resync", handlers.resync)
    socketio.on_event("watch", handlers.watch)
    station.subscribe(Broadcaster(socketio, settings, announcer or Announcer(settings),
                                  paused=station.state.paused))
    return socketio


def send_notices(socketio: SocketIO, items: list[dict[str, Any]]) -> None:
    """The notices changed: every screen gets the list (`notices`)."""
    socketio.emit("notices", {"notices": items}, to=STATION_ROOM)


def _principal_on_connect(auth: Any) -> Principal | None:
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str) and token:
        return accounts().device(token)
    username = session.get("user")
    return accounts().staff(username) if isinstance(username, str) else None


class _Handlers:
    def __init__(self, station: StationService, settings: Settings,
                 socketio: SocketIO) -> None:
        self.station = station
        self.settings = settings
        self.socketio = socketio
        self._principals: dict[str, Principal] = {}
        self._phones: dict[str, str] = {}  # sid -> ticket code
        self._desks: dict[str, str] = {}  # sid -> the counter a console works at
        self._lock = threading.Lock()

    def _who(self) -> Principal | None:
        with self._lock:
            return self._principals.get(request.sid)  # type: ignore[attr-defined]

    def _send_snapshot(self, who: Principal) -> None:
        with self.station.lock:
            state, now = self.station.current()
            snapshot = presenter.snapshot(state, self.settings, now,
                                          private=who.kind == "staff",
                                          staff=who.kind == "staff")
            snapshot["notices"] = notices.current(self.station.store, now)
            emit("state", snapshot)

    def _send_ticket(self, code: str) -> bool:
        with self.station.lock:
            state, now = self.station.current()
            ticket = presenter.ticket_by_code(state, code)
            if ticket is None:
                return False
            emit("ticket", presenter.phone_snapshot(state, ticket, self.settings, now))
        return True

    def _connect_phone(self, code: Any) -> bool:
        if not isinstance(code, str) or not presenter.CODE.fullmatch(code):
            return False
        with self.station.lock:  # join and snapshot with no delta between
            state, _ = self.station.current()
            if presenter.ticket_by_code(state, code) is None:
                return False
            join_room(PHONE_ROOM)
            self._send_ticket(code)
        with self._lock:
            self._phones[request.sid] = code  # type: ignore[attr-defined]
        return True

    def connect(self, auth: Any = None) -> bool:
        if isinstance(auth, dict) and "ticket" in auth and "token" not in auth:
            return self._connect_phone(auth.get("ticket"))
        who = _principal_on_connect(auth)
        if who is None or not who.can("watch"):
            log.info("socket refused from %s", request.remote_addr)
            return False
        with self._lock:
            self._principals[request.sid] = who  # type: ignore[attr-defined]
        if who.kind == "device" and who.role == "kiosk" and isinstance(auth, dict) and \
                auth.get("source") == AGENT:
            # no snapshot, no deltas and no replayed result: the agent only prints what is
            # pushed while it is connected (it printed its own scans already)
            join_room(f"kiosk:{who.id}")
            kiosks.agent_connected(request.sid, who.id, who.name)  # type: ignore[attr-defined]
            log.info("kiosk agent of %s connected", who.id)
            return True
        # join and snapshot under the station lock: no delta can fall between the two
        with self.station.lock:
            join_room(STAFF_ROOM if who.kind == "staff" else STATION_ROOM)
            if who.kind == "device":
                join_room(f"{who.role}:{who.id}")
            self._send_snapshot(who)
        if who.kind == "device" and who.role == "kiosk":
            replay = kiosks.recent(who.id)  # pushed while this screen was away
            if replay is not None:
                emit("kiosk.result", replay)
        return True

    def drop_device(self, device_id: str) -> int:
        """Close every connection of a device (it was revoked); answers how many."""
        return self._drop("device", device_id)

    def drop_staff(self, username: str) -> int:
        """Close every connection of a staff member (their account was disabled)."""
        return self._drop("staff", username)

    def _drop(self, kind: str, principal_id: str) -> int:
        with self._lock:
            sids = [sid for sid, p in self._principals.items()
                    if p.kind == kind and p.id == principal_id]
            for sid in sids:
                self._principals.pop(sid, None)
        for sid in sids:
            self.socketio.server.disconnect(sid, namespace="/")
        if sids:
            log.info("%s %s stopped: %d connection(s) closed", kind, principal_id, len(sids))
        return len(sids)

    def disconnect(self, *_: Any) -> None:
        with self._lock:
            self._principals.pop(request.sid, None)  # type: ignore[attr-defined]
            self._phones.pop(request.sid, None)  # type: ignore[attr-defined]
            self._desks.pop(request.sid, None)  # type: ignore[attr-defined]
        kiosks.agent_disconnected(request.sid)  # type: ignore[attr-defined]

    def resync(self, *_: Any) -> dict[str, Any]:
        who = self._who()
        if who is None:
            with self._lock:
                code = self._phones.get(request.sid)  # type: ignore[attr-defined]
            if code is not None and self._send_ticket(code):
                return {"ok": True}
            return {"ok": False, "error": "unauthorized"}
        self._send_snapshot(who)
        return {"ok": True}

    def watch(self, data: Any = None) -> dict[str, Any]:
        """Staff join `counter:<id>` or `service:<code>` for messages meant for that desk."""
        who = self._who()
        if who is None or who.kind != "staff":
            return {"ok": False, "error": "forbidden"}
        if not isinstance(data, dict):
            return {"ok": False, "error": "field_missing"}
        counter, service = data.get("counter"), data.get("service")
        if isinstance(counter, str) and counter in self.settings.counters:
            return {"ok": True, "held_by": self._sit_at(who, counter)}
        if isinstance(service, str) and service in self.settings.services:
            join_room(f"service:{service}")
            return {"ok": True}
        return {"ok": False, "error": "field_invalid"}

    def _sit_at(self, who: Principal, counter: str) -> list[dict[str, str]]:
        """This console now works at `counter` (one counter at a time); answers the other staff
        already there, so a second nurse is told who holds it."""
        sid = request.sid  # type: ignore[attr-defined]
        with self._lock:
            before = self._desks.get(sid)
            self._desks[sid] = counter
            others = {p.id: p for s, c in self._desks.items()
                      if c == counter and s != sid
                      and (p := self._principals.get(s)) is not None and p.id != who.id}
        if before is not None and before != counter:
            leave_room(f"counter:{before}")
        join_room(f"counter:{counter}")
        return [{"user": p.id, "name": p.name} for p in others.values()]


class Broadcaster:
    """Listens to the station service and pushes each committed event to every watcher."""

    def __init__(self, socketio: SocketIO, settings: Settings, announcer: Announcer,
                 paused: frozenset[str] = frozenset()) -> None:
        self.socketio = socketio
        self.settings = settings
        self.announcer = announcer
        self._paused = paused  # the breaks last told, to tell each change once

    def __call__(self, published: Published) -> None:
        state, now = published.state, published.now
        if state.paused != self._paused:  # a break began or ended (no event: not a ticket's)
            self._paused = state.paused
            for room, private in ((STATION_ROOM, False), (STAFF_ROOM, True)):
                self.socketio.emit("counters", presenter.counters_message(
                    state, self.settings, now, private=private), to=room)
        services = {e.ticket.service for e in published.events}
        queues = {code: presenter.queue_summary(state, code, now) for code in services}
        for event in published.events:
            for room, private in ((STATION_ROOM, False), (STAFF_ROOM, True)):
                message = presenter.event_message(event, state, self.settings, now, queues,
                                                  private=private, staff=private,
                                                  speak=self.announcer.announcement)
                data = message.to_dict()
                self.socketio.emit("event", data, to=room)
                if not private:
                    self.socketio.emit("phone", presenter.phone_delta(data, state),
                                       to=PHONE_ROOM)
            if event.type in ALERTS:
                self.socketio.emit("alert", presenter.alert(event, state, now), to=STAFF_ROOM)
        self.announcer.ahead(state, queues, published.events)
