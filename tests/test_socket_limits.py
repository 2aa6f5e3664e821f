"""The Socket.IO limits per connection (server/web/socket_limits.py), on a settable clock."""

from __future__ import annotations

from server.web.socket_limits import SocketLimits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    limits = SocketLimits(burst=3, rate=2.0, monotonic=clock)
    assert [limits.event("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.event("a") == 0.5  # empty: one token back in half a second
    assert limits.event("b") == 0.0  # another connection has its own bucket
    clock.now += 0.5
    assert limits.event("a") == 0.0 and limits.event("a") > 0
    clock.now += 10  # refills to the burst, no further
    assert [limits.event("a") for _ in range(4)][-1] > 0


def test_one_snapshot_per_interval_and_forgotten_on_disconnect() -> None:
    clock = Clock()
    limits = SocketLimits(resync_every=2.0, monotonic=clock)
    assert limits.resync("a") == 0.0
    clock.now += 0.5
    assert limits.resync("a") == 1.5
    clock.now += 1.5
    assert limits.resync("a") == 0.0
    limits.forget("a")
    assert len(limits) == 0 and limits.resync("a") == 0.0
