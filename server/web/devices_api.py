"""Web (layer 4): the paired devices' API — health reports, the device list, kiosk notices and
reprints (through the kiosk link, `kiosklink.kiosks`)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify

from contracts import i18n
from contracts.protocol import AGENT, KIOSK_NOTICES, KioskNotice, KioskPrint, KioskResult

from .. import devices, presenter
from ..station import StationService
from .errors import RequestError
from .inputs import body, field
from .kiosklink import kiosks
from .security import current_principal, requires

log = logging.getLogger(__name__)
bp = Blueprint("devices", __name__)


def _station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


@bp.get("/api/v1/devices")
@requires("devices")
def device_list() -> Response:
    now = _station().clock()
    store = current_app.extensions["clinicq"].store
    return jsonify({"devices": devices.listing(store, now),
                    "online_seconds": devices.ONLINE_SECONDS})


@bp.get("/api/v1/devices/status")
@requires("devices.status")
def device_status() -> Response:
    now = _station().clock()
    store = current_app.extensions["clinicq"].store
    return jsonify({"kiosks": devices.kiosk_status(store, now)})


@bp.post("/api/v1/devices/health")
@requires("device.report")
def report_health() -> Response:
    who = current_principal()
    assert who is not None
    try:
        report = devices.clean_report(body())
    except devices.BadReport as err:
        raise RequestError("field_invalid", field=err.field) from err
    now = _station().clock()
    devices.record_health(current_app.extensions["clinicq"].store, who.id, report, now)
    return jsonify({"ok": True, "last_seen_at": now.isoformat()})


@bp.post("/api/v1/kiosk/notices")
@requires("kiosk.notify")
def kiosk_notice() -> Response:
    who = current_principal()
    assert who is not None
    data = body()
    code, ticket_id, detail = data.get("code"), data.get("ticket_id"), data.get("detail")
    if code not in KIOSK_NOTICES:
        raise RequestError("field_invalid", field="code")
    if ticket_id is not None and not isinstance(ticket_id, str):
        raise RequestError("field_invalid", field="ticket_id")
    notice = KioskNotice(code, ticket_id, detail[:200] if isinstance(detail, str) else None)
    if notice.code == "print_failed":
        if notice.ticket_id is None:
            raise RequestError("field_missing", field="ticket_id")
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
def reprint(ticket_id: str) -> tuple[Response, int]:
    """Send the ticket to a kiosk agent's printer (`kiosk.print`); 202: sent, not yet printed
    (a printer failure then shows on that kiosk's screen and in its health)."""
    who = current_principal()
    assert who is not None
    wanted = field(body(required=False), "kiosk", required=False)
    state, ticket, now = _station().ticket(ticket_id)
    view = presenter.ticket_view(state, ticket, now, private=True).to_dict()
    target = kiosks.choose(ticket.id, wanted)
    if target is None:
        raise RequestError("kiosk_offline")
    device_id, name = target
    kiosks.reprint(device_id, KioskPrint(view, by=who.id))
    log.info("%s asked kiosk %s to reprint %s", who.id, device_id, ticket.number)
    return jsonify({"kiosk": device_id, "kiosk_name": name, "ticket": view}), 202
