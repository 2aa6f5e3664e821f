"""Web (layer 4): reading request bodies — the JSON object sent, and its fields."""

from __future__ import annotations

from typing import Any

from flask import request

from .errors import RequestError


def body(required: bool = True) -> dict[str, Any]:
    """The JSON object sent, or a 400 saying what is wrong with it."""
    if not request.get_data(cache=True):
        if required:
            raise RequestError("bad_json")
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise RequestError("bad_json")
    return data


def field(data: dict[str, Any], name: str, kind: type = str, *, required: bool = True) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise RequestError("field_missing", field=name)
        return None
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RequestError("field_invalid", field=name)
    return value
