"""Mandarin as tone-numbered pinyin (display, pure): what espeak-ng's pinyin voice reads.

espeak-ng's own Mandarin reads characters from a small dictionary and gets many of them
wrong; fed tone-numbered pinyin (`qing3 wei1 ling2 yi1 er4 hao4`) it says each syllable as
written. pypinyin turns characters into pinyin; `READINGS` corrects the words whose
characters it reads wrongly in context (a polyphonic character: 种 is zhòng in 接种, the
word every vaccination call says, where pypinyin says zhǒng). Latin letters are said the way
Chinese speakers name them (V wei1), digits as Chinese digits, punctuation as a pause.

pypinyin's dictionaries take about 55 MB once loaded, and the process that synthesises lives as
long as the server; the words a waiting room hears are few (the calls' few words, the desks'
names, digits). So pypinyin runs in a short-lived child (`python -m display.pinyin`, about a
fifth of a second) for the runs of characters not read before, which are then kept here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

from . import child_env
from .announce import ZH_DIGITS

# word -> its syllables, for words pypinyin reads wrongly where the waiting room hears them
READINGS: dict[str, tuple[str, ...]] = {
    "接种": ("jie1", "zhong4"),
    "种疫苗": ("zhong4", "yi4", "miao2"),
    "补种": ("bu3", "zhong4"),
    "重新": ("chong2", "xin1"),
    "重复": ("chong2", "fu4"),
    "重叫": ("chong2", "jiao4"),
    "还没": ("hai2", "mei2"),
    "留观": ("liu2", "guan1"),
    "某": ("mou3",),
}
_LONGEST = max(len(w) for w in READINGS)

# how Chinese speakers name the Latin letters on a ticket or a door
LETTERS: dict[str, str] = {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai2 fu5", "G": "ji4",
    "H": "ai1 qi1", "I": "ai4", "J": "jie1", "K": "kai1", "L": "ai2 le5", "M": "ai2 mu5",
    "N": "en1", "O": "ou1", "P": "pi4", "Q": "kiu1", "R": "a4", "S": "ai2 si5", "T": "ti4",
    "U": "you1", "V": "wei1", "W": "da2 bu5 liu5", "X": "ai2 ke4 si5", "Y": "wai1",
    "Z": "zei4",
}
_DIGITS = {str(i): d for i, d in enumerate(ZH_DIGITS)}
PAUSE = ","


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f"


def _other(run: str, missing: list[str]) -> list[str]:
    """Syllables for what is not a Chinese character: letters, digits, pauses."""
    out: list[str] = []
    for ch in run:
        upper = ch.upper()
        if upper in LETTERS:
            out += LETTERS[upper].split()
        elif ch in _DIGITS:
            out += _han(_DIGITS[ch], missing)
        elif ch.isspace():
            continue
        elif not ch.isalnum() and out[-1:] != [PAUSE]:
            out.append(PAUSE)  # ，。、 - : and the like
    return out


KEPT_AT_MOST = 4096  # runs of characters kept with their syllables (then all read again)
_known: dict[str, list[str]] = {}


def _han(run: str, missing: list[str]) -> list[str]:
    """A run of characters' syllables, if read before; else noted in `missing`."""
    found = _known.get(run)
    if found is None:
        missing.append(run)
        return []
    return found


Reader = Callable[[list[str]], list[list[str]]]


def to_pinyin(text: str, read: Reader | None = None) -> str:
    """Chinese text as tone-numbered pinyin syllables separated by spaces (`,` for a pause);
    the runs of characters not read before are read by `read` (a child process: read_apart)."""
    missing: list[str] = []
    out = _syllables(text, missing)
    if missing:
        if len(_known) + len(missing) > KEPT_AT_MOST:
            _known.clear()
        runs = list(dict.fromkeys(missing))
        _known.update(zip(runs, (read or read_apart)(runs), strict=True))
        out = _syllables(text, [])
    while out and out[0] == PAUSE:
        out.pop(0)
    return " ".join(out).replace(" ,", ",")


def _syllables(text: str, missing: list[str]) -> list[str]:
    out: list[str] = []
    i, pending = 0, ""
    while i < len(text):
        for size in range(min(_LONGEST, len(text) - i), 0, -1):
            word = text[i:i + size]
            if word in READINGS:
                out += _convert(pending, missing)
                pending = ""
                out += READINGS[word]
                i += size
                break
        else:
            pending += text[i]
            i += 1
    out += _convert(pending, missing)
    return out


def _convert(text: str, missing: list[str]) -> list[str]:
    out: list[str] = []
    run, han = "", None
    for ch in text:
        if han is not None and _is_han(ch) != han:
            out += _han(run, missing) if han else _other(run, missing)
            run = ""
        han = _is_han(ch)
        run += ch
    if run:
        out += _han(run, missing) if han else _other(run, missing)
    return out


class PinyinError(RuntimeError):
    """The child that reads characters failed."""


def read_apart(runs: list[str], timeout: float = 30.0) -> list[list[str]]:
    """Each run of characters' syllables, read by pypinyin in a child process."""
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(runs),
                              capture_output=True, text=True, timeout=timeout,
                              env=child_env())
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PinyinError(f"could not read the characters: {err}") from err
    if done.returncode != 0:
        raise PinyinError(f"could not read the characters: {done.stderr.strip()[-300:]}")
    read = json.loads(done.stdout)
    if not (isinstance(read, list) and len(read) == len(runs)):
        raise PinyinError("the characters were read wrongly")
    return [list(r) for r in read]


def read_here(runs: list[str]) -> list[list[str]]:
    """What the child does: pypinyin, each run in context."""
    from pypinyin import Style, lazy_pinyin

    return [[s for s in lazy_pinyin(run, style=Style.TONE3, neutral_tone_with_five=True,
                                    errors=lambda chars: [PAUSE])  # one it cannot read
             if s] for run in runs]


if __name__ == "__main__":  # the child: runs of characters in (JSON), their syllables out
    json.dump(read_here(json.load(sys.stdin)), sys.stdout)
