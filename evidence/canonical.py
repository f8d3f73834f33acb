"""Canonical JSON and the hash chain that make captured evidence tamper-evident.

Rules (version 1):

1. Record. Each captured item is hashed as a JSON object with exactly these keys:
   ``kind`` (string: "transaction", "receipt", "block", "token_call", "chain_id", "head", "logs"),
   ``chain_id`` (integer), ``method`` (string, the JSON-RPC method), ``params`` (array, the
   JSON-RPC params exactly as sent), ``result`` (the JSON value of the response's ``result`` member,
   ``null`` when absent), ``error`` (the JSON value of the response's ``error`` member, ``null`` when
   absent), ``source`` (string, the endpoint's host, with ``:port`` only when the URL names one; never
   the path, query or credentials) and ``captured_at`` (string, the UTC time the HTTP response
   arrived, formatted ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: always six fractional digits and a ``Z``).
2. Canonical form. The object is serialised as JSON with: object keys sorted by Unicode code
   point, at every depth; no whitespace outside strings (separators ``,`` and ``:``); strings
   written as UTF-8 with only ``"``, ``\\`` and the control characters U+0000..U+001F escaped
   (``\\b \\f \\n \\r \\t`` by name, the rest as ``\\u00XX`` with lowercase hex) and every other
   character literal; integers as JSON numbers in decimal with no leading zeros, exponent or
   fraction, of any size; ``true``, ``false``, ``null`` as such; arrays in their given order.
   Floats (and NaN/Infinity) are refused, as are object keys that are not strings. This is what
   Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes for
   such values.
3. Record hash. ``sha256`` is the lowercase hex SHA-256 of the canonical form's UTF-8 bytes.
4. Chain hash. Records of one case are chained in capture order:
   ``chain_hash[i] = lowercase hex SHA-256 of the ASCII bytes of (chain_hash[i-1] + sha256[i])``,
   i.e. of the 128-character concatenation of the two hex strings, where ``chain_hash[-1]`` is the
   genesis value ``GENESIS_CHAIN_HASH``: 64 zeros.
5. Verification recomputes 2-4 from the stored canonical form of each record, in order, and names
   the index of the first record whose canonical form, ``sha256`` or ``chain_hash`` does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CANONICAL_VERSION = 1
GENESIS_CHAIN_HASH = "0" * 64


class CanonicalFormError(ValueError):
    """A value cannot be put in canonical form (a float, a non-string key, an unknown type)."""


def _check(value: Any, path: str) -> None:
    # bool is an int subclass and is fine; float never is: amounts are integers in base units.
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        raise CanonicalFormError(f"{path} is a float ({value!r}): canonical JSON allows integers only.")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalFormError(f"{path} has a non-string key {key!r}.")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _check(item, f"{path}[{position}]")
        return
    raise CanonicalFormError(f"{path} is a {type(value).__name__}, which has no canonical JSON form.")


def canonical_json(value: Any) -> bytes:
    """Return the canonical JSON bytes of value, or raise CanonicalFormError (see the module rules)."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of data."""
    return hashlib.sha256(data).hexdigest()


def chain_hash(previous_chain_hash: str, record_sha256: str) -> str:
    """The chain hash of a record: SHA-256 of the previous chain hash's hex followed by the record's hex."""
    return sha256_hex((previous_chain_hash + record_sha256).encode("ascii"))


@dataclass(frozen=True)
class EvidenceLink:
    """One record as it is stored: its canonical form, its own hash and its place in the chain."""

    canonical: bytes
    sha256: str
    chain_hash: str


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
            recanonical = canonical_json(json.loads(link.canonical.decode("utf-8")))
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
