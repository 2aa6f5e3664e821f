"""Scanner driver for keyboard-wedge (HID) scanners via evdev, with its key map (hardware layer).

The scanner "types" each code and presses Enter. We GRAB the input device so
those keystrokes reach only us, not whatever window has the focus. Key codes
are the Linux input ABI (linux/input-event-codes.h) and the layout is US,
which is what scanners emit unless reprogrammed.
"""

from __future__ import annotations

import errno
import select
from typing import Any

from hardware.scanner.base import Report
from hardware.scanner.errors import ScannerUnavailable

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
KEY_BACKSPACE, KEY_ENTER, KEY_KPENTER = 14, 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58

# code: (plain, shifted)
_ROWS: dict[int, tuple[str, str]] = {
    2: ("1", "!"),
    3: ("2", "@"),
    4: ("3", "#"),
    5: ("4", "$"),
    6: ("5", "%"),
    7: ("6", "^"),
    8: ("7", "&"),
    9: ("8", "*"),
    10: ("9", "("),
    11: ("0", ")"),
    12: ("-", "_"),
    13: ("=", "+"),
    15: ("\t", "\t"),
    26: ("[", "{"),
    27: ("]", "}"),
    39: (";", ":"),
    40: ("'", '"'),
    41: ("`", "~"),
    43: ("\\", "|"),
    51: (",", "<"),
    52: (".", ">"),
    53: ("/", "?"),
    57: (" ", " "),
    # keypad: some scanners send digits there; NumLock is assumed on
    55: ("*", "*"),
    71: ("7", "7"),
    72: ("8", "8"),
    73: ("9", "9"),
    74: ("-", "-"),
    75: ("4", "4"),
    76: ("5", "5"),
    77: ("6", "6"),
    78: ("+", "+"),
    79: ("1", "1"),
    80: ("2", "2"),
    81: ("3", "3"),
    82: ("0", "0"),
    83: (".", "."),
    98: ("/", "/"),
}
_LETTERS = {
    **{16 + i: c for i, c in enumerate("qwertyuiop")},
    **{30 + i: c for i, c in enumerate("asdfghjkl")},
    **{44 + i: c for i, c in enumerate("zxcvbnm")},
}
_MAX_LINE = 4096


class KeyAssembler:
    """Turns key events into finished codes: `feed(code, value)` returns a code on Enter."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self._shift: set[int] = set()
        self._caps = False
        self.unknown_keys = 0

    def feed(self, code: int, value: int) -> str | None:
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            if value == KEY_UP:
                self._shift.discard(code)
            else:
                self._shift.add(code)
            return None
        if value != KEY_DOWN:  # scanners do not auto-repeat; a repeat is a stuck key
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            text, self._chars = "".join(self._chars), []
            return text or None
        if code == KEY_BACKSPACE:
            if self._chars:
                self._chars.pop()
        elif code == KEY_CAPSLOCK:
            self._caps = not self._caps
        elif code in _LETTERS:
            upper = bool(self._shift) != self._caps
            self._chars.append(_LETTERS[code].upper() if upper else _LETTERS[code])
        elif code in _ROWS:
            self._chars.append(_ROWS[code][1 if self._shift else 0])
        else:
            self.unknown_keys += 1  # Ctrl, Alt, F-keys: part of no code we accept
        if len(self._chars) > _MAX_LINE:
            self._chars.clear()
        return None


class HidSource:
    """An evdev input device, grabbed for exclusive use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"hid:{path}"
        self._dev: Any = None
        self._keys = KeyAssembler()

    def open(self) -> None:
        try:
            import evdev
        except ImportError as err:
            raise ScannerUnavailable(f"{self.name}: python-evdev is not installed") from err
        try:
            dev = evdev.InputDevice(self.path)
        except OSError as err:
            hint = ""
            if err.errno == errno.EACCES:
                hint = " (add the service user to the 'input' group or install a udev rule)"
            raise ScannerUnavailable(f"{self.name}: cannot open: {err}{hint}") from err
        try:
            dev.grab()
        except OSError as err:
            dev.close()
            raise ScannerUnavailable(f"{self.name}: cannot grab (in use?): {err}") from err
        self._dev = dev
        self._keys = KeyAssembler()

    def poll(self, timeout: float, report: Report) -> list[str] | None:
        try:
            ready, _, _ = select.select([self._dev.fd], [], [], timeout)
            if not ready:
                return []
            events = list(self._dev.read())
        except BlockingIOError:
            return []
        except OSError as err:  # ENODEV when the scanner is unplugged
            raise ScannerUnavailable(f"{self.name}: lost: {err}") from err
        return feed_events(self._keys, ((e.type, e.code, e.value) for e in events))

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is None:
            return
        try:
            dev.ungrab()
        except OSError:
            pass  # an unplugged device cannot be ungrabbed and needs no ungrabbing
        dev.close()


def feed_events(keys: KeyAssembler, events: Any) -> list[str]:
    """Feed (type, code, value) triples; return the codes finished by Enter."""
    codes = []
    for etype, code, value in events:
        if etype == EV_KEY:
            text = keys.feed(code, value)
            if text:
                codes.append(text)
    return codes
