"""Web (layer 4): the paired devices' API — health reports, the device list, kiosk notices and
reprints (through the kiosk link, `kiosklink.kiosks`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify

from contracts import i18n
from contracts.protocol import (
    AGENT,
    KioskPrint,
    KioskResult,
)

from .. import devices, presenter
from ..station import StationService
from .declare import answers
from .errors import RequestError
from .inputs import DeviceHealth, KioskNotice, Reprint, takes
from .kiosklink import kiosks
from .security import current_principal, passive, requires
from .shapes import Devices, HealthRecorded, KioskStatuses, Ok, Reprinted

log = logging.getLogger(__name__)
bp = Blueprint("devices", __name__)
F = TypeVar("F", bound=Callable[..., Any])

def _station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


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
                    "online_seconds": devices.ONLINE_SECONDS,
                    # the station's time: "3 min ago" is said from it, not from a PC's clock
                    "now": now.isoformat()})


@bp.get("/api/v1/devices/status")
@passive  # polled by the console: no use of the session
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
        result = KioskResult(200, True, view, i18n.notice(notice.code), source=AGENT)
    else:
        told = i18n.notice(notice.code)
        result = KioskResult(422, False, {"error": told}, told, source=AGENT)
    kiosks.push(who.id, result)
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
    target = kiosks.choose(ticket.id, wanted)
    if target is None:
        raise RequestError("kiosk_offline")
    device_id, name = target
    kiosks.reprint(device_id, KioskPrint(view, by=who.id))
    log.info("%s asked kiosk %s to reprint %s", who.id, device_id, ticket.number)
    return jsonify({"kiosk": device_id, "kiosk_name": name, "ticket": view}), 202
