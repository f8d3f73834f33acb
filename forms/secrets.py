"""The secret guard: refuse recovery phrases and private keys typed or uploaded into a case, and tell the victim why.

Nobody legitimate ever needs a wallet's recovery phrase or private key, and holding one would make the case file
worth stealing. What counts as a secret:

- A BIP-39 recovery phrase, English or Chinese simplified: see `forms.phrases` for the rules.
- A private key written as 64 hex characters. A transaction hash is also 64 hex characters (after 0x), and victims
  must paste those into the same statements, so:
    * labelled as a key ("private key", "key", "pk", 私钥, 密钥, 秘钥 just before it, or on the same line just after
      it) -> a key, with or without 0x;
    * labelled as a transaction ("tx", "txid", "hash", "transaction", "block", 交易, 哈希, 转账, 区块, or an
      explorer link ending in /tx/) -> not a key;
    * unlabelled: bare 64 hex (how wallets export a key) -> a key; 0x + 64 hex (how explorers and wallets show a
      hash) -> a hash.
  The nearest label wins, and a label before a list of hex strings covers the whole list. A hex key written with
  0x and no label is accepted as a hash: that is the price of never refusing the hashes a case is built on.
- A WIF private key (Bitcoin's base58 form, as wallets export it) with a valid base58check checksum.
- An extended private key: xprv, tprv, yprv, zprv, uprv, vprv (or Yprv, Zprv, Uprv, Vprv) and about 107 base58
  characters. One whose base58check checksum fails is still refused (a mistyped key is still a key).

A finding holds the kind, character offsets and whether a checksum confirmed it: never any part of the secret.
This module logs nothing, and no message it produces quotes the text it scanned.
"""

from __future__ import annotations

import codecs
import enum
import hashlib
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.form import BaseForm
from wtforms.validators import StopValidation

from forms.phrases import find_phrases

# Order of the secp256k1 group: a private key is a number from 1 to this minus one.
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58)}

_HEX_64 = re.compile(r"(?<![0-9A-Za-z])(0[xX])?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_KEY_LABEL = re.compile(
    r"private[\s_-]*key|priv[\s_-]*key|secret[\s_-]*key|\bkeys?\b|\bpk\b|私钥|私鑰|密钥|密鑰|秘钥|私匙|密匙",
    re.IGNORECASE,
)
_TX_LABEL = re.compile(
    r"\btx(?:id|n|hash)?\b|\bhash(?:es)?\b|transactions?|\bblock\b|交易|哈希|转账|轉帳|区块|區塊", re.IGNORECASE
)
_LABEL_BEFORE = 40  # characters looked at before a hex string for its label
_LABEL_AFTER = 24  # and after it, on the same line (Chinese often says "…是我的私钥" after the thing)
_LIST_GAP = re.compile(r"[\s\d.,;:()#*\-、，；：。（）]{0,12}")
_WIF = re.compile(r"(?<![0-9A-Za-z])[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}(?![0-9A-Za-z])")
_EXTENDED_PRIVATE_KEY = re.compile(r"(?<![0-9A-Za-z])[xtyzuvYZUV]prv[0-9A-Za-z]{100,115}(?![0-9A-Za-z])")
_TEXT_CONTENT_TYPES = frozenset(
    {"application/json", "application/xml", "application/csv", "application/yaml", "application/x-yaml"}
)


class SecretKind(enum.StrEnum):
    """What kind of secret was found."""

    MNEMONIC = "mnemonic"
    PRIVATE_KEY = "private_key"
    EXTENDED_PRIVATE_KEY = "extended_private_key"


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """A secret found in text: its kind, where it is (character offsets), whether a checksum confirmed it."""

    kind: SecretKind
    start: int
    end: int
    verified: bool


_WARNINGS = {
    SecretKind.MNEMONIC: _l(
        "This looks like a wallet recovery phrase (the 12 to 24 words that control a wallet). It was not saved, and "
        "it has been removed from your text. Nobody who is really helping you ever needs these words: not us, not "
        "the police, not your wallet's support team. Anyone who has seen them can empty that wallet, so treat it as "
        "compromised: create a new wallet on a clean device (not the phone or computer involved) and move whatever "
        "remains into it."
    ),
    SecretKind.PRIVATE_KEY: _l(
        "This looks like a private key. It was not saved, and it has been removed from your text. Nobody who is "
        "really helping you ever needs a private key: not us, not the police, not your wallet's support team. Anyone "
        "who has seen it can empty that wallet, so treat it as compromised: create a new wallet on a clean device "
        "(not the phone or computer involved) and move whatever remains into it. If it was a transaction hash, copy "
        "it again from the block explorer: a transaction hash starts with 0x."
    ),
    SecretKind.EXTENDED_PRIVATE_KEY: _l(
        "This looks like an extended private key (it starts with xprv or similar), which controls every account in a "
        "wallet. It was not saved, and it has been removed from your text. Nobody who is really helping you ever "
        "needs it: not us, not the police, not your wallet's support team. Anyone who has seen it can empty that "
        "wallet, so treat it as compromised: create a new wallet on a clean device (not the phone or computer "
        "involved) and move whatever remains into it."
    ),
}


def secret_warning(kind: SecretKind | str) -> str:
    """The calm, translated explanation shown when a secret of this kind is refused."""
    return str(_WARNINGS[SecretKind(kind)])


def _context_before(text: str, start: int) -> str:
    """Where the label of a hex string at `start` may be: its line, or the line above when the string opens a line."""
    head, newline, line = text[max(0, start - _LABEL_BEFORE) : start].rpartition("\n")
    if newline and _LIST_GAP.fullmatch(line):
        return head.rpartition("\n")[2]  # a heading such as "交易哈希：" over the string
    return line


def _nearest_label(before: str, after: str) -> re.Pattern[str] | None:
    """Which label (_KEY_LABEL or _TX_LABEL) is nearest to a hex string with this text around it, if any."""
    ends = [(m.end(), label) for label in (_KEY_LABEL, _TX_LABEL) for m in label.finditer(before)]
    if ends:
        return max(ends, key=lambda found: found[0])[1]
    same_line = after.split("\n", 1)[0]
    starts = [(m.start(), label) for label in (_KEY_LABEL, _TX_LABEL) if (m := label.search(same_line))]
    return min(starts, key=lambda found: found[0])[1] if starts else None


def _hex_keys(text: str) -> list[SecretFinding]:
    """Private keys written as 64 hex characters, told apart from transaction hashes (see the module docstring)."""
    findings: list[SecretFinding] = []
    previous: tuple[int, re.Pattern[str] | None] | None = None  # end and label of the previous hex string
    for match in _HEX_64.finditer(text):
        if previous and _LIST_GAP.fullmatch(text, previous[0], match.start()):
            label = previous[1]  # an item of a list: the list's label applies
        else:
            after = text[match.end() : match.end() + _LABEL_AFTER]
            label = _nearest_label(_context_before(text, match.start()), after)
        previous = (match.end(), label)
        if label is _KEY_LABEL or (label is None and match.group(1) is None):
            value = int(match.group()[-64:], 16)
            findings.append(
                SecretFinding(SecretKind.PRIVATE_KEY, match.start(), match.end(), 0 < value < _SECP256K1_ORDER)
            )
    return findings


def _base58check_payload(encoded: str) -> bytes | None:
    """The payload of a base58check string, or None if it is not base58 or its checksum fails."""
    number = 0
    for character in encoded:
        digit = _BASE58_INDEX.get(character)
        if digit is None:
            return None
        number = number * 58 + digit
    leading_zeros = len(encoded) - len(encoded.lstrip("1"))
    raw = b"\0" * leading_zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")
    payload, checksum = raw[:-4], raw[-4:]
    return payload if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum else None


def _base58_keys(text: str) -> list[SecretFinding]:
    """WIF private keys (checksum required) and extended private keys (checksum recorded)."""
    findings = []
    for match in _WIF.finditer(text):
        payload = _base58check_payload(match.group())
        # Version 0x80 (mainnet) or 0xef (testnet), 32 key bytes, and a 0x01 suffix for a compressed key.
        if payload and payload[0] in (0x80, 0xEF) and (len(payload) == 33 or (len(payload) == 34 and payload[-1] == 1)):
            findings.append(SecretFinding(SecretKind.PRIVATE_KEY, match.start(), match.end(), True))
    for match in _EXTENDED_PRIVATE_KEY.finditer(text):
        payload = _base58check_payload(match.group())
        verified = payload is not None and len(payload) == 78
        findings.append(SecretFinding(SecretKind.EXTENDED_PRIVATE_KEY, match.start(), match.end(), verified))
    return findings


def find_secrets(text: str) -> list[SecretFinding]:
    """Every secret in `text`, in order of position; overlapping findings of one kind are merged."""
    found = [SecretFinding(SecretKind.MNEMONIC, start, end, verified) for start, end, verified in find_phrases(text)]
    found += _hex_keys(text) + _base58_keys(text)
    merged: list[SecretFinding] = []
    for finding in sorted(found, key=lambda f: (f.kind, f.start)):
        last = merged[-1] if merged else None
        if last and last.kind == finding.kind and finding.start <= last.end:
            merged[-1] = SecretFinding(
                last.kind, last.start, max(last.end, finding.end), last.verified or finding.verified
            )
        else:
            merged.append(finding)
    return sorted(merged, key=lambda f: (f.start, f.end))


def find_secret(text: str) -> SecretFinding | None:
    """The first secret in `text`, or None."""
    findings = find_secrets(text)
    return findings[0] if findings else None


def redact_secrets(text: str, findings: list[SecretFinding] | None = None) -> str:
    """The text with every secret (by default, every one find_secrets reports) replaced by a marker."""
    marker = _("[removed]")
    pieces, position = [], 0
    for finding in sorted(find_secrets(text) if findings is None else findings, key=lambda f: f.start):
        if finding.start >= position:
            pieces += [text[position : finding.start], marker]
        position = max(position, finding.end)
    return "".join(pieces) + text[position:]


def _decode_leniently(data: bytes, charset: str | None) -> str:
    """Decode an uploaded text file: a BOM decides, else UTF-8, the declared charset, GB18030, lossy UTF-8."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in ("utf-8", charset, "gb18030"):
        if encoding:
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode("utf-8", errors="replace")


def scan_bytes_for_secret(data: bytes, content_type: str | None) -> SecretFinding | None:
    """The first secret in an uploaded text file (offsets into its decoded text), or None; other types are skipped."""
    media_type, _separator, parameters = (content_type or "").partition(";")
    media_type = media_type.strip().lower()
    if not (
        media_type.startswith("text/") or media_type in _TEXT_CONTENT_TYPES or media_type.endswith(("+json", "+xml"))
    ):
        return None
    charset = None
    for parameter in parameters.split(";"):
        name, _equals, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return find_secret(_decode_leniently(data, charset))


class NoSecrets:
    """WTForms validator: refuse text holding a recovery phrase or private key, and take the secret out of the form.

    Put it first in the chain: it stops validation, so the victim reads this explanation and nothing else. The
    secret is replaced by a marker in the field, so the page re-rendered with the error does not send it back.
    """

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        findings = find_secrets(field.data)
        if findings:
            field.data = redact_secrets(field.data, findings)
            field.raw_data = [field.data]
            raise StopValidation(secret_warning(findings[0].kind))
