"""Benchmark (issue 14, point 2): check-ins while five displays flood the station with
`resync`, 300 tickets waiting; prints JSON lines.

The station runs the production way (gunicorn, one threaded worker) with the shipped
config.toml on a fresh SQLite file. 300 walk-ins wait; five display connections (python-
socketio, in their own process: tests/flood.py) ask for a snapshot again as soon as each
answer is in, while two kiosks take 300 walk-ins over kept-alive HTTP, one every 25 ms each.
Figures: the check-ins' p50/p99, the station's resident memory after the flood (all its
processes, as bench_station counts it, and the serving worker alone), and how many snapshots
the displays were sent against how many they asked for.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from harness import ROOT, StationProcess, emit, emit_distribution

sys.path.insert(0, str(ROOT / "tests"))

from flood import check_ins_during_flood, seed  # noqa: E402

WAITING = 300
CHECK_INS = 300
DISPLAYS = 5


def worker_rss_mb(station: StationProcess) -> float:
    """The process that serves (gunicorn's worker: the last of the station's processes)."""
    status = Path(f"/proc/{station.pids()[-1]}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmRSS:")) / 1024


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        station = StationProcess(Path(tmp) / "station.db", config_file=None)
        try:
            seed(station.url, WAITING)
            took, displays = check_ins_during_flood(station.url, CHECK_INS, DISPLAYS)
            emit_distribution("flood_checkin", took)
            emit("flood_server_rss", station.rss_mb(), "MB", DISPLAYS)
            emit("flood_worker_rss", worker_rss_mb(station), "MB", DISPLAYS)
            asked = sum(sum(a.values()) for a in displays["answers"])
            sent = sum(a.get("ok", 0) for a in displays["answers"])
            emit("flood_resyncs_answered_with_a_snapshot", sent, "count", asked)
            emit("flood_displays_converged", sum(displays["converged"]), "count", DISPLAYS)
        finally:
            station.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
