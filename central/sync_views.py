"""HTTP routes of the station sync (docs/sync.md): events up, heartbeat, nearby stations,
reconciliation, station tokens, residents' records and their pages; web layer."""

from __future__ import annotations

import hmac
from typing import Any

import segno
from flask import Blueprint, render_template, request
from markupsafe import Markup

from central import wire
from central.bodies import json_body
from central.errors import CentralError
from central.views import (
    _bearer,
    _is_admin,
    get_store,
    known_station,
    now,
    records_url,
    require_admin,
    require_station,
)

sync_api = Blueprint("central_sync", __name__, url_prefix="/api/v1")
sync_pages = Blueprint("central_sync_pages", __name__)


@sync_api.post("/stations/<station>/events")
def post_events(station: str) -> dict[str, Any]:
    """A batch of station events; one result per event, the batch committed before this
    answer (so a retry after a lost answer is all `duplicate`)."""
    require_station(station)
    known_station(station)
    events = wire.events_of(json_body(surrogates=True))
    return {"results": get_store().ingest(station, events, now())}


@sync_api.get("/stations/<station>/conflicts")
def get_conflicts(station: str) -> dict[str, Any]:
    """The other contents sent under ids already stored (kept apart, never applied)."""
    require_station(station)
    known_station(station)
    store = get_store()
    return {"station": station, **store.event_counts(station),
            "items": store.conflicts(station)}


@sync_api.post("/stations/<station>/heartbeat")
def post_heartbeat(station: str) -> dict[str, Any]:
    require_station(station)
    known_station(station)
    at, services = wire.heartbeat(json_body(surrogates=True))
    get_store().record_heartbeat(station, at, services, now())
    return {"ok": True}


@sync_api.get("/stations/nearby")
def nearby() -> dict[str, Any]:
    """Public: stations near a point, nearest first, with their live waits."""
    lat, lon, limit = wire.nearby_query(request.args.to_dict())
    return {"stations": get_store().nearby(lat, lon, limit, now())}


@sync_api.get("/stations")
def station_directory() -> dict[str, Any]:
    """Public: every station's id and name (a station pulls it to name another station)."""
    return {"stations": get_store().station_names()}


@sync_api.get("/stations/<station>/reconciliation")
def reconciliation(station: str) -> dict[str, Any]:
    require_station(station)
    known_station(station)
    day = wire.day_query(request.args.to_dict())
    with_items = request.args.get("items") in ("1", "true")
    return {"station": station,
            **get_store().reconciliation(station, day, with_items=with_items)}


@sync_api.post("/stations/<station>/tokens")
def issue_token(station: str) -> tuple[dict[str, Any], int]:
    """Admin: a new token for the station, shown this once."""
    require_admin()
    return get_store().issue_token(station, now()), 201


@sync_api.get("/stations/<station>/tokens")
def list_tokens(station: str) -> dict[str, Any]:
    require_admin()
    known_station(station)
    return {"station": station, "tokens": get_store().tokens(station)}


@sync_api.delete("/stations/<station>/tokens/<token_id>")
def revoke_token(station: str, token_id: str) -> dict[str, Any]:
    require_admin()
    return get_store().revoke_token(station, token_id, now())


def _records(resident_id: int) -> dict[str, Any]:
    """The admin token, or the resident's own link (`?key=`)."""
    key = request.args.get("key")
    if key is None or "Authorization" in request.headers:
        token = _bearer()
        if not _is_admin(token):
            raise CentralError("auth_forbidden", what="these records")
        key = None
    if resident_id > 2**31:  # no such resident; and no database is asked about it
        raise CentralError("resident_not_found")
    return get_store().resident_records(resident_id, key)


@sync_api.get("/residents/<int:resident_id>/records")
def resident_records(resident_id: int) -> dict[str, Any]:
    return _records(resident_id)


@sync_pages.get("/residents/<int:resident_id>/records")
def records_page(resident_id: int) -> str:
    return render_template("records.html", records=_records(resident_id))


@sync_pages.get("/bookings/<booking_id>")
def booking_page(booking_id: str) -> str:
    """The resident's booking page (their link's key): the code and the live status."""
    booking = get_store().booking(booking_id)
    key = request.args.get("key", "")
    resident_key = (booking or {}).get("resident", {}).get("link_key") or ""
    if booking is None or not (key and hmac.compare_digest(resident_key.encode(),
                                                           key.encode())):
        raise CentralError("booking_not_found", id=booking_id[:20])
    station = known_station(booking["station"])
    services = {s["code"]: s["name"] for s in station["services"]}
    qr = Markup(segno.make(booking["token"], error="m", micro=False).svg_inline(scale=4))
    return render_template("booking.html", b=booking, station=station, services=services,
                           qr=qr, records_url=records_url(booking["resident"]))


@sync_pages.get("/stations/nearby")
def nearby_page() -> str:
    args = request.args.to_dict()
    if not args.get("lat") and not args.get("lon"):
        args.update(lat="30.2741", lon="120.1551")  # the demo city's centre
    lat, lon, limit = wire.nearby_query(args)
    return render_template("nearby.html", lat=lat, lon=lon,
                           stations=get_store().nearby(lat, lon, limit, now()))
