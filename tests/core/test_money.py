"""Money: exact parsing from text, exact arithmetic, no lost cents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pms_core.money import Money, MoneyError

CENTS = st.integers(min_value=-(10**12), max_value=10**12)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("0.07", 7),
        ("0.10", 10),
        ("0.1", 10),
        ("1,234.50", 123_450),
        ("1234.50", 123_450),
        ("12,345,678.90", 1_234_567_890),
        ("-12", -1200),
        ("+12", 1200),
        ("$5", 500),
        ("-$5.25", -525),
        ("$1,000", 100_000),
        ("(3.00)", -300),
        ("($3.00)", -300),
        (".5", 50),
        ("-.05", -5),
        ("  42.00  ", 4200),
        ("0", 0),
        ("19.99", 1999),  # 19.99 as a float is 19.989999...; text parses exactly
    ],
)
def test_parse_is_exact(text, cents):
    assert Money.parse(text) == Money(cents)


@pytest.mark.parametrize(
    "text",
    [
        "1.234",  # a fraction of a cent is never rounded away
        "0.005",
        "abc",
        "1,23.00",  # bad grouping
        "1,2345",
        "12,34,567",
        "",
        "   ",
        ".",
        "-",
        "$",
        "()",
        "(3.00",  # unbalanced parentheses
        "3.00)",
        "(-3.00)",  # minus and parentheses at once
        "--3",
        "3-",
        "1e3",
        "1 000",
        "3.00 USD",
        "١٢٣",  # non-ASCII digits
        "NaN",
    ],
)
def test_parse_rejects_what_is_not_an_exact_amount(text):
    with pytest.raises(MoneyError):
        Money.parse(text)


@pytest.mark.parametrize("value", [1.5, 0.1, Decimal("1.50"), 150, None])
def test_parse_takes_only_text(value):
    with pytest.raises(TypeError):
        Money.parse(value)


@pytest.mark.parametrize("value", [1.5, 0.1, Decimal("1.50"), "150", True])
def test_money_holds_only_integer_cents(value):
    with pytest.raises(TypeError):
        Money(value)


def test_arithmetic_with_floats_is_refused():
    with pytest.raises(TypeError):
        Money(100) + 0.5
    with pytest.raises(TypeError):
        Money(100) * 1.5
    with pytest.raises(TypeError):
        Money(100) + 1  # a bare int is not money: cents or dollars?


def test_arithmetic_is_exact_in_cents():
    # 0.1 + 0.2 is the classic float error; in cents it is exactly 0.30
    assert Money.parse("0.10") + Money.parse("0.20") == Money.parse("0.30")
    assert Money.parse("100.00") - Money.parse("0.01") == Money(9999)
    assert Money.parse("19.99") * 3 == Money.parse("59.97")
    assert 3 * Money.parse("19.99") == Money.parse("59.97")
    assert -Money.parse("5.00") == Money.parse("-5.00")
    assert abs(Money.parse("-5.00")) == Money.parse("5.00")
    assert Money.sum([Money(1), Money(2), Money(-4)]) == Money(-1)
    assert Money.sum([]) == Money.zero()
    assert not Money(0)
    assert Money(1)


def test_str_and_format():
    assert str(Money(123_450)) == "1234.50"
    assert str(Money(-7)) == "-0.07"
    assert str(Money(0)) == "0.00"
    assert Money(123_450).format() == "$1,234.50"
    assert Money(-123_456_789).format() == "-$1,234,567.89"
    assert Money(5).format() == "$0.05"


@given(CENTS)
def test_str_and_format_round_trip_through_parse(cents):
    m = Money(cents)
    assert Money.parse(str(m)) == m
    assert Money.parse(m.format()) == m


@given(
    CENTS,
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_allocate_never_loses_a_cent(cents, weights):
    parts = Money(cents).allocate(weights)
    assert len(parts) == len(weights)
    assert Money.sum(parts) == Money(cents)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(cents) * weight / total
        # each part is within one cent of its exact share, and on the same side of zero
        assert abs(Decimal(part.cents) - exact) < 1
        if weight == 0:
            assert part == Money(0)
        if cents >= 0:
            assert part.cents >= 0
        else:
            assert part.cents <= 0


def test_allocate_gives_leftover_cents_to_earlier_parts_on_ties():
    assert Money.parse("100.00").allocate([1, 1, 1]) == [Money(3334), Money(3333), Money(3333)]
    assert Money.parse("-0.05").allocate([1, 1]) == [Money(-3), Money(-2)]
    # the largest remainder wins the cent, wherever it is
    assert Money(10).allocate([1, 2]) == [Money(3), Money(7)]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_weights_that_share_nothing(weights):
    with pytest.raises(ValueError):
        Money(100).allocate(weights)


def test_allocate_refuses_float_weights():
    with pytest.raises(TypeError):
        Money(100).allocate([0.5, 0.5])


@pytest.mark.parametrize(
    ("cents", "rate", "expected"),
    [
        (10_000, "0.2", 2_000),  # 20% of 100.00
        (1, "0.5", 1),  # half a cent rounds up
        (1, "0.4999", 0),
        (3, "0.5", 2),  # 1.5 cents -> 2
        (5, "0.5", 3),  # 2.5 cents -> 3 (half-up, not banker's half-even)
        (-1, "0.5", -1),  # half-up is away from zero for negatives
        (-5, "0.5", -3),
        (12_345, "0.8", 9_876),
        (33_333, "0.015", 500),  # 499.995 cents -> 500
    ],
)
def test_percent_rounds_half_up_once(cents, rate, expected):
    assert Money(cents).percent(Decimal(rate)) == Money(expected)


def test_percent_rounds_only_once_however_long_the_rate():
    # 1 cent x 0.4999...9 (29 nines) is just under half a cent: 0, not 1. Rounding the
    # product to 28 digits first would make it 0.5 and then round that up.
    assert Money(1).percent(Decimal("0." + "4" + "9" * 29)) == Money(0)
    assert Money(10**20).percent(Decimal("1")) == Money(10**20)


@given(CENTS, st.decimals(min_value=-2, max_value=2, places=6))
def test_percent_is_the_exact_product_rounded_half_up(cents, rate):
    exact = Decimal(cents) * rate  # exact: at most 19 digits here
    away_from_zero = int(abs(exact) + Decimal("0.5"))
    expected = -away_from_zero if exact < 0 else away_from_zero
    assert Money(cents).percent(rate) == Money(expected)


def test_percent_takes_only_decimal_rates():
    with pytest.raises(TypeError):
        Money(100).percent(0.2)
    with pytest.raises(ValueError):
        Money(100).percent(Decimal("NaN"))
