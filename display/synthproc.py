"""The synthesis process (display, adapter): the voice's synthesiser run outside the server.

Making audio in the server's own voice thread cost about a quarter of the server process's CPU
under load (spawning espeak-ng from a big multi-threaded process, reading its output, parsing
and joining WAVs), all of it holding the GIL the request threads wait for; a thread's nice
value does nothing against the GIL. So the voice hands each announcement to one long-lived
child process and its thread only waits, idle, for the finished WAV's bytes.

The child is `python -m display.synthproc`, started with subprocess on the first synthesis,
not a multiprocessing pool: a spawn or forkserver child re-imports the parent's `__main__`
(`server.cli` under `clinicq serve`), both start multiprocessing's resource tracker (one more
process), and a pool keeps a manager thread in the server. This child imports display.speech
and nothing of the server (about 20 MB; the pinyin it makes is read by pypinyin in a child of
its own that ends, display.pinyin); started in a tenth of a second. It lowers its priority to
nice 10 and ends when its stdin ends: when the voice stops it, or when the server dies and the
pipe closes, so it never outlives the server by more than the synthesis under way.

Wire: length-prefixed pickles over the child's stdin and stdout (a private pipe between two
processes of the same program). Request `(engine, phrases, chime)`, answer
`("ok", wav)`, `("synthesis", message)` (a SynthesisError) or `("error", message)`. A child
that dies (killed, crashed) is replaced on the next synthesis, which is tried once more.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from . import child_env
from .announce import Phrase
from .speech import TIMEOUT, SynthesisError, Synthesizer, make_wav

_HEADER = struct.Struct("<Q")
NICE = 10


class WorkerDied(Exception):
    """The synthesis process ended before it answered."""


class SynthesisFailed(Exception):
    """The synthesis process answered with an error that is not a SynthesisError."""


class Worker:
    """The server's end: one child at a time, one synthesis at a time."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # children started, the first one included

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return None if proc is None or proc.poll() is not None else proc.pid

    def make(self, engine: Synthesizer, phrases: Sequence[Phrase], chime: bool) -> bytes:
        """The WAV of `make_wav(engine, phrases, chime)`, made in the child. A child that
        died is replaced and the synthesis tried once more."""
        request = pickle.dumps((engine, tuple(phrases), chime))
        deadline = TIMEOUT * (len(phrases) + 1)
        with self._lock:
            try:
                answer = self._ask(request, deadline)
            except WorkerDied:  # killed or crashed under way: a new one, once more
                try:
                    answer = self._ask(request, deadline)
                except WorkerDied as err:
                    raise SynthesisError(f"the synthesis process died: {err}") from err
        kind, value = answer
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "synthesis":
            raise SynthesisError(value)
        raise SynthesisFailed(value)

    def _ask(self, request: bytes, seconds: float) -> tuple[str, Any]:
        if self._closed:
            raise SynthesisError("the voice is stopped")
        proc = self._proc
        if proc is not None and proc.poll() is not None:  # died since: its pipes closed
            self._end(proc)
            proc = None
        if proc is None:
            proc = self._proc = self._spawn()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _write(proc.stdin.fileno(), _HEADER.pack(len(request)) + request)
            deadline = time.monotonic() + seconds
            size, = _HEADER.unpack(_read(proc.stdout.fileno(), _HEADER.size, deadline))
            answer = pickle.loads(_read(proc.stdout.fileno(), size, deadline))
        except TimeoutError as err:
            self._end(proc)
            raise SynthesisError(f"the synthesis process gave no answer in {seconds:.0f} s") \
                from err
        except (OSError, EOFError, pickle.UnpicklingError, struct.error) as err:
            self._end(proc)
            if self._closed:
                raise SynthesisError("the voice is stopped") from err
            raise WorkerDied(f"{type(err).__name__}: {err}" if str(err) else
                             type(err).__name__) from err
        return answer  # type: ignore[no-any-return]

    def _spawn(self) -> subprocess.Popen[bytes]:
        try:
            proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, env=child_env(), bufsize=0)
        except OSError as err:
            raise SynthesisError(f"could not start the synthesis process: {err}") from err
        self.started += 1
        return proc

    def _end(self, proc: subprocess.Popen[bytes]) -> None:
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        if self._proc is proc:
            self._proc = None

    def close(self, timeout: float = 5.0) -> None:
        """End the child: at the end of its stdin, killed if it does not end in `timeout`
        (or if a synthesis holds it that long). No synthesis after this."""
        self._closed = True
        held = self._lock.acquire(timeout=timeout)
        try:
            proc = self._proc
            if proc is None:
                return
            if held:
                assert proc.stdin is not None
                proc.stdin.close()  # the end of its input: the child returns
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
                self._end(proc)  # killed if it did not end
            else:  # a synthesis still holds it: the thread reading gets EOF, "stopped"
                proc.kill()
                proc.wait()
        finally:
            if held:
                self._lock.release()


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read(fd: int, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0:
            raise TimeoutError
        if not select.select([fd], [], [], wait)[0]:
            continue
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the synthesis process ended")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# the child ---------------------------------------------------------------------------------

def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the server's
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(NICE, os.getpriority(os.PRIO_PROCESS, 0)))
    except (AttributeError, OSError):
        pass
    # the wire on private descriptors; the programs run get no stdin, stray prints go to stderr
    requests, answers = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    while True:
        header = requests.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the server stopped us, or is gone
        engine, phrases, chime = pickle.loads(requests.read(_HEADER.unpack(header)[0]))
        answer: tuple[str, Any]
        try:
            answer = ("ok", make_wav(engine, phrases, chime))
        except SynthesisError as err:
            answer = ("synthesis", str(err))
        except Exception as err:  # reported to the server, which logs it
            answer = ("error", f"{type(err).__name__}: {err}")
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            answers.write(_HEADER.pack(len(data)) + data)
            answers.flush()
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
