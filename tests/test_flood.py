"""A display token cannot stall check-ins (issue 14, point 2): five displays ask for snapshots
as fast as they can, with 300 tickets waiting, while two kiosks take 300 tickets over HTTP on
the station served the production way; every display still ends on the station's state."""

from __future__ import annotations

from pathlib import Path

import pytest
from flood import check_ins_during_flood, seed
from support import StationProcess

pytestmark = pytest.mark.slow

WAITING = 300
CHECK_INS = 300


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def test_a_resync_flood_does_not_stall_check_ins(tmp_path: Path) -> None:
    station = StationProcess(tmp_path / "station.db", log=tmp_path / "station.log")
    try:
        seed(station.url, WAITING)
        took, displays = check_ins_during_flood(station.url, CHECK_INS, displays=5)
        assert len(took) == CHECK_INS
        # the target, 50 ms, is bench/bench_flood.py's to check (this machine is shared
        # and noisy: under the whole suite it measured 50.9); before, the flood held check-ins
        # for seconds (21 s in the issue, 674 ms p99 in bench_flood on the old code)
        assert p99(took) <= 200, f"check-in p99 {p99(took):.1f} ms during the flood"
        for answers in displays["answers"]:
            # asked again as soon as each answer came, yet sent a snapshot per 2 s at most
            refused, sent = answers.get("rate_limited", 0), answers.get("ok", 0)
            assert refused > 5 * sent > 0, answers
        # every display shows the station's queues: no delta lost or applied twice
        assert displays["converged"] == [True] * 5, displays
    finally:
        station.stop()
