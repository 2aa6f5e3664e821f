"""Web (layer 4): the public API v1 — views parse, call the station service, and answer JSON."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, session

from contracts import i18n

from .. import presenter
from ..station import CheckinResult, StationService
from .errors import RequestError
from .inputs import body, field
from .kiosklink import kiosks
from .security import accounts, current_principal, requires, start_session

bp = Blueprint("api", __name__)


def station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


def private() -> bool:
    who = current_principal()
    return who is not None and who.role in ("nurse", "admin", "kiosk")


def ticket_json(ticket_id: str, status: int = 200) -> tuple[Response, int]:
    state, ticket, now = station().ticket(ticket_id)
    view = presenter.ticket_view(state, ticket, now, private=private())
    return jsonify(view.to_dict()), status


def checkin_json(result: CheckinResult) -> tuple[Response, int]:
    """A check-in's answer: the ticket (201 new, 200 the same one again), with a notice when
    the resident was late and is queued as a walk-in."""
    state, ticket, now = station().ticket(result.ticket.id)
    view = presenter.ticket_view(state, ticket, now, private=private()).to_dict()
    if result.created and ticket.late and ticket.slot_end is not None:
        slot = f"{ticket.slot_start:%H:%M}-{ticket.slot_end:%H:%M}"
        view["notice"] = i18n.notice("booking_late", slot=slot)
    return jsonify(view), 201 if result.created else 200


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    ext = current_app.extensions["clinicq"]
    store_ok = ext.store.healthy()
    body_ = {
        "status": "ok" if store_ok else "degraded",
        "station": ext.settings.station_id,
        "store": {"ok": store_ok, "seq": ext.station.state.seq},
        "sync": current_app.extensions["clinicq.sync"].status(),
    }
    return jsonify(body_), 200 if store_ok else 503


@bp.post("/api/v1/login")
def login() -> Response:
    data = body()
    who = accounts().login(field(data, "username"), field(data, "password"))
    if who is None:
        raise RequestError("login_failed")
    csrf = start_session(who)
    return jsonify({"user": who.id, "name": who.name, "role": who.role, "csrf_token": csrf})


@bp.post("/api/v1/logout")
def logout() -> Response:
    session.clear()
    return jsonify({"ok": True})


@bp.get("/api/v1/me")
@requires("watch")
def me() -> Response:
    who = current_principal()
    assert who is not None
    return jsonify({"id": who.id, "kind": who.kind, "role": who.role, "name": who.name,
                    "csrf_token": session.get("csrf") if who.kind == "staff" else None})


@bp.post("/api/v1/checkins")
@requires("checkin")
def check_in() -> tuple[Response, int]:
    code = field(body(), "code")
    # a kiosk agent's scan also shows on that kiosk's screen
    return kiosks.relay(lambda: checkin_json(station().check_in(code)))


@bp.post("/api/v1/tickets")
@requires("walkin")
def walk_in() -> tuple[Response, int]:
    data = body()
    priority = field(data, "priority", bool, required=False) or False
    service = field(data, "service")
    # a walk-in pressed on a kiosk screen is printed by that kiosk's agent
    return kiosks.relay(lambda: ticket_json(station().walk_in(service, priority=priority).id, 201))


@bp.get("/api/v1/tickets/<ticket_id>")
@requires("ticket.read")
def get_ticket(ticket_id: str) -> tuple[Response, int]:
    return ticket_json(ticket_id)


@bp.post("/api/v1/counters/<counter>/call-next")
@requires("serve")
def call_next(counter: str) -> tuple[Response, int]:
    return ticket_json(station().call_next(counter).id)


@bp.post("/api/v1/tickets/<ticket_id>/<action>")
@requires("serve")
def ticket_action(ticket_id: str, action: str) -> tuple[Response, int]:
    data = body(required=False)
    ticket = station().act(
        ticket_id, action, counter=field(data, "counter", required=False),
        service=field(data, "service", required=False),
    )
    return ticket_json(ticket.id)


@bp.post("/api/v1/counters/<counter>/undo")
@requires("serve")
def undo(counter: str) -> Response:
    tickets = station().undo(counter)
    state, now = station().current()
    return jsonify({"tickets": [
        presenter.ticket_view(state, state.tickets.get(t.id, t), now).to_dict() for t in tickets
    ]})


@bp.get("/api/v1/state")
@requires("watch")
def state() -> Response:
    st, now = station().current()
    settings = current_app.extensions["clinicq"].settings
    return jsonify(presenter.snapshot(st, settings, now, private=private()))
