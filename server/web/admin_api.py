"""Web (layer 4): the administrator's API for staff accounts and the ledger of changes
(server/staff.py, server/ledger.py). Views parse, call, answer; the rules live below."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify

from .. import ledger, staff
from ..auth import Principal
from ..store import Store
from .admin_inputs import ChangesQuery, PasswordReset, StaffAdd
from .admin_shapes import Changes, StaffChanged, StaffList
from .declare import answers
from .inputs import takes
from .realtime import tell_admins
from .security import current_principal, end_sessions, requires

bp = Blueprint("admin_api", __name__)


def _store() -> Store:
    return current_app.extensions["clinicq"].store  # type: ignore[no-any-return]


def _now() -> datetime:
    return current_app.extensions["clinicq"].station.clock()  # type: ignore[no-any-return]


def _staff_changed() -> None:
    tell_admins(current_app.extensions["clinicq"].socketio, "staff")


def _admin() -> Principal:
    who = current_principal()
    assert who is not None  # `requires` let them in
    return who


@bp.get("/api/v1/admin/staff")
@requires("staff")
@answers(200, "every staff account", StaffList)
def staff_list() -> Response:
    """Staff accounts: username, full name, role, when added, disabled or not"""
    return jsonify({"staff": staff.listing(_store())})


@bp.post("/api/v1/admin/staff")
@requires("staff")
@answers(201, "added; they can log in at once", StaffChanged)
@takes(StaffAdd)
def staff_add(body: StaffAdd) -> tuple[Response, int]:
    """Add a staff account (nurse, doctor or admin)

    `username_taken` 409 when the username is in use (disabled accounts keep theirs);
    `field_invalid` 400 naming `username`, `display_name`, `role` or `password` (at least 8
    characters).
    """
    user = staff.add(_store(), by=_admin().id, now=_now(), username=body.username,
                     display_name=body.display_name, role=body.role, password=body.password)
    _staff_changed()
    return jsonify({"user": user}), 201


@bp.post("/api/v1/admin/staff/<username>/password")
@requires("staff")
@answers(200, "the new password works from now on; their sessions have ended", StaffChanged)
@takes(PasswordReset)
def staff_password(username: str, body: PasswordReset) -> Response:
    """Set a new password for a staff account; `user_unknown` 404

    Every session of that account ends, and its live connections close (an admin setting
    their own password stays logged in on this browser only).
    """
    admin = _admin()
    user = staff.reset_password(_store(), by=admin.id, now=_now(), username=username,
                                password=body.password)
    end_sessions(username, but_this_one=username == admin.id)
    _staff_changed()  # the ledger page shows it
    return jsonify({"user": user})


@bp.post("/api/v1/admin/staff/<username>/disable")
@requires("staff")
@answers(200, "disabled: their session and live connections stop at once", StaffChanged)
def staff_disable(username: str) -> Response:
    """Disable a staff account: it can no longer log in, and its open session is refused

    `cannot_disable_self` 409 for the admin's own account, `last_admin` 409 for the last
    enabled admin, `user_unknown` 404.
    """
    user = staff.set_disabled(_store(), by=_admin().id, now=_now(), username=username,
                              disabled=True)
    dropped = current_app.extensions["clinicq.sockets"].drop_staff(username)
    end_sessions(username)  # and any socket that came between
    _staff_changed()
    return jsonify({"user": user, "dropped": dropped})


@bp.post("/api/v1/admin/staff/<username>/enable")
@requires("staff")
@answers(200, "enabled: they can log in again", StaffChanged)
def staff_enable(username: str) -> Response:
    """Enable a disabled staff account again; `user_unknown` 404"""
    user = staff.set_disabled(_store(), by=_admin().id, now=_now(), username=username,
                              disabled=False)
    _staff_changed()
    return jsonify({"user": user})


@bp.get("/api/v1/admin/changes")
@requires("changes")
@answers(200, "a page of the ledger, newest first", Changes)
@takes(query=ChangesQuery)
def changes(query: ChangesQuery) -> Response:
    """The administrators' ledger of changes: who changed staff, notices, devices, settings

    Page back with `before` = the answer's `next_before` until it is null.
    """
    rows, next_before = ledger.page(_store(), query.limit, query.before)
    return jsonify({"changes": rows, "next_before": next_before})
