"""Errors of the reference central platform and their JSON form; shared by store and web layers.

    CentralError(code, **params)   a refusal with a stable code and an HTTP status; its words
                                   are `platform.error.<code>` in the catalog (contracts/i18n.py)
    contracts.bookingcode.TokenError is answered here too (status 400, `error.<code>`)

Every refusal leaves as `{"error": {"code", "message", "message_zh"}}` with a
4xx status; a 5xx is always a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from contracts import i18n, syncwire
from contracts.bookingcode import TokenError

log = logging.getLogger(__name__)

STATUS: dict[str, int] = {
    "auth_missing": 401, "auth_invalid": 401, "auth_forbidden": 403, "body_invalid": 400,
    "field_missing": 400, "field_invalid": 400, "name_invisible": 422,
    "station_unknown": 404, "service_unknown": 400,
    "vaccine_unknown": 400, "trace_prefix_taken": 409, "booking_not_found": 404,
    "booking_not_cancellable": 409, "no_signing_key": 409, "key_exists": 409, "bad_cursor": 400,
    "batch_too_large": 413, "station_mismatch": 403, "token_revoked": 401,
    "token_not_found": 404, "resident_not_found": 404, "not_found": 404,
    "method_not_allowed": 405, "http_error": 400, "internal_error": 500,
    "body_too_large": 413,
}
NAMESPACE = "platform.error"


class CentralError(Exception):
    """A request refused by the platform, with a stable code."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = STATUS[code]
        self.params = params

    @property
    def message(self) -> str:
        return i18n.text(f"{NAMESPACE}.{self.code}", "en", **self.params)


def error_response(status: int, code: str, namespace: str = NAMESPACE,
                   **params: Any) -> Response:
    response = jsonify(i18n.error_body(code, namespace, **params))
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CentralError)
    def _central(err: CentralError) -> Response:
        return error_response(err.status, err.code, **err.params)

    @app.errorhandler(TokenError)
    def _token(err: TokenError) -> Response:
        return error_response(400, err.code, "error", **err.params)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        if err.code == 413:  # a body past MAX_CONTENT_LENGTH
            most = current_app.config["MAX_CONTENT_LENGTH"]
            log.warning("body refused on %s %s: over %s bytes", request.method, request.path,
                        most)
            if request.path.endswith("/events"):  # too many events at once
                return error_response(413, "batch_too_large", most=syncwire.MAX_BATCH,
                                      count="?")
            return error_response(413, "body_too_large", most=most)
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.code or 400, "http_error")
        return error_response(err.code or 400, code)

    @app.errorhandler(Exception)
    def _bug(err: Exception) -> Response:
        log.exception("unhandled error", exc_info=err)
        return error_response(500, "internal_error")
