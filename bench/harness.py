"""Benchmark tooling: JSON-line figures; the station subprocess comes from tests/support.py."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import StationProcess, free_port  # noqa: E402  (one implementation, tests' own)

__all__ = ["StationProcess", "emit", "emit_distribution", "free_port", "percentile"]


def emit(name: str, value: float, unit: str, n: int) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "n": n}), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def emit_distribution(name: str, values_ms: list[float]) -> None:
    emit(f"{name}_p50", statistics.median(values_ms), "ms", len(values_ms))
    emit(f"{name}_p99", percentile(values_ms, 99), "ms", len(values_ms))


