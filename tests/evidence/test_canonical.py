"""Canonical JSON, record hashes and the evidence hash chain."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from evidence.canonical import (
    GENESIS_CHAIN_HASH,
    LEGACY_SORTED_JSON,
    MAX_EXACT_INTEGER,
    CanonicalFormError,
    EvidenceLink,
    canonical_json,
    chain_hash,
    link_records,
    verify_links,
)
from evidence.models import Capture, RawRecord
from evidence.rpc import RpcReply

SAFE_INTEGERS = st.integers(-MAX_EXACT_INTEGER, MAX_EXACT_INTEGER)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | SAFE_INTEGERS | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def sample_record(result_json: str = '{"status": "0x1", "logs": []}') -> RawRecord:
    """A receipt record as the transport would make it."""
    reply = RpcReply("eth_getTransactionReceipt", ("0x" + "ab" * 32,), result_json, None, "rpc.example.org",
                     datetime(2026, 11, 23, 15, 4, 5, 60, tzinfo=UTC), result=json.loads(result_json))
    return RawRecord.from_reply("receipt", 1, reply)


def test_canonical_form_is_sorted_compact_utf8() -> None:
    value = {"b": [1, True, None], "a": {"y": "é\n\"", "x": -MAX_EXACT_INTEGER}, "A": ""}
    expected = '{"A":"","a":{"x":-9007199254740991,"y":"é\\n\\""},"b":[1,true,null]}'
    assert canonical_json(value) == expected.encode()


# RFC 8785 section 3.2.3: keys are sorted by their UTF-16 code units, so the emoji (a surrogate
# pair, D83D DE00) sorts before U+FB33, where sorting by code point would put it last.
RFC8785_SORTING_INPUT = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\U0001f600": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
}
RFC8785_SORTED_KEYS = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_keys_are_sorted_as_rfc8785_sorts_them() -> None:
    assert list(json.loads(canonical_json(RFC8785_SORTING_INPUT))) == RFC8785_SORTED_KEYS


def test_the_rfc8785_example_without_its_fractions_gives_the_rfc_bytes() -> None:
    # RFC 8785 section 3.2.2, with its "numbers" member reduced to what evidence carries (integers).
    value = json.loads(
        '{"numbers": [0, -0, 9007199254740991, -9007199254740991, 1E2],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}',
        parse_float=lambda text: int(float(text)),
    )
    assert canonical_json(value) == (
        '{"literals":[null,true,false],"numbers":[0,0,9007199254740991,-9007199254740991,100],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()


@pytest.mark.parametrize("value", [
    1.5, {"a": [0.0]}, float("nan"), {1: "non-string key"}, {"a": b"bytes"},
    2**53, -(2**53), {"result": 10**30}, "\ud800 lone surrogate", {"\udfff": 1},
])
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalFormError):
        canonical_json(value)


@given(JSON_VALUES)
def test_the_canonical_form_is_what_any_rfc8785_implementation_writes(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_records_of_the_first_version_keep_their_form() -> None:
    value = {"\ufb33": 1, "\U0001f600": 10**30}
    expected = '{"\ufb33":1,"\U0001f600":1000000000000000000000000000000}'
    assert canonical_json(value, LEGACY_SORTED_JSON) == expected.encode()
    legacy = EvidenceLink(canonical_json(value, LEGACY_SORTED_JSON), "", "", LEGACY_SORTED_JSON)
    digest = hashlib.sha256(legacy.canonical).hexdigest()
    legacy = replace(legacy, sha256=digest, chain_hash=chain_hash(GENESIS_CHAIN_HASH, digest))
    assert verify_links([legacy]).ok
    # The same bytes claimed to be RFC 8785 are not: the keys are out of order and the integer too large.
    assert verify_links([replace(legacy, version=2)]).first_bad_index == 0


@given(JSON_VALUES)
def test_canonical_form_is_a_fixed_point(value: object) -> None:
    once = canonical_json(value)
    assert canonical_json(json.loads(once)) == once


@given(st.dictionaries(st.text(), SAFE_INTEGERS, min_size=2), st.randoms())
def test_key_order_does_not_matter(value: dict, random: object) -> None:
    items = list(value.items())
    random.shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(value)


def test_a_record_hashes_exactly_its_documented_fields() -> None:
    record = sample_record()
    assert record.canonical_json() == (
        b'{"captured_at":"2026-11-23T15:04:05.000060Z","chain_id":1,"error":null,'
        b'"kind":"receipt","method":"eth_getTransactionReceipt",'
        b'"params":["0xabababababababababababababababababababababababababababababababab"],'
        b'"result":{"logs":[],"status":"0x1"},"source":"rpc.example.org"}'
    )
    assert record.sha256 == hashlib.sha256(record.canonical_json()).hexdigest()


def test_insignificant_whitespace_in_the_answer_does_not_change_the_hash() -> None:
    assert sample_record('{"status":"0x1","logs":[]}').sha256 == sample_record(' {"logs" : [ ], "status":"0x1"}').sha256
    assert sample_record('{"status":"0x0","logs":[]}').sha256 != sample_record().sha256


def test_a_record_survives_storage_as_canonical_json() -> None:
    record = sample_record()
    restored = RawRecord.from_canonical_json(record.canonical_json())
    assert restored.sha256 == record.sha256 and restored.result == record.result


def test_chain_starts_at_genesis_and_links_each_record() -> None:
    links = link_records([{"n": 1}, {"n": 2}])
    first_sha = hashlib.sha256(b'{"n":1}').hexdigest()
    assert links[0].sha256 == first_sha
    assert links[0].chain_hash == hashlib.sha256((GENESIS_CHAIN_HASH + first_sha).encode()).hexdigest()
    assert links[1].chain_hash == chain_hash(links[0].chain_hash, links[1].sha256)


def test_a_captured_chain_verifies(captured: Capture) -> None:
    links = link_records(record.canonical_dict() for record in captured.records)
    assert [link.sha256 for link in links] == [record.sha256 for record in captured.records]
    assert verify_links(links).ok


def chain_of(count: int) -> list[EvidenceLink]:
    """A chain of count small records."""
    return link_records({"kind": "block", "n": number} for number in range(count))


def test_a_tampered_record_is_named() -> None:
    links = chain_of(5)
    links[2] = replace(links[2], canonical=links[2].canonical.replace(b'"n":2', b'"n":7'))
    result = verify_links(links)
    assert (result.ok, result.first_bad_index) == (False, 2)
    assert "does not match its sha256" in result.reason


def test_a_record_rehashed_after_tampering_breaks_the_chain() -> None:
    links = chain_of(5)
    forged = links[3].canonical.replace(b'"n":3', b'"n":8')
    links[3] = replace(links[3], canonical=forged, sha256=hashlib.sha256(forged).hexdigest())
    assert verify_links(links).first_bad_index == 3


def test_a_removed_or_reordered_record_is_named() -> None:
    links = chain_of(5)
    assert verify_links(links[:1] + links[2:]).first_bad_index == 1
    assert verify_links([links[0], links[2], links[1], *links[3:]]).first_bad_index == 1


def test_a_record_stored_in_another_form_is_named() -> None:
    links = chain_of(3)
    spaced = links[1].canonical.replace(b":", b": ")
    links[1] = replace(links[1], canonical=spaced, sha256=hashlib.sha256(spaced).hexdigest())
    result = verify_links(links)
    assert (result.first_bad_index, result.reason) == (1, "record 1 is not in canonical form.")


def test_a_chain_continues_from_a_previous_chain_hash() -> None:
    head = chain_of(2)
    tail = link_records([{"n": 9}], previous=head[-1].chain_hash)
    assert verify_links(head + tail).ok
    assert verify_links(tail, previous=head[-1].chain_hash).ok
    assert not verify_links(tail).ok


def test_the_worked_example_in_docs_evidence_is_true() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text(encoding="utf-8")
    record = re.search(r"RECORD='([^']+)'", docs).group(1)
    sha256, chained = re.findall(r"^([0-9a-f]{64})  -", docs, re.MULTILINE)
    assert canonical_json(json.loads(record)) == record.encode() == sample_record().canonical_json()
    assert hashlib.sha256(record.encode()).hexdigest() == sha256
    assert chain_hash(GENESIS_CHAIN_HASH, sha256) == chained
