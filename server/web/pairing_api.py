"""Web (layer 4): device pairing and the admin's hold on devices (server/pairing.py).

Pairing requests need no credentials, so they are throttled per address; wrong codes typed at
approval are throttled too (a guessed code is the one way in). `limits` (the rate-limit core
of flask-limiter) counts per address, in memory (one station process), in the two views that
need it: flask-limiter's extension would run its hooks on every request of the station, about
0.2 ms each.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from .. import ledger, pairing
from ..engine.errors import DomainError
from ..station import StationService
from .declare import answers
from .errors import RequestError
from .inputs import PairDevice, PairingStart, RenameDevice, takes
from .realtime import tell_admins
from .security import current_principal, requires
from .shapes import DeviceState, PairingCollected, PairingStarted

bp = Blueprint("pairing", __name__)

# requests to be paired, per address; wrong codes, per address (right ones are not counted)
START_LIMIT = parse("10 per minute")
GUESS_LIMIT = parse("5 per minute")
EXTENSION = "clinicq.pairing_limits"


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
    _throttle(START_LIMIT, count=True)
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
    _throttle(GUESS_LIMIT, count=False)  # even the right code waits while guessing is held
    try:
        device = pairing.approve(_ext().store, body.code, name=body.name, kind=body.kind,
                                 by=who.id, now=now)
    except DomainError as err:
        if err.code == "pairing_unknown":  # a wrong code is the only thing counted
            _throttle(GUESS_LIMIT, count=True, refuse=False)
        raise
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


def init_app(app: Flask) -> None:
    """Register the routes, with their own counters (one per app: tests run several)."""
    app.extensions[EXTENSION] = FixedWindowRateLimiter(MemoryStorage())
    app.register_blueprint(bp)


def _throttle(limit: RateLimitItem, *, count: bool, refuse: bool = True) -> None:
    """Count this request from its address against `limit` (or only look, `count=False`);
    past it, a 429 `too_many_attempts` with `Retry-After`."""
    counter: FixedWindowRateLimiter = current_app.extensions[EXTENSION]
    address = request.remote_addr or "?"
    allowed = counter.hit(limit, address) if count else counter.test(limit, address)
    if allowed or not refuse:
        return
    reset = counter.get_window_stats(limit, address).reset_time
    raise RequestError("too_many_attempts",
                       headers={"Retry-After": str(max(1, math.ceil(reset - time.time())))})
