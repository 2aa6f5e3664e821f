"""Web (layer 4): reading a request's JSON body — through contracts.jsonbody's limits (depth,
numbers, keys, UTF-8), so no body can raise past the error handler; a refused body is a 400
`body_invalid` and one line in the log, a body past MAX_CONTENT_LENGTH a 413 `too_large`.

`init_app` makes the app's JSON provider decode with those limits, so `request.get_json()`
anywhere reads the same way; `json_object` is what the views' models read.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from contracts import jsonbody

from .errors import RequestError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # the largest honest body (a layout, a family) is a few kB


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, decoding with the limits of contracts.jsonbody."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsonbody.loads(s)


def refuse(reason: str) -> RequestError:
    """The 400 for a body that cannot be read, logged once (no traceback: it is no bug)."""
    log.warning("body refused on %s %s: %s", request.method, request.path, reason)
    return RequestError("body_invalid")


def json_object(required: bool = True) -> dict[str, Any]:
    """The JSON object sent, or a 400 `body_invalid`; an empty body is `{}` when not required."""
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH: 413 too_large
    try:
        return jsonbody.object_of(raw, is_json=request.is_json, mimetype=request.mimetype,
                                  required=required)
    except jsonbody.BodyInvalid as err:
        raise refuse(err.reason) from None


def init_app(app: Flask) -> None:
    app.json = LimitedJSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY


class SocketJSON:
    """The json module Socket.IO decodes its packets with (python-socketio calls `loads` on
    every event's payload itself): the same limits as a request body. A payload refused is one
    log line and reads as the event `invalid_payload`, which no handler takes, so nothing
    raises in the Engine.IO thread (a RecursionError there was a traceback per packet)."""

    REFUSED = ["invalid_payload"]

    @staticmethod
    def loads(s: str | bytes, **kwargs: Any) -> Any:
        try:
            return jsonbody.loads(s)
        except jsonbody.BodyInvalid as err:
            log.warning("socket payload refused: %s", err.reason)
            return list(SocketJSON.REFUSED)

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        return jsonbody.dumps(value, **kwargs)


def quiet_engineio() -> None:
    """Engine.IO decodes with the json module given to Socket.IO too, trying every packet of
    its own ("probe") and keeping the text on a ValueError: it gets the same limits, raising
    (quietly, as the standard library does), not SocketJSON's logged stand-in. (Both packet
    classes hold their json module as a class attribute: this is for the whole process, as
    Flask-SocketIO's `json=` is.)"""
    from engineio import packet  # imported here: only the Socket.IO setup needs it

    packet.Packet.json = jsonbody  # type: ignore[assignment]
