"""The announcement builder: phrase tables per event and language, how numbers and counters
are read, names only when configured and then masked; and Mandarin as pinyin for espeak-ng."""

from __future__ import annotations

import sys

import pytest

from display.announce import (
    Voicing,
    announcement_for,
    phrase,
    phrases,
    read_counter,
    read_number,
    zh_number,
)
from display.pinyin import read_apart, to_pinyin


@pytest.mark.parametrize("event, lang, counter, text, speech", [
    ("ticket.called", "zh", "2号接种台", "请 V012 号 到 2号接种台",
     "请 V 零 一 二 号 到 二号接种台"),
    ("ticket.called", "en", "Vaccination desk 2", "Number V012, please go to Vaccination desk 2",
     "Number V zero one two, please go to Vaccination desk 2"),
    ("ticket.recalled", "zh", "2号接种台", "再次呼叫，请 V012 号 到 2号接种台",
     "再次呼叫，请 V 零 一 二 号 到 二号接种台"),
    ("ticket.recalled", "en", "Vaccination desk 2",
     "Calling again: number V012, please go to Vaccination desk 2",
     "Calling again: number V zero one two, please go to Vaccination desk 2"),
    ("observation.released", "zh", "", "V012 号 留观结束，可以离开",
     "V 零 一 二 号 留观结束，可以离开"),
    ("observation.released", "en", "", "Number V012, your observation is over; you may leave",
     "Number V zero one two, your observation is over; you may leave"),
])
def test_phrase_table(event: str, lang: str, counter: str, text: str, speech: str) -> None:
    p = phrase(event, "V012", counter, lang)
    assert p is not None
    assert (p.text, p.speech, p.lang) == (text, speech, lang)


@pytest.mark.parametrize("event", ["ticket.issued", "ticket.completed", "ticket.no_show"])
def test_events_that_are_not_spoken(event: str) -> None:
    assert phrase(event, "V012", "2号接种台", "zh") is None
    assert announcement_for(event, "V012", "2号接种台") is None


@pytest.mark.parametrize("number, lang, mode, spoken", [
    ("V012", "zh", "digits", "V 零 一 二"),
    ("V012", "zh", "number", "V 十二"),
    ("A100", "zh", "number", "A 一百"),
    ("A105", "zh", "number", "A 一百零五"),
    ("B010", "zh", "number", "B 十"),
    ("V012", "en", "digits", "V zero one two"),
    ("V012", "en", "number", "V 12"),
    ("VA7", "zh", "digits", "V A 七"),
    ("012", "zh", "digits", "零 一 二"),
])
def test_number_reading(number: str, lang: str, mode: str, spoken: str) -> None:
    assert read_number(number, lang, mode) == spoken  # type: ignore[arg-type]


@pytest.mark.parametrize("n, words", [(0, "零"), (7, "七"), (10, "十"), (12, "十二"),
                                      (20, "二十"), (101, "一百零一"), (110, "一百一十"),
                                      (999, "九百九十九"), (2010, "两千零一十")])
def test_chinese_numerals(n: int, words: str) -> None:
    assert zh_number(n) == words


@pytest.mark.parametrize("name, lang, spoken", [
    ("2号接种台", "zh", "二号接种台"),
    ("12号诊室", "zh", "十二号诊室"),
    ("3B诊室", "zh", "三 B 诊室"),
    ("101室", "zh", "一 零 一室"),
    ("体检室", "zh", "体检室"),
    ("Room 3B", "en", "Room 3 B"),
    ("Desk A2", "en", "Desk A 2"),
])
def test_counter_names_with_digits_and_letters(name: str, lang: str, spoken: str) -> None:
    assert read_counter(name, lang) == spoken


def test_a_counter_spoken_as_configured() -> None:
    p = phrase("ticket.called", "A001", "B1室", "zh", counter_spoken="乙一室")
    assert p is not None and p.text == "请 A001 号 到 B1室" and p.speech.endswith("到 乙一室")


def test_names_are_never_spoken_unless_configured() -> None:
    plain = phrase("ticket.called", "V012", "2号接种台", "zh", name_masked="张*丰")
    assert plain is not None and "张" not in plain.text + plain.speech
    named = phrase("ticket.called", "V012", "2号接种台", "zh",
                   voicing=Voicing(speak_names=True), name_masked="张*丰")
    assert named is not None
    assert named.text == "张*丰，请 V012 号 到 2号接种台"
    assert named.speech.startswith("张某丰，")
    # an unmasked name is never said, even when names are spoken
    leaked = phrase("ticket.called", "V012", "2号接种台", "zh",
                    voicing=Voicing(speak_names=True), name_masked="张三丰")
    assert leaked is not None and "张" not in leaked.text + leaked.speech


def test_languages_one_after_the_other() -> None:
    both = phrases("ticket.called", "V012", {"zh": "2号接种台", "en": "Vaccination desk 2"},
                   Voicing(languages=("zh", "en")))
    assert [p.lang for p in both] == ["zh", "en"]
    assert both[1].text.endswith("Vaccination desk 2")


@pytest.mark.parametrize("text, pinyin", [
    ("接种", "jie1 zhong4"),  # pypinyin alone says zhong3
    ("重新", "chong2 xin1"),  # and zhong4 here
    ("请 V 零 一 二 号 到 二号接种台",
     "qing3 wei1 ling2 yi1 er4 hao4 dao4 er4 hao4 jie1 zhong4 tai2"),
    ("再次呼叫，请", "zai4 ci4 hu1 jiao4, qing3"),
    ("三 B 诊室", "san1 bi4 zhen3 shi4"),
    ("张某丰", "zhang1 mou3 feng1"),
])
def test_pinyin_with_the_readings_table(text: str, pinyin: str) -> None:
    assert to_pinyin(text) == pinyin


def test_pinyin_of_rare_characters_and_stray_symbols_never_fails() -> None:
    out = to_pinyin("𠀀<b>号\u202e")
    assert "hao4" in out and "<" not in out


def test_characters_are_read_once_by_a_child_that_ends() -> None:
    """pypinyin's dictionaries stay out of this process: a run of characters not read before
    goes to a child process once, then comes from memory."""
    asked: list[list[str]] = []

    def reader(runs: list[str]) -> list[list[str]]:
        asked.append(runs)
        return read_apart(runs)

    text = "请到三楼留观室休息"  # words no other test reads
    first = to_pinyin(text, reader)
    assert asked == [["请到三楼", "室休息"]]  # 留观 is in the readings table
    assert first == "qing3 dao4 san1 lou2 liu2 guan1 shi4 xiu1 xi1"
    assert "pypinyin" not in sys.modules
    assert to_pinyin(text, reader) == first
    assert len(asked) == 1
