"""Errors of the reference central platform and their JSON form; shared by store and web layers.

    CentralError(code)       a refusal with a stable code, HTTP status and
                             English + Chinese messages
    contracts.bookingcode.TokenError is mapped here too (status 400)

Every refusal leaves as `{"error": {"code", "message", "message_zh"}}` with a
4xx status; a 5xx is always a bug.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from contracts.bookingcode import TokenError

log = logging.getLogger(__name__)

_ERRORS: dict[str, tuple[int, str, str]] = {
    "auth_missing": (401, "Authorization: Bearer <token> is required.", "缺少访问令牌。"),
    "auth_invalid": (401, "The token is not valid.", "访问令牌无效。"),
    "auth_forbidden": (403, "This token may not access {what}.", "该令牌无权访问 {what}。"),
    "bad_json": (400, "The request body must be a JSON object.", "请求内容必须是 JSON 对象。"),
    "field_missing": (400, "The field '{field}' is required.", "缺少字段“{field}”。"),
    "field_invalid": (400, "The field '{field}' is not valid: {why}.",
                      "字段“{field}”无效：{why}。"),
    "station_unknown": (404, "There is no station '{station}'.", "没有站点“{station}”。"),
    "service_unknown": (400, "Station '{station}' has no service '{service}'.",
                        "站点“{station}”没有服务“{service}”。"),
    "vaccine_unknown": (400, "There is no vaccine '{product}' in the catalog.",
                        "疫苗目录中没有“{product}”。"),
    "booking_not_found": (404, "There is no booking '{id}'.", "没有预约“{id}”。"),
    "booking_not_cancellable": (409, "A booking that is {status} cannot be cancelled.",
                                "状态为 {status} 的预约不能取消。"),
    "no_signing_key": (409, "The platform has no active signing key.", "平台没有可用的签名密钥。"),
    "key_exists": (409, "A key with id '{kid}' already exists.", "密钥“{kid}”已存在。"),
    "bad_cursor": (400, "The cursor '{cursor}' is not valid.", "游标“{cursor}”无效。"),
    "not_found": (404, "Not found.", "未找到。"),
    "method_not_allowed": (405, "Method not allowed.", "不支持该请求方法。"),
    "http_error": (400, "The request could not be handled.", "无法处理该请求。"),
    "internal_error": (500, "Internal error; this is a bug.", "内部错误。"),
}


class CentralError(Exception):
    """A request refused by the platform, with a stable code."""

    def __init__(self, code: str, **details: object) -> None:
        status, en, zh = _ERRORS[code]
        self.code = code
        self.status = status
        self.message = en.format(**details)
        self.message_zh = zh.format(**details)
        super().__init__(f"{code}: {self.message}")


def error_response(code: str, message: str, message_zh: str, status: int) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "message_zh": message_zh}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CentralError)
    def _central(err: CentralError) -> Response:
        return error_response(err.code, err.message, err.message_zh, err.status)

    @app.errorhandler(TokenError)
    def _token(err: TokenError) -> Response:
        return error_response(err.code, err.message, err.message_zh, 400)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.code or 400, "http_error")
        _, en, zh = _ERRORS[code]
        return error_response(code, en if code != "http_error" else str(err.description), zh,
                              err.code or 400)

    @app.errorhandler(Exception)
    def _bug(err: Exception) -> Response:
        log.exception("unhandled error", exc_info=err)
        return error_response("internal_error", *_ERRORS["internal_error"][1:], 500)
