"""Web (layer 4): the paired devices' API — health reports, the device list, kiosk pushes.

A kiosk agent checks in through `POST /api/v1/checkins` with its own device token; the
`echo_to_kiosk_screen` decorator on that view pushes the answer (ticket or refusal) to the
Socket.IO room `kiosk:<device id>`, so the screen of the kiosk whose scanner read the code
shows it. It is a decorator rather than a station-service listener because a replayed booking
and a refusal change nothing and publish no event, yet the screen must show both.

The kiosk screen checks in typed codes and issues walk-ins with the same token; the same push,
marked `source: "screen"`, tells the kiosk agent (which tags its own requests `agent`) to print
those tickets. Staff reprints go to an agent as `kiosk.print`; `KioskPrinters` knows which
agents are connected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request

from contracts.protocol import (
    AGENT,
    SCREEN,
    SOURCE_HEADER,
    KioskPrint,
    KioskResult,
)

from .. import devices, presenter
from ..engine.errors import DomainError
from ..station import StationService
from .declare import answers
from .errors import RequestError, describe
from .inputs import DeviceHealth, KioskNotice, Reprint, takes
from .security import current_principal, requires
from .shapes import Devices, HealthRecorded, KioskStatuses, Ok, Reprinted

log = logging.getLogger(__name__)
bp = Blueprint("devices", __name__)
F = TypeVar("F", bound=Callable[..., Any])
REPLAY_SECONDS = 15.0  # long enough for a reconnecting screen, short enough for the next resident

# code -> (English, Chinese): what a kiosk screen tells the resident in front of it
NOTICES: dict[str, tuple[str, str]] = {
    "print_failed": ("Printing failed. Please take a photo of your number or note it down.",
                     "打印失败，请拍照记下号码。"),
    "not_a_booking": ("This is not a booking code. Please show the booking QR code from the app, "
                      "or ask at the service desk.",
                      "这不是预约码。请出示 App 中的预约二维码，或到服务台咨询。"),
}


def _station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


class KioskPrinters:
    """Which kiosks can print now (their agents' Socket.IO connections), and which kiosk issued
    each recent ticket, so a reprint goes back to the kiosk the resident used.

    In memory on purpose: after a restart a reprint goes to the first kiosk online, which is
    good enough, and nothing has to be stored for a ticket that is never reprinted.
    """

    def __init__(self, remember: int = 2000) -> None:
        self._lock = threading.Lock()
        self._agents: dict[str, tuple[str, str]] = {}  # socket sid -> (device id, name)
        self._issuers: OrderedDict[str, str] = OrderedDict()  # ticket id -> device id
        self._remember = remember

    def connected(self, sid: str, device_id: str, name: str) -> None:
        with self._lock:
            self._agents[sid] = (device_id, name)

    def disconnected(self, sid: str) -> None:
        with self._lock:
            self._agents.pop(sid, None)

    def online(self) -> dict[str, str]:
        """Device id -> name of every kiosk with an agent connected, by id."""
        with self._lock:
            return dict(sorted(self._agents.values()))

    def issued(self, ticket_id: str, device_id: str) -> None:
        with self._lock:
            self._issuers[ticket_id] = device_id
            self._issuers.move_to_end(ticket_id)
            while len(self._issuers) > self._remember:
                self._issuers.popitem(last=False)

    def choose(self, ticket_id: str, wanted: str | None = None) -> tuple[str, str] | None:
        """(device id, name) to print `ticket_id` at: `wanted` if its agent is connected; by
        default the kiosk that issued the ticket, else the first one online; None if none is."""
        online = self.online()
        if wanted is not None:
            return (wanted, online[wanted]) if wanted in online else None
        with self._lock:
            issuer = self._issuers.get(ticket_id)
        if issuer in online:
            return issuer, online[issuer]
        return next(iter(online.items()), None)


def kiosk_printers() -> KioskPrinters:
    return current_app.extensions["clinicq.kiosk_printers"]  # type: ignore[no-any-return]


def _recent() -> dict[str, tuple[float, dict[str, Any]]]:
    return current_app.extensions.setdefault("clinicq.kiosk_results", {})  # type: ignore[no-any-return]


def push_to_kiosk(device_id: str, result: KioskResult) -> None:
    """Show `result` on the screen(s) of kiosk `device_id` (room joined on connect)."""
    payload = result.to_dict()
    _recent()[device_id] = (time.monotonic(), payload)
    ticket_id, number = result.data.get("id"), result.data.get("number")
    if result.ok and isinstance(ticket_id, str):
        printers = kiosk_printers()
        printers.issued(ticket_id, device_id)
        if result.source == SCREEN and result.notice is None and device_id not in \
                printers.online():
            # nothing to catch up later: the screen shows the number, the resident can note it
            log.warning("kiosk %s: ticket %s issued on its screen while its agent is not "
                        "connected; not printed", device_id, number)
    socketio = current_app.extensions["clinicq"].socketio
    if socketio is not None:
        socketio.emit("kiosk.result", payload, to=f"kiosk:{device_id}")


def recent_kiosk_result(device_id: str) -> dict[str, Any] | None:
    """The last result pushed to this kiosk if it is at most REPLAY_SECONDS old.

    A held scan is sent the moment the station is back, often before the kiosk screen has
    reconnected; the screen gets that result when it does (Socket.IO delivers at most once).
    """
    entry = _recent().get(device_id)
    if entry is None or time.monotonic() - entry[0] > REPLAY_SECONDS:
        return None
    return entry[1]


def _notice(code: str) -> dict[str, str]:
    en, zh = NOTICES[code]
    return {"code": code, "message": en, "message_zh": zh}


def echo_to_kiosk_screen(view: F) -> F:
    """When a kiosk device calls `view`, push its answer to that kiosk's screen as well, and
    through it to that kiosk's agent, which prints what the screen asked for."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = current_principal()
        if who is None or who.kind != "device" or who.role != "kiosk":
            return view(*args, **kwargs)
        source = AGENT if request.headers.get(SOURCE_HEADER) == AGENT else SCREEN
        try:
            response, status = view(*args, **kwargs)
        except (DomainError, RequestError) as err:
            code, error = describe(err.code, err.params)
            push_to_kiosk(who.id, KioskResult(code, False, error.to_dict(), source=source))
            raise  # the app's error handler still answers the caller
        push_to_kiosk(who.id, KioskResult(status, 200 <= status < 300, response.get_json(),
                                          source=source))
        return response, status

    return wrapper  # type: ignore[return-value]


@bp.get("/api/v1/devices")
@requires("devices")
@answers(200, "every paired device", Devices)
def device_list() -> Response:
    """Paired kiosks and displays with their health

    Every paired device: id, kind, name, paired_at, revoked, last_seen_at, online (a health
    report within online_seconds), health (the last DeviceHealth or null).
    """
    now = _station().clock()
    store = current_app.extensions["clinicq"].store
    return jsonify({"devices": devices.listing(store, now),
                    "online_seconds": devices.ONLINE_SECONDS})


@bp.get("/api/v1/devices/status")
@requires("devices.status")
@answers(200, "the kiosks in short", KioskStatuses)
def device_status() -> Response:
    """The kiosks' online, scanner and printer state in short, for the nurse console"""
    now = _station().clock()
    store = current_app.extensions["clinicq"].store
    return jsonify({"kiosks": devices.kiosk_status(store, now)})


@bp.post("/api/v1/devices/health")
@requires("device.report")
@answers(200, "recorded", HealthRecorded)
@takes(DeviceHealth)
def report_health(body: DeviceHealth) -> Response:
    """A paired kiosk or display reports its health; stored with last_seen_at"""
    who = current_principal()
    assert who is not None
    now = _station().clock()
    devices.record_health(current_app.extensions["clinicq"].store, who.id, body.message(), now)
    return jsonify({"ok": True, "last_seen_at": now.isoformat()})


@bp.post("/api/v1/kiosk/notices")
@requires("kiosk.notify")
@answers(200, "shown", Ok)
@takes(KioskNotice)
def kiosk_notice(body: KioskNotice) -> Response:
    """The kiosk agent asks the server to show a notice on its own kiosk screen (Socket.IO
    kiosk.result)

    print_failed: the ticket's number with "printing failed, please note your number";
    not_a_booking: the scanned code is plainly not a booking (a URL, a product barcode).
    """
    who = current_principal()
    assert who is not None
    notice = body
    if notice.code == "print_failed":
        assert notice.ticket_id is not None  # the model asks for it
        state, ticket, now = _station().ticket(notice.ticket_id)
        view = presenter.ticket_view(state, ticket, now, private=True).to_dict()
        log.warning("kiosk %s could not print %s: %s", who.id, ticket.number, notice.detail)
        result = KioskResult(200, True, view, _notice(notice.code), source=AGENT)
    else:
        result = KioskResult(422, False, {"error": _notice(notice.code)}, _notice(notice.code),
                             source=AGENT)
    push_to_kiosk(who.id, result)
    return jsonify({"ok": True})


@bp.post("/api/v1/tickets/<ticket_id>/reprint")
@requires("ticket.reprint")
@answers(202, "sent to the kiosk's agent", Reprinted)
@takes(Reprint, required=False)
def reprint(ticket_id: str, body: Reprint) -> tuple[Response, int]:
    """Print the ticket again at a kiosk (Socket.IO kiosk.print to that kiosk's agent)

    By default the kiosk whose screen or scanner issued the ticket, if its agent is connected,
    else the first kiosk with a connected agent. 202 means sent: a printer failure then shows
    on that kiosk's screen and in its health. `kiosk_offline` 409 when no kiosk agent (or not
    the one asked for) is connected; `ticket_not_found` 404.
    """
    who = current_principal()
    assert who is not None
    wanted = body.kiosk
    state, ticket, now = _station().ticket(ticket_id)
    view = presenter.ticket_view(state, ticket, now, private=True).to_dict()
    target = kiosk_printers().choose(ticket.id, wanted)
    if target is None:
        raise RequestError("kiosk_offline")
    device_id, name = target
    socketio = current_app.extensions["clinicq"].socketio
    socketio.emit("kiosk.print", KioskPrint(view, by=who.id).to_dict(), to=f"kiosk:{device_id}")
    log.info("%s asked kiosk %s to reprint %s", who.id, device_id, ticket.number)
    return jsonify({"kiosk": device_id, "kiosk_name": name, "ticket": view}), 202
