"""Retry backoff (shared, standard library only): the delays between tries after failures.

Each failure doubles the delay from `first` up to `cap`; a success resets it. With `jitter`
each delay is drawn from [d/2, d] ("equal jitter"), so that stations or kiosks that lost the
same server together do not all come back in the same second. The station's platform sync,
the kiosk agent, its Socket.IO link and the scanner drivers use it; it computes delays and
never sleeps, so callers wait on their own stop events and tests need no clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """`delay()` after each failed try, `reset()` after a good one."""

    def __init__(self, first: float, cap: float, *, jitter: bool = False,
                 uniform: Callable[[float, float], float] = random.uniform) -> None:
        if first < 0 or cap < 0:
            raise ValueError(f"backoff delays must not be negative: {first}, {cap}")
        self.first = min(first, cap)
        self.cap = cap
        self.jitter = jitter
        self._uniform = uniform  # random.Random(seed).uniform in tests
        self._next = self.first
        self.failures = 0  # failures in a row since the last reset

    def delay(self) -> float:
        """Seconds to wait before the next try, counting one more failure."""
        current = self._next
        self._next = min(current * 2, self.cap)
        self.failures += 1
        return self._uniform(current / 2, current) if self.jitter else current

    def reset(self) -> None:
        self._next = self.first
        self.failures = 0
