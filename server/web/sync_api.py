"""Web (layer 4): the station's side of sync for staff and tools — its status and a day's
reconciliation (docs/sync.md)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ..reconcile import station_reconciliation
from .declare import answers
from .inputs import ReconciliationQuery, takes
from .security import passive, requires
from .shapes import Reconciliation, SyncStatus

bp = Blueprint("sync_api", __name__)


@bp.get("/api/v1/sync/status")
@passive  # polled by the console: no use of the session
@requires("sync.read")
@answers(200, "the link with the platform", SyncStatus)
def status() -> Response:
    """Staff: last pull, last push, events pending, conflicts and rejections, the last error"""
    sync = current_app.extensions["clinicq.sync"]
    return jsonify({**sync.status(), "problems": sync.store.sync_problems(20)})


@bp.get("/api/v1/sync/reconciliation")
@requires("sync.read")
@answers(200, "the day's events counted and digested", Reconciliation)
@takes(query=ReconciliationQuery)
def reconciliation(query: ReconciliationQuery) -> Response:
    """Staff and tools: a day's event count and digest, to compare with the platform's"""
    store = current_app.extensions["clinicq"].store
    return jsonify(station_reconciliation(store, query.day, with_items=query.items == "1"))
