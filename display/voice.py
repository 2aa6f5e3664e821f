"""The station's voice (display, adapter): phrases made into audio in the background, cached.

A call never waits for synthesis: `request` names the audio (a key from the engine and the
phrases, so the event can carry its `audio_url` at once) and queues the work for one
background thread; `ahead` queues the phrases of the next numbers behind it, so that by the
time a number is called its audio is usually made. `audio(key, wait)` answers the display's
fetch, waiting a little for audio still being made. Made audio stays in a small memory cache
and, when a folder is given, on disk (bounded, oldest first out), keyed by phrase and engine.

With `process=True` (the server's voice) the audio is made in a long-lived, low-priority
synthesis process (display.synthproc): the thread only waits for the WAV, and the request
threads do not compete with synthesis for the GIL. Without it (engines that cannot be pickled,
tests' fakes) the thread makes it itself, with the same `make_wav`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .announce import Phrase
from .speech import SynthesisError, Synthesizer, make_wav
from .synthproc import Worker

log = logging.getLogger(__name__)

URGENT, AHEAD = 0, 1
MAX_AHEAD_PENDING = 64  # beyond this, making ahead waits for the queue to drain


@dataclass
class VoiceStats:
    made: int = 0
    failed: int = 0
    cached: int = 0  # requests answered from the cache
    last_error: str | None = None
    last_ms: float | None = None  # how long the last synthesis took


class Voice:
    def __init__(self, engine: Synthesizer, *, folder: str | Path | None = None,
                 chime: bool = True, memory_items: int = 48, disk_mb: float = 200.0,
                 process: bool = False) -> None:
        self.engine = engine
        self.process = process  # synthesis in its own process (display.synthproc)
        self._worker: Worker | None = None  # that process's server end, started when needed
        self.chime = chime
        self.folder = Path(folder) if folder else None
        self.memory_items = memory_items
        self.disk_bytes = int(disk_mb * 1024 * 1024)
        self.stats = VoiceStats()
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._phrases: OrderedDict[str, tuple[Phrase, ...]] = OrderedDict()  # known keys
        self._pending: dict[str, threading.Event] = {}
        self._failed: set[str] = set()
        self._queue: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self._order = 0
        self._ahead = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._written = 0
        self._disk: set[str] | None = None  # the keys in the folder, listed once (_on_disk)

    # naming and queueing ---------------------------------------------------------------------

    def key(self, phrases: Sequence[Phrase]) -> str:
        text = "\x1e".join(f"{p.lang}\x1f{p.speech}" for p in phrases)
        raw = f"{self.engine.id}\x1d{int(self.chime)}\x1d{text}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]

    def request(self, phrases: Sequence[Phrase], *, urgent: bool = True) -> str:
        """The key of the phrases' audio; made in the background unless it is cached."""
        key = self.key(phrases)
        with self._lock:
            self._phrases[key] = tuple(phrases)
            self._phrases.move_to_end(key)
            while len(self._phrases) > 4096:  # names only; the audio is in the caches
                self._phrases.popitem(last=False)
            if key in self._memory or key in self._pending or self._on_disk(key):
                self.stats.cached += 1
                if urgent and key in self._pending:  # made ahead, now wanted now
                    self._push(URGENT, key)
                return key
            if not urgent and self._ahead >= MAX_AHEAD_PENDING:
                return key
            self._failed.discard(key)
            self._pending[key] = threading.Event()
            self._push(URGENT if urgent else AHEAD, key)
        self._start()
        return key

    def ahead(self, phrases: Sequence[Phrase]) -> str:
        return self.request(phrases, urgent=False)

    def _push(self, priority: int, key: str) -> None:
        self._order += 1
        if priority == AHEAD:
            self._ahead += 1
        self._queue.put((priority, self._order, key))

    # answering ---------------------------------------------------------------------------

    def known(self, key: str) -> bool:
        with self._lock:
            return key in self._phrases or key in self._memory or self._on_disk(key)

    def ready(self, key: str) -> bool:
        with self._lock:
            return key in self._memory or self._on_disk(key)

    def audio(self, key: str, wait: float = 0.0) -> bytes | None:
        """The WAV of `key`; waits up to `wait` seconds when it is being made."""
        with self._lock:
            event = self._pending.get(key)
        if event is not None and wait > 0:
            event.wait(wait)
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self._memory.move_to_end(key)
                return data
        data = self._read_disk(key)
        if data is None and key not in self._pending and not self._failed_key(key):
            with self._lock:  # known but evicted: make it again, for next time
                phrases = self._phrases.get(key)
            if phrases:
                self.request(phrases)
        return data

    def _failed_key(self, key: str) -> bool:
        with self._lock:
            return key in self._failed

    # the worker ----------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._work, name="clinicq-voice",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._queue.put((-1, 0, ""))
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close(timeout)

    def _work(self) -> None:
        try:  # below the request threads (Linux: per thread; the synthesiser inherits it)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
        while not self._stop.is_set():
            priority, _, key = self._queue.get()
            if self._stop.is_set():
                return
            with self._lock:
                if priority == AHEAD:
                    self._ahead -= 1
                event = self._pending.get(key)
                phrases = self._phrases.get(key)
            if event is None or phrases is None:  # made already (queued twice)
                continue
            try:
                self._make(key, phrases)
            except Exception as err:  # the voice must outlive one bad phrase
                if not isinstance(err, SynthesisError):
                    log.exception("synthesis failed")
                with self._lock:
                    self.stats.failed += 1
                    self.stats.last_error = str(err)[:300]
                    self._failed.add(key)
                log.warning("could not make audio for %s: %s", key, err)
            finally:
                with self._lock:
                    self._pending.pop(key, None)
                event.set()

    def make_now(self, phrases: Sequence[Phrase]) -> bytes:
        """Synthesise in the calling thread (tools and figures; never a request's thread)."""
        key = self.key(phrases)
        self._make(key, tuple(phrases))
        data = self.audio(key)
        assert data is not None
        return data

    def _make(self, key: str, phrases: tuple[Phrase, ...]) -> None:
        started = time.perf_counter()
        data = self._synthesize(phrases)
        with self._lock:
            self._memory[key] = data
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)
            self.stats.made += 1
            self.stats.last_ms = (time.perf_counter() - started) * 1000
        self._write_disk(key, data)

    def _synthesize(self, phrases: tuple[Phrase, ...]) -> bytes:
        if not self.process:
            return make_wav(self.engine, phrases, self.chime)
        with self._lock:
            worker = self._worker = self._worker or Worker()
        return worker.make(self.engine, phrases, self.chime)

    @property
    def worker_pid(self) -> int | None:
        """The synthesis process's PID while it runs (tests and figures)."""
        worker = self._worker
        return None if worker is None else worker.pid

    # the folder ----------------------------------------------------------------------------

    def _path(self, key: str) -> Path | None:
        return self.folder / f"{key}.wav" if self.folder else None

    def _disk_keys(self) -> set[str]:
        """The keys whose audio the folder holds: listed once, then kept as files are written
        and pruned (a request asks under the lock, on a request's thread: no `stat` each
        time). Call under the lock."""
        if self._disk is None:
            try:
                self._disk = {p.stem for p in self.folder.glob("*.wav")} if self.folder else set()
            except OSError:
                self._disk = set()
        return self._disk

    def _on_disk(self, key: str) -> bool:
        return key in self._disk_keys()

    def _read_disk(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:  # removed behind our back: made again when asked
            with self._lock:
                self._disk_keys().discard(key)
            return None

    def _write_disk(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as err:
            log.warning("could not keep audio in %s: %s", path.parent, err)
            return
        with self._lock:
            self._disk_keys().add(key)
        self._written += 1
        if self._written % 50 == 0:
            self._prune()

    def _prune(self) -> None:
        """Keep the folder under its size: the files least recently made go first."""
        assert self.folder is not None
        try:
            files = sorted(self.folder.glob("*.wav"), key=lambda p: p.stat().st_mtime)
            total = sum(p.stat().st_size for p in files)
            for p in files:
                if total <= self.disk_bytes:
                    break
                total -= p.stat().st_size
                p.unlink(missing_ok=True)
                with self._lock:
                    self._disk_keys().discard(p.stem)
        except OSError as err:
            log.warning("could not prune %s: %s", self.folder, err)
