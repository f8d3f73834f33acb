"""Validators for what a victim types: EVM addresses, transaction hashes, token amounts, times, contact details.

Each check is a pure function that returns the canonical value or raises `InvalidInput` with a translated message
meant for the victim; a WTForms validator class wraps each one for the report wizard. Messages never repeat what
was typed: a victim may paste a recovery phrase into any field, and error messages end up in logs and screenshots.

Decisions worth knowing:
- Input is NFKC-normalised first, so the full-width digits and letters of a Chinese input method are accepted.
- A transaction hash must start with 0x. A bare 64-hex string is exactly what a wallet's "export private key"
  shows, and a hash field feeds node queries and evidence, so it is refused with a message rather than guessed at.
- Amounts: a comma is only ever a thousands separator and must sit between groups of three digits ("1,234.56");
  a point is the decimal mark. "1,5" is refused rather than read as 15 or 1.5. No exponents, NaN or Infinity;
  trailing zeros beyond the token's decimals are harmless ("1.500" is fine for a 2-decimal token).
- Local times: see `to_utc` for daylight-saving edges.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import email_validator
import phonenumbers
from eth_utils import is_checksum_address, to_checksum_address
from flask_babel import gettext as _
from wtforms import Field
from wtforms.form import BaseForm
from wtforms.validators import ValidationError

# Phones run a few minutes fast or slow, and people round a time they remember up to the quarter hour.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=15)
# Bitcoin's first block: a date before it is a mistyped year.
EARLIEST_PLAUSIBLE_TIME = datetime(2009, 1, 3, tzinfo=UTC)
# Largest token amount in base units that an EVM chain can hold (uint256).
MAX_BASE_UNITS = 2**256 - 1

# "localtime" is whatever the server is set to, and "Factory" is a placeholder: neither is a victim's zone.
_UNUSABLE_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HEX = re.compile(r"[0-9a-fA-F]*")
_LIST_SEPARATORS = re.compile(r"[\s,;、]+")
_PLAIN_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_EXPONENT_NUMBER = re.compile(r"[\d,.]+[eE][+-]?\d+")  # linear: no nested optional runs to backtrack over


class InvalidInput(ValueError):
    """A value typed by the user cannot be accepted; `message` is translated and safe to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean(value: str) -> str:
    """Fold full-width characters to ASCII, drop the invisible characters phones add when copying, and strip."""
    return unicodedata.normalize("NFKC", value).translate(_INVISIBLE).strip()


def _hex_body(text: str) -> str | None:
    """The part after a 0x prefix, or None when there is no prefix."""
    return text[2:] if text[:2] in ("0x", "0X") else None


def normalize_evm_address(value: str) -> str:
    """Return the EIP-55 checksummed form of an EVM address, or raise InvalidInput saying what is wrong with it."""
    text = _clean(value)
    if not text:
        raise InvalidInput(_("Enter an address."))
    body = _hex_body(text)
    if body is None:
        raise InvalidInput(
            _("An address starts with 0x. Copy the whole address, including 0x, from your wallet or the explorer.")
        )
    if not _HEX.fullmatch(body):
        raise InvalidInput(
            _("An address has only the characters 0-9 and a-f after 0x; this one has others. Copy it again.")
        )
    if len(body) == 64:
        raise InvalidInput(_("This looks like a transaction hash, not an address: an address has 40 characters."))
    if len(body) != 40:
        raise InvalidInput(_("An address has 40 characters after 0x; this one has %(n)d.", n=len(body)))
    address = "0x" + body
    # All-lower and all-upper addresses carry no checksum; mixed case is a checksum and must match (EIP-55).
    if body not in (body.lower(), body.upper()) and not is_checksum_address(address):
        raise InvalidInput(
            _(
                "The capital letters in this address do not match its checksum (EIP-55), so it was probably "
                "mistyped. Copy it again from your wallet or the block explorer."
            )
        )
    return to_checksum_address(address)


def normalize_tx_hash(value: str) -> str:
    """Return a transaction hash as 0x plus 64 lower-case hex digits, or raise InvalidInput saying what is wrong."""
    text = _clean(value)
    if not text:
        raise InvalidInput(_("Enter a transaction hash."))
    body = _hex_body(text)
    if body is None:
        if len(text) == 64 and _HEX.fullmatch(text):
            # Same shape as an exported private key: ask for the 0x form instead of guessing which it is.
            raise InvalidInput(
                _(
                    "A transaction hash starts with 0x: copy it again from the block explorer, including 0x. "
                    "(A private key looks like these 64 characters without 0x; never paste one anywhere.)"
                )
            )
        raise InvalidInput(_("A transaction hash starts with 0x, followed by 64 characters from 0-9 and a-f."))
    if not _HEX.fullmatch(body):
        raise InvalidInput(
            _("A transaction hash has only the characters 0-9 and a-f after 0x; this one has others. Copy it again.")
        )
    if len(body) == 40:
        raise InvalidInput(_("This looks like an address, not a transaction hash: a hash has 64 characters."))
    if len(body) != 64:
        raise InvalidInput(_("A transaction hash has 64 characters after 0x; this one has %(n)d.", n=len(body)))
    return "0x" + body.lower()


def merge_tx_hashes(hashes: Iterable[str]) -> list[str]:
    """Normalise transaction hashes and drop repeats, keeping the order in which each was first given."""
    merged: dict[str, None] = {}
    for position, value in enumerate(hashes, start=1):
        try:
            merged.setdefault(normalize_tx_hash(value))
        except InvalidInput as error:
            raise InvalidInput(_("Transaction hash %(n)d: %(reason)s", n=position, reason=error.message)) from None
    return list(merged)


def split_tx_hashes(text: str) -> list[str]:
    """Read transaction hashes pasted one per line (or separated by spaces or commas) and merge them."""
    return merge_tx_hashes(part for part in _LIST_SEPARATORS.split(_clean(text)) if part)


def parse_amount(value: str, decimals: int) -> tuple[int, Decimal]:
    """Read a positive token amount; return it in base units and as an exact Decimal, or raise InvalidInput."""
    if not 0 <= decimals <= 77:
        raise ValueError(f"a token cannot have {decimals} decimals")
    text = _clean(value)
    if not text:
        raise InvalidInput(_("Enter an amount."))
    negative = text.startswith("-")
    number = text[1:] if negative else text
    if _EXPONENT_NUMBER.fullmatch(number):
        raise InvalidInput(_("Write the amount in full, without an exponent: for example 0.0001 rather than 1e-4."))
    if "," in number:
        if not _GROUPED_NUMBER.fullmatch(number):
            raise InvalidInput(
                _("Use commas only between groups of three digits, and a point for decimals: for example 1,234.56.")
            )
        number = number.replace(",", "")
    match = _PLAIN_NUMBER.fullmatch(number)
    if match is None or not any(c.isdigit() for c in number):
        raise InvalidInput(
            _("Enter the amount as a number, for example 1234.56, without the token name or currency sign.")
        )
    if negative:
        raise InvalidInput(_("Enter an amount greater than zero."))
    whole, fraction = match.group(1).lstrip("0"), (match.group(2) or "").rstrip("0")
    if len(fraction) > decimals:
        if decimals == 0:
            raise InvalidInput(_("This token has no decimal places: enter a whole number."))
        raise InvalidInput(_("This token has at most %(decimals)d digits after the decimal point.", decimals=decimals))
    if len(whole) > 78:  # more digits than 2**256 has: refuse before building a huge integer
        raise InvalidInput(_("This amount is too large."))
    base_units = int((whole or "0") + fraction.ljust(decimals, "0"))
    if base_units == 0:
        raise InvalidInput(_("Enter an amount greater than zero."))
    if base_units > MAX_BASE_UNITS:
        raise InvalidInput(_("This amount is too large."))
    return base_units, Decimal(f"{whole or '0'}.{fraction}" if fraction else whole)


@functools.cache
def _zone_names() -> frozenset[str]:
    """Time zone names a victim may choose (reading the zone database once per process)."""
    return frozenset(zoneinfo.available_timezones() - _UNUSABLE_ZONES)


def parse_time_zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the IANA time zone called `name` (for example Asia/Shanghai), or raise InvalidInput."""
    key = name.strip()
    if key not in _zone_names():
        raise InvalidInput(_("Unknown time zone: choose one from the list."))
    return zoneinfo.ZoneInfo(key)


def to_utc(local: datetime, tz_name: str) -> datetime:
    """Read a naive local date-time in the zone `tz_name` and return it as an aware UTC datetime.

    Daylight-saving edges are resolved without asking: a time that happens twice (clocks go back) is read as its
    first occurrence, and a time that never happens (clocks go forward) with the offset in force just before the
    change, so 02:30 on a spring-forward night in New York is 07:30 UTC (03:30 summer time).
    """
    if local.tzinfo is not None:
        raise ValueError("to_utc expects a naive local time")
    return local.replace(tzinfo=parse_time_zone(tz_name), fold=0).astimezone(UTC)


def check_reported_time(moment: datetime, *, now: datetime | None = None) -> None:
    """Refuse an aware time that lies in the future (beyond clock skew) or before any cryptocurrency existed."""
    if moment > (now or datetime.now(UTC)) + CLOCK_SKEW_ALLOWANCE:
        raise InvalidInput(_("This time is in the future. Check the date, the time and the time zone."))
    if moment < EARLIEST_PLAUSIBLE_TIME:
        raise InvalidInput(_("Check the year: this date is before any cryptocurrency existed."))


def check_discovered_after(incident_at: datetime, discovered_at: datetime) -> None:
    """Refuse a discovery time earlier than the incident it is about."""
    if discovered_at < incident_at:
        raise InvalidInput(
            _("The time you noticed the loss is earlier than the time it happened. Check both dates and times.")
        )


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """Return a phone number in E.164 form (+8613800138000), reading national numbers in `default_region`."""
    text = _clean(value)
    if not text:
        raise InvalidInput(_("Enter a phone number."))
    region = default_region.upper() if default_region else None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        if region is None:
            raise InvalidInput(_("Check the phone number, and start it with + and the country code (such as +86)."))
        code = phonenumbers.country_code_for_region(region)
        raise InvalidInput(
            _(
                "Check the phone number. If it is not a +%(code)d number, start it with + and the country code.",
                code=code,
            ),
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    """Return an email address in normalised form, checking its syntax only (no DNS lookups)."""
    text = _clean(value)
    if not text:
        raise InvalidInput(_("Enter an email address."))
    if "@" not in text:
        raise InvalidInput(_("An email address contains @, for example name@example.com."))
    try:
        return email_validator.validate_email(text, check_deliverability=False).normalized
    except email_validator.EmailNotValidError:
        raise InvalidInput(_("This email address is not valid. Check it for typos, such as spaces.")) from None


def check_text_length(text: str, *, max_chars: int, min_chars: int = 0) -> str:
    """Return the text with browser line breaks (CRLF) as LF, or raise InvalidInput if it is too short or long."""
    # Browsers count a line break as one character in a textarea's counter but send it as two.
    normalized = text.replace("\r\n", "\n")
    n = len(normalized)
    if n > max_chars:
        raise InvalidInput(_("At most %(max)d characters; you wrote %(n)d.", max=max_chars, n=n))
    if n < min_chars:
        raise InvalidInput(_("At least %(min)d characters, please; you wrote %(n)d.", min=min_chars, n=n))
    return normalized


@contextlib.contextmanager
def _shown_under_the_field() -> Iterator[None]:
    """Turn InvalidInput into the ValidationError that WTForms shows under the field."""
    try:
        yield
    except InvalidInput as error:
        raise ValidationError(error.message) from None


class _Normalizing:
    """Base for WTForms validators that check a text field and put its canonical form back in `field.data`.

    Empty input is left alone: whether a field is required is for DataRequired or Optional to say.
    """

    def normalize(self, form: BaseForm, value: str) -> str:
        """Return the canonical form of `value`, or raise InvalidInput."""
        raise NotImplementedError

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not isinstance(field.data, str) or not field.data.strip():
            return
        with _shown_under_the_field():
            field.data = self.normalize(form, field.data)


class EvmAddress(_Normalizing):
    """An EVM address; leaves the EIP-55 checksummed form in the field."""

    def normalize(self, form: BaseForm, value: str) -> str:
        """See normalize_evm_address."""
        return normalize_evm_address(value)


class TxHash(_Normalizing):
    """One transaction hash; leaves the lower-case 0x form in the field."""

    def normalize(self, form: BaseForm, value: str) -> str:
        """See normalize_tx_hash."""
        return normalize_tx_hash(value)


class TxHashList(_Normalizing):
    """Several transaction hashes in a text area; leaves them normalised, without repeats, one per line."""

    def normalize(self, form: BaseForm, value: str) -> str:
        """See split_tx_hashes."""
        return "\n".join(split_tx_hashes(value))


class TokenAmount(_Normalizing):
    """A token amount with at most `decimals` decimals (a number, or a function of the form for a chosen token).

    Leaves the plain decimal string in the field; call parse_amount again for the base units.
    """

    def __init__(self, decimals: int | Callable[[BaseForm], int]) -> None:
        self.decimals = decimals

    def normalize(self, form: BaseForm, value: str) -> str:
        """See parse_amount."""
        decimals = self.decimals(form) if callable(self.decimals) else self.decimals
        return format(parse_amount(value, decimals)[1], "f")


class TimeZoneName(_Normalizing):
    """An IANA time zone name such as Asia/Shanghai."""

    def normalize(self, form: BaseForm, value: str) -> str:
        """See parse_time_zone."""
        return parse_time_zone(value).key


class PhoneNumber(_Normalizing):
    """A phone number, read in the country chosen in `region_field` (an ISO code such as CN); leaves E.164."""

    def __init__(self, region_field: str | None = None) -> None:
        self.region_field = region_field

    def normalize(self, form: BaseForm, value: str) -> str:
        """See normalize_phone."""
        region = form[self.region_field].data if self.region_field else None
        return normalize_phone(value, region if isinstance(region, str) else None)


class EmailAddress(_Normalizing):
    """An email address (syntax only, no DNS); leaves the normalised form."""

    def normalize(self, form: BaseForm, value: str) -> str:
        """See normalize_email."""
        return normalize_email(value)


class TextLength(_Normalizing):
    """Free text between `min_chars` and `max_chars` characters, counted as the browser counts them."""

    def __init__(self, max_chars: int, min_chars: int = 0) -> None:
        self.max_chars = max_chars
        self.min_chars = min_chars

    def normalize(self, form: BaseForm, value: str) -> str:
        """See check_text_length."""
        return check_text_length(value, max_chars=self.max_chars, min_chars=self.min_chars)


def _field_utc(form: BaseForm, field: Field, timezone_field: str) -> datetime | None:
    """The field's local date-time in UTC, or None when it or the time zone is missing or invalid (reported there)."""
    if not isinstance(field.data, datetime) or field.data.tzinfo is not None:
        return None
    tz_name = form[timezone_field].data
    try:
        return to_utc(field.data, tz_name) if isinstance(tz_name, str) else None
    except InvalidInput:
        return None


class ReportedTime:
    """A local date-time, in the zone chosen in `timezone_field`, that is neither in the future nor implausibly old."""

    def __init__(self, timezone_field: str) -> None:
        self.timezone_field = timezone_field

    def __call__(self, form: BaseForm, field: Field) -> None:
        moment = _field_utc(form, field, self.timezone_field)
        if moment is not None:
            with _shown_under_the_field():
                check_reported_time(moment)


class DiscoveredAfter:
    """A discovery date-time that is not earlier than the incident time in `incident_field` (same time zone)."""

    def __init__(self, incident_field: str, timezone_field: str) -> None:
        self.incident_field = incident_field
        self.timezone_field = timezone_field

    def __call__(self, form: BaseForm, field: Field) -> None:
        discovered_at = _field_utc(form, field, self.timezone_field)
        incident_at = _field_utc(form, form[self.incident_field], self.timezone_field)
        if discovered_at is not None and incident_at is not None:
            with _shown_under_the_field():
                check_discovered_after(incident_at, discovered_at)
