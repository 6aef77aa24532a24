"""A deployment's billable overflow calls as time-ordered columns, priced per window.

Forecasts cut the same calls into several windows (to date, the recent rate); columns make each
cut a binary search and each window one batched `rollup_overflow`, the exact pricing accrual
uses, so a window's amount is identical to accruing those calls.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from modeldeck.billing.accrual import OverflowCall
from modeldeck.billing.overflow import DeploymentOverflow, is_billable_overflow, rollup_overflow
from modeldeck.catalog import Catalog
from modeldeck.timeutil import ensure_aware


@dataclass
class CallColumns:
    """Billable calls only (flagged overflow, or longer than the model's max input)."""

    ts: list[float] = field(default_factory=list)  # POSIX timestamps, for window cuts
    input_tokens: list[int] = field(default_factory=list)
    output_tokens: list[int] = field(default_factory=list)
    reasoning_tokens: list[int] = field(default_factory=list)

    def add(self, at: datetime, tokens_in: int, tokens_out: int, reasoning: int) -> None:
        """Append a call (calls must be added in time order)."""
        self.ts.append(ensure_aware(at).timestamp())
        self.input_tokens.append(tokens_in)
        self.output_tokens.append(tokens_out)
        self.reasoning_tokens.append(reasoning)

    @classmethod
    def from_calls(cls, calls: Iterable[OverflowCall], max_input: int | None) -> CallColumns:
        out = cls()
        for c in sorted(calls, key=lambda c: ensure_aware(c.at)):
            if is_billable_overflow(c.overflow, c.input_tokens, max_input):
                out.add(c.at, c.input_tokens, c.output_tokens, c.reasoning_tokens)
        return out

    def amount(
        self,
        lo: datetime,
        hi: datetime,
        deployment: str,
        model: str,
        mode: str,
        catalog: Catalog,
    ) -> tuple[Decimal, str | None, int]:
        """(amount, currency, calls) of the calls in [lo, hi); currency None when there are none."""
        i = bisect_left(self.ts, ensure_aware(lo).timestamp())
        j = bisect_left(self.ts, ensure_aware(hi).timestamp())
        if i >= j:
            return Decimal(0), None, 0
        batch = DeploymentOverflow(
            deployment=deployment,
            model=model,
            mode=mode,
            at=[int(t // 1) for t in self.ts[i:j]],
            input_tokens=self.input_tokens[i:j],
            output_tokens=self.output_tokens[i:j],
            reasoning_tokens=self.reasoning_tokens[i:j],
        )
        days = rollup_overflow([batch], catalog)
        return sum((d.amount for d in days), Decimal(0)), days[0].currency, j - i
