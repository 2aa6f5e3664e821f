"""Web (layer 4): the administrator's API for the station's services and counters.

Each change is validated as a whole layout (server/layout.py: a message per setting refused),
checked by the engine against the tickets open now, saved with its ledger row, and takes effect
at once: every open page is told (`layout`) and loads the new one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from pydantic import BaseModel, Field

from .. import layout
from ..config import CounterTable, ServiceTable
from ..station import StationService
from .bodies import json_object
from .declare import answers, view_doc
from .errors import RequestError, describe
from .security import current_principal, requires

bp = Blueprint("layout", __name__)
_UNKNOWN = {"services": ("service_unknown", "service"), "counters": ("counter_unknown", "counter")}


class Layout(BaseModel):
    services: list[ServiceTable]
    counters: list[CounterTable]
    open: dict[str, int] = Field(description="open tickets per service now: a service with "
                                             "open tickets keeps its stages until they end")


def _station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


def _current() -> dict[str, Any]:
    station = _station()
    doc = layout.document(station.settings.services, station.settings.counters)
    state, _now = station.current()
    open_by_service = {s["code"]: 0 for s in doc["services"]}
    for ticket in state.tickets.values():
        if ticket.is_open and ticket.service in open_by_service:
            open_by_service[ticket.service] += 1
    return {**doc, "open": open_by_service}


def _who() -> str:
    who = current_principal()
    assert who is not None
    return who.id


def _takes(model: type[BaseModel]) -> Any:
    """Declare the body for the OpenAPI document; the view validates it as part of the whole
    layout, so that every setting refused is named at once."""
    def decorate(view: Any) -> Any:
        view_doc(view)["body"] = (model, True)
        return view
    return decorate


def _changed(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    if before is None:
        return {"added": after}
    return {key: [before.get(key), value] for key, value in after.items()
            if before.get(key) != value}


def _apply(part: str, key: str, ident: str, entry: dict[str, Any] | None, action: str
           ) -> Response:
    station = _station()
    with station.lock:
        doc = layout.document(station.settings.services, station.settings.counters)
        entries = doc[part]
        index = next((i for i, e in enumerate(entries) if e[key] == ident), None)
        before = entries[index] if index is not None else None
        if entry is None:
            if index is None:
                code, param = _UNKNOWN[part]
                raise RequestError(code, **{param: ident})
            detail: dict[str, Any] = {"removed": entries.pop(index)}
        else:
            if index is None:
                entries.append(entry)
            else:
                entries[index] = entry
            detail = _changed(before, entry)
            action = action if before is not None else action.replace("changed", "added")
        station.configure(doc, by=_who(), action=action, subject=ident, detail=detail)
    return jsonify(_current())


def _entry(key: str, ident: str) -> dict[str, Any]:
    body = json_object()
    body[key] = ident  # the path names it; a body that says otherwise does not rename it
    return body


@bp.errorhandler(layout.LayoutInvalid)
def _invalid(err: layout.LayoutInvalid) -> Response:
    status, error = describe("settings_invalid", {"count": len(err.fields)})
    response = jsonify({"error": {**error.to_dict()["error"], "fields": err.fields}})
    response.status_code = status
    return response


@bp.get("/api/v1/admin/layout")
@requires("layout")
@answers(200, "the services and counters now", Layout)
def layout_get() -> Response:
    """The station's services and counters, as config.toml's tables, and the open tickets per
    service"""
    return jsonify(_current())


@bp.put("/api/v1/admin/services/<code>")
@requires("layout")
@answers(200, "saved; every open page loads the new layout", Layout)
@_takes(ServiceTable)
def service_put(code: str) -> Response:
    """Add or change a service (the whole `[[services]]` table)

    Refused whole, `settings_invalid` 422 with `fields` (one entry per setting: `field`,
    `code`, `message`, `message_zh`); `service_has_tickets` 409 when its stages change while
    tickets are open.
    """
    return _apply("services", "code", code, _entry("code", code), "service.changed")


@bp.delete("/api/v1/admin/services/<code>")
@requires("layout")
@answers(200, "removed", Layout)
def service_delete(code: str) -> Response:
    """Remove a service; refused while tickets of it are open (`service_has_tickets`) or a
    counter serves it (`settings_invalid`, naming the counter)"""
    return _apply("services", "code", code, None, "service.removed")


@bp.put("/api/v1/admin/counters/<counter_id>")
@requires("layout")
@answers(200, "saved; every open page loads the new layout", Layout)
@_takes(CounterTable)
def counter_put(counter_id: str) -> Response:
    """Add or change a counter (the whole `[[counters]]` table)

    `counter_has_ticket` 409 when it would lose the service of the ticket it holds.
    """
    return _apply("counters", "id", counter_id, _entry("id", counter_id), "counter.changed")


@bp.delete("/api/v1/admin/counters/<counter_id>")
@requires("layout")
@answers(200, "removed", Layout)
def counter_delete(counter_id: str) -> Response:
    """Remove a counter; refused while it holds a ticket (`counter_has_ticket`)"""
    return _apply("counters", "id", counter_id, None, "counter.removed")
