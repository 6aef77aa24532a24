"""Exact decimal division for money, shared by the catalog (currency conversion) and billing.

Products and sums of prices are exact. A quotient that terminates within 18 decimal places is
exact too; one that does not (x / 60 for minutes, x / 30 for a monthly package's day) is carried
to 18 decimal places, far below a cent, so amounts stay exact under Python's default 28-digit
context wherever a consumer adds them up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

QUOTIENT_PLACES = 18
_QUANTUM = Decimal(1).scaleb(-QUOTIENT_PLACES)


def quotient(numerator: Decimal | int, divisor: Decimal | int) -> Decimal:
    """numerator / divisor, exact when it terminates within 18 places, else to 18 places."""
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(numerator) / Decimal(divisor)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -QUOTIENT_PLACES:
            value = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
        return value
