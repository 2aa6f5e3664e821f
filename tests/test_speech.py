"""Audio made on the station: espeak-ng and a local command produce WAVs of plausible length
and rate, with the chime first; the voice caches by phrase and engine, works in the
background, and a call never waits for it."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest

from display.announce import Phrase, phrase
from display.speech import CommandEngine, EspeakEngine, SynthesisError, read_wav
from display.voice import Voice

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")
CALL = phrase("ticket.called", "V012", "2号接种台", "zh")
CALL_EN = phrase("ticket.called", "V012", "Vaccination desk 2", "en")
assert CALL is not None and CALL_EN is not None
# a program that writes a one-second 16 kHz tone as WAV to the path it is given
TONE_PROGRAM = (
    "import sys, wave, math, struct; text = sys.stdin.read(); "
    "w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); "
    "w.setframerate(16000); "
    "w.writeframes(b''.join(struct.pack('<h', int(8000 * math.sin(i / 8))) "
    "for i in range(16000))); w.close(); open(sys.argv[2], 'w').write(text)")


class SlowEngine:
    """A synthesiser that waits until the test lets it go, and records what it was given."""

    id = "slow"

    def __init__(self) -> None:
        self.go = threading.Event()
        self.said: list[str] = []

    def synthesize(self, p: Phrase) -> bytes:
        self.go.wait(10)
        self.said.append(p.speech)
        return _tone()


def _tone() -> bytes:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000)
    return buf.getvalue()


@needs_espeak
@pytest.mark.parametrize("p", [CALL, CALL_EN], ids=["zh", "en"])
def test_espeak_makes_a_plausible_wav(p: Phrase) -> None:
    pcm = read_wav(EspeakEngine().synthesize(p))
    assert pcm.rate == 22050 and pcm.channels == 1 and pcm.width == 2
    assert 1.5 < pcm.seconds < 12
    assert max(pcm.frames[1::2]) > 0  # not silence


@needs_espeak
def test_mandarin_goes_to_espeak_as_pinyin() -> None:
    assert EspeakEngine().words(CALL) == (
        "qing3 wei1 ling2 yi1 er4 hao4 dao4 er4 hao4 jie1 zhong4 tai2")


def test_a_command_engine_runs_a_local_program(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"
    engine = CommandEngine([sys.executable, "-c", TONE_PROGRAM, "{out}", str(said)])
    pcm = read_wav(engine.synthesize(CALL))
    assert (pcm.rate, pcm.seconds) == (16000, 1.0)
    assert said.read_text(encoding="utf-8") == CALL.speech


def test_a_failing_program_is_a_synthesis_error(tmp_path: Path) -> None:
    with pytest.raises(SynthesisError):
        CommandEngine([sys.executable, "-c", "import sys; sys.exit(3)"]).synthesize(CALL)
    with pytest.raises(SynthesisError):
        CommandEngine(["/nonexistent/tts"]).synthesize(CALL)
    with pytest.raises(SynthesisError):  # says it worked, wrote no WAV
        CommandEngine([sys.executable, "-c", "print('hello')"]).synthesize(CALL)


@needs_espeak
def test_the_voice_adds_a_chime_and_caches_by_phrase_and_engine(tmp_path: Path) -> None:
    engine = EspeakEngine()
    voice = Voice(engine, folder=tmp_path)
    try:
        key = voice.request([CALL])
        assert key == voice.key([CALL]) and len(key) == 32
        data = voice.audio(key, wait=10)
        assert data is not None
        spoken = read_wav(engine.synthesize(CALL))
        assert read_wav(data).seconds > spoken.seconds + 0.9  # the chime and a pause first
        assert (tmp_path / f"{key}.wav").exists()
        assert voice.request([CALL]) == key and voice.stats.made == 1  # cached
        assert voice.key([CALL_EN]) != key
        assert Voice(EspeakEngine(speed=120)).key([CALL]) != key  # another engine setting
        # a new voice on the same folder finds it made
        again = Voice(engine, folder=tmp_path)
        assert again.ready(key) and again.audio(key) == data
    finally:
        voice.stop()



def test_audio_removed_from_the_folder_is_made_again(tmp_path: Path) -> None:
    """The voice knows its folder's keys from one listing; a file deleted behind its back
    (an administrator clearing space) is made again at the next ask, not lost for good."""
    engine = SlowEngine()
    engine.go.set()
    voice = Voice(engine, folder=tmp_path)  # type: ignore[arg-type]
    try:
        key = voice.request([CALL])
        assert voice.audio(key, wait=10) is not None
        for _ in range(voice.memory_items):  # out of the memory cache, on disk only
            voice.make_now([Phrase("X", f"other {_}", "zh")])
        (tmp_path / f"{key}.wav").unlink()
        assert voice.audio(key) is None  # gone: asked for again, in the background
        assert voice.audio(key, wait=10) is not None
        assert (tmp_path / f"{key}.wav").exists() and engine.said.count(CALL.speech) == 2
    finally:
        voice.stop()

def test_requests_never_wait_and_urgent_ones_go_first() -> None:
    engine = SlowEngine()
    voice = Voice(engine)  # type: ignore[arg-type]
    try:
        ahead = [Phrase(f"A00{i}", f"ahead {i}", "zh") for i in range(3)]
        for p in ahead:
            voice.ahead([p])  # returns at once although the engine is stuck
        urgent = voice.request([Phrase("V001", "now", "zh")])
        assert voice.audio(urgent, wait=0) is None  # not made yet, and not waited for
        engine.go.set()
        assert voice.audio(urgent, wait=10) is not None
        assert voice.audio(voice.key([ahead[2]]), wait=10) is not None
        # the first ahead phrase was being made already; the urgent one went before the rest
        assert engine.said.index("now") <= 1
    finally:
        voice.stop()
