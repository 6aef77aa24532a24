"""Exact minimum of the planner's cost over whole capacity units, by sorting and prefix sums.

For one direction (input or output) of a trace, reserving `k` units of `step` TPM costs
`k × unit_cost` plus the overflow: Σ rate_i × max(0, tokens_i − k × step) over the minutes. The
overflow is convex and decreasing in capacity, so the total is convex in `k`: its increments
f(k+1) − f(k) never decrease, and the smallest `k` whose increment is ≥ 0 is the smallest exact
minimiser. One sort, suffix sums, and a binary search over `k` (each step a bisect), so
O(n log n) in all, instead of simulating every capacity level (O(n × levels)).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import accumulate


class Load:
    """One direction's per-minute tokens, sorted, with suffix sums; rates per token.

    `rate` prices every minute alike; `rates` (one per minute) when the price varies by minute
    (request tiers). `presorted`: `values` are already in ascending order (kept, not copied).
    """

    def __init__(
        self,
        values: Sequence[int],
        *,
        rate: Decimal | None = None,
        rates: Sequence[Decimal] | None = None,
        presorted: bool = False,
    ) -> None:
        if (rate is None) == (rates is None):
            raise ValueError("give exactly one of rate or rates")
        self.n = len(values)
        self.rate = rate
        if rates is None:
            self.asc = values if presorted and isinstance(values, list) else sorted(values)
            self._sw: list[Decimal] | None = None
            self._swx: list[Decimal] | None = None
        else:
            pairs = sorted(zip(values, rates, strict=True))
            self.asc = [x for x, _ in pairs]
            ws = [w for _, w in reversed(pairs)]
            wxs = [w * x for x, w in reversed(pairs)]
            self._sw = [Decimal(0), *accumulate(ws)][::-1]
            self._swx = [Decimal(0), *accumulate(wxs)][::-1]
        self._px = [0, *accumulate(self.asc)]  # _px[i] = sum(asc[:i])
        self.total = self._px[-1]
        self.peak = self.asc[-1] if self.n else 0

    def _index(self, capacity: int) -> int:
        """The first sorted position whose tokens exceed `capacity`."""
        return bisect_right(self.asc, capacity)

    def minutes_above(self, capacity: int) -> int:
        return self.n - self._index(capacity)

    def excess(self, capacity: int) -> int:
        """Σ max(0, tokens − capacity): the tokens that overflow."""
        i = self._index(capacity)
        return self.total - self._px[i] - capacity * (self.n - i)

    def served(self, capacity: int) -> int:
        """Σ min(tokens, capacity): the tokens served within the reservation."""
        return self.total - self.excess(capacity)

    def overflow_cost(self, capacity: int) -> Decimal:
        """What the tokens above `capacity` cost at their pay-as-you-go rates."""
        i = self._index(capacity)
        if self._sw is None or self._swx is None:
            assert self.rate is not None
            return self.rate * (self.total - self._px[i] - capacity * (self.n - i))
        return self._swx[i] - capacity * self._sw[i]

    def units_to_clear(self, step: int) -> int:
        """The fewest units that leave no overflow (at least 1)."""
        return max(1, -(-self.peak // step))


class SummedLoad(Load):
    """A load that is the sum of disjoint parts (the trace's Beijing hours): each figure is the
    sum of the parts' figures, a bisect in each, so the whole trace's minutes are never merged
    and sorted a second time. Exactly the same numbers as a `Load` of all the parts' minutes."""

    def __init__(self, parts: Sequence[Load], *, rate: Decimal) -> None:
        if any(p.rate != rate for p in parts):
            raise ValueError("the parts of a summed load share one rate")
        self.parts = list(parts)
        self.rate = rate
        self._sw = self._swx = None
        self.asc = []  # no sorted copy of the whole: every figure asks the parts
        self.n = sum(p.n for p in self.parts)
        self.total = sum(p.total for p in self.parts)
        self.peak = max((p.peak for p in self.parts), default=0)
        self._excess: dict[int, int] = {}  # the searches ask the same few capacities often

    def _index(self, capacity: int) -> int:
        raise NotImplementedError("a summed load has no single sorted order")

    def minutes_above(self, capacity: int) -> int:
        return sum(p.minutes_above(capacity) for p in self.parts)

    def excess(self, capacity: int) -> int:
        found = self._excess.get(capacity)
        if found is None:
            found = self._excess[capacity] = sum(p.excess(capacity) for p in self.parts)
        return found

    def overflow_cost(self, capacity: int) -> Decimal:
        assert self.rate is not None
        return self.rate * self.excess(capacity)


def first_true(pred: Callable[[int], bool], lo: int, hi: int) -> int:
    """The smallest k in [lo, hi] with pred(k) for a monotone pred (hi when none before)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def argmin_convex(cost: Callable[[int], Decimal], lo: int, hi: int) -> int:
    """The smallest minimiser of a convex function of k over [lo, hi]."""
    return first_true(lambda k: cost(k + 1) - cost(k) >= 0, lo, hi)


def coverage_units(load: Load, step: int, coverage: Decimal | None, least: int = 1) -> int:
    """The fewest units (≥ least) serving at least `coverage` of the load's tokens."""
    top = max(least, load.units_to_clear(step))
    if coverage is None or coverage <= 0 or load.total == 0:
        return least
    need = coverage * load.total
    return first_true(lambda k: load.served(k * step) >= need, least, top)


def best_units(load: Load, step: int, unit_cost: Decimal, lo: int) -> int:
    """Units minimising k × unit_cost + overflow, among k ≥ lo (exact, smallest on ties)."""
    hi = max(lo, load.units_to_clear(step))
    return argmin_convex(lambda k: k * unit_cost + load.overflow_cost(k * step), lo, hi)
