"""Benchmark of the wait estimate (issue 13 item 5): per simulated scenario, the median and p90
absolute error in minutes between the wait shown at issue and the wait that happened, for the
station's estimator, the estimator before issue 13, and the naive baseline (people ahead ×
mean service time); prints JSON lines.

Each scenario runs `--days` seeded days (bench/simulate.py) and pools their tickets; `n` is
the number of tickets measured. Same seeds, same figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import emit, percentile  # noqa: E402
from simulate import ESTIMATORS, SCENARIOS, simulate  # noqa: E402


def errors(scenario: str, days: int, first_seed: int = 0) -> dict[str, list[float]]:
    """Every estimator's absolute errors over `days` seeded days of `scenario`."""
    out: dict[str, list[float]] = {name: [] for name in ESTIMATORS}
    for seed in range(first_seed, first_seed + days):
        day = simulate(scenario, seed)
        for name in ESTIMATORS:
            out[name] += day.errors(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait-estimate error in simulated days.")
    parser.add_argument("--days", type=int, default=20, help="seeded days per scenario")
    args = parser.parse_args(argv)
    for scenario in SCENARIOS:
        for name, errs in errors(scenario, args.days).items():
            emit(f"estimate_error_{scenario}_{name}_p50", statistics.median(errs), "min",
                 len(errs))
            emit(f"estimate_error_{scenario}_{name}_p90", percentile(errs, 90), "min",
                 len(errs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
