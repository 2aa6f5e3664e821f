"""The counters' calls played forward (policy.eta_minutes, _stage_waits, _through_pathway), at C
speed where the answer is known to be the same floats.

Counter k calls at free[k], free[k] + per_call, (free[k] + per_call) + per_call, ... (repeated
addition, as a heap of the counters' next calls gives them: not free[k] + j × per_call, which
rounds otherwise). With per_call > 0 each counter's calls do not go down, so the first n calls of
all the counters are the n smallest of their union; two calls at the same minute are the same
float, whichever counter makes it."""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from itertools import accumulate, chain, islice, repeat


def call_times(free: list[float], per_call: float) -> Iterator[float]:
    """The minutes from now of the counters' calls, in time order: counter k calls at
    free[k], free[k] + per_call, ... (a counter back from its break joins when it is back).
    Which of two counters calling at the same minute goes first does not change the minutes."""
    heap = list(free)
    heapq.heapify(heap)
    replace = heapq.heapreplace
    while True:
        at = heap[0]
        yield at
        replace(heap, at + per_call)


def first_calls(free: list[float], per_call: float, n: int) -> list[float]:
    """The first `n` of call_times(free, per_call), the same floats."""
    if n <= 0 or not free:
        return []
    if not per_call > 0:  # a counter's calls could go down: the heap decides
        return list(islice(call_times(free, per_call), n))
    if len(free) == 1:
        return list(accumulate(repeat(per_call, n - 1), initial=free[0]))
    return sorted(chain.from_iterable(
        accumulate(repeat(per_call, n - 1), initial=f) for f in free))[:n]


def after_calls(free: list[float], per_call: float, ahead: int) -> list[float]:
    """The counters' next calls once `ahead` calls are made: the heap of call_times after it
    yielded `ahead` (as a list, not in heap order; the heap holds the same floats, whichever
    of two counters at the same minute it took).

    The calls made are the `ahead` smallest of the union, so counter k made a prefix of its
    own: all its calls before the last one made (v), and some of those at v; how many of the
    ties at v each counter made does not change the floats left (a counter at v goes on to
    v + per_call, whichever it is)."""
    if ahead <= 0 or not free:
        return list(free)
    if not per_call > 0:
        heap = list(free)
        heapq.heapify(heap)
        for _ in range(ahead):
            heapq.heapreplace(heap, heap[0] + per_call)
        return heap
    own = [list(accumulate(repeat(per_call, ahead), initial=f)) for f in free]
    last = sorted(chain.from_iterable(own))[ahead - 1]
    before = [bisect_left(calls, last) for calls in own]
    ties = ahead - sum(before)  # calls made at `last`, by the counters in turn
    out = []
    for calls, made in zip(own, before, strict=True):
        take = min(ties, bisect_right(calls, last) - made)
        ties -= take
        out.append(calls[made + take])
    return out
