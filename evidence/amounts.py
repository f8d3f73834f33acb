"""Token amounts for people: raw integers in base units, shown as exact decimals (never floats)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

# Enough digits for any uint256 with any decimals: the default context (28 digits) would round.
_EXACT = Context(prec=200)


def to_decimal(value: int, decimals: int | None) -> Decimal | None:
    """The amount in whole units, exactly; None when the token's decimals are unknown."""
    if decimals is None:
        return None
    return Decimal(value).scaleb(-decimals, context=_EXACT)


def _plain(amount: Decimal, grouped: bool) -> str:
    text = format(amount, ",f" if grouped else "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def amount_text(value: int, decimals: int | None) -> str | None:
    """The exact amount as a decimal string ("25000", "3.4999"), or None when decimals are unknown."""
    amount = to_decimal(value, decimals)
    return None if amount is None else _plain(amount, grouped=False)


def format_amount(value: int, decimals: int | None, symbol: str | None, *, places: int = 6) -> str:
    """An amount for display: "25,000 cUSDT", "≈3.499902 ETH"; raw units when decimals are unknown."""
    amount = to_decimal(value, decimals)
    unit = symbol or "units"
    if amount is None:
        return f"{value:,} raw {unit}"
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN, context=_EXACT)
    prefix = "≈" if rounded != amount else ""
    return f"{prefix}{_plain(rounded, grouped=True)} {unit}"
