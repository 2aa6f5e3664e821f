"""Contracts: reading untrusted JSON — the one parser of request bodies and Socket.IO payloads
at the station and the platform, with limits on nesting, numbers and keys.

    loads(raw) -> value       raw bytes or text; BodyInvalid (a ValueError) names what is wrong
    dumps(value) -> text      the standard library's, for a json module's other half

The standard library's `json.loads` recurses once per level of nesting: a 2 kB body nested a
thousand deep raises RecursionError, which no caller expects. Here the depth is counted first,
without recursion, and only a body within MAX_DEPTH reaches the decoder. What the decoder
accepts beyond JSON (NaN, Infinity) is refused, as are numbers of more digits than any field
needs (decoding a 4,000-digit integer is slow) or too large for a float, strings that are no
UTF-8 (a lone surrogate escape), and an object naming a key twice (two readers could each take
a different one).
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32  # the deepest body of the API is 4 levels; no honest client sends 32
MAX_NUMBER_TEXT = 40  # digits (and sign, point, exponent) of one number

# a JSON string, escapes included, or an unterminated one with the rest of the text (where
# the decoder fails): every match succeeds, so the text is read once, never again per quote
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class BodyInvalid(ValueError):
    """The text is no JSON this project reads; `reason` says why (for the log, in English)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def depth(text: str) -> int:
    """How deep the text's arrays and objects nest, counted without recursion. Brackets inside
    strings do not count; for text that is not JSON the count is at least as deep as the
    decoder would go before finding the error."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _constant(name: str) -> Any:
    raise BodyInvalid(f"{name} is not JSON")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_TEXT:
        raise BodyInvalid("a number too long")
    return int(text)  # its range is the field's to check (a model's bound, a column's)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_TEXT:
        raise BodyInvalid("a number too long")
    value = float(text)
    if not math.isfinite(value):
        raise BodyInvalid("a number out of range")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise BodyInvalid("a key given twice")
    return obj


def loads(raw: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH,
          surrogates: bool = False) -> Any:
    """The value of `raw` (UTF-8 when bytes), or BodyInvalid. `surrogates=True` lets a lone
    surrogate escape through, for a reader that refuses it field by field (the platform
    rejects one event of a batch, not the batch)."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BodyInvalid("not UTF-8") from None
    else:
        text = raw
    # fewer opening brackets than the limit, strings included: no need to count the depth
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise BodyInvalid(f"nested deeper than {max_depth}")
    try:
        value = json.loads(text, parse_constant=_constant, parse_int=_int, parse_float=_float,
                           object_pairs_hook=_object)
    except BodyInvalid:
        raise
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        raise BodyInvalid(f"not JSON ({str(err)[:80]})") from None
    if not surrogates and _SURROGATE_ESCAPE.search(text) and not _encodable(value):
        raise BodyInvalid("a lone surrogate")  # no UTF-8 for it: SQLite could not store it
    return value


def _encodable(value: Any) -> bool:
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo += item.keys()
            todo += item.values()
        elif isinstance(item, list):
            todo += item
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def dumps(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, **kwargs)


def object_of(raw: bytes, *, is_json: bool, mimetype: str, required: bool = True,
              surrogates: bool = False) -> dict[str, Any]:
    """A request body as the JSON object it must be, or BodyInvalid saying why; no body is
    `{}` when not `required`. `is_json`/`mimetype`: the request's content type."""
    if not raw:
        if required:
            raise BodyInvalid("no body")
        return {}
    if not is_json:
        raise BodyInvalid(f"content type {mimetype or 'missing'}")
    data = loads(raw, surrogates=surrogates)
    if not isinstance(data, dict):
        raise BodyInvalid(f"a JSON {type(data).__name__}, not an object")
    return data
