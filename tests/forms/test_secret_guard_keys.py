"""Specification of the secret guard for private keys, extended private keys, uploads and the warning text."""

import codecs
import dataclasses
import hashlib
import hmac
import os

import pytest
from eth_account.hdaccount.mnemonic import Mnemonic
from eth_account.types import Language

from forms.secrets import SecretFinding, SecretKind, find_secret, find_secrets, scan_bytes_for_secret, secret_warning

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
EXTENDED_KEY_VERSIONS = {
    "xprv": "0488ade4",
    "tprv": "04358394",
    "yprv": "049d7878",
    "zprv": "04b2430c",
}


def base58check(payload: bytes) -> str:
    """Bitcoin's base58check encoding, written out so the test needs no library."""
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number, encoded = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        encoded = BASE58[digit] + encoded
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + encoded


def master_extended_private_key(seed: bytes, prefix: str = "xprv") -> str:
    """The BIP-32 master extended private key of a seed, serialised with the version bytes of `prefix`."""
    digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
    key, chain_code = digest[:32], digest[32:]
    version = bytes.fromhex(EXTENDED_KEY_VERSIONS[prefix])
    return base58check(version + b"\0" + b"\0" * 4 + b"\0" * 4 + chain_code + b"\0" + key)


def wif(key: bytes, *, compressed: bool) -> str:
    """A private key in Bitcoin's wallet import format."""
    return base58check(b"\x80" + key + (b"\x01" if compressed else b""))


def hex_key() -> str:
    return os.urandom(32).hex()


def kinds(text: str) -> list[SecretKind]:
    return [finding.kind for finding in find_secrets(text)]


def test_test_helper_matches_the_bip32_test_vector() -> None:
    expected = (
        "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5"
        "kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
    )
    assert master_extended_private_key(bytes(range(16))) == expected


def test_bare_64_hex_characters_are_a_private_key() -> None:
    finding = find_secret(f"he asked for this {hex_key()} and then the money was gone")
    assert finding is not None
    assert finding.kind == SecretKind.PRIVATE_KEY == "private_key"
    assert finding.verified


def test_0x_and_64_hex_without_a_label_is_taken_for_a_transaction_hash() -> None:
    assert find_secret(f"The thief moved my USDT in 0x{hex_key()} at 21:04.") is None


@pytest.mark.parametrize(
    "template",
    [
        "private key: 0x{key}",
        "Private-Key 0X{key}",
        "my key is 0x{key}",
        "pk=0x{key}",
        "私钥：0x{key}",
        "这是我的私钥 {key}",
        "密钥 0x{key}",
        "0x{key} 是我的私钥",
        "0x{key} (private key)",
    ],
)
def test_64_hex_labelled_as_a_key_is_a_private_key_with_or_without_0x(template: str) -> None:
    assert kinds(template.format(key=hex_key())) == [SecretKind.PRIVATE_KEY]


@pytest.mark.parametrize(
    "template",
    [
        "txid: {key}",
        "TX hash {key}",
        "transaction {key}",
        "交易哈希：{key}",
        "转账记录 {key}",
        "https://tronscan.org/#/transaction/{key}",
        "https://etherscan.io/tx/0x{key}",
        "区块 {key}",
        "{key} 是交易哈希",
    ],
)
def test_64_hex_labelled_as_a_transaction_is_not_refused(template: str) -> None:
    assert find_secret(template.format(key=hex_key())) is None


def test_a_heading_labels_every_item_of_the_list_under_it() -> None:
    hashes = "\n".join(f"{n}. {hex_key()}" for n in range(1, 6))
    assert find_secrets(f"被盗的交易哈希：\n{hashes}\n请帮忙查一下") == []
    keys = "\n".join(f"0x{hex_key()}" for _ in range(3))
    assert kinds(f"private keys:\n{keys}") == [SecretKind.PRIVATE_KEY] * 3


def test_the_label_nearest_the_hex_wins() -> None:
    assert find_secret(f"I never gave anyone my private key, but here is the tx hash: 0x{hex_key()}") is None
    assert kinds(f"the transaction was signed with this private key {hex_key()}") == [SecretKind.PRIVATE_KEY]


def test_a_key_mentioned_earlier_in_a_sentence_does_not_turn_a_hash_into_a_key() -> None:
    text = f"I never shared my private key with anyone at all, and the thief's transfer was 0x{hex_key()}."
    assert find_secret(text) is None


def test_hex_strings_of_other_lengths_are_not_keys() -> None:
    address = "0x" + os.urandom(20).hex()
    signature = "0x" + os.urandom(65).hex()
    seed_like = os.urandom(64).hex()
    assert find_secrets(f"{address} {signature} {seed_like} {hex_key()[:63]}") == []


def test_a_hex_string_that_is_no_valid_key_is_still_refused_but_not_verified() -> None:
    finding = find_secret("0" * 64)
    assert finding is not None
    assert not finding.verified


@pytest.mark.parametrize("compressed", [True, False])
def test_wif_private_key_is_found(compressed: bool) -> None:
    finding = find_secret(f"bitcoin key {wif(os.urandom(32), compressed=compressed)} thanks")
    assert finding is not None
    assert finding.kind == SecretKind.PRIVATE_KEY
    assert finding.verified


def test_base58_string_of_wif_shape_with_bad_checksum_is_not_a_key() -> None:
    key = wif(os.urandom(32), compressed=True)
    broken = key[:-1] + ("2" if key[-1] != "2" else "3")
    assert find_secret(broken) is None


@pytest.mark.parametrize("prefix", sorted(EXTENDED_KEY_VERSIONS))
def test_extended_private_key_is_found_and_verified(prefix: str) -> None:
    key = master_extended_private_key(os.urandom(32), prefix)
    assert key.startswith(prefix)
    text = f"Wallet export:\n{key}\n"
    finding = find_secret(text)
    assert finding is not None
    assert finding.kind == SecretKind.EXTENDED_PRIVATE_KEY == "extended_private_key"
    assert finding.verified
    assert text[finding.start : finding.end] == key


def test_mistyped_extended_private_key_is_still_refused_but_not_verified() -> None:
    key = master_extended_private_key(os.urandom(32))
    mistyped = key[:50] + ("a" if key[50] != "a" else "b") + key[51:]
    finding = find_secret(mistyped)
    assert finding is not None
    assert finding.kind == SecretKind.EXTENDED_PRIVATE_KEY
    assert not finding.verified


def test_extended_public_key_is_not_a_secret() -> None:
    xpub = (
        "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265"
        "TMg7usUDFdp6W1EGMcet8"
    )
    assert find_secret(xpub) is None


def test_finding_holds_no_part_of_the_secret() -> None:
    key = hex_key()
    finding = find_secret(key)
    assert [field.name for field in dataclasses.fields(SecretFinding)] == ["kind", "start", "end", "verified"]
    assert all(key[i : i + 6] not in repr(finding) for i in range(0, 58))


@pytest.mark.parametrize("kind", list(SecretKind))
def test_warning_tells_the_victim_calmly_what_happened_and_what_to_do(kind: SecretKind) -> None:
    warning = secret_warning(kind)
    assert "not saved" in warning
    assert "Nobody who is really helping you ever needs" in warning
    assert "compromised" in warning
    assert "new wallet on a clean device" in warning
    assert "!" not in warning
    assert secret_warning(kind.value) == warning


def test_uploaded_utf8_text_file_with_a_phrase_is_refused() -> None:
    phrase = Mnemonic(Language.ENGLISH).generate(12)
    finding = scan_bytes_for_secret(f"notes\n{phrase}\n".encode(), "text/plain")
    assert finding is not None
    assert finding.kind == SecretKind.MNEMONIC


@pytest.mark.parametrize(
    ("encode", "content_type"),
    [
        (lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "text/plain"),
        (lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "text/plain"),
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "text/plain"),
        (lambda text: text.encode("gb18030"), "text/plain"),
        (lambda text: text.encode("gb18030"), "text/csv; charset=GB18030"),
        (lambda text: text.encode("utf-16-le"), 'text/plain; charset="utf-16-le"'),
        (lambda text: text.encode("utf-8"), "application/json"),
    ],
    ids=["utf16le-bom", "utf16be-bom", "utf8-bom", "gb18030", "gb18030-declared", "utf16-declared", "json"],
)
def test_uploaded_chinese_text_in_common_encodings_is_scanned(encode, content_type: str) -> None:
    phrase = Mnemonic(Language.CHINESE_SIMPLIFIED).generate(12)
    data = encode(f'{{"备注": "我的助记词 {phrase}"}}')
    finding = scan_bytes_for_secret(data, content_type)
    assert finding is not None
    assert finding.kind == SecretKind.MNEMONIC


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/octet-stream", None, ""])
def test_uploads_that_are_not_text_are_not_scanned(content_type: str | None) -> None:
    assert scan_bytes_for_secret(hex_key().encode(), content_type) is None


def test_undecodable_bytes_in_a_text_upload_do_not_stop_the_scan() -> None:
    data = b"\x81\xfd garbage \xff\n" + hex_key().encode() + b"\n\xc3"
    finding = scan_bytes_for_secret(data, "text/plain")
    assert finding is not None
    assert finding.kind == SecretKind.PRIVATE_KEY
