"""Speech synthesis (display, adapter): phrases into WAV audio, offline, behind one interface.

    Synthesizer            the interface: `id` (part of the cache key) and `synthesize(phrase)`
    ├── EspeakEngine       espeak-ng, always installed: Mandarin as tone-numbered pinyin
    │                      (display.pinyin), English as text
    └── CommandEngine      any local program that turns text into a WAV (a neural voice the
                           station has installed), run with the phrase on stdin
    `engine = "browser"`   no synthesiser: the display speaks with its browser's own voice

`make_wav` makes one announcement's WAV (each phrase, the chime first); the voice runs it in its
synthesis process (display.synthproc) or in its thread. The pinyin is made there too,
pypinyin's 55 MB of dictionaries loaded only by the short-lived child that reads characters
not read before (display.pinyin), never by the station server or the synthesis process.

Errors: a program that is missing, fails, times out or writes no WAV raises SynthesisError
(from the OSError or subprocess error), here and nowhere else.
"""

from __future__ import annotations

import functools
import math
import os
import shlex
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .announce import Phrase

TIMEOUT = 20.0  # seconds; a synthesiser that takes longer is broken, not slow


class SynthesisError(Exception):
    """The phrase could not be turned into audio."""


class Synthesizer(Protocol):
    id: str  # changes whenever the same phrase would sound different

    def synthesize(self, phrase: Phrase) -> bytes:
        """The phrase as a WAV file's bytes (PCM)."""
        ...


@dataclass(frozen=True)
class Pcm:
    """Uncompressed audio: its format and its frames."""

    rate: int
    channels: int
    width: int  # bytes per sample
    frames: bytes

    @property
    def seconds(self) -> float:
        return len(self.frames) / (self.rate * self.channels * self.width)


def read_wav(data: bytes) -> Pcm:
    """A PCM WAV file, also the kind a program streams with sizes it could not know yet
    (espeak-ng --stdout): the `data` chunk runs to the end of the file then."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SynthesisError("not a WAV file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if kind == b"fmt ":
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body:body + 16])
            if tag not in (1, 0xFFFE) or bits not in (8, 16, 24, 32):
                raise SynthesisError(f"WAV format {tag}/{bits} bits is not PCM")
            fmt = (rate, channels, bits // 8)
        elif kind == b"data":
            if fmt is None:
                raise SynthesisError("WAV data before its format")
            end = len(data) if size >= len(data) - body else body + size
            frames = data[body:end]
            step = fmt[1] * fmt[2]
            return Pcm(fmt[0], fmt[1], fmt[2], frames[:len(frames) - len(frames) % step])
        pos = body + size + (size & 1)
    raise SynthesisError("WAV without data")


def write_wav(pcm: Pcm) -> bytes:
    block = pcm.channels * pcm.width
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm.frames), b"WAVE",
                         b"fmt ", 16, 1, pcm.channels, pcm.rate, pcm.rate * block, block,
                         pcm.width * 8, b"data", len(pcm.frames))
    return header + pcm.frames


@functools.lru_cache(maxsize=8)  # the same chime before every call: made once per format
def tone(rate: int, channels: int, width: int, seconds: float, notes: tuple[float, ...],
         level: float = 0.35) -> bytes:
    """Frames of a soft two-note chime (ding-dong): each note a sine that fades out.
    `notes` is hashable (a tuple), since the frames are cached."""
    if width != 2:  # synthesisers write 16-bit; anything else gets silence, not noise
        return b"\0" * int(rate * seconds) * channels * width
    out = bytearray()
    per = int(rate * seconds / len(notes))
    for freq in notes:
        for i in range(per):
            t = i / rate
            envelope = min(1.0, i / (0.01 * rate)) * math.exp(-3.5 * t / (per / rate))
            sample = int(32767 * level * envelope * math.sin(2 * math.pi * freq * t))
            out += struct.pack("<h", sample) * channels
    return bytes(out)


def join(parts: Sequence[Pcm], *, chime: bool, gap: float = 0.35) -> Pcm:
    """The parts one after the other with a short silence between, a chime first if asked.
    Parts of another format than the first are left out rather than played as noise."""
    if not parts:
        raise SynthesisError("nothing to join")
    first = parts[0]
    silence = b"\0" * (int(first.rate * gap) * first.channels * first.width)
    frames = bytearray()
    if chime:
        frames += tone(first.rate, first.channels, first.width, 0.9, (659.25, 523.25))
        frames += silence
    for i, part in enumerate(parts):
        if (part.rate, part.channels, part.width) != (first.rate, first.channels, first.width):
            continue
        if i:
            frames += silence
        frames += part.frames
    return Pcm(first.rate, first.channels, first.width, bytes(frames))


def make_wav(engine: Synthesizer, phrases: Sequence[Phrase], chime: bool) -> bytes:
    """The phrases' audio as one WAV, a chime first if asked."""
    return write_wav(join([read_wav(engine.synthesize(p)) for p in phrases], chime=chime))


def _run(argv: list[str], stdin: bytes | None, what: str) -> bytes:
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=TIMEOUT,
                              check=True)
    except FileNotFoundError as err:
        raise SynthesisError(f"{what}: {argv[0]} is not installed") from err
    except subprocess.TimeoutExpired as err:
        raise SynthesisError(f"{what}: no answer in {TIMEOUT:.0f} s") from err
    except subprocess.CalledProcessError as err:
        detail = err.stderr.decode(errors="replace").strip()[:200]
        raise SynthesisError(f"{what}: exit {err.returncode} {detail}") from err
    except OSError as err:
        raise SynthesisError(f"{what}: {err}") from err
    return done.stdout


class EspeakEngine:
    """espeak-ng: Mandarin through its pinyin voice (`cmn-latn-pinyin`), English as text."""

    def __init__(self, executable: str = "espeak-ng", *, speed: int = 150, pitch: int = 45,
                 voices: dict[str, str] | None = None) -> None:
        self.executable = executable
        self.speed = speed
        self.pitch = pitch
        self.voices = {"zh": "cmn-latn-pinyin", "en": "en-gb", **(voices or {})}
        self.id = f"espeak:{speed}:{pitch}:" + ",".join(f"{k}={v}"
                                                        for k, v in sorted(self.voices.items()))

    def words(self, phrase: Phrase) -> str:
        """What espeak-ng is given: pinyin for Mandarin, the words for other languages."""
        if phrase.lang != "zh":
            return phrase.speech
        from .pinyin import PinyinError, to_pinyin  # only the process that synthesises

        try:
            return to_pinyin(phrase.speech)
        except PinyinError as err:
            raise SynthesisError(str(err)) from err

    def synthesize(self, phrase: Phrase) -> bytes:
        voice = self.voices.get(phrase.lang, phrase.lang)
        argv = [self.executable, "-v", voice, "-s", str(self.speed), "-p", str(self.pitch),
                "--stdout", "--", self.words(phrase)]
        data = _run(argv, None, "espeak-ng")
        return write_wav(read_wav(data))  # with its real sizes


class CommandEngine:
    """A local program: `{lang}` in its arguments is the phrase's language, the phrase's words
    go to its stdin, and it writes a WAV to `{out}` (a file it is given) or to its stdout.

        command = "piper --model /opt/voices/zh_CN.onnx --output_file {out}"
    """

    def __init__(self, command: str | Sequence[str], *, name: str = "") -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ValueError("the command engine needs a command")
        self.id = "command:" + (name or " ".join(self.argv))

    def synthesize(self, phrase: Phrase) -> bytes:
        with tempfile.TemporaryDirectory(prefix="clinicq-tts-") as tmp:
            out = os.path.join(tmp, "out.wav")
            argv = [a.replace("{lang}", phrase.lang).replace("{out}", out) for a in self.argv]
            stdout = _run(argv, phrase.speech.encode("utf-8"), self.argv[0])
            if any("{out}" in a for a in self.argv):
                try:
                    with open(out, "rb") as f:
                        stdout = f.read()
                except OSError as err:
                    raise SynthesisError(f"{self.argv[0]} wrote no {out}") from err
        return write_wav(read_wav(stdout))
