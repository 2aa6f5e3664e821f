"""Web (layer 4): the deltas of every commit, pushed to each room in its view (Broadcaster),
once the HTTP request that made them has its answer (AfterAnswer).

A commit is told to the Broadcaster under the station's lock, so commits queue in seq order;
they are sent in that order by whichever thread flushes: the request's own, once the WSGI
server has written its answer and closes it, or at once for a commit made outside an HTTP
request (the observation timer, a Socket.IO event). Before a snapshot is sent, every commit
queued is sent first (server/web/realtime.py), so a client joining a room neither misses a
delta nor gets one out of order. The nurse's or the kiosk's answer never waits for the
fan-out to twenty screens.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from werkzeug.wsgi import ClosingIterator

from contracts.protocol import QueueSummary

from .. import presenter, views
from ..announcer import Announcer
from ..config import Settings
from ..engine.events import Event
from ..engine.model import State, Ticket
from ..station import Published

# Every watcher is in exactly one of these, so each gets every delta once: displays the
# public view of a ticket; kiosk screens their own tickets with codes and the others as stubs
# (`kiosk-screen:<id>` carries a kiosk's own); consoles the staff view (booking id, screening
# answers, age) and the alerts that carry health details (a reaction).
STATION_ROOM = "station"
KIOSK_ROOM = "kiosks"
PHONE_ROOM = "phones"
STAFF_ROOM = "staff"
ADMIN_ROOM = "admins"
ADMIN_PAGE = "admin"  # the `source` an admin page connects with
ALERTS = frozenset({"observation.reaction"})
REPLAY_KEPT = 32  # commits kept to follow a snapshot built while commands went on (a build
# takes milliseconds; a commit about one)


def kiosk_screen(device_id: str) -> str:
    return f"kiosk-screen:{device_id}"


# set on the environ of an HTTP request whose answer is sent before its deltas (AfterAnswer)
AFTER_ANSWER = "clinicq.after_answer"


class AfterAnswer:
    """WSGI middleware: the deltas of an HTTP request's commands go out once its answer has
    been written (when the server closes the answer's body), so the nurse's or the kiosk's
    answer never waits for the fan-out to every screen. A failing request flushes at once."""

    def __init__(self, app: Any, flush: Callable[[], None]) -> None:
        self.app = app
        self.flush = flush

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[AFTER_ANSWER] = True
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self.flush()
            raise
        return ClosingIterator(body, [self.flush])


class Uncompressed:
    """WSGI middleware: Socket.IO's WebSockets are opened without permessage-deflate.

    Browsers offer it and simple-websocket accepts whatever is offered, so the server would
    compress every delta once for every screen: with 20 displays asking for it as Chromium
    does, the worker's CPU for a round of five commands went from 29.8 to 48.4 ms
    (bench_load), about 0.19 ms a message. A delta is about 1.5 kB and the station's screens
    are on its own network; the bytes saved are not worth the nurse's wait."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)  # simple-websocket reads the offer
        return self.app(environ, start_response)


class ClosingClient(FlaskClient):
    """Flask's test client closes an answer's body only when the test does; this one closes
    it once read, as a WSGI server does, so AfterAnswer sends the deltas before `post`
    returns."""

    def open(self, *args: Any, **kw: Any) -> Any:
        kw.setdefault("buffered", True)
        return super().open(*args, **kw)


def _after_answer() -> bool:
    """Whether this thread is in an HTTP request whose deltas AfterAnswer sends: not a
    Socket.IO event (its context is the connection's, which ends with the connection)."""
    return has_request_context() and bool(request.environ.get(AFTER_ANSWER)) and \
        getattr(request, "sid", None) is None


def listened(socketio: SocketIO, room: str) -> bool:
    """Whether anyone is in `room` (a message to an empty room is still encoded)."""
    return bool(socketio.server.manager.rooms.get("/", {}).get(room))


# a message, or how to make it when it is wanted (a room nobody is in; a replay)
Payload = dict[str, Any] | Callable[[], dict[str, Any]]
Sent = tuple[str, str, Payload, str | None]  # (name, room, payload, room left out)


class Broadcaster:
    """Listens to the station service and pushes each committed event to every watcher, in
    each room's view; keeps what it sent for the last REPLAY_KEPT commits (`since`)."""

    def __init__(self, socketio: SocketIO, settings: Settings, announcer: Announcer,
                 paused: frozenset[str] = frozenset()) -> None:
        self.socketio = socketio
        self.settings = settings
        self.announcer = announcer
        self._paused = paused  # the breaks last told, to tell each change once
        # per commit: the state it led to, and (name, room, payload, room left out) sent
        self._sent: deque[tuple[State, list[Sent]]] = deque(maxlen=REPLAY_KEPT)
        self._pending: deque[Published] = deque()  # committed, not yet sent (in seq order)
        self._sending = threading.Lock()  # one thread sends, in order

    def since(self, state: State, rooms: frozenset[str]) -> list[tuple[str, dict[str, Any]]] | None:
        """What a client in `rooms` was sent after the commit that led to `state`, in order;
        None when that commit is no longer kept. Call under the station's lock."""
        found = None
        for i in range(len(self._sent) - 1, -1, -1):
            if self._sent[i][0] is state:
                found = i
                break
        if found is None:
            return None
        return [(name, data() if callable(data) else data)
                for _, sent in list(self._sent)[found + 1:]
                for name, room, data, skip in sent
                if room in rooms and (skip is None or skip not in rooms)]

    def _emit(self, sent: list[Sent], name: str, data: Payload, room: str,
              skip: str | None = None) -> None:
        """Send to `room`; a room nobody is in is sent nothing, and its message is made only
        if a client joining later needs it replayed (`since`)."""
        if not listened(self.socketio, room):
            sent.append((name, room, data, skip))
            return
        skip_sids = None
        if skip is not None:
            skip_sids = [sid for sid, _ in self.socketio.server.manager.get_participants(
                "/", skip)]
        made = data() if callable(data) else data
        self.socketio.emit(name, made, to=room, skip_sid=skip_sids)
        sent.append((name, room, made, skip))

    def __call__(self, published: Published) -> None:
        """A commit (under the station's lock, so in seq order): sent now, or once the HTTP
        request that made it has its answer (AfterAnswer)."""
        self._pending.append(published)
        if not _after_answer():
            self.flush()

    def flush(self) -> None:
        """Send every commit not yet sent, in order."""
        with self._sending:
            while self._pending:
                self._send(self._pending.popleft())

    def _send(self, published: Published) -> None:
        state, now = published.state, published.now
        sent: list[Sent] = []
        self._sent.append((state, sent))
        if state.paused != self._paused:  # a break began or ended (no event: not a ticket's)
            self._paused = state.paused
            for room, private in ((STATION_ROOM, False), (STAFF_ROOM, True)):
                message = presenter.counters_message(state, self.settings, now, private=private)
                self._emit(sent, "counters", message, room)
                if not private:
                    self._emit(sent, "counters", views.kiosk_counters(message), KIOSK_ROOM)
        services = {e.ticket.service for e in published.events}
        queues = {code: presenter.queue_summary(state, code, now) for code in services}
        for event in published.events:
            for room, private in ((STATION_ROOM, False), (STAFF_ROOM, True)):
                data = _once(functools.partial(self._event, event, state, now, queues, private))
                self._emit(sent, "event", data, room)
                if not private:
                    self._kiosk_event(sent, data, event.ticket)
                    self._emit(sent, "phone", _once(functools.partial(_phone, data, state)),
                               PHONE_ROOM)
            if event.type in ALERTS:
                self._emit(sent, "alert", presenter.alert(event, state, now), STAFF_ROOM)
        self.announcer.ahead(state, queues, published.events)

    def _event(self, event: Event, state: State, now: datetime,
               queues: dict[str, QueueSummary], private: bool) -> dict[str, Any]:
        return presenter.event_message(event, state, self.settings, now, queues,
                                       private=private, staff=private,
                                       speak=self.announcer.announcement).to_dict()

    def _kiosk_event(self, sent: list[Sent], public: Callable[[], dict[str, Any]],
                     ticket: Ticket) -> None:
        """Kiosks get every delta (numbered), their own tickets with codes, others' as stubs."""
        def stub(own: bool) -> Callable[[], dict[str, Any]]:
            return _once(lambda: views.kiosk_event(public(), ticket, own))
        owner = ticket.issued_by
        if owner is None:
            self._emit(sent, "event", stub(False), KIOSK_ROOM)
            return
        own = kiosk_screen(owner)
        self._emit(sent, "event", stub(True), own)
        self._emit(sent, "event", stub(False), KIOSK_ROOM, skip=own)


def _phone(public: Callable[[], dict[str, Any]], state: State) -> dict[str, Any]:
    return presenter.phone_delta(public(), state)


def _once(make: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """`make`, run at most once: its answer kept for every room and any replay."""
    return functools.cache(make)
