"""`clinicq demo` (server/launcher.py) as its own process: a taken PORT= or CENTRAL_PORT= is
replaced by a free port, named, and the demo comes up there; a port that is not a number stops
it with the variable's name, not a traceback."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


class Launcher:
    """`python -m server.cli demo --no-kiosk --var DIR` with `env`, its output read line by
    line in a thread; `stop()` ends it (SIGTERM, which stops its platform and station) and, in
    case it died first, its process group by id."""

    def __init__(self, var: Path, **env: str) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo", "--no-kiosk", "--var", str(var)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """The first line (from here on) that contains `text`; fails naming what was seen."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s: {self.seen}") from None
            self.seen.append(line)
            if text in line:
                return line

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:  # anything of the demo still running (the launcher killed, not stopped)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._reader.join(timeout=10)  # the pipe's end: every line read
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.proc.returncode


@pytest.fixture
def taken() -> Iterator[int]:
    """A port some other program listens on (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("variable", ["PORT", "CENTRAL_PORT"])
def test_a_taken_port_is_replaced_by_a_free_one_and_named(variable: str, taken: int,
                                                          tmp_path: Path) -> None:
    env = {"PORT": str(free_port()), "CENTRAL_PORT": str(free_port()),
           "FEED_PORT": str(free_port()), variable: str(taken)}
    launcher = Launcher(tmp_path / "var", **env)
    try:
        line = launcher.wait_for("is taken")
        assert f"port {taken} ({variable}) is taken; using " in line
        assert f"set {variable}=N to choose" in line
        chosen = int(line.split("using ")[1].split()[0])
        assert chosen != taken
        launcher.wait_for("Ctrl-C stops everything")
        banner = "".join(launcher.seen)
        assert "Traceback" not in banner
        station, central = ((chosen, env["CENTRAL_PORT"]) if variable == "PORT"
                            else (env["PORT"], chosen))
        assert f"http://127.0.0.1:{station}/kiosk" in banner
        assert f"http://127.0.0.1:{central}/stations/demo-station/bookings" in banner
        for port in (station, central):
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
        # the demo's files went where it was told, not into the working tree's var/
        assert (tmp_path / "var" / "station.db").exists()
        assert (tmp_path / "var" / "central.sqlite3").exists()
    finally:
        code = launcher.stop()
    assert code == 0


@pytest.mark.parametrize("variable", ["PORT", "CENTRAL_PORT"])
def test_a_port_that_is_not_a_number_names_the_variable(variable: str,
                                                        tmp_path: Path) -> None:
    launcher = Launcher(tmp_path / "var", **{variable: "50x0"})
    try:
        launcher.proc.wait(timeout=30)
    finally:
        code = launcher.stop()
    output = "".join(launcher.lines.queue)
    assert code != 0 and "Traceback" not in output
    assert f"{variable}=50x0 is not a port number" in output
    assert not (tmp_path / "var").exists()  # stopped before anything was made
