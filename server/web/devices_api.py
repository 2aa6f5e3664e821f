"""Web (layer 4): the paired devices' API — health reports, the device list, kiosk screen pushes.

A kiosk agent checks in through `POST /api/v1/checkins` with its own device token; the
`echo_to_kiosk_screen` decorator on that view pushes the answer (ticket or refusal) to the
Socket.IO room `kiosk:<device id>`, so the screen of the kiosk whose scanner read the code
shows it. It is a decorator rather than a station-service listener because a replayed booking
and a refusal change nothing and publish no event, yet the screen must show both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify

from .. import devices, presenter
from ..engine.errors import DomainError
from ..protocol import KIOSK_NOTICES, KioskNotice, KioskResult
from ..station import StationService
from .errors import RequestError, describe
from .security import current_principal, requires

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


def _body() -> dict[str, Any]:
    from .api import body  # one JSON parser for the whole API

    return body()


def _recent() -> dict[str, tuple[float, dict[str, Any]]]:
    return current_app.extensions.setdefault("clinicq.kiosk_results", {})  # type: ignore[no-any-return]


def push_to_kiosk(device_id: str, result: KioskResult) -> None:
    """Show `result` on the screen(s) of kiosk `device_id` (room joined on connect)."""
    payload = result.to_dict()
    _recent()[device_id] = (time.monotonic(), payload)
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
    """When a kiosk device calls `view`, push its answer to that kiosk's screen as well."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = current_principal()
        if who is None or who.kind != "device" or who.role != "kiosk":
            return view(*args, **kwargs)
        try:
            response, status = view(*args, **kwargs)
        except (DomainError, RequestError) as err:
            code, error = describe(err.code, err.params)
            push_to_kiosk(who.id, KioskResult(code, False, error.to_dict()))
            raise  # the app's error handler still answers the caller
        push_to_kiosk(who.id, KioskResult(status, 200 <= status < 300, response.get_json()))
        return response, status

    return wrapper  # type: ignore[return-value]


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
        report = devices.clean_report(_body())
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
    data = _body()
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
        result = KioskResult(200, True, view, _notice(notice.code))
    else:
        result = KioskResult(422, False, {"error": _notice(notice.code)}, _notice(notice.code))
    push_to_kiosk(who.id, result)
    return jsonify({"ok": True})
