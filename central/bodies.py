"""Reading a request's JSON body at the platform, through contracts.jsonbody's limits (depth,
numbers, keys, UTF-8); web layer. A refused body is a 400 `body_invalid` and one log line (no
traceback: it is no bug); a body past MAX_CONTENT_LENGTH is a 413 (errors.py)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from central.errors import CentralError
from contracts import jsonbody

log = logging.getLogger(__name__)


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, decoding with the limits of contracts.jsonbody (`request.get_json()`)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsonbody.loads(s, surrogates=True)  # test clients read answers with it


def refuse(reason: str) -> CentralError:
    log.warning("body refused on %s %s: %s", request.method, request.path, reason)
    return CentralError("body_invalid")


def json_body(*, required: bool = True, surrogates: bool = False) -> dict[str, Any]:
    """The JSON object sent, or CentralError `body_invalid`; no body is `{}` if not required.
    `surrogates=True`: a lone surrogate escape is let through to a reader that refuses or
    keeps it where it stands (one event of a batch, one heartbeat field), not the body."""
    raw = request.get_data(cache=True)
    try:
        return jsonbody.object_of(raw, is_json=request.is_json, mimetype=request.mimetype,
                                  required=required, surrogates=surrogates)
    except jsonbody.BodyInvalid as err:
        raise refuse(err.reason) from None


def init_app(app: Flask) -> None:
    app.json = LimitedJSONProvider(app)
