"""Web (layer 4): API errors — one catalog of codes with English and Chinese texts, one handler."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from contracts.protocol import ApiError

from ..engine.errors import DomainError

log = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the web layer refuses before it reaches the station service."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


STATUS_ZH = {"waiting": "等候中", "called": "已呼叫", "serving": "服务中", "done": "已完成",
             "no_show": "已过号", "cancelled": "已取消", "transferred": "已转出",
             "observing": "留观中", "released": "已离开"}
ACTION_ZH = {"call": "呼叫", "recall": "重呼", "start": "开始", "complete": "完成",
             "no-show": "标记过号", "requeue": "退回等候", "cancel": "取消", "transfer": "转出",
             "observe": "开始留观", "release": "结束留观"}

# code -> (HTTP status, English, Chinese). Messages speak to a resident or a nurse.
CATALOG: dict[str, tuple[int, str, str]] = {
    "queue_empty": (409, "Nobody is waiting for this counter.", "当前没有等候的号。"),
    "counter_busy": (409, "{ticket} was called and is not dealt with yet: start, recall or "
                     "mark it no-show first.",
                     "{ticket} 号已呼叫尚未处理，请先开始、重呼或标记过号。"),
    "transition_forbidden": (409, "Ticket {ticket} is {status}; it cannot be {action} now.",
                             "{ticket} 号当前{status_zh}，现在不能{action_zh}。"),
    "action_unknown": (404, "Unknown action '{action}'.", "没有“{action}”这个操作。"),
    "ticket_not_found": (404, "There is no ticket {ticket}.", "找不到号码 {ticket}。"),
    "service_unknown": (404, "There is no service '{service}' at this station.",
                        "本站没有“{service}”这项服务。"),
    "counter_unknown": (404, "There is no counter '{counter}' at this station.",
                        "本站没有“{counter}”这个窗口。"),
    "walkins_closed": (409, "This service takes booked residents only; please book first.",
                       "该服务只接待预约居民，请先预约。"),
    "booking_unknown": (404, "This code is not a booking of this station. Please ask at the "
                        "service desk.", "未找到该预约，请到服务台咨询。"),
    "booking_cancelled": (422, "This booking was cancelled.", "该预约已取消。"),
    "booking_wrong_station": (422, "This booking is for another station ({station}).",
                              "该预约不是本站的预约（预约站点：{station}）。"),
    "booking_wrong_day": (422, "This booking is for {day}, not today.",
                          "该预约日期是 {day}，不是今天。"),
    "booking_too_early": (422, "Your slot starts at {slot}; please check in no more than "
                          "{minutes} minutes before it.",
                          "您的预约时段从 {slot} 开始，请在开始前 {minutes} 分钟内签到。"),
    "booking_too_late": (422, "Your slot ended at {slot} and this service cannot take late "
                         "arrivals; please ask at the service desk.",
                         "您的预约时段已于 {slot} 结束，该服务不接待迟到，请到服务台咨询。"),
    "booking_expired": (422, "This booking has expired.", "该预约已过期。"),
    "booking_checked_in": (409, "This booking is checked in already.", "该预约已签到。"),
    # booking QR codes (contracts/bookingcode.py): the stage that refuses is in its docstring
    "token_empty": (400, "Nothing was scanned. Please scan the booking QR code again.",
                    "没有扫到内容，请重新扫描预约二维码。"),
    "token_too_large": (413, "This is not a booking QR code (too long).",
                        "这不是预约二维码（内容过长）。"),
    "token_wrong_prefix": (400, "This is not a booking QR code. Please open your booking in "
                           "the app.", "这不是预约二维码，请在手机应用中打开您的预约二维码。"),
    "token_bad_encoding": (400, "The QR code could not be read. Please scan it again.",
                           "二维码无法识别，请重新扫描。"),
    "token_bad_cbor": (400, "The QR code is damaged. Please show it to the staff at the desk.",
                       "二维码内容已损坏，请到服务台找工作人员处理。"),
    "token_bad_shape": (400, "The QR code is not a booking we understand. Please show it to "
                        "the staff at the desk.",
                        "无法识别该预约二维码，请到服务台找工作人员处理。"),
    "token_unknown_key": (422, "This booking code cannot be checked yet. Please show it to the "
                          "staff at the desk.", "暂时无法核验该预约码，请到服务台找工作人员处理。"),
    "token_retired_key": (422, "This booking code is no longer valid. Please open the booking "
                          "in the app again.", "该预约码已失效，请在手机应用中重新打开预约。"),
    "token_bad_signature": (422, "This booking code is not genuine. Please show it to the "
                            "staff at the desk.", "该预约码未通过核验，请到服务台找工作人员处理。"),
    "clock_suspect": (422, "The station clock looks wrong, so bookings cannot be checked. "
                      "Please show your code to the staff at the desk.",
                      "本站时钟异常，暂时无法核验预约，请到服务台找工作人员处理。"),
    "ticket_at_other_counter": (409, "{ticket} is being served at counter {counter}.",
                                "{ticket} 号正在 {counter} 窗口办理。"),
    "counter_required": (400, "Say which counter acts on {ticket}.",
                         "请说明由哪个窗口处理 {ticket} 号。"),
    "service_required": (400, "Say which service to transfer to.", "请选择要转到的服务。"),
    "transfer_same_service": (409, "The ticket is already in this service.",
                              "该号已在这项服务中。"),
    "nothing_to_undo": (409, "There is nothing to undo at this counter.",
                        "该窗口没有可以撤销的操作。"),
    "undo_stale": (409, "{ticket} was changed since; the last action can no longer be undone.",
                   "{ticket} 号之后已有变化，无法撤销上一步。"),
    "conflict": (409, "Someone changed this at the same moment; please try again.",
                 "有人同时修改了它，请重试。"),
    "kiosk_offline": (409, "No kiosk printer is connected right now, so the ticket cannot be "
                      "reprinted. Please write the number down for the resident.",
                      "目前没有已连接的自助机打印机，无法补打。请为居民写下号码。"),
    "unauthorized": (401, "Please log in first.", "请先登录。"),
    "login_failed": (401, "Wrong user name or password.", "用户名或密码错误。"),
    "forbidden": (403, "You are not allowed to do this.", "您没有权限进行此操作。"),
    "csrf_failed": (403, "This page is out of date; please reload it.", "页面已过期，请刷新。"),
    "bad_json": (400, "The request is not valid JSON.", "请求不是有效的 JSON。"),
    "field_missing": (400, "'{field}' is required.", "缺少“{field}”。"),
    "field_invalid": (400, "'{field}' is not valid.", "“{field}”的值无效。"),
    "not_found": (404, "There is nothing at this address.", "该地址不存在。"),
    "method_not_allowed": (405, "This address does not accept {method}.",
                           "该地址不接受 {method} 请求。"),
    "too_large": (413, "The request is too large.", "请求内容太大。"),
    "internal_error": (500, "Something went wrong at the station; staff have been told.",
                       "系统出错，已通知工作人员。"),
}


# Not refusals: things a check-in answer tells the resident along with the ticket.
NOTICES: dict[str, tuple[str, str]] = {
    "booking_late": ("Your booked slot ({slot}) has passed, so you are queued as a walk-in.",
                     "您已超过预约时段（{slot}），将按现场号排队。"),
}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def describe(code: str, params: dict[str, Any]) -> tuple[int, ApiError]:
    status, en, zh = CATALOG.get(code, (400, code, code))
    values = _Params(params)
    if "status" in params:
        values["status_zh"] = STATUS_ZH.get(params["status"], params["status"])
        values["status"] = params["status"].replace("_", " ")
    if "action" in params:
        values["action_zh"] = ACTION_ZH.get(params["action"], params["action"])
    return status, ApiError(code, en.format_map(values), zh.format_map(values))


def notice(code: str, params: dict[str, Any]) -> dict[str, str]:
    en, zh = NOTICES[code]
    values = _Params(params)
    return {"code": code, "message": en.format_map(values), "message_zh": zh.format_map(values)}


def error_response(code: str, params: dict[str, Any] | None = None) -> Response:
    status, error = describe(code, params or {})
    response = jsonify(error.to_dict())
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(err: DomainError) -> Response:
        return error_response(err.code, err.params)

    @app.errorhandler(RequestError)
    def request_error(err: RequestError) -> Response:
        return error_response(err.code, err.params)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response | HTTPException:
        if not _wants_json():
            return err
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                400: "bad_json"}.get(err.code or 400, "bad_json")
        return error_response(code, {"method": request.method})

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("internal_error")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"
