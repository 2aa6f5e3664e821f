"""Web (layer 4): the audit log of staff actions (server/audit.py) — who is acting during a
request, the one-line recorders the login and logout views call, and the admin's read-only
views: `/admin/audit` (a page rendered here, no script), its JSON and its CSV. There is no
route that changes or deletes an entry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from pydantic import ConfigDict, Field

from contracts.names import clean_name

from .. import audit
from ..auth import Principal
from .admin_pages import _page
from .declare import answers
from .errors import RequestError
from .inputs import takes
from .reports_api import ReportRange, csv_lines
from .security import current_principal, requires

bp = Blueprint("audit", __name__)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    """Commands made during a staff member's request are recorded as theirs."""
    app.register_blueprint(bp)

    @app.before_request
    def _begin() -> None:
        if request.method not in _UNSAFE:
            return
        who = current_principal()
        if who is not None and who.kind == "staff":
            g.audit_token = audit.begin(who.id, who.role)

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("audit_token", None)
        if token is not None:
            audit.end(token)


def _record(actor: str, action: str, role: str | None = None, **detail: Any) -> None:
    ext = current_app.extensions["clinicq"]
    audit.record(ext.store, ext.station.clock(), actor, action, role=role,
                 address=request.remote_addr, **detail)


def logged_in(who: Principal) -> None:
    _record(who.id, "login", who.role)


def login_failed(username: object) -> None:
    # what was typed, cleaned and cut short: it may be anything, but it is no password
    typed = clean_name(username if isinstance(username, str) else "")[:64] or "?"
    _record(typed, "login_failed")


def logged_out(who: Principal | None) -> None:
    if who is not None and who.kind == "staff":
        _record(who.id, "logout", who.role)


# --- reading ---------------------------------------------------------------------------------

class AuditQuery(ReportRange):
    model_config = ConfigDict(strict=False)  # a query string's numbers come as text

    limit: int = Field(100, ge=1, le=audit.PAGE_MAX, description="entries per page")
    offset: int = Field(0, ge=0, description="the previous page's `next_offset`")


def _range(query: ReportRange) -> tuple[date, date]:
    return query.days()


@bp.get("/api/v1/admin/audit")
@requires("changes")
@answers(200, "a page of the audit log, newest first")
@takes(query=AuditQuery)
def entries(query: AuditQuery) -> Response:
    """The audit log of a date range: staff logins, logouts and ticket steps, and settings
    changes (`source` `action` or `settings`), newest first; read only

    Page on with `offset` = the answer's `next_offset` until it is null.
    """
    first, last = _range(query)
    rows, next_offset = audit.page(current_app.extensions["clinicq"].store, first, last,
                                   query.limit, query.offset)
    return jsonify({"entries": rows, "next_offset": next_offset})


def _csv_rows(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        detail = row["detail"] or {}
        cells = {k: row[k] for k in audit.CSV_COLUMNS if k != "detail"}
        cells["detail"] = "; ".join(f"{k}={_joined(v)}" for k, v in sorted(detail.items()))
        yield {k: _inert(v) for k, v in cells.items()}


def _joined(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _inert(value: Any) -> Any:
    """A cell a spreadsheet will not run: a failed login's name is whatever was typed, and
    `=HYPERLINK(...)` there would be a formula in the admin's spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.get("/api/v1/admin/audit.csv")
@requires("changes")
@answers(200, "text/csv, UTF-8 with a BOM")
@takes(query=ReportRange)
def entries_csv(query: ReportRange) -> Response:
    """The audit log of a date range as CSV for a spreadsheet, newest first"""
    first, last = _range(query)
    store = current_app.extensions["clinicq"].store
    rows = store.audit_log(*audit.day_range(first, last), limit=audit.CSV_MAX)
    name = f"clinicq-audit-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    return Response(csv_lines(_csv_rows(rows), audit.CSV_COLUMNS), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the page --------------------------------------------------------------------------------

def action_labels() -> dict[str, str]:
    return {
        "login": _("logged in"), "login_failed": _("login refused (wrong name or password)"),
        "logout": _("logged out"), "walk_in": _("gave a walk-in number"),
        "check_in": _("checked a booking in"), "call": _("called"), "recall": _("called again"),
        "start": _("started serving"), "complete": _("finished"), "no-show": _("marked no-show"),
        "requeue": _("put back in the queue"), "cancel": _("cancelled"),
        "transfer": _("transferred"), "observe": _("sent to observation"),
        "release": _("ended observation"), "restore": _("restored a no-show"),
        "undo": _("undid the last action"), "pause": _("paused the counter"),
        "resume": _("resumed the counter"), "screening": _("recorded the screening"),
        "clear": _("cleared for vaccination"), "defer": _("deferred the vaccination"),
        "dose": _("recorded a dose"), "reaction": _("recorded a reaction"),
        "leave_early": _("recorded an early leave"),
    }


@bp.get("/admin/audit")
def page() -> tuple[str, int]:
    today = current_app.extensions["clinicq"].station.today()
    raw = {"from": request.args.get("from") or today.isoformat(),
           "to": request.args.get("to") or today.isoformat()}
    rows: list[dict[str, Any]] = []
    bad, next_offset, offset = None, None, 0
    who = current_principal()
    if who is not None and who.kind == "staff" and who.role == "admin":
        try:
            query = AuditQuery.model_validate({**raw, "offset": request.args.get("offset", 0)})
            rows, next_offset = audit.page(current_app.extensions["clinicq"].store,
                                           *_range(query), audit.PAGE_MAX, query.offset)
            offset = query.offset
        except (RequestError, ValueError):
            bad = _("Please choose a first and a last day, the first not after the last.")
    return _page("admin/audit.html", {}, rows=rows, bad=bad, start=raw["from"], end=raw["to"],
                 today=today.isoformat(), next_offset=next_offset, offset=offset,
                 labels=action_labels())
