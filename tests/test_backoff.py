"""The shared retry backoff: doubling up to a cap, equal jitter, reset; no clock, no sleeping."""

from __future__ import annotations

import random

import pytest

from contracts.backoff import Backoff


def test_delays_double_up_to_the_cap_and_reset_after_a_success() -> None:
    backoff = Backoff(0.5, 5.0)
    assert [backoff.delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.failures == 6
    backoff.reset()
    assert backoff.failures == 0 and backoff.delay() == 0.5


def test_jitter_draws_each_delay_from_its_upper_half() -> None:
    asked: list[tuple[float, float]] = []

    def lowest(low: float, high: float) -> float:
        asked.append((low, high))
        return low

    backoff = Backoff(1.0, 4.0, jitter=True, uniform=lowest)
    assert [backoff.delay() for _ in range(4)] == [0.5, 1.0, 2.0, 2.0]
    assert asked == [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.0, 4.0)]


def test_jittered_delays_stay_in_range_and_differ_between_kiosks() -> None:
    one = Backoff(2.0, 600.0, jitter=True, uniform=random.Random(1).uniform)
    two = Backoff(2.0, 600.0, jitter=True, uniform=random.Random(2).uniform)
    first, second = [one.delay() for _ in range(12)], [two.delay() for _ in range(12)]
    plain = Backoff(2.0, 600.0)
    for a, b in zip(first, second, strict=True):
        cap = plain.delay()
        assert cap / 2 <= a <= cap and cap / 2 <= b <= cap
    assert first != second


def test_a_first_delay_over_the_cap_is_capped_and_zero_stays_zero() -> None:
    assert Backoff(10.0, 3.0).delay() == 3.0
    zero = Backoff(0.0, 0.0)
    assert [zero.delay() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(-1.0, 5.0)
