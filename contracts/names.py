"""Contracts (shared): a resident's name as it enters and as it is shown — one cleaning, one mask.

    clean_name(text)    where a name enters (the platform's booking, the station's feed, QR
                        codes, the demo): NFC, invisible characters removed, spaces collapsed
    mask_name(name)     the platform's mask of a full name: `Anna Li` → `A*i`
    shown_mask(text)    a masked name as every screen and the printed ticket show it

Invisible means: control, format, private-use and surrogate characters (Unicode categories
Cc, Cf, Co, Cs), unassigned ones (Cn), and the ones that draw nothing although their category
says otherwise — variation selectors, the Hangul fillers, the Mongolian vowel separator. A
right-to-left override (U+202E) could turn a masked name around on a screen and a zero-width
space (U+200B) could make a blank name look like one; both are gone before anyone sees them.
"""

from __future__ import annotations

import unicodedata

_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})
_COMBINING = frozenset({"Mn", "Mc", "Me"})
# Drawn as nothing but not of a dropped category (most other invisible ones — U+200B..U+200F,
# U+2028/2029 (Zl/Zp, as a space), U+202A..U+202E, U+2060..U+2064, U+2066..U+2069, U+FEFF —
# are Cf and go with their category).
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180E, 0x180F, 0x3164,
     0xFFA0]
    + list(range(0xFE00, 0xFE10))  # variation selectors 1-16
    + list(range(0xE0100, 0xE01F0))  # variation selectors 17-256
)


def _kept(ch: str) -> str:
    """`ch` as the cleaned name holds it: itself, a space, or nothing."""
    if ch in "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85":
        return " "
    kind = unicodedata.category(ch)
    if kind in _DROPPED_CATEGORIES or ord(ch) in _INVISIBLE:
        return ""
    if kind in _SPACE_CATEGORIES:
        return " "
    return ch


def clean_name(text: str | None) -> str:
    """`text` as a name is kept: NFC, invisible characters dropped, any run of spaces (of any
    kind, line breaks too) one ASCII space, none at either end. "" when nothing visible is
    left (a name of zero-width spaces): the caller refuses it or treats it as no name."""
    if not text:
        return ""
    kept = " ".join("".join(_kept(ch) for ch in unicodedata.normalize("NFC", str(text)))
                    .split())
    # a combining mark left at the start (its letter was invisible) has nothing to sit on
    start = 0
    while start < len(kept) and unicodedata.category(kept[start]) in _COMBINING:
        start += 1
    return kept[start:].strip()


def name_clusters(name: str | None) -> list[str]:
    """A name as the characters a reader sees, spaces left out: the cleaned name's letters,
    each combining mark kept with the letter it belongs to. Characters outside the Basic
    Multilingual Plane (rare CJK in Extension B and beyond) count as one, like any other."""
    clusters: list[str] = []
    for ch in clean_name(name):
        if ch == " ":
            continue
        if unicodedata.category(ch) in _COMBINING and clusters:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def mask_name(name: str | None) -> str:
    """`张三丰` → `张*丰`, `张三` → `张*`, `李` → `李*`, `Anna Li` → `A*i`; at most 3 characters.

    The name is cleaned first, so a right-to-left override cannot turn the masked name around
    and a zero-width space cannot stand in for the first or last character. A compound surname
    is not kept whole: `欧阳娜娜` → `欧*娜`, like any other name, so the mask never tells more
    of it."""
    chars = name_clusters(name)
    if not chars:
        return ""
    if len(chars) <= 2:
        return chars[0] + "*"
    return chars[0] + "*" + chars[-1]


def shown_mask(text: str | None) -> str | None:
    """A masked name as every screen and the printed ticket show it: cleaned, without spaces;
    None when there is none or nothing visible is left (the screens then show no name). The
    station applies it to what the platform sent even though the platform masked it already:
    an older platform, a hand-made feed or a code signed elsewhere may not have."""
    shown = "".join(name_clusters(text))
    return shown or None
