"""Web (layer 4): API errors — each code's HTTP status, its words from the catalog, one handler."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from contracts import i18n
from contracts.protocol import ApiError

from ..engine.errors import DomainError
from ..store import StorageFull

log = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the web layer refuses before it reaches the station service."""

    def __init__(self, code: str, *, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
        self.headers = headers or {}  # e.g. a 429's Retry-After


# code -> HTTP status. The words of each code are `error.<code>` in the catalog
# (contracts/translations), spoken to a resident or a nurse.
STATUS: dict[str, int] = {
    "queue_empty": 409,
    "counter_busy": 409,
    "transition_forbidden": 409,
    "action_unknown": 404,
    "ticket_not_found": 404,
    "service_unknown": 404,
    "counter_unknown": 404,
    "walkins_closed": 409,
    "outside_hours": 409,
    "walkins_full": 409,
    "settings_invalid": 422,
    "service_has_tickets": 409,
    "counter_has_ticket": 409,
    "booking_unknown": 404,
    "booking_cancelled": 422,
    "booking_wrong_station": 422,
    "booking_wrong_day": 422,
    "booking_too_early": 422,
    "booking_too_late": 422,
    "booking_expired": 422,
    "booking_checked_in": 409,
    "token_empty": 400,
    "token_too_large": 413,
    "token_wrong_prefix": 400,
    "token_bad_encoding": 400,
    "token_bad_cbor": 400,
    "token_bad_shape": 400,
    "token_unknown_key": 422,
    "token_retired_key": 422,
    "token_bad_signature": 422,
    "clock_suspect": 422,
    "ticket_at_other_counter": 409,
    "counter_required": 400,
    "service_required": 400,
    "transfer_same_service": 409,
    "nothing_to_undo": 409,
    "undo_stale": 409,
    "conflict": 409,
    "screening_unknown_question": 422,
    "screening_closed": 409,
    "not_flagged": 409,
    "not_at_vaccination_stage": 409,
    "screening_not_cleared": 409,
    "trace_code_invalid": 422,
    "vaccine_unknown": 422,
    "vaccine_mismatch": 422,
    "trace_code_used": 409,
    "vaccine_expired": 422,
    "dose_too_soon": 422,
    "override_needs_doctor": 403,
    "not_in_observation": 409,
    "dose_record_required": 409,
    "kiosk_offline": 409,
    "notice_not_found": 404,
    "pairing_unknown": 404,
    "pairing_expired": 410,
    "pairing_busy": 429,
    "too_many_attempts": 429,
    "login_throttled": 429,
    "too_many_requests": 429,
    "device_unknown": 404,
    "username_taken": 409,
    "user_unknown": 404,
    "cannot_disable_self": 409,
    "last_admin": 409,
    "range_reversed": 400,
    "range_too_long": 400,
    "unauthorized": 401,
    "login_failed": 401,
    "session_expired": 401,
    "forbidden": 403,
    "csrf_failed": 403,
    "body_invalid": 400,
    "field_missing": 400,
    "field_invalid": 400,
    "not_found": 404,
    "method_not_allowed": 405,
    "too_large": 413,
    "internal_error": 500,
    "storage_full": 503,  # the station's disk is full: nothing was written; try again later
}


def describe(code: str, params: dict[str, Any]) -> tuple[int, ApiError]:
    words = i18n.both(f"error.{code}", **params)
    return STATUS.get(code, 400), ApiError(code, words["message"], words["message_zh"])


def error_response(code: str, params: dict[str, Any] | None = None) -> Response:
    status, error = describe(code, params or {})
    body = error.to_dict()
    field = (params or {}).get("field")
    if isinstance(field, str) and field:  # a form shows the message next to this field
        body["error"]["field"] = field
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(err: DomainError) -> Response:
        return error_response(err.code, err.params)

    @app.errorhandler(RequestError)
    def request_error(err: RequestError) -> Response:
        response = error_response(err.code, err.params)
        response.headers.update(err.headers)
        return response

    @app.errorhandler(StorageFull)
    def storage_full(err: StorageFull) -> Response:  # a write outside the station service
        log.error("the disk is full: %s %s refused: %s", request.method, request.path, err)
        return error_response("storage_full")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response | HTTPException:
        if not _wants_json():
            return err
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                400: "body_invalid"}.get(err.code or 400, "body_invalid")
        if err.code == 413:
            log.warning("body refused on %s %s: over %s bytes", request.method, request.path,
                        current_app.config["MAX_CONTENT_LENGTH"])
        return error_response(code, {"method": request.method})

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("internal_error")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"
