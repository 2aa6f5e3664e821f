"""Announcement builder (layer 3, adapter): the phrase the waiting room hears for an event."""

from __future__ import annotations

from contracts import i18n
from contracts.protocol import Announcement

SPOKEN = ("ticket.called", "ticket.recalled", "observation.released")  # `announce.<type>`
LANG = "zh"  # the waiting room hears Mandarin


def announcement_for(event_type: str, number: str, counter_name: str) -> Announcement | None:
    if event_type not in SPOKEN:
        return None
    text = i18n.text(f"announce.{event_type}", LANG, number=number, counter=counter_name)
    return Announcement(text=text, lang=LANG)
