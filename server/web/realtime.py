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

A staff connection is its login session's: every event checks that the session still lasts
(and a device's token that it is not revoked), and a session that ends (logout, a new
password, a disabled account, expiry) closes its connections at once.

A resident's phone page connects with `auth={"ticket": <the ticket's code>}`: it joins
`phones`, gets `ticket` (its ticket, no name) on connect and on `resync`, and a `phone` delta
per change: the ticket changed and the head of the queues touched, with no name and nothing
private, one message for every phone (numbered like the others, so a gap means a loss).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, emit, join_room, leave_room

from contracts.protocol import AGENT

from .. import notices, presenter
from ..announcer import Announcer
from ..auth import Principal
from ..config import Settings
from ..station import Published, StationService
from .kiosklink import kiosks
from .security import COOKIE, accounts, sessions

log = logging.getLogger(__name__)

# Every watcher is in exactly one of these two, so each gets every delta once: public screens
# (displays, kiosk screens) the public view of a ticket; consoles the staff view (booking id,
# screening answers, age) and the alerts that carry health details (a reaction).
STATION_ROOM = "station"
PHONE_ROOM = "phones"
STAFF_ROOM = "staff"
ADMIN_ROOM = "admins"
ADMIN_PAGE = "admin"  # the `source` an admin page connects with
ALERTS = frozenset({"observation.reaction"})


def init_app(app: Flask, station: StationService, settings: Settings,
             announcer: Announcer | None = None) -> SocketIO:
    """Attach Socket.IO to `app`; one instance per app, so tests can run several side by side."""
    socketio = SocketIO(app, async_mode="threading", max_http_buffer_size=64 * 1024)
    kiosks.init_app(app, socketio)
    handlers = _Handlers(station, settings, socketio)
    app.extensions["clinicq.sockets"] = handlers  # revoking a device drops its sockets
    app.extensions["clinicq.sessions"].on_end(handlers.drop_sessions)
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


def tell_admins(socketio: SocketIO, what: str) -> None:
    """An administrator changed `what` ("staff", "notices", "devices", "layout"): every open
    admin page of that kind loads its list again (`admin`)."""
    socketio.emit("admin", {"what": what}, to=ADMIN_ROOM)


# what a connection proved itself with: ("token", a device's token) or ("session", the key
# of a staff session), checked again on each of its events
Credential = tuple[str, str]


def _principal_on_connect(auth: Any) -> tuple[Principal | None, Credential | None]:
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str) and token:
        return accounts().device(token), ("token", token)
    cookie = request.cookies.get(COOKIE)
    found = sessions().find(cookie) if cookie else None
    if found is None:
        return None, None
    return accounts().staff(found.user), ("session", found.key)


def _still_valid(who: Principal, credential: Credential) -> bool:
    kind, value = credential
    if kind == "token":
        return accounts().device(value) is not None
    return sessions().by_key(value) is not None and accounts().staff(who.id) is not None


class _Handlers:
    def __init__(self, station: StationService, settings: Settings,
                 socketio: SocketIO) -> None:
        self.station = station
        self.settings = settings
        self.socketio = socketio
        self._principals: dict[str, Principal] = {}
        self._credentials: dict[str, Credential] = {}  # sid -> what it connected with
        self._phones: dict[str, str] = {}  # sid -> ticket code
        self._desks: dict[str, str] = {}  # sid -> the counter a console works at
        self._lock = threading.Lock()

    def _who(self) -> Principal | None:
        """The connection's principal while its session or token still holds; else the
        connection closes (a socket opened before a logout keeps no staff rights)."""
        sid = request.sid  # type: ignore[attr-defined]
        with self._lock:
            who, credential = self._principals.get(sid), self._credentials.get(sid)
        if who is None or credential is None or _still_valid(who, credential):
            return who
        with self._lock:
            self._principals.pop(sid, None)
            self._credentials.pop(sid, None)
            self._desks.pop(sid, None)
        server = self.socketio.server
        for room in server.rooms(sid, namespace="/"):  # no more pushes, from now on
            if room != sid:
                server.leave_room(sid, room, namespace="/")
        log.info("%s %s: its session or token has ended; connection closed", who.kind, who.id)
        self.socketio.start_background_task(self._close_after_reply, sid)
        return None

    def _close_after_reply(self, sid: str) -> None:
        # closed from within its own event, the connection would lose the event's refusal
        self.socketio.sleep(0.5)
        self.socketio.server.disconnect(sid, namespace="/")

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
        who, credential = _principal_on_connect(auth)
        if who is None or credential is None or not who.can("watch"):
            log.info("socket refused from %s", request.remote_addr)
            return False
        if isinstance(auth, dict) and auth.get("source") == ADMIN_PAGE:
            if who.kind != "staff" or not who.can("layout"):
                return False
            with self._lock:  # so that disabling the account closes this one too
                self._principals[request.sid] = who  # type: ignore[attr-defined]
                self._credentials[request.sid] = credential  # type: ignore[attr-defined]
            join_room(ADMIN_ROOM)
            return True
        with self._lock:
            self._principals[request.sid] = who  # type: ignore[attr-defined]
            self._credentials[request.sid] = credential  # type: ignore[attr-defined]
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

    def drop_sessions(self, keys: list[str]) -> int:
        """Close every connection opened with one of these staff sessions (they ended)."""
        ended = {("session", key) for key in keys}
        with self._lock:
            sids = [sid for sid, c in self._credentials.items() if c in ended]
        return self._close(sids, "sessions ended")

    def _drop(self, kind: str, principal_id: str) -> int:
        with self._lock:
            sids = [sid for sid, p in self._principals.items()
                    if p.kind == kind and p.id == principal_id]
        return self._close(sids, f"{kind} {principal_id} stopped")

    def _close(self, sids: list[str], why: str) -> int:
        with self._lock:
            for sid in sids:
                self._principals.pop(sid, None)
                self._credentials.pop(sid, None)
        for sid in sids:
            self.socketio.server.disconnect(sid, namespace="/")
        if sids:
            log.info("%s: %d connection(s) closed", why, len(sids))
        return len(sids)

    def disconnect(self, *_: Any) -> None:
        with self._lock:
            self._principals.pop(request.sid, None)  # type: ignore[attr-defined]
            self._credentials.pop(request.sid, None)  # type: ignore[attr-defined]
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
