"""Benchmark of the wait estimate (issue 13 item 5): per simulated scenario, the median and p90
absolute error in minutes between the wait shown at issue and the wait that happened, for the
station's estimator, the estimator before issue 13, and the naive baseline (people ahead ×
mean service time); prints JSON lines.

Each scenario runs `--days` seeded days (bench/simulate.py) and pools their tickets, of every
service; a scenario with the vaccination service also has its tickets alone (`..._V_...`).
`n` is the number of tickets measured. Same seeds, same figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import emit, percentile  # noqa: E402
from sim_vaccination import VACCINATION  # noqa: E402
from simulate import ESTIMATORS, SCENARIOS, simulate  # noqa: E402


def errors(scenario: str, days: int, first_seed: int = 0,
           service: str | None = None) -> dict[str, list[float]]:
    """Every estimator's absolute errors over `days` seeded days of `scenario` (the tickets
    of `service`, or of every service)."""
    out: dict[str, list[float]] = {name: [] for name in ESTIMATORS}
    for seed in range(first_seed, first_seed + days):
        day = simulate(scenario, seed)
        for name in ESTIMATORS:
            out[name] += day.errors(name, service)
    return out


def _emit(prefix: str, by_estimator: dict[str, list[float]]) -> None:
    for name, errs in by_estimator.items():
        emit(f"{prefix}_{name}_p50", statistics.median(errs), "min", len(errs))
        emit(f"{prefix}_{name}_p90", percentile(errs, 90), "min", len(errs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait-estimate error in simulated days.")
    parser.add_argument("--days", type=int, default=20, help="seeded days per scenario")
    args = parser.parse_args(argv)
    for scenario, spec in SCENARIOS.items():
        _emit(f"estimate_error_{scenario}", errors(scenario, args.days))
        if spec.vaccination is not None:  # the vaccination service's tickets alone too
            _emit(f"estimate_error_{scenario}_{VACCINATION}",
                  errors(scenario, args.days, service=VACCINATION))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
