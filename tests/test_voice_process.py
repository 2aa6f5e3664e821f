"""The voice's synthesis process: the same WAV as made in the thread, made in another process
(small, low priority), replaced when it is killed, gone when the voice stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import wait_until
from test_speech import CALL, CALL_EN, TONE_PROGRAM, needs_espeak

from display.speech import CommandEngine, EspeakEngine, SynthesisError
from display.voice import Voice

# the tone, and the synthesiser's parent (the synthesis process) written to the file given
PARENT_PROGRAM = TONE_PROGRAM.replace("open(sys.argv[2], 'w').write(text)",
                                      "import os; open(sys.argv[2], 'w').write(str(os.getppid()))")


def tone_engine(said: Path) -> CommandEngine:
    return CommandEngine([sys.executable, "-c", PARENT_PROGRAM, "{out}", str(said)])


@pytest.fixture
def voices() -> Iterator[list[Voice]]:
    made: list[Voice] = []
    yield made
    for voice in made:
        voice.stop()


def children() -> set[int]:
    """The PIDs of this process's living children (Linux /proc)."""
    found = set()
    for tasks in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (tasks / "children").read_text().split()
        found |= {int(pid) for pid in text}
    return {pid for pid in found if _alive(pid)}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_command_engine_makes_the_same_wav_in_another_process(tmp_path: Path,
                                                                voices: list[Voice]) -> None:
    said = tmp_path / "parent.txt"
    apart = Voice(tone_engine(said), process=True)
    here = Voice(tone_engine(said))
    voices += [apart, here]
    made = apart.make_now([CALL, CALL_EN])
    pid = apart.worker_pid
    assert pid is not None and pid != os.getpid()
    assert int(said.read_text()) == pid  # the synthesiser was the synthesis process's child
    assert here.make_now([CALL, CALL_EN]) == made
    assert int(said.read_text()) == os.getpid()
    assert apart.stats.made == 1 and apart.stats.failed == 0


@needs_espeak
def test_espeak_makes_the_same_wav_in_a_small_low_priority_process(voices: list[Voice]) -> None:
    apart, here = Voice(EspeakEngine(), process=True), Voice(EspeakEngine())
    voices += [apart, here]
    assert apart.make_now([CALL, CALL_EN]) == here.make_now([CALL, CALL_EN])
    pid = apart.worker_pid
    assert pid is not None
    assert os.getpriority(os.PRIO_PROCESS, pid) >= 10
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(status.split("VmRSS:")[1].split()[0])
    # nothing of the server, and not pypinyin's 55 MB of dictionaries: its Mandarin was read
    # by a child that ended (display.pinyin.read_apart)
    assert rss_kb < 40 * 1024, f"{rss_kb} kB"


@needs_espeak
def test_the_pinyin_dictionaries_stay_out_of_the_server_process() -> None:
    """pypinyin's 55 MB are the synthesis process's: a process that has its voice make
    Mandarin through the process never imports pypinyin itself."""
    program = ("import sys; from display.voice import Voice; "
               "from display.speech import EspeakEngine; from display.announce import phrase; "
               "v = Voice(EspeakEngine(), process=True); "
               "wav = v.make_now([phrase('ticket.called', 'V012', '2号接种台', 'zh')]); "
               "v.stop(); print(len(wav) > 1000, 'pypinyin' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, check=True, cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.split() == ["True", "False"]


def test_the_background_thread_uses_the_process_and_counts_failures(
        tmp_path: Path, voices: list[Voice]) -> None:
    good = Voice(tone_engine(tmp_path / "parent.txt"), process=True, folder=tmp_path / "wav")
    bad = Voice(CommandEngine([sys.executable, "-c", "import sys; sys.exit(3)"]), process=True)
    voices += [good, bad]
    key = good.request([CALL])
    data = good.audio(key, wait=10)
    assert data is not None and data[:4] == b"RIFF"
    assert (tmp_path / "wav" / f"{key}.wav").read_bytes() == data
    failed = bad.request([CALL])
    assert bad.audio(failed, wait=10) is None
    wait_until(lambda: bad.stats.failed == 1)
    assert "exit 3" in (bad.stats.last_error or "")
    with pytest.raises(SynthesisError, match="exit 3"):
        bad.make_now([CALL_EN])


def test_a_killed_synthesis_process_is_replaced(tmp_path: Path, voices: list[Voice]) -> None:
    said = tmp_path / "parent.txt"
    voice = Voice(tone_engine(said), process=True)
    voices.append(voice)
    first = voice.make_now([CALL])
    old = voice.worker_pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not _alive(old))
    assert voice.make_now([CALL_EN])[:4] == b"RIFF"
    new = voice.worker_pid
    assert new is not None and new != old and int(said.read_text()) == new
    assert voice.stats.failed == 0
    assert voice.make_now([CALL]) == first


def test_killed_in_the_middle_of_a_synthesis_it_is_tried_once_more(
        tmp_path: Path, voices: list[Voice]) -> None:
    # the first synthesiser kills its parent, the synthesis process; the next one makes audio
    marker = tmp_path / "killed"
    program = ("import os, signal, sys; from pathlib import Path; p = Path(sys.argv[2]); "
               "killed = p.exists(); p.write_text('x'); "
               "os.kill(os.getppid(), signal.SIGKILL) if not killed else None; "
               + TONE_PROGRAM.replace("text = sys.stdin.read(); ", "")
               .replace("open(sys.argv[2], 'w').write(text)", "None"))
    voice = Voice(CommandEngine([sys.executable, "-c", program, "{out}", str(marker)]),
                  process=True)
    voices.append(voice)
    assert voice.make_now([CALL])[:4] == b"RIFF"
    assert voice.stats.failed == 0


def test_stop_leaves_no_child_process(tmp_path: Path) -> None:
    before = children()
    voice = Voice(tone_engine(tmp_path / "parent.txt"), process=True)
    key = voice.request([CALL])
    assert voice.audio(key, wait=10) is not None
    pid = voice.worker_pid
    assert pid in children()
    voice.stop()
    assert voice.worker_pid is None
    assert not _alive(pid) and children() <= before
