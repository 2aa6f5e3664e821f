"""Web (layer 4): the waiting room's API — community notices for the ticker, and the displays'
health (whether their sound is on)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify

from .. import devices, ledger, notices
from ..station import StationService
from .declare import answers
from .errors import RequestError
from .inputs import DisplayHealth, NoticePost, takes
from .realtime import send_notices, tell_admins
from .security import current_principal, requires
from .shapes import CommunityNotice, CommunityNotices, HealthRecorded, Ok

bp = Blueprint("room", __name__)


def _station() -> StationService:
    return current_app.extensions["clinicq"].station  # type: ignore[no-any-return]


def _who() -> str:
    who = current_principal()
    assert who is not None  # `requires` let them in
    return who.id


def _changed() -> list[dict[str, object]]:
    ext = current_app.extensions["clinicq"]
    items = notices.current(ext.store, ext.station.clock())
    send_notices(ext.socketio, items)
    tell_admins(ext.socketio, "notices")
    return items


@bp.get("/api/v1/notices")
@requires("watch")
@answers(200, "the notices shown now", CommunityNotices)
def notice_list() -> Response:
    """The community notices the display and the kiosk show in their ticker"""
    ext = current_app.extensions["clinicq"]
    return jsonify({"notices": notices.current(ext.store, ext.station.clock())})


@bp.post("/api/v1/notices")
@requires("notices")
@answers(201, "posted; every display and kiosk shows it at once", CommunityNotice)
@takes(NoticePost)
def notice_post(body: NoticePost) -> tuple[Response, int]:
    """Post a community notice for the display's and the kiosk's ticker

    `text` (Chinese, required) and `text_en` are shown as text, never as HTML; `minutes`
    shows it for that long, otherwise until it is removed. At most 10 are kept: the oldest go.
    """
    ext = current_app.extensions["clinicq"]
    now = ext.station.clock()
    until = now + timedelta(minutes=body.minutes) if body.minutes else None
    notice = notices.post(ext.store, now, text=body.text.strip(), text_en=body.text_en.strip(),
                          until=until)
    ledger.record(ext.store, now, _who(), "notice.posted", notice["id"], text=notice["text"],
                  text_en=notice["text_en"], until=notice["until"])
    _changed()
    return jsonify(notice), 201


@bp.delete("/api/v1/notices/<notice_id>")
@requires("notices")
@answers(200, "removed", Ok)
def notice_remove(notice_id: str) -> Response:
    """Remove a community notice; `notice_not_found` 404 when there is none by that id"""
    ext = current_app.extensions["clinicq"]
    gone = notices.remove(ext.store, notice_id)
    if gone is None:
        raise RequestError("notice_not_found")
    ledger.record(ext.store, ext.station.clock(), _who(), "notice.removed", notice_id,
                  text=gone.get("text", ""), text_en=gone.get("text_en", ""))
    _changed()
    return jsonify({"ok": True})


@bp.post("/api/v1/displays/health")
@requires("display.report")
@answers(200, "recorded", HealthRecorded)
@takes(DisplayHealth)
def display_health(body: DisplayHealth) -> Response:
    """A paired display reports its health: sound on or off, announcements played and failed

    Shown with the device in `GET /api/v1/devices` (`health`).
    """
    who = current_principal()
    assert who is not None
    now = _station().clock()
    devices.record_display_health(current_app.extensions["clinicq"].store, who.id,
                                  body.model_dump(), now)
    return jsonify({"ok": True, "last_seen_at": now.isoformat()})
