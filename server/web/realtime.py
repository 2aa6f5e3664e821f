"""Web (layer 4): Socket.IO — a snapshot on connect and on `resync`, then numbered deltas.

Every watcher is in one room of its kind — `station` (displays), `kiosks`, `staff`, `phones` —
and receives every delta in its kind's view (server/views.py), so a gap in `seq` always means
a loss. Targeted rooms (`display:<id>`, `kiosk:<id>`, `counter:<id>`, `service:<code>`)
carry messages for one screen. Connections are authenticated on connect.

A snapshot is built without the station's lock, from the immutable state, and shared by every
client asking for the same view of the same state (views.Snapshots). Under the lock only the
sending happens: if a command committed meanwhile, the deltas since the snapshot's state are
sent right after it (the Broadcaster, server/web/broadcast.py, keeps the last ones, and sends
every queued commit before a snapshot goes), so a client joining or resyncing
neither loses a delta nor applies one twice. Each connection may send two events a second
and ask for one snapshot per 2 s (socket_limits); a client that does not read is not sent more.

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
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engineio import packet as eio_packet
from flask import Flask, request
from flask_socketio import SocketIO, emit, join_room, leave_room
from socketio import packet

from contracts.protocol import AGENT

from .. import notices, presenter, views
from ..announcer import Announcer
from ..auth import Principal
from ..config import Settings
from ..engine.model import State
from ..station import StationService
from ..views import Audience
from .bodies import SocketJSON, quiet_engineio
from .broadcast import (
    ADMIN_PAGE,
    ADMIN_ROOM,
    KIOSK_ROOM,
    PHONE_ROOM,
    STAFF_ROOM,
    STATION_ROOM,
    AfterAnswer,
    Broadcaster,
    ClosingClient,
    Uncompressed,
    kiosk_screen,
)
from .kiosklink import kiosks
from .security import COOKIE, accounts, sessions
from .socket_limits import SocketLimits
from .wire import DirectWebSocket

log = logging.getLogger(__name__)

MAX_BACKLOG = 64  # packets waiting for a client, past which it is sent no snapshot

def init_app(app: Flask, station: StationService, settings: Settings,
             announcer: Announcer | None = None) -> SocketIO:
    """Attach Socket.IO to `app`; one instance per app, so tests can run several side by side."""
    # async_handlers=False: a connection's events are handled in order on its own thread
    # (socket_limits: a flood is read no faster than it is allowed), not a thread each
    socketio = SocketIO(app, async_mode="threading", max_http_buffer_size=64 * 1024,
                        async_handlers=False, json=SocketJSON)  # payloads decoded within limits
    quiet_engineio()
    eio = socketio.server.eio  # its WebSockets written to by the sender (wire.py)
    eio._async = {**eio._async, "websocket": DirectWebSocket}
    kiosks.init_app(app, socketio)
    broadcaster = Broadcaster(socketio, settings, announcer or Announcer(settings),
                              paused=station.state.paused)
    handlers = _Handlers(station, settings, socketio, broadcaster)
    app.extensions["clinicq.sockets"] = handlers  # revoking a device drops its sockets
    app.extensions["clinicq.sessions"].on_end(handlers.drop_sessions)
    socketio.on_event("connect", handlers.connect)
    socketio.on_event("disconnect", handlers.disconnect)
    socketio.on_event("resync", handlers.limited(handlers.resync))
    socketio.on_event("watch", handlers.limited(handlers.watch))
    socketio.on_event("*", handlers.limited(lambda *_: {"ok": False, "error": "unknown"}))
    station.subscribe(broadcaster)
    # around Socket.IO's middleware: its events are told from HTTP requests by their sid
    app.wsgi_app = AfterAnswer(app.wsgi_app, broadcaster.flush)  # type: ignore[method-assign]
    app.wsgi_app = Uncompressed(app.wsgi_app)  # type: ignore[method-assign]
    app.test_client_class = ClosingClient
    return socketio


def send_notices(socketio: SocketIO, items: list[dict[str, Any]]) -> None:
    """The notices changed: every screen gets the list (`notices`)."""
    socketio.emit("notices", {"notices": items}, to=[STATION_ROOM, KIOSK_ROOM])


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
    def __init__(self, station: StationService, settings: Settings, socketio: SocketIO,
                 broadcaster: Broadcaster) -> None:
        self.station = station
        self.settings = settings
        self.socketio = socketio
        self.broadcaster = broadcaster
        self.snapshots = views.Snapshots(settings)
        self.limits = SocketLimits()
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

    def limited(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """`handler` behind the connection's token bucket: past it, not run, and answered only
        once a token is back. Handlers run one at a time per connection, on its reading thread
        (`async_handlers=False`), so that wait is backpressure: a client sending faster is read
        no faster, and its flood costs a sleeping thread, not the station's time."""
        def wrapper(*args: Any) -> Any:
            wait = self.limits.event(request.sid)  # type: ignore[attr-defined]
            if wait:
                time.sleep(wait)
                return {"ok": False, "error": "rate_limited", "retry_after": round(wait, 2)}
            return handler(*args)
        return wrapper

    # one snapshot, sent in order with the deltas ------------------------------------------

    def _deliver(self, rooms: frozenset[str], join: bool,
                 make: Callable[[State, datetime], tuple[str, dict[str, Any]] | None]) -> bool:
        """Send what `make` builds from the state (without the lock), then, under the lock,
        the deltas committed since that state, joining `rooms` first when `join`; False when
        `make` answers None (a phone's ticket unknown)."""
        for _ in range(3):
            state, now = self.station.current()
            message = make(state, now)
            if message is None:
                return False
            encoded = self._encode(message)  # a snapshot's JSON is made off the lock too
            with self.station.lock:
                self.broadcaster.flush()  # every commit sent to the rooms before this joins
                replay = [] if self.station.state is state else \
                    self.broadcaster.since(state, rooms)
                if replay is None:  # not kept (many commands meanwhile): build again
                    continue
                self._send(rooms, join, encoded, replay)
                return True
        with self.station.lock:  # commands all the while: this once, built under the lock
            self.broadcaster.flush()
            state, now = self.station.current()
            message = make(state, now)
            if message is None:
                return False
            self._send(rooms, join, self._encode(message), [])
        return True

    def _encode(self, message: tuple[str, dict[str, Any]]) -> Any:
        """The Socket.IO packet of `message` to this client, encoded (what emit would do)."""
        return self.socketio.server.packet_class(packet.EVENT, namespace="/",
                                                 data=list(message)).encode()

    def _send(self, rooms: frozenset[str], join: bool, encoded: Any,
              replay: list[tuple[str, dict[str, Any]]]) -> None:
        if join:
            for room in rooms:
                join_room(room)
        # the way python-socketio's own emit sends an encoded packet (and what Flask-SocketIO's
        # test client listens to)
        server = self.socketio.server
        server._send_eio_packet(server.manager.eio_sid_from_sid(request.sid, "/"),  # type: ignore
                                eio_packet.Packet(eio_packet.MESSAGE, encoded))
        for name, data in replay:
            emit(name, data)

    def _snapshot(self, who: Principal) -> Callable[[State, datetime],
                                                    tuple[str, dict[str, Any]]]:
        audience = Audience.of(who)

        def make(state: State, now: datetime) -> tuple[str, dict[str, Any]]:
            shared = self.snapshots.get(state, now, audience)
            return "state", views.with_now(shared, now, notices.current(self.station.store, now))
        return make

    def _ticket(self, code: str) -> Callable[[State, datetime],
                                             tuple[str, dict[str, Any]] | None]:
        def make(state: State, now: datetime) -> tuple[str, dict[str, Any]] | None:
            ticket = presenter.ticket_by_code(state, code)
            if ticket is None:
                return None
            return "ticket", presenter.phone_snapshot(state, ticket, self.settings, now)
        return make

    @staticmethod
    def _rooms(who: Principal) -> frozenset[str]:
        if who.kind == "staff":
            return frozenset({STAFF_ROOM})
        if who.role == "kiosk":
            return frozenset({KIOSK_ROOM, kiosk_screen(who.id), f"kiosk:{who.id}"})
        return frozenset({STATION_ROOM, f"{who.role}:{who.id}"})

    def _backlog(self) -> int:
        """Packets queued for this client and not yet written (a client that does not read)."""
        server = self.socketio.server
        try:
            eio_sid = server.manager.eio_sid_from_sid(request.sid, "/")  # type: ignore
            return int(server.eio.sockets[eio_sid].queue.qsize())
        except (AttributeError, KeyError, TypeError):
            return 0

    # events ---------------------------------------------------------------------------------

    def _connect_phone(self, code: Any) -> bool:
        if not isinstance(code, str) or not presenter.CODE.fullmatch(code):
            return False
        if not self._deliver(frozenset({PHONE_ROOM}), True, self._ticket(code)):
            return False
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
        self._deliver(self._rooms(who), True, self._snapshot(who))
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
        self.limits.forget(request.sid)  # type: ignore[attr-defined]
        kiosks.agent_disconnected(request.sid)  # type: ignore[attr-defined]

    def resync(self, *_: Any) -> dict[str, Any]:
        """A fresh snapshot, at most one per 2 s per connection; a client with a backlog of
        unsent packets gets none until it has read them."""
        wait = self.limits.resync(request.sid)  # type: ignore[attr-defined]
        if wait:
            return {"ok": False, "error": "rate_limited", "retry_after": round(wait, 2)}
        if self._backlog() > MAX_BACKLOG:
            return {"ok": False, "error": "busy"}
        who = self._who()
        if who is None:
            with self._lock:
                code = self._phones.get(request.sid)  # type: ignore[attr-defined]
            if code is not None and self._deliver(frozenset({PHONE_ROOM}), False,
                                                  self._ticket(code)):
                return {"ok": True}
            return {"ok": False, "error": "unauthorized"}
        self._deliver(self._rooms(who), False, self._snapshot(who))
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
