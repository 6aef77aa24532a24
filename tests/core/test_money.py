"""Money: Decimal only, half-up rounding to cents at presentation, currencies never mixed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modeldeck.catalog.exact import quotient
from modeldeck.money import format_amount, round_cents, to_decimal


def test_round_cents_is_half_up() -> None:
    assert round_cents(Decimal("0.005")) == Decimal("0.01")
    assert round_cents(Decimal("0.0049")) == Decimal("0.00")
    assert round_cents(Decimal("121.3333")) == Decimal("121.33")
    assert round_cents(Decimal("2.675")) == Decimal("2.68")  # a float would say 2.67


def test_format_amount() -> None:
    assert format_amount(Decimal("9400")) == "$9,400.00"
    assert format_amount(Decimal("-5264")) == "-$5,264.00"
    assert format_amount(Decimal("0.0126")) == "$0.01"
    assert format_amount(Decimal("0.0126"), exact=True) == "$0.0126"
    assert format_amount(Decimal("12.5"), "CNY") == "12.50 CNY"


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        to_decimal(0.1)
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")


def test_quotient_is_exact_when_it_terminates() -> None:
    assert quotient(Decimal("262.08"), 7) == Decimal("37.44")
    assert quotient(124_080, 30) == Decimal("4136")
    assert quotient(7_280, 60) == Decimal("121.333333333333333333")


@given(st.integers(0, 10**9), st.integers(1, 10**4))
def test_quotient_never_moves_a_cent(numerator: int, divisor: int) -> None:
    from fractions import Fraction

    value = quotient(numerator, divisor)
    assert abs(Fraction(value) - Fraction(numerator, divisor)) <= Fraction(1, 2 * 10**18)
    # Adding quotients in Python's default 28-digit context stays exact.
    assert (value + value) - value == value
