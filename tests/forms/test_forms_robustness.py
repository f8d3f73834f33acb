"""Whatever a victim types, the validators and the secret guard answer with InvalidInput or a result.

How fast they answer 100 KB pastes is measured in bench/inputs.py, not here: a loaded machine would make
a time limit in a test fail for no fault of the code.
"""

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.phrases import CHINESE, ENGLISH
from forms.secrets import SecretFinding, find_secrets, redact_secrets, scan_bytes_for_secret
from forms.validators import (
    InvalidInput,
    check_text_length,
    normalize_email,
    normalize_evm_address,
    normalize_phone,
    normalize_tx_hash,
    parse_amount,
    parse_time_zone,
    split_tx_hashes,
    to_utc,
)

# Pieces that reach the guard's and the validators' interesting paths when strung together at random.
PIECES = st.sampled_from(
    [
        *sorted(ENGLISH)[::97],
        *sorted(CHINESE)[::61],
        " ",
        "\n",
        ", ",
        "，",
        "、",
        "1. ",
        "0x",
        "0X",
        "deadbeef" * 8,
        "ABCDEF0123456789",
        "xprv",
        "9s21ZrQH143K",
        "K",
        "private key: ",
        "私钥",
        "助记词是",
        "tx ",
        "交易哈希",
        "e5",
        ".",
        ",",
        "-",
        "１２３",
        "\u200b",
        "\ufeff",
        "\r\n",
        "@",
        "+86 ",
        "Asia/Shanghai",
    ]
)
TEXT = st.one_of(st.text(), st.lists(PIECES, max_size=80).map("".join))


def accepts_or_refuses(function, *args: object, **kwargs: object) -> None:
    try:
        function(*args, **kwargs)
    except InvalidInput as error:
        assert isinstance(error.message, str) and error.message


@given(TEXT)
def test_secret_guard_never_raises_and_reports_spans_inside_the_text(text: str) -> None:
    findings = find_secrets(text)
    assert all(isinstance(finding, SecretFinding) for finding in findings)
    assert all(0 <= finding.start < finding.end <= len(text) for finding in findings)
    assert isinstance(redact_secrets(text), str)


@given(st.binary(), st.sampled_from(["text/plain", "text/csv; charset=gb18030", "text/plain; charset=bogus", None]))
def test_upload_scan_never_raises(data: bytes, content_type: str | None) -> None:
    finding = scan_bytes_for_secret(data, content_type)
    assert finding is None or isinstance(finding, SecretFinding)


@given(TEXT)
def test_text_validators_raise_nothing_but_invalid_input(text: str) -> None:
    accepts_or_refuses(normalize_evm_address, text)
    accepts_or_refuses(normalize_tx_hash, text)
    accepts_or_refuses(split_tx_hashes, text)
    accepts_or_refuses(parse_amount, text, 6)
    accepts_or_refuses(parse_amount, text, 0)
    accepts_or_refuses(parse_time_zone, text)
    accepts_or_refuses(normalize_email, text)
    accepts_or_refuses(check_text_length, text, max_chars=50)


@given(TEXT, st.sampled_from(["CN", "cn", "US", "XX", "", None]))
def test_phone_validator_raises_nothing_but_invalid_input(text: str, region: str | None) -> None:
    accepts_or_refuses(normalize_phone, text, region)


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)), TEXT)
def test_time_conversion_raises_nothing_but_invalid_input_for_any_zone_name(local: datetime, zone: str) -> None:
    accepts_or_refuses(to_utc, local, zone)


@settings(max_examples=20)
@given(st.one_of(TEXT, st.text(min_size=1, max_size=500)).filter(bool))
def test_guard_reads_100_kb_of_any_text(chunk: str) -> None:
    text = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    findings = find_secrets(text)
    assert all(0 <= finding.start < finding.end <= len(text) for finding in findings)


@settings(max_examples=10)
@given(st.sampled_from(["9", "1,", ".", "0x", "a", "e", "+86 1", "@", "的 "]))
def test_a_100_kb_paste_into_any_field_is_answered(piece: str) -> None:
    text = piece * (100_000 // len(piece))
    for function in (normalize_evm_address, normalize_tx_hash, split_tx_hashes, parse_time_zone, normalize_email):
        accepts_or_refuses(function, text)
    accepts_or_refuses(parse_amount, text, 18)
    accepts_or_refuses(normalize_phone, text, "CN")
    accepts_or_refuses(check_text_length, text, max_chars=10_000)
