"""Announcement builder (layer 3, adapter; pure): the phrases the waiting room hears for an event.

Each phrase has the words as written (`请 V012 号 到 2号接种台`) and the words as spoken, with
the ticket number and the counter's name read out the way people say them (`请 V 零 一 二 号，
到 二号接种台`): a synthesiser reads "V012" as "V twelve", or worse, and a counter "3B诊室" as
nothing sensible. What it says comes from the word catalog (`announce.<event type>`); how
numbers are read and whether names are spoken come from `Voicing` (config.toml [announce]).
No I/O, no clock: the same event gives the same phrases.

    phrases("ticket.called", "V012", "2号接种台", Voicing())
    -> [Phrase(text="请 V012 号 到 2号接种台", speech="请 V 零 一 二 号，到 二号接种台", lang="zh")]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from contracts import i18n
from contracts.protocol import Announcement

SPOKEN = ("ticket.called", "ticket.recalled", "observation.released")  # `announce.<type>`
LANG = "zh"  # the waiting room hears Mandarin unless configured otherwise
NumberMode = Literal["digits", "number"]

ZH_DIGITS = "零一二三四五六七八九"
EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_RUNS = re.compile(r"[0-9]+|[A-Za-z]+|[^0-9A-Za-z]+")
# what a spoken masked name says for the hidden characters: 张*丰 is "张某丰"
_HIDDEN = {"zh": "某", "en": ""}


@dataclass(frozen=True)
class Voicing:
    """How the waiting room hears a call ([announce] in config.toml)."""

    languages: tuple[str, ...] = (LANG,)  # spoken one after the other, the first is shown
    numbers: NumberMode = "digits"  # "digits": V 零 一 二; "number": V 十二
    speak_names: bool = False  # never, unless configured; then only the masked name


@dataclass(frozen=True)
class Phrase:
    text: str  # as written (shown, and the announcement's `text`)
    speech: str  # as spoken: numbers and counters read out, for a synthesiser
    lang: str


def zh_number(n: int) -> str:
    """0..9999 in Chinese numerals as said aloud: 12 十二, 105 一百零五, 2010 两千零一十."""
    if n < 10:
        return ZH_DIGITS[n]
    if n >= 10000:
        return " ".join(ZH_DIGITS[int(d)] for d in str(n))
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        word = "两" if digit == 2 and value in (1000,) else ZH_DIGITS[digit]
        if value == 10 and digit == 1 and not out:
            word = ""  # 十二, not 一十二
        out += word + unit
    return out


def read_number(number: str, lang: str, mode: NumberMode = "digits") -> str:
    """A ticket number as spoken: letters as letters, then the digits one by one
    (`V 零 一 二`, `V zero one two`) or as one number (`V 十二`, `V 12`)."""
    parts = []
    for run in _RUNS.findall(number):
        if run.isdigit():
            if mode == "number":
                parts.append(zh_number(int(run)) if lang == "zh" else str(int(run)))
            else:
                digits = ZH_DIGITS if lang == "zh" else EN_DIGITS
                parts.append(" ".join(digits[int(d)] for d in run))
        elif run.isascii() and run.isalpha():
            parts.append(" ".join(run.upper()))  # "VA" is two letters, not a word
        elif run.strip():
            parts.append(run.strip())
    return " ".join(parts)


def read_counter(name: str, lang: str) -> str:
    """A counter's name as spoken. Chinese: a number of one or two digits as a number
    (`2号接种台` 二号接种台, `12号诊室` 十二号诊室), longer ones digit by digit (`101室`
    一 零 一 室), letters one by one (`3B诊室` 三 B 诊室). English: letters and digits
    apart (`Room 3B` → `Room 3 B`), so a synthesiser does not read "3B" as one word."""
    parts = []
    for run in _RUNS.findall(name):
        if run.isdigit():
            if lang == "zh":
                parts.append(zh_number(int(run)) if len(run) <= 2 else
                             " ".join(ZH_DIGITS[int(d)] for d in run))
            else:
                parts.append(run)
        elif run.isascii() and run.isalpha() and (lang == "zh" or run.isupper()):
            parts.append(" ".join(run) if len(run) <= 3 else run)
        else:
            parts.append(run)
    spoken = ""
    for part in parts:  # join with a space only between two runs that would otherwise merge
        if spoken and not spoken[-1].isspace() and not part[:1].isspace() and \
                (part[:1].isascii() or spoken[-1].isascii()):
            spoken += " "
        spoken += part
    return " ".join(spoken.split())


def _spoken_name(masked: str, lang: str) -> str:
    return masked.replace("*", _HIDDEN.get(lang, ""))


def phrase(event_type: str, number: str, counter_name: str, lang: str, *,
           voicing: Voicing = Voicing(), counter_spoken: str | None = None,
           name_masked: str | None = None) -> Phrase | None:
    """One language's phrase for an event, or None when the event is not spoken.

    `counter_spoken` is how the counter's name is said when config.toml spells it out;
    `name_masked` is said only when `voicing.speak_names`, and only masked (`张*丰` 张某丰)."""
    if event_type not in SPOKEN:
        return None
    key = f"announce.{event_type}"
    text = i18n.text(key, lang, number=number, counter=counter_name)
    speech = i18n.text(key, lang, number=read_number(number, lang, voicing.numbers),
                       counter=counter_spoken or read_counter(counter_name, lang))
    if voicing.speak_names and name_masked and "*" in name_masked:  # never an unmasked name
        text = i18n.text("announce.with_name", lang, name=name_masked, phrase=text)
        speech = i18n.text("announce.with_name", lang,
                           name=_spoken_name(name_masked, lang), phrase=speech)
    return Phrase(text=text, speech=" ".join(speech.split()), lang=lang)


def phrases(event_type: str, number: str, counter_names: dict[str, str],
            voicing: Voicing = Voicing(), *, counter_spoken: dict[str, str] | None = None,
            name_masked: str | None = None) -> list[Phrase]:
    """The phrases of an event in each of the voicing's languages, in order; `counter_names`
    and `counter_spoken` by language."""
    out = []
    for lang in voicing.languages:
        p = phrase(event_type, number, counter_names.get(lang) or counter_names.get(LANG, ""),
                   lang, voicing=voicing, counter_spoken=(counter_spoken or {}).get(lang),
                   name_masked=name_masked)
        if p is not None:
            out.append(p)
    return out


def announcement(spoken: list[Phrase], audio_url: str | None = None) -> Announcement | None:
    """The event's `announcement`: the first language's words, every language's speech (for a
    display that speaks with its browser's voice), and where the station's audio is."""
    if not spoken:
        return None
    first = spoken[0]
    return Announcement(text=first.text, lang=first.lang, audio_url=audio_url,
                        speech=[{"text": p.speech, "lang": p.lang} for p in spoken])


def announcement_for(event_type: str, number: str, counter_name: str) -> Announcement | None:
    """The Mandarin announcement of an event with the default voicing (no audio)."""
    return announcement(phrases(event_type, number, {LANG: counter_name}))
