from decimal import Decimal

import pytest

from sandbox.core import money


@pytest.mark.parametrize(
    ("raw", "currency", "expected"),
    [
        ("25", "USD", "25.00"),
        ("25.5", "USD", "25.50"),
        (25, "USD", "25.00"),
        ("5000", "JPY", "5000"),
        ("1.234", "KWD", "1.234"),
        (7.1, "EUR", "7.10"),
    ],
)
def test_parse_and_format_use_the_currency_minor_units(raw, currency, expected):
    assert money.format_amount(money.parse_amount(raw, currency), currency) == expected


@pytest.mark.parametrize(
    ("raw", "currency", "message"),
    [
        ("1.001", "USD", "at most 2 decimal places"),
        ("10.5", "JPY", "at most 0 decimal places"),
        ("abc", "USD", "not an amount"),
        ("-1", "USD", "greater than zero"),
        ("0", "USD", "greater than zero"),
        ("NaN", "USD", "not an amount"),
        ("Infinity", "USD", "not an amount"),
        (True, "USD", "not an amount"),
        (None, "USD", "not an amount"),
        ("1e20", "USD", "not an amount"),  # no exponents
        ("1e400", "USD", "not an amount"),
        (" 7.10 ", "EUR", "not an amount"),  # no surrounding spaces
        ("١٢", "USD", "not an amount"),  # ASCII digits only
        ("9" * 400, "USD", "too large"),
        (1e17, "USD", "too large"),
        (float("inf"), "USD", "not an amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(raw, currency, message):
    with pytest.raises(ValueError, match=message):
        money.parse_amount(raw, currency)


def test_zero_is_allowed_only_when_asked():
    assert money.parse_amount("0", "USD", allow_zero=True) == 0


@pytest.mark.parametrize("code", ["usd", "US", "USDX", 840, None])
def test_currency_codes_are_three_capital_letters(code):
    with pytest.raises(ValueError, match="ISO 4217"):
        money.check_currency(code)


def test_fee_rule_rounds_half_up_and_never_exceeds_the_amount():
    rule = money.FeeRule(percent=Decimal("2.9"), fixed=Decimal("0.30"))
    assert rule.fee(Decimal("123.23"), "USD") == Decimal("3.87")  # 3.57367 + 0.30
    assert rule.fee(Decimal("0.10"), "USD") == Decimal("0.10")
    assert rule.fee(Decimal("0"), "USD") == Decimal("0.00")
    assert money.FeeRule(percent=Decimal("3.6")).fee(Decimal("5000"), "JPY") == Decimal("180")
