"""HTTP routes of the reference central platform: parse, call the store, answer; web layer."""

from __future__ import annotations

import hmac
import io
import secrets
from typing import Any

import segno
from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from central.bodies import json_body
from central.errors import CentralError
from central.inputs import (
    DayQuery,
    FeedQuery,
    KeyRotation,
    parse,
    parse_new_booking,
    parse_vaccine,
)
from central.store import Store
from contracts.demo import DEMO_STATION_ID, demo_bookings

api = Blueprint("central_api", __name__, url_prefix="/api/v1")
pages = Blueprint("central_pages", __name__)

# What a station sees of a booking: enough to check in, little personal data.
FEED_FIELDS = ("id", "service", "day", "slot", "status", "name_masked", "phone_last4",
               "priority", "vaccine", "token", "key_id", "expires", "cursor", "updated_at")


def get_store() -> Store:
    store: Store = current_app.extensions["central.store"]
    return store


def now() -> int:
    return int(current_app.config["CLOCK"]())


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CentralError("auth_missing")
    return token.strip()


def _is_admin(token: str) -> bool:
    expected = current_app.config.get("ADMIN_TOKEN")
    return bool(expected) and hmac.compare_digest(token.encode(), str(expected).encode())


def _station_of(token: str) -> str:
    """The station a station token names; a revoked or unknown token is refused (401)."""
    found = get_store().token_owner(token)
    if found is None:
        raise CentralError("auth_invalid")
    if found[1] is not None:
        raise CentralError("token_revoked")
    return found[0]


def require_admin() -> None:
    token = _bearer()
    if _is_admin(token):
        return
    _station_of(token)
    raise CentralError("auth_forbidden", what="administration")


def require_station(station: str) -> None:
    """That station's own token, or the admin token; another station's is station_mismatch."""
    token = _bearer()
    if _is_admin(token):
        return
    if _station_of(token) != station:
        raise CentralError("station_mismatch", station=station[:20])


def require_any_station() -> None:
    """A station token (any station's) or the admin token."""
    token = _bearer()
    if not _is_admin(token):
        _station_of(token)


def known_station(station: str) -> dict[str, Any]:
    info = get_store().station(station)
    if info is None:
        raise CentralError("station_unknown", station=station[:20])
    return info


def records_url(resident: dict[str, Any], *, page: bool = True) -> str:
    """The resident's own link to their records (its key is the secret)."""
    endpoint = "central_sync_pages.records_page" if page else "central_sync.resident_records"
    return url_for(endpoint, resident_id=resident["id"], key=resident["link_key"],
                   _external=True)


def _with_links(booking: dict[str, Any]) -> dict[str, Any]:
    return {**booking,
            "page_url": url_for("central_sync_pages.booking_page", booking_id=booking["id"],
                                key=booking["resident"]["link_key"], _external=True),
            "records_url": records_url(booking["resident"]),
            "qr_url": url_for("central_api.booking_qr_png", booking_id=booking["id"],
                              _external=True),
            "qr_svg_url": url_for("central_api.booking_qr_svg", booking_id=booking["id"],
                                  _external=True)}


def _booking_or_404(booking_id: str) -> dict[str, Any]:
    booking = get_store().booking(booking_id)
    if booking is None:
        raise CentralError("booking_not_found", id=booking_id[:20])
    return booking


@api.post("/bookings")
def create_booking() -> tuple[dict[str, Any], int]:
    require_admin()
    new = parse_new_booking(json_body())
    return _with_links(get_store().create_booking(new, now())), 201


@api.get("/bookings/<booking_id>")
def get_booking(booking_id: str) -> dict[str, Any]:
    require_admin()
    return _with_links(_booking_or_404(booking_id))


@api.post("/bookings/<booking_id>/cancel")
def cancel_booking(booking_id: str) -> dict[str, Any]:
    require_admin()
    return _with_links(get_store().cancel_booking(booking_id, now()))


@api.get("/keys")
def keys() -> dict[str, Any]:
    return {"keys": [key.to_json() for key in get_store().public_keys(now())]}


@api.get("/vaccines")
def vaccines() -> dict[str, Any]:
    """The vaccine catalog with its known lots; stations pull it like the key list."""
    require_any_station()
    return {"vaccines": get_store().vaccines()}


@api.put("/vaccines/<code>")
def put_vaccine(code: str) -> tuple[dict[str, Any], int]:
    """Admin: add or replace one product with its lots (201 when new, 200 when replaced)."""
    require_admin()
    product = parse_vaccine(code, json_body())
    created = get_store().put_vaccine(product)
    [stored] = [v for v in get_store().vaccines() if v["code"] == product.code]
    return stored, 201 if created else 200


# QR images are public: booking ids are 50 random bits, and the code itself
# shows only a masked name. The resident's app loads them by URL.
@api.get("/bookings/<booking_id>/qr.png")
def booking_qr_png(booking_id: str) -> Response:
    return _qr(booking_id, "png", "image/png")


@api.get("/bookings/<booking_id>/qr.svg")
def booking_qr_svg(booking_id: str) -> Response:
    return _qr(booking_id, "svg", "image/svg+xml")


def _qr(booking_id: str, kind: str, mimetype: str) -> Response:
    out = io.BytesIO()
    segno.make(_booking_or_404(booking_id)["token"], error="m", micro=False).save(
        out, kind=kind, scale=6, border=4)
    return Response(out.getvalue(), mimetype=mimetype)


@api.get("/stations/<station>/bookings")
def station_feed(station: str) -> dict[str, Any]:
    require_station(station)
    known_station(station)
    query = parse(FeedQuery, request.args.to_dict())
    page = get_store().feed(station, query.cursor, query.limit)
    return {
        "station": station,
        # of the resident only the birth year, for the desk's age check (三查七对)
        "bookings": [{**{key: b[key] for key in FEED_FIELDS},
                      "resident": {"birth_year": b["resident"]["birth_year"]}}
                     for b in page.bookings],
        "next_cursor": str(page.next_cursor),
        "has_more": page.has_more,
    }


@pages.get("/stations/<station>/bookings")
def station_day_page(station: str) -> str:
    store = get_store()
    info = known_station(station)
    day = parse(DayQuery, request.args.to_dict()).day or store.local_today(now())
    bookings = store.bookings_for_day(station, day)
    qr = {b["id"]: Markup(segno.make(b["token"], error="m", micro=False).svg_inline(scale=3))
          for b in bookings}
    services = {s["code"]: s["name"] for s in info["services"]}
    # the demo's bookings have a code to type at the kiosk too (the same set the demo station
    # seeds, contracts.demo)
    typed = {b["id"]: b["code"] for b in demo_bookings(day)} if station == DEMO_STATION_ID \
        else {}
    return render_template("station_bookings.html", station=info, day=day,
                           bookings=bookings, qr=qr, services=services, typed=typed)


@pages.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"ok": True, "keys": len(get_store().public_keys(now()))}


@api.post("/keys/rotate")
def rotate_key() -> tuple[dict[str, Any], int]:
    """Admin: a new signing key (`{"kid": "k2"}`); the active one is retired, still verifying."""
    require_admin()
    kid = parse(KeyRotation, json_body(required=False)).kid
    get_store().rotate_key(kid, secrets.token_bytes(32), now())
    return {"keys": [key.to_json() for key in get_store().public_keys(now())]}, 201
