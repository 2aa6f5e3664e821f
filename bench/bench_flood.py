"""Benchmark (issue 14, point 2): check-ins while five displays flood the station with
`resync`, 300 tickets waiting; prints JSON lines.

The station runs the production way (gunicorn, one threaded worker) with the shipped
config.toml on a fresh SQLite file. 300 walk-ins wait; five display connections (python-
socketio, in their own process: tests/flood.py) ask for a snapshot again as soon as each
answer is in, while two kiosks take 300 walk-ins over kept-alive HTTP, one every 25 ms each.
Figures: the check-ins' p50/p99 and the serving worker's CPU (and, first, the same on another
fresh station with the displays only watching: a control for the machine's own noise), the
station's resident memory after the flood (all its
processes, as bench_station counts it, and the serving worker alone), and how many snapshots
the displays were sent against how many they asked for.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, StationProcess, emit, emit_distribution, unthrottled

sys.path.insert(0, str(ROOT / "tests"))

from flood import check_ins_during_flood, seed  # noqa: E402

WAITING = 300
CHECK_INS = 300
DISPLAYS = 5


def rss_by_process(station: StationProcess) -> dict[str, float]:
    """Resident MB of each of the station's processes: gunicorn's arbiter, the worker that
    serves, the synthesis process (display/synthproc.py), Litestream."""
    out: dict[str, float] = {}
    serving = station.serving_pid()
    for pid in station.pids():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kind = "worker" if pid == serving else "arbiter" if pid == station.proc.pid else \
            "synthesis" if b"display.synthproc" in command else \
            "litestream" if b"litestream" in command else "other"
        out[kind] = out.get(kind, 0.0) + next(
            int(line.split()[1]) for line in status.splitlines()
            if line.startswith("VmRSS:")) / 1024
    return out


def pss_mb(station: StationProcess) -> float:
    """The station's processes' proportional set size together: pages the worker shares with
    the arbiter it was forked from counted once, not in each (RSS counts them twice)."""
    total = 0
    for pid in station.pids():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in rollup.splitlines()
                      if line.startswith("Pss:"))
    return total / 1024


def worker_cpu_s(station: StationProcess) -> float:
    fields = Path(f"/proc/{station.serving_pid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(flooding: bool) -> None:
    """One fresh station, 300 waiting, 300 check-ins timed with the displays flooding (or,
    the control, only watching: a busy machine's own noise told from the flood's cost)."""
    name = "flood" if flooding else "flood_control"
    with tempfile.TemporaryDirectory() as tmp:
        station = StationProcess(Path(tmp) / "station.db", config_file=unthrottled(Path(tmp)))
        try:
            seed(station.url, WAITING)
            cpu, wall = worker_cpu_s(station), time.monotonic()
            took, displays = check_ins_during_flood(station.url, CHECK_INS, DISPLAYS,
                                                    flooding_=flooding)
            share = (worker_cpu_s(station) - cpu) / (time.monotonic() - wall) * 100
            emit_distribution(f"{name}_checkin", took)
            emit(f"{name}_worker_cpu", share, "% of a core", CHECK_INS)
            if not flooding:
                return
            emit("flood_server_rss", station.rss_mb(), "MB", DISPLAYS)
            by_process = rss_by_process(station)
            emit("flood_worker_rss", by_process["worker"], "MB", DISPLAYS)
            emit("flood_server_pss", pss_mb(station), "MB", DISPLAYS)
            for kind, mb in sorted(by_process.items()):
                if kind != "worker":
                    emit(f"flood_{kind}_rss", mb, "MB", DISPLAYS)
            asked = sum(sum(a.values()) for a in displays["answers"])
            sent = sum(a.get("ok", 0) for a in displays["answers"])
            emit("flood_resyncs_answered_with_a_snapshot", sent, "count", asked)
            emit("flood_displays_converged", sum(displays["converged"]), "count", DISPLAYS)
        finally:
            station.stop()


def main() -> int:
    run(flooding=False)
    run(flooding=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
