"""Announcer (layer 3, adapter): what the waiting room hears for an event, and its audio.

The phrases come from the announcement builder (display.announce), the audio from the
station's voice (display.voice) behind the engine configured in [announce]. Naming the audio
costs a hash; making it happens in the voice's own thread, so a call never waits for it. After
each change, the calls of the next numbers of the services it touched are made in advance, at
each counter that may call them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from contracts.names import shown_mask
from contracts.protocol import QueueSummary
from display import announce
from display.speech import CommandEngine, EspeakEngine, Synthesizer
from display.voice import Voice

from .config import Settings
from .engine.events import Event
from .engine.model import State, Ticket

log = logging.getLogger(__name__)
AUDIO_PATH = "/audio/{key}.wav"


def engine_for(settings: Settings) -> Synthesizer | None:
    a = settings.announce
    if a.engine == "espeak":
        return EspeakEngine(speed=a.speed)
    if a.engine == "command":
        return CommandEngine(a.command)
    return None  # "browser": the display speaks with its own voice


def cache_folder(settings: Settings) -> Path | None:
    if settings.announce.cache_dir:
        return Path(settings.announce.cache_dir)
    if settings.database == ":memory:":
        return None
    return Path(settings.database).resolve().parent / "audio"


class Announcer:
    def __init__(self, settings: Settings, voice: Voice | None = None) -> None:
        self.settings = settings
        a = settings.announce
        self.voicing = announce.Voicing(languages=a.languages, numbers=a.numbers,
                                        speak_names=a.speak_names)
        if voice is None:
            engine = engine_for(settings)
            voice = None if engine is None else Voice(
                engine, folder=cache_folder(settings), chime=a.chime, disk_mb=a.cache_mb,
                process=True)
        self.voice = voice
        # per service, the head of the queue whose calls were last made ahead: a commit that
        # leaves it as it was (a walk-in at the back) asks for nothing again
        self._heads: dict[str, tuple[str, ...]] = {}

    def phrases(self, event_type: str, ticket: Ticket,
                counter_id: str | None) -> list[announce.Phrase]:
        counter = self.settings.counters.get(counter_id) if counter_id else None
        if counter is not None:
            names = {"zh": counter.name, "en": counter.name_en}
            spoken = {"zh": counter.spoken} if counter.spoken else None
        else:  # a release names no desk
            names, spoken = {"zh": counter_id or "", "en": counter_id or ""}, None
        return announce.phrases(event_type, ticket.number, names, self.voicing,
                                counter_spoken=spoken,
                                name_masked=shown_mask(ticket.name_masked))

    def announcement(self, event: Event) -> dict[str, Any] | None:
        """The event's `announcement` (None when it is not spoken); its audio is queued."""
        if not event.speak:
            return None
        spoken = self.phrases(event.type, event.ticket, event.counter)
        url = None
        if self.voice is not None and spoken:
            url = AUDIO_PATH.format(key=self.voice.request(spoken))
        made = announce.announcement(spoken, url)
        return asdict(made) if made else None

    def ahead(self, state: State, queues: Mapping[str, QueueSummary],
              events: Iterable[Event]) -> None:
        """Queue the audio of what may be said next: the next numbers of each touched service
        at each counter that may call them, and a recall of each ticket just called."""
        if self.voice is None:
            return
        for event in events:
            if event.type == "ticket.called":
                self.voice.ahead(self.phrases("ticket.recalled", event.ticket, event.counter))
        for service, queue in queues.items():
            head = tuple(queue.order[:self.settings.announce.ahead])
            if self._heads.get(service) == head:
                continue
            self._heads[service] = head
            for ticket_id in head:
                ticket = state.tickets.get(ticket_id)
                if ticket is None:
                    continue
                for cid, counter in self.settings.counters.items():
                    if ticket.service in counter.services and (
                            not counter.stages or ticket.stage in counter.stages):
                        self.voice.ahead(self.phrases("ticket.called", ticket, cid))

    def stop(self) -> None:
        if self.voice is not None:
            self.voice.stop()
