"""Announcement builder (layer 3, adapter): the phrase the waiting room hears for an event."""

from __future__ import annotations

from contracts.protocol import Announcement

_PHRASES_ZH = {
    "ticket.called": "请 {number} 号 到 {counter}",
    "ticket.recalled": "请 {number} 号 到 {counter}",
    "observation.released": "{number} 号 留观结束，可以离开",
}


def announcement_for(event_type: str, number: str, counter_name: str) -> Announcement | None:
    phrase = _PHRASES_ZH.get(event_type)
    if phrase is None:
        return None
    return Announcement(text=phrase.format(number=number, counter=counter_name), lang="zh")
