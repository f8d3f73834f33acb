"""Canonical JSON and the hash chain that make captured evidence tamper-evident.

Rules (version 2, RFC 8785; every record captured from now on):

1. Record. Each captured item is hashed as a JSON object with exactly these keys:
   ``kind`` (string: "transaction", "receipt", "block", "token_call", "chain_id", "head", "logs"),
   ``chain_id`` (integer), ``method`` (string, the JSON-RPC method), ``params`` (array, the
   JSON-RPC params exactly as sent), ``result`` (the JSON value of the response's ``result`` member,
   ``null`` when absent), ``error`` (the JSON value of the response's ``error`` member, ``null`` when
   absent), ``source`` (string, the endpoint's host, with ``:port`` only when the URL names one; never
   the path, query or credentials) and ``captured_at`` (string, the UTC time the HTTP response
   arrived, formatted ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: always six fractional digits and a ``Z``).
   The node's response text itself is not kept: its values are, in this object, but not its
   whitespace, member order or escapes.
2. Canonical form. The object is serialised with the JSON Canonicalization Scheme of RFC 8785
   (JCS): object keys sorted by their UTF-16 code units, at every depth; no whitespace; strings as
   UTF-8 with only ``"``, ``\\`` and U+0000..U+001F escaped (``\\b \\f \\n \\r \\t`` by name, the rest
   as ``\\u00XX`` with lowercase hex); numbers as ECMAScript writes them. Evidence holds integers
   only, so one more restriction applies before serialising: floats (and NaN/Infinity), integers
   outside the range RFC 8785 can carry exactly (beyond +/-(2**53 - 1)), strings that are not valid
   Unicode (lone surrogates) and object keys that are not strings are refused. Any JCS
   implementation (the ``rfc8785`` package for Python, ``canonicalize`` for JavaScript, ...)
   produces the same bytes from the stored JSON.
3. Record hash. ``sha256`` is the lowercase hex SHA-256 of the canonical form's UTF-8 bytes.
4. Chain hash. Records of one case are chained in capture order:
   ``chain_hash[i] = lowercase hex SHA-256 of the ASCII bytes of (chain_hash[i-1] + sha256[i])``,
   i.e. of the 128-character concatenation of the two hex strings, where ``chain_hash[-1]`` is the
   genesis value ``GENESIS_CHAIN_HASH``: 64 zeros.
5. Verification recomputes 2-4 from the stored canonical form of each record, in order, each in the
   version it was written in, and names the index of the first record whose canonical form,
   ``sha256`` or ``chain_hash`` does not match.

Version 1 (records captured before RFC 8785 was adopted; verified, never written): as version 2
but serialised as Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, which sorts keys by code point and writes integers of any size. For integers
within +/-(2**53 - 1) and keys without characters beyond U+FFFF the two versions give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

LEGACY_SORTED_JSON = 1
JCS = 2
CANONICAL_VERSION = JCS
CANONICAL_VERSIONS = (LEGACY_SORTED_JSON, JCS)
GENESIS_CHAIN_HASH = "0" * 64
MAX_EXACT_INTEGER = 2**53 - 1


class CanonicalFormError(ValueError):
    """A value cannot be put in canonical form (a float, a non-string key, an unknown type, ...)."""


def _check(value: Any, path: str, version: int) -> None:
    # bool is an int subclass and is fine; float never is: amounts are integers in base units.
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if version >= JCS and abs(value) > MAX_EXACT_INTEGER:
            raise CanonicalFormError(f"{path} is an integer beyond +/-(2**53 - 1), which RFC 8785 cannot carry.")
        return
    if isinstance(value, str):
        if version >= JCS and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise CanonicalFormError(f"{path} is not valid Unicode (a lone surrogate).") from None
        return
    if isinstance(value, float):
        raise CanonicalFormError(f"{path} is a float ({value!r}): canonical JSON allows integers only.")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalFormError(f"{path} has a non-string key {key!r}.")
            _check(key, f"{path} key", version)
            _check(item, f"{path}.{key}", version)
        return
    if isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _check(item, f"{path}[{position}]", version)
        return
    raise CanonicalFormError(f"{path} is a {type(value).__name__}, which has no canonical JSON form.")


def check_value(value: Any) -> None:
    """Raise CanonicalFormError unless value has a canonical form in the current version."""
    _check(value, "$", CANONICAL_VERSION)


def canonical_json(value: Any, version: int = CANONICAL_VERSION) -> bytes:
    """Return the canonical JSON bytes of value in the given version, or raise CanonicalFormError."""
    if version not in CANONICAL_VERSIONS:
        raise CanonicalFormError(f"there is no canonical form version {version}.")
    _check(value, "$", version)
    if version == LEGACY_SORTED_JSON:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as error:
        raise CanonicalFormError(str(error)) from None


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of data."""
    return hashlib.sha256(data).hexdigest()


def chain_hash(previous_chain_hash: str, record_sha256: str) -> str:
    """The chain hash of a record: SHA-256 of the previous chain hash's hex followed by the record's hex."""
    return sha256_hex((previous_chain_hash + record_sha256).encode("ascii"))


@dataclass(frozen=True)
class EvidenceLink:
    """One record as it is stored: its canonical form (in its version), its own hash and its place in the chain."""

    canonical: bytes
    sha256: str
    chain_hash: str
    version: int = CANONICAL_VERSION


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of verify_links: ok, or the first bad index and why."""

    ok: bool
    checked: int
    first_bad_index: int | None = None
    reason: str | None = None


def link_records(records: Iterable[Mapping[str, Any]], previous: str = GENESIS_CHAIN_HASH) -> list[EvidenceLink]:
    """Canonicalise, hash and chain records in order, continuing from the previous chain hash."""
    links = []
    for record in records:
        canonical = canonical_json(record)
        digest = sha256_hex(canonical)
        previous = chain_hash(previous, digest)
        links.append(EvidenceLink(canonical=canonical, sha256=digest, chain_hash=previous))
    return links


def verify_links(links: Sequence[EvidenceLink], previous: str = GENESIS_CHAIN_HASH) -> ChainVerification:
    """Recompute every hash from the stored canonical forms and report the first record that does not match."""
    for index, link in enumerate(links):
        try:
            recanonical = canonical_json(json.loads(link.canonical.decode("utf-8")), link.version)
        except (UnicodeDecodeError, ValueError) as error:
            return ChainVerification(False, index, index, f"record {index} is not valid canonical JSON: {error}")
        if recanonical != link.canonical:
            return ChainVerification(False, index, index, f"record {index} is not in canonical form.")
        if sha256_hex(link.canonical) != link.sha256:
            return ChainVerification(False, index, index, f"record {index}: its content does not match its sha256.")
        expected = chain_hash(previous, link.sha256)
        if expected != link.chain_hash:
            reason = f"record {index}: its chain hash does not follow from the previous one."
            return ChainVerification(False, index, index, reason)
        previous = link.chain_hash
    return ChainVerification(True, len(links))
