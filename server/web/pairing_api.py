"""Web (layer 4): device pairing and the admin's hold on devices (server/pairing.py).

Pairing requests need no credentials, so they are throttled per address; wrong codes typed at
approval are throttled too (a guessed code is the one way in). flask-limiter counts, in memory
(one station process).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from .. import ledger, pairing
from ..station import StationService
from .declare import answers
from .errors import RequestError, error_response
from .inputs import PairDevice, PairingStart, RenameDevice, takes
from .realtime import tell_admins
from .security import current_principal, requires
from .shapes import DeviceState, PairingCollected, PairingStarted

bp = Blueprint("pairing", __name__)

# requests to be paired, per address; wrong codes, per address (right ones are not counted)
START_LIMIT = "10 per minute"
GUESS_LIMIT = "5 per minute"


def _ext():  # type: ignore[no-untyped-def]
    return current_app.extensions["clinicq"]


def _station() -> StationService:
    return _ext().station  # type: ignore[no-any-return]


@bp.post("/api/v1/pairing")
@answers(201, "show `code`, keep `poll` secret", PairingStarted)
@takes(PairingStart, required=False)
def start(body: PairingStart) -> tuple[Response, int]:
    """A device without a token asks to be paired (no credentials; throttled per address)

    It shows `code` to the admin (on screen or printed) and polls `GET /api/v1/pairing/<poll>`
    until approved. The code lives ten minutes and serves once.
    """
    started = pairing.start(_ext().store, _station().clock(), kind=body.kind,
                            remote=request.remote_addr)
    return jsonify({"code": pairing.shown(started.code), "poll": started.poll,
                    "expires_at": started.expires_at.isoformat()}), 201


@bp.get("/api/v1/pairing/<poll>")
@answers(200, "approved: the device's own token, given once", PairingCollected)
@answers(202, "not approved yet: ask again in a few seconds")
@answers(410, "expired, unknown or collected already: start again")
def collect(poll: str) -> tuple[Response, int]:
    """The device collects its token once the admin has approved its code"""
    if len(poll) > 64:
        raise RequestError("pairing_expired")
    got = pairing.collect(_ext().store, poll, _station().clock())
    if got is None:
        return jsonify({"status": "pending"}), 202
    tell_admins(_ext().socketio, "devices")  # it is one of the station's devices from now on
    return jsonify({"token": got.token, "id": got.device_id, "kind": got.kind,
                    "name": got.name}), 200


@bp.post("/api/v1/devices/pair")
@requires("devices")
@answers(201, "approved: the device collects its token on its next poll", DeviceState)
@takes(PairDevice)
def approve(body: PairDevice) -> tuple[Response, int]:
    """Approve the code a new device shows, naming it and choosing its kind (admin; wrong codes
    are throttled)"""
    who = current_principal()
    assert who is not None
    now = _station().clock()
    device = pairing.approve(_ext().store, body.code, name=body.name, kind=body.kind,
                             by=who.id, now=now)
    ledger.record(_ext().store, now, who.id, "device.paired", device["id"],
                  name=device["name"], kind=device["kind"])
    tell_admins(_ext().socketio, "devices")
    return jsonify({"device": device}), 201


@bp.post("/api/v1/devices/<device_id>/revoke")
@requires("devices")
@answers(200, "revoked: its sockets are closed and its token refused", DeviceState)
def revoke(device_id: str) -> Response:
    """Revoke a device: its open connections are dropped at once, its next request refused"""
    device = _device(device_id)
    _ext().accounts.revoke_device(device_id)
    dropped = current_app.extensions["clinicq.sockets"].drop_device(device_id)
    _record("device.revoked", device, name=device["name"], kind=device["kind"])
    return jsonify({"device": {**device, "status": "revoked", "dropped": dropped}})


@bp.post("/api/v1/devices/<device_id>/rename")
@requires("devices")
@answers(200, "renamed", DeviceState)
@takes(RenameDevice)
def rename(device_id: str, body: RenameDevice) -> Response:
    """Give a device another name (what the console and the lists call it)"""
    before = _device(device_id)
    name = " ".join(body.name.split())
    if not name:
        raise RequestError("field_missing", field="name")
    _ext().accounts.rename_device(device_id, name)
    _record("device.renamed", before, name=name, was=before["name"], kind=before["kind"])
    return jsonify({"device": _device(device_id)})


def _record(action: str, device: dict, **detail: object) -> None:
    who = current_principal()
    assert who is not None  # `requires` let them in
    ledger.record(_ext().store, _station().clock(), who.id, action, device["id"], **detail)
    tell_admins(_ext().socketio, "devices")


def _device(device_id: str) -> dict:
    row = next((d for d in _ext().store.devices() if d["id"] == device_id), None)
    if row is None:
        raise RequestError("device_unknown", device=device_id)
    return {"id": row["id"], "kind": row["kind"], "name": row["name"],
            "status": "revoked" if row["revoked_at"] else "paired"}


def init_app(app: Flask) -> Limiter:
    """Register the routes with their throttles (one limiter per app: tests run several)."""
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://",
                      default_limits=[], headers_enabled=True)
    app.register_blueprint(bp)
    views = app.view_functions
    views["pairing.start"] = limiter.limit(START_LIMIT)(views["pairing.start"])
    # a wrong code is the only thing counted: 404 pairing_unknown
    views["pairing.approve"] = limiter.limit(
        GUESS_LIMIT, deduct_when=lambda response: response.status_code == 404)(
        views["pairing.approve"])

    @app.errorhandler(RateLimitExceeded)
    def throttled(err: RateLimitExceeded) -> Response:
        response = error_response("too_many_attempts")
        retry = getattr(err, "retry_after", None)
        if retry:
            response.headers["Retry-After"] = str(int(retry))
        return response

    return limiter
