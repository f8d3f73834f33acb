"""Specification of the WTForms validator classes, on a form shaped like the report wizard's."""

from datetime import UTC, datetime, timedelta

from eth_account.hdaccount.mnemonic import Mnemonic
from werkzeug.datastructures import MultiDict
from wtforms import DateTimeLocalField, Form, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from forms.secrets import NoSecrets, SecretKind, secret_warning
from forms.validators import (
    DiscoveredAfter,
    EmailAddress,
    EvmAddress,
    PhoneNumber,
    ReportedTime,
    TextLength,
    TimeZoneName,
    TokenAmount,
    TxHash,
    TxHashList,
)

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
HASH_A, HASH_B = "0x" + "a" * 64, "0x" + "b" * 64
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class ReportForm(Form):
    victim_address = StringField(validators=[Optional(), NoSecrets(), EvmAddress()])
    # TxHash alone never accepts a bare 64-hex string (a key's shape), and says so without alarming the victim.
    first_tx_hash = StringField(validators=[Optional(), TxHash()])
    tx_hashes = TextAreaField(validators=[Optional(), NoSecrets(), TxHashList()])
    amount = StringField(validators=[DataRequired(), TokenAmount(6)])
    native_amount = StringField(validators=[Optional(), TokenAmount(lambda form: 18)])
    timezone = StringField(validators=[DataRequired(), TimeZoneName()])
    incident_at = DateTimeLocalField(format=LOCAL_FORMAT, validators=[DataRequired(), ReportedTime("timezone")])
    discovered_at = DateTimeLocalField(
        format=LOCAL_FORMAT,
        validators=[Optional(), ReportedTime("timezone"), DiscoveredAfter("incident_at", "timezone")],
    )
    country = StringField()
    phone = StringField(validators=[Optional(), PhoneNumber(region_field="country")])
    email = StringField(validators=[Optional(), EmailAddress()])
    statement = TextAreaField(validators=[NoSecrets(), TextLength(max_chars=2000)])


def local(moment: datetime) -> str:
    return moment.strftime(LOCAL_FORMAT)


def submit(**fields: str) -> ReportForm:
    incident = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    data = {
        "amount": "1,000.5",
        "timezone": "UTC",
        "incident_at": local(incident),
        "discovered_at": local(incident + timedelta(hours=2)),
        "statement": "They called me pretending to be support.",
    }
    data.update(fields)
    form = ReportForm(MultiDict(data))
    form.validate()
    return form


def test_valid_report_passes_and_fields_hold_canonical_values() -> None:
    form = submit(
        victim_address=CHECKSUMMED.lower(),
        first_tx_hash=HASH_A.upper().replace("0X", "0x"),
        tx_hashes=f"{HASH_A}\r\n{HASH_B}\r\n{HASH_A}",
        native_amount="0.000000000000000001",
        country="CN",
        phone="138 0013 8000",
        email="Victim@QQ.com",
    )
    assert form.errors == {}
    assert form.victim_address.data == CHECKSUMMED
    assert form.first_tx_hash.data == HASH_A
    assert form.tx_hashes.data == f"{HASH_A}\n{HASH_B}"
    assert form.amount.data == "1000.5"
    assert form.native_amount.data == "0.000000000000000001"
    assert form.phone.data == "+8613800138000"
    assert form.email.data == "Victim@qq.com"


def test_empty_optional_fields_are_left_to_optional() -> None:
    assert submit(victim_address="", tx_hashes="  ", phone="").errors == {}


def test_each_invalid_field_gets_its_own_message() -> None:
    errors = submit(
        victim_address=CHECKSUMMED.replace("aAeb", "aaeb"),
        first_tx_hash=HASH_A[2:],
        tx_hashes=f"{HASH_A}\n0x12",
        amount="0.0000001",
        phone="12345",
        country="CN",
        email="victim.qq.com",
        statement="x" * 2001,
    ).errors
    assert "checksum" in errors["victim_address"][0]
    assert "starts with 0x" in errors["first_tx_hash"][0]
    assert errors["tx_hashes"][0].startswith("Transaction hash 2: ")
    assert errors["amount"] == ["This token has at most 6 digits after the decimal point."]
    assert "+86" in errors["phone"][0]
    assert "@" in errors["email"][0]
    assert errors["statement"] == ["At most 2000 characters; you wrote 2001."]


def test_incident_time_in_the_future_is_refused() -> None:
    tomorrow = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    errors = submit(incident_at=local(tomorrow), discovered_at="").errors
    assert "in the future" in errors["incident_at"][0]


def test_discovery_time_before_the_incident_is_refused() -> None:
    incident = datetime(2025, 6, 1, 12, 0)
    errors = submit(incident_at=local(incident), discovered_at=local(incident - timedelta(hours=1))).errors
    assert "earlier than the time it happened" in errors["discovered_at"][0]


def test_times_are_read_in_the_chosen_time_zone() -> None:
    # 10:00 in Shanghai is 02:00 UTC: a discovery at 09:00 UTC-read-as-Shanghai is after an incident at 08:00.
    form = submit(timezone="Asia/Shanghai", incident_at="2025-06-01T08:00", discovered_at="2025-06-01T09:00")
    assert form.errors == {}


def test_unknown_time_zone_is_reported_once_on_the_time_zone_field() -> None:
    errors = submit(timezone="Mars/Base").errors
    assert list(errors) == ["timezone"]


def test_statement_holding_a_recovery_phrase_gets_only_the_secret_warning() -> None:
    phrase = Mnemonic().generate(12)
    form = submit(statement=f"He asked me for my words and I gave him: {phrase}. " + "x" * 2000)
    assert form.errors["statement"] == [secret_warning(SecretKind.MNEMONIC)]


def test_a_refused_secret_is_removed_from_the_field_and_from_the_re_rendered_page() -> None:
    phrase = Mnemonic().generate(12)
    form = submit(statement=f"He asked me for my words and I gave him: {phrase}. My money was gone.")
    kept = "He asked me for my words and I gave him: [removed]. My money was gone."
    assert form.statement.data == kept
    html = form.statement()
    assert phrase not in html
    # Words of the victim's own sentence (such as "money", also a BIP-39 word) may of course stay.
    assert not any(f" {word} " in html for word in phrase.split() if word not in kept.split())


def test_a_phrase_pasted_into_the_address_field_gets_the_secret_warning_not_a_format_error() -> None:
    errors = submit(victim_address=Mnemonic().generate(12)).errors
    assert errors["victim_address"] == [secret_warning(SecretKind.MNEMONIC)]


def test_a_private_key_pasted_among_hashes_gets_the_secret_warning() -> None:
    errors = submit(tx_hashes=f"{HASH_A}\nprivate key: " + "c" * 64).errors
    assert errors["tx_hashes"] == [secret_warning(SecretKind.PRIVATE_KEY)]
