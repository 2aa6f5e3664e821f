"""Tests of the keyboard-wedge (HID) key map and line assembly with synthetic evdev events."""

from __future__ import annotations

import glob
import os

import pytest

from hardware.scanner import hid, open_scanner
from hardware.scanner.hid import EV_KEY, KeyAssembler, feed_events

SHIFT = hid.KEY_LEFTSHIFT
US_KEYS = {
    **{c: 2 + i for i, c in enumerate("1234567890")},
    **{c: 16 + i for i, c in enumerate("qwertyuiop")},
    **{c: 30 + i for i, c in enumerate("asdfghjkl")},
    **{c: 44 + i for i, c in enumerate("zxcvbnm")},
    " ": 57,
    "-": 12,
    ".": 52,
    "/": 53,
    "=": 13,
}
SHIFTED = {"$": 5, "%": 6, "*": 9, "+": 13, ":": 39, "_": 12, "?": 53}


def type_text(text: str, enter: int = hid.KEY_ENTER) -> list[tuple[int, int, int]]:
    """The (type, code, value) events a US-layout scanner sends for `text` plus Enter."""
    events: list[tuple[int, int, int]] = []
    for ch in text:
        if ch.isupper() or ch in SHIFTED:
            code = SHIFTED.get(ch) or US_KEYS[ch.lower()]
            events += [(EV_KEY, SHIFT, 1), (EV_KEY, code, 1), (EV_KEY, code, 0), (EV_KEY, SHIFT, 0)]
        else:
            code = US_KEYS[ch]
            events += [(EV_KEY, code, 1), (4, 4, 458756), (EV_KEY, code, 0), (0, 0, 0)]  # MSC/SYN
    return events + [(EV_KEY, enter, 1), (EV_KEY, enter, 0)]


def test_booking_token_with_base45_alphabet_round_trips() -> None:
    token = "BK1:0AZ $%*+-./:9Q"
    assert feed_events(KeyAssembler(), type_text(token)) == [token]


def test_two_codes_in_one_burst_and_keypad_enter() -> None:
    events = type_text("VAC-123") + type_text("bk1:x", enter=hid.KEY_KPENTER)
    assert feed_events(KeyAssembler(), events) == ["VAC-123", "bk1:x"]


def test_caps_lock_backspace_repeat_and_unknown_keys() -> None:
    keys = KeyAssembler()
    events = [
        (EV_KEY, hid.KEY_CAPSLOCK, 1),
        (EV_KEY, hid.KEY_CAPSLOCK, 0),
        (EV_KEY, US_KEYS["a"], 1),
        (EV_KEY, US_KEYS["a"], 2),  # auto-repeat is ignored
        (EV_KEY, SHIFT, 1),
        (EV_KEY, US_KEYS["b"], 1),
        (EV_KEY, SHIFT, 0),  # shift undoes caps
        (EV_KEY, US_KEYS["c"], 1),
        (EV_KEY, hid.KEY_BACKSPACE, 1),
        (EV_KEY, 29, 1),  # left ctrl: not part of a code
        (EV_KEY, US_KEYS["1"], 1),
        (EV_KEY, hid.KEY_ENTER, 1),
    ]
    assert feed_events(keys, events) == ["Ab1"]
    assert keys.unknown_keys == 1


def test_empty_enter_gives_nothing() -> None:
    assert feed_events(KeyAssembler(), [(EV_KEY, hid.KEY_ENTER, 1)] * 3) == []


def test_key_numbers_match_evdev() -> None:
    ecodes = pytest.importorskip("evdev").ecodes
    assert (ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_LEFTSHIFT) == (28, 96, 42)
    assert (ecodes.KEY_RIGHTSHIFT, ecodes.KEY_CAPSLOCK, ecodes.KEY_BACKSPACE) == (54, 58, 14)
    for ch, code in {**US_KEYS, **SHIFTED}.items():
        name = {
            " ": "SPACE",
            "-": "MINUS",
            ".": "DOT",
            "/": "SLASH",
            "=": "EQUAL",
            "$": "4",
            "%": "5",
            "*": "8",
            "+": "EQUAL",
            ":": "SEMICOLON",
            "_": "MINUS",
            "?": "SLASH",
        }.get(ch, ch.upper())
        assert getattr(ecodes, f"KEY_{name}") == code, ch
    assert ecodes.EV_KEY == EV_KEY


def test_missing_device_is_reported(tmp_path: os.PathLike[str]) -> None:
    scanner = open_scanner(f"hid:{tmp_path}/event99")
    assert scanner.read(0.05) is None
    health = scanner.health()
    assert health["state"] == "lost" and "cannot open" in health["last_error"]


@pytest.mark.skipif(
    not any(os.access(p, os.R_OK) for p in glob.glob("/dev/input/event*")),
    reason="no readable /dev/input/event* device here (container or no 'input' group)",
)
def test_a_real_input_device_can_be_grabbed_and_released() -> None:
    path = next(p for p in sorted(glob.glob("/dev/input/event*")) if os.access(p, os.R_OK))
    scanner = open_scanner(f"hid:{path}")
    scanner.read(0.05)
    assert scanner.health()["state"] in ("ok", "lost")  # lost: another process holds the grab
    scanner.close()
