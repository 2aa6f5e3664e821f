"""Mandarin as tone-numbered pinyin (display, pure): what espeak-ng's pinyin voice reads.

espeak-ng's own Mandarin reads characters from a small dictionary and gets many of them
wrong; fed tone-numbered pinyin (`qing3 wei1 ling2 yi1 er4 hao4`) it says each syllable as
written. pypinyin turns characters into pinyin; `READINGS` corrects the words whose
characters it reads wrongly in context (a polyphonic character: 种 is zhòng in 接种, the
word every vaccination call says, where pypinyin says zhǒng). Latin letters are said the way
Chinese speakers name them (V wei1), digits as Chinese digits, punctuation as a pause.
"""

from __future__ import annotations

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


def _other(run: str) -> list[str]:
    """Syllables for what is not a Chinese character: letters, digits, pauses."""
    out: list[str] = []
    for ch in run:
        upper = ch.upper()
        if upper in LETTERS:
            out += LETTERS[upper].split()
        elif ch in _DIGITS:
            out += _han(_DIGITS[ch])
        elif ch.isspace():
            continue
        elif not ch.isalnum() and out[-1:] != [PAUSE]:
            out.append(PAUSE)  # ，。、 - : and the like
    return out


def _han(run: str) -> list[str]:
    # imported at first use: its dictionaries take about 55 MB, which only the process that
    # synthesises speech needs (display/voice.py), not the station server
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(run, style=Style.TONE3, neutral_tone_with_five=True,
                            errors=lambda chars: [PAUSE])  # a character it cannot read
    return [s for s in syllables if s]


def to_pinyin(text: str) -> str:
    """Chinese text as tone-numbered pinyin syllables separated by spaces (`,` for a pause)."""
    out: list[str] = []
    i, pending = 0, ""
    while i < len(text):
        for size in range(min(_LONGEST, len(text) - i), 0, -1):
            word = text[i:i + size]
            if word in READINGS:
                out += _convert(pending)
                pending = ""
                out += READINGS[word]
                i += size
                break
        else:
            pending += text[i]
            i += 1
    out += _convert(pending)
    while out and out[0] == PAUSE:
        out.pop(0)
    return " ".join(out).replace(" ,", ",")


def _convert(text: str) -> list[str]:
    out: list[str] = []
    run, han = "", None
    for ch in text:
        if han is not None and _is_han(ch) != han:
            out += _han(run) if han else _other(run)
            run = ""
        han = _is_han(ch)
        run += ch
    if run:
        out += _han(run) if han else _other(run)
    return out
