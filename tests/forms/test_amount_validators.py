"""Specification of token amount parsing: base units and exact decimals, never floats."""

from decimal import Decimal

import pytest

from forms.validators import MAX_BASE_UNITS, InvalidInput, parse_amount


def refusal(value: str, decimals: int = 6) -> str:
    with pytest.raises(InvalidInput) as error:
        parse_amount(value, decimals)
    return error.value.message


@pytest.mark.parametrize(
    ("typed", "decimals", "base_units", "amount"),
    [
        ("1234.56", 6, 1_234_560_000, "1234.56"),
        ("1,234.56", 6, 1_234_560_000, "1234.56"),
        ("1,234,567", 0, 1_234_567, "1234567"),
        ("0.000001", 6, 1, "0.000001"),
        ("1.500000000", 6, 1_500_000, "1.5"),
        (".5", 18, 5 * 10**17, "0.5"),
        ("5.", 2, 500, "5"),
        ("007", 0, 7, "7"),
        (" ７.５ ", 2, 750, "7.5"),
        ("1，234.5", 2, 123_450, "1234.5"),
        ("0.3", 18, 3 * 10**17, "0.3"),
    ],
)
def test_amount_is_read_in_base_units_and_as_an_exact_decimal(
    typed: str, decimals: int, base_units: int, amount: str
) -> None:
    result = parse_amount(typed, decimals)
    assert result == (base_units, Decimal(amount))
    assert isinstance(result[0], int)
    assert isinstance(result[1], Decimal)


def test_more_decimals_than_the_token_has_are_refused_naming_the_limit() -> None:
    assert refusal("0.0000001", 6) == "This token has at most 6 digits after the decimal point."


def test_a_token_without_decimals_takes_whole_numbers_only() -> None:
    assert "whole number" in refusal("1.5", 0)


@pytest.mark.parametrize("typed", ["1e5", "1E-7", "1.5e3", "2,000e2"])
def test_exponent_notation_is_refused(typed: str) -> None:
    assert "exponent" in refusal(typed)


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "inf", "-inf", "abc", "100 USDT", "$100", ".", "1.2.3", "+5"])
def test_things_that_are_not_plain_numbers_are_refused(typed: str) -> None:
    assert "as a number" in refusal(typed)


@pytest.mark.parametrize("typed", ["0", "0.000", "-5", "-0.1", "-1,000"])
def test_zero_and_negative_amounts_are_refused(typed: str) -> None:
    assert refusal(typed) == "Enter an amount greater than zero."


@pytest.mark.parametrize("typed", ["1,5", "12,34.5", "1.234,56", "1,2345", ",123"])
def test_commas_are_only_accepted_between_groups_of_three_digits(typed: str) -> None:
    assert "groups of three digits" in refusal(typed)


def test_empty_amount_is_refused() -> None:
    assert refusal("   ") == "Enter an amount."


def test_the_largest_amount_a_chain_can_hold_is_accepted_and_one_more_is_refused() -> None:
    assert parse_amount(str(MAX_BASE_UNITS), 0)[0] == MAX_BASE_UNITS
    assert refusal(str(MAX_BASE_UNITS + 1), 0) == "This amount is too large."
    assert refusal("9" * 5000, 0) == "This amount is too large."


def test_an_impossible_number_of_decimals_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="decimals") as error:
        parse_amount("1", 78)
    assert not isinstance(error.value, InvalidInput)
