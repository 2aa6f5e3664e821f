"""Malformed JSON bodies, made cheaply from a seed: deep nesting, truncation, wrong types,
random bytes, oversized strings, what Python's decoder takes beyond JSON (NaN), duplicate keys,
invalid UTF-8, and mutations of a valid body. Shared by the station's and the platform's fuzz
tests, which send them through the app in-process (the WSGI callable) for the volume.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

from werkzeug.test import EnvironBuilder

JSON = "application/json"

JUNK: list[Any] = [
    None, True, False, 0, -1, 1.5, -0.0, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1,
    10**30, 1e308, -1e308, 5e-324, "", " ", "\x00", "a\nb", "x" * 300, "x" * 5000,
    "\u202eAnna\u200b", "\u200b\u200b", "<script>alert(1)</script>", "💉" * 40, "../../etc",
    "\ud800", "\udfff", "%s%n{0}", "2026-02-30", "9999-99-99T99:99:99+99:00",
    [], {}, [1, 2, 3], {"a": 1}, [None], [[[]]], {"": ""}, ["x"] * 50, list(range(200)),
]
TEXTUAL = [
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1" * 60, b"0." + b"1" * 60,
    b"1e-999", b"00", b"-", b".5", b"0x10", b"'x'", b"undefined", b"true false",
]


def deep(rng: random.Random) -> bytes:
    depth = rng.choice([33, 40, 100, 999, 1000, 5000, 20000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}"), (b'[{"a":', b"}]")])
    closed = rng.random() < 0.5
    return opener * depth + b"1" + (closer * depth if closed else b"")


def _slots(doc: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) of a decoded body, nested ones included."""
    todo = [doc]
    while todo:
        container = todo.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            yield container, key
            if isinstance(container[key], (dict, list)):
                todo.append(container[key])


class Bodies:
    """An endless, seeded series of (bytes, content type) for one endpoint whose valid body is
    `seed`. `keep` decides which bodies to keep (by default all): a route whose well-formed
    body costs a password hash keeps only the bodies its model refuses."""

    def __init__(self, seed: dict[str, Any], rng: random.Random,
                 keep: Callable[[bytes], bool] | None = None) -> None:
        self.seed = seed
        self.rng = rng
        self.keep = keep or (lambda body: True)
        self.valid = json.dumps(seed).encode()
        self.kinds: list[Callable[[], bytes]] = [
            self.mutated, self.mutated, self.mutated, self.mutated, self.deep_inside,
            lambda: deep(self.rng), self.truncated, self.wrong_top, self.random_bytes,
            self.textual, self.duplicate_key, self.bad_utf8, self.flipped, self.oversized,
            self.junk_syntax,
        ]

    def __iter__(self) -> Iterator[tuple[bytes, str | None]]:
        while True:
            body = self.rng.choice(self.kinds)()
            if not self.keep(body):
                continue
            roll = self.rng.random()
            content_type = JSON if roll < 0.9 else self.rng.choice(
                [None, "text/plain", "application/json; charset=latin-1",
                 "application/x-www-form-urlencoded", "application/problem+json"])
            yield body, content_type

    # --- kinds --------------------------------------------------------------------------

    def value(self) -> Any:
        roll = self.rng.random()
        if roll < 0.1:
            return json.loads("[" * 30 + "]" * 30)  # deep, but under the limit
        if roll < 0.2:
            return {"k" + str(i): i for i in range(self.rng.choice([1, 50, 2000]))}
        value = self.rng.choice(JUNK)
        # a fresh copy: a later mutation may change what was put in
        return copy.deepcopy(value) if isinstance(value, (list, dict)) else value

    def mutated(self) -> bytes:
        doc = json.loads(self.valid)  # a copy to change, nested parts included
        for _ in range(self.rng.randint(1, 3)):
            slots = list(_slots(doc))
            if not slots:
                doc["extra"] = self.value()
                continue
            container, key = self.rng.choice(slots)
            op = self.rng.random()
            if op < 0.6:
                container[key] = self.value()
            elif op < 0.8:
                del container[key]
            elif isinstance(container, dict):
                container[self.rng.choice(["extra", "__proto__", "", "id", "role"])] = \
                    self.value()
            else:
                container.append(self.value())
        return json.dumps(doc).encode()

    def deep_inside(self) -> bytes:
        keys = list(self.seed) or ["a"]
        key = json.dumps(self.rng.choice(keys)).encode()
        return b'{' + key + b": " + deep(self.rng) + b"}"

    def truncated(self) -> bytes:
        return self.valid[:self.rng.randrange(len(self.valid))]

    def wrong_top(self) -> bytes:
        return json.dumps(self.rng.choice([[self.seed], None, 1, "x", True, 1.5, [], [[]]])
                          ).encode()

    def random_bytes(self) -> bytes:
        return self.rng.randbytes(self.rng.choice([1, 2, 8, 64, 256]))

    def textual(self) -> bytes:
        token = self.rng.choice(TEXTUAL)
        keys = list(self.seed)
        if keys and self.rng.random() < 0.7:
            return b'{"' + self.rng.choice(keys).encode() + b'": ' + token + b"}"
        return token

    def duplicate_key(self) -> bytes:
        keys = list(self.seed) or ["a"]
        key = json.dumps(self.rng.choice(keys))
        return (self.valid[:-1] + f', {key}: {json.dumps(self.value())}}}'.encode()
                if self.seed else f'{{{key}: 1, {key}: 2}}'.encode())

    def bad_utf8(self) -> bytes:
        junk = self.rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x80\x80",
                                b"\xf4\x90\x80\x80"])
        where = self.rng.randrange(len(self.valid) + 1)
        return self.valid[:where] + junk + self.valid[where:]

    def flipped(self) -> bytes:
        body = bytearray(self.valid)
        for _ in range(self.rng.randint(1, 4)):
            body[self.rng.randrange(len(body))] = self.rng.randrange(256)
        return bytes(body)

    def oversized(self) -> bytes:
        size = self.rng.choice([10_000, 60_000, 70_000, 200_000])
        key = self.rng.choice(list(self.seed) or ["a"])
        return json.dumps({**self.seed, key: "x" * size}).encode()

    def junk_syntax(self) -> bytes:
        return self.rng.choice([
            b"", b" ", b"{", b"}", b"{,}", b'{"a":1,}', b"{'a': 1}", b'{"a" 1}', b"[1,,2]",
            b"{/* c */}", b'{"a":1}{"b":2}', b'{"a":1} x', b"\x00", b'{"\\u0000": 1}',
            b'{"a": "\\x41"}', b'{"a": "\\u12"}', b'{"a": "' + b"\\" * 999 + b'"}',
            b'"' * 5000, b'{"a":"\n"}', b"\xef\xbb\xbf" + self.valid,
        ])


class WsgiCaller:
    """One request's worth of the WSGI protocol, built once and reused: the test client's
    EnvironBuilder per request would cost more than the app itself. Records every log record
    at ERROR or above (an unexpected exception is logged so)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent = 0
        self.errors: list[logging.LogRecord] = []
        handler = logging.Handler(logging.ERROR)
        handler.emit = self.errors.append  # type: ignore[method-assign]
        root = logging.getLogger()
        # the refusals are one WARNING line each, by design: counted, not kept
        root.handlers, root.level = [handler], logging.WARNING

    def environ(self, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
        return EnvironBuilder(path=path, method=method, headers=headers).get_environ()

    def __call__(self, base: dict[str, Any], body: bytes, content_type: str | None
                 ) -> tuple[int, bytes]:
        env = dict(base)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        # each from its own address, so that throttles per address let the body be read
        self.sent += 1
        env["REMOTE_ADDR"] = f"10.{self.sent >> 16 & 255}.{self.sent >> 8 & 255}.{self.sent & 255}"
        if content_type is None:
            env.pop("CONTENT_TYPE", None)
        else:
            env["CONTENT_TYPE"] = content_type
        status: list[str] = []

        def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
            status.append(line)

        answer = b"".join(self.app(env, start_response))
        return int(status[0][:3]), answer
