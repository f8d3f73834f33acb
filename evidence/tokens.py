"""Token metadata: the eth_calls that ask a token about itself, their decoding, and a cache.

Real tokens answer in several shapes: symbol() as an ABI string, as bytes32 (MKR and other early
tokens), reverting, or missing altogether (the call returns empty data or reverts). Each shape
decodes to a value or None, never to an exception.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from evidence.models import RawRecord, TokenMetadata
from evidence.rpc import RpcReply

SELECTOR_SYMBOL = "0x95d89b41"
SELECTOR_NAME = "0x06fdde03"
SELECTOR_DECIMALS = "0x313ce567"
# supportsInterface(0x80ac58cd): the ERC-165 question "are you an ERC-721?".
CALL_SUPPORTS_ERC721 = "0x01ffc9a780ac58cd00000000000000000000000000000000000000000000000000000000"
METADATA_CALLS = {"symbol": SELECTOR_SYMBOL, "name": SELECTOR_NAME, "decimals": SELECTOR_DECIMALS,
                  "is_erc721": CALL_SUPPORTS_ERC721}
_FIELD_BY_DATA = {data: name for name, data in METADATA_CALLS.items()}
# Larger "decimals" are nonsense in practice (uint8 in the standard); treat them as unknown.
_MAX_DECIMALS = 255


def metadata_calls(token: str, block_number: int) -> list[tuple[str, list[Any]]]:
    """The eth_calls that fetch one token's symbol, name, decimals and ERC-721 support at a block."""
    return [("eth_call", [{"to": token, "data": data}, hex(block_number)]) for data in METADATA_CALLS.values()]


def _returned_bytes(record: RawRecord) -> bytes | None:
    if record.error_json is not None or not isinstance(record.result, str):
        return None
    try:
        return bytes.fromhex(record.result.removeprefix("0x"))
    except ValueError:
        return None


def _clean_text(text: str) -> str | None:
    # Padding NULs and control characters are never part of a name; keep the rest as the token says.
    text = "".join(character for character in text if character >= " " and character != "\x7f").strip()
    return text or None


def _abi_string(data: bytes) -> str | None:
    # Decoded as bytes, not string: a token may return invalid UTF-8 and still deserve a name.
    try:
        (raw,) = abi_decode(["bytes"], data)
    except DecodingError:
        return None
    return raw.decode("utf-8", errors="replace")


def decode_text(data: bytes | None) -> str | None:
    """Decode a string-returning call: ABI string, else bytes32, else None."""
    if not data:
        return None
    if len(data) >= 64:
        text = _abi_string(data)
        if text is not None:
            return _clean_text(text)
    if len(data) == 32:
        return _clean_text(data.rstrip(b"\x00").decode("utf-8", errors="replace"))
    return None


def decode_uint(data: bytes | None, maximum: int | None = None) -> int | None:
    """Decode the first word as an unsigned integer, or None when absent or above maximum."""
    if not data or len(data) < 32:
        return None
    value = int.from_bytes(data[:32], "big")
    return None if maximum is not None and value > maximum else value


def metadata_from_records(records: Iterable[RawRecord]) -> dict[tuple[int, str], TokenMetadata]:
    """Decode every token's metadata from the token_call records among records, keyed by (chain_id, address)."""
    answers: dict[tuple[int, str], dict[str, RawRecord]] = {}
    for record in records:
        if record.kind != "token_call":
            continue
        call = record.params[0]
        name = _FIELD_BY_DATA.get(call.get("data", ""))
        if name is not None:
            answers.setdefault((record.chain_id, call["to"].lower()), {})[name] = record
    metadata = {}
    for (chain_id, address), calls in answers.items():
        def data(name: str, calls: dict[str, RawRecord] = calls) -> bytes | None:
            return _returned_bytes(calls[name]) if name in calls else None

        metadata[(chain_id, address)] = TokenMetadata(
            chain_id=chain_id,
            address=address,
            symbol=decode_text(data("symbol")),
            name=decode_text(data("name")),
            decimals=decode_uint(data("decimals"), _MAX_DECIMALS),
            is_erc721=decode_uint(data("is_erc721")) == 1,
            records=tuple(record.sha256 for record in calls.values()),
        )
    return metadata


class TokenMetadataCache:
    """Raw metadata records per token, so each token is asked once per process (thread-safe)."""

    def __init__(self) -> None:
        self._records: dict[tuple[int, str], tuple[RawRecord, ...]] = {}
        self._lock = threading.Lock()

    def get(self, chain_id: int, token: str) -> tuple[RawRecord, ...] | None:
        """The cached metadata records of a token, or None when it was never fetched."""
        with self._lock:
            return self._records.get((chain_id, token.lower()))

    def put(self, chain_id: int, token: str, records: Iterable[RawRecord]) -> None:
        """Remember a token's metadata records."""
        with self._lock:
            self._records[(chain_id, token.lower())] = tuple(records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


@dataclass(frozen=True)
class MetadataPlan:
    """The metadata calls still needed for some tokens, to send in a batch alongside other calls.

    Tokens already in the cache are not asked again, but their cached records are still returned
    by records(), so the evidence of a capture always cites every token's metadata.
    """

    chain_id: int
    tokens: tuple[str, ...]
    missing: tuple[str, ...]
    cached: dict[str, tuple[RawRecord, ...]]
    calls: tuple[tuple[str, list[Any]], ...]
    cache: TokenMetadataCache | None

    def records(self, replies: Sequence[RpcReply]) -> list[RawRecord]:
        """Wrap the replies to `calls` (in order) as token_call records, cache them; cached records come first."""
        # Metadata answers may be errors (a reverting or missing symbol()): they are evidence too.
        fetched = [RawRecord.from_reply("token_call", self.chain_id, reply) for reply in replies]
        if self.cache is not None:
            per_token = len(METADATA_CALLS)
            for position, token in enumerate(self.missing):
                self.cache.put(self.chain_id, token, fetched[position * per_token : (position + 1) * per_token])
        cached = [record for token in self.tokens for record in self.cached.get(token, ())]
        return cached + fetched


def plan_metadata(chain_id: int, tokens: Iterable[str], block_number: int,
                  cache: TokenMetadataCache | None) -> MetadataPlan:
    """Plan the metadata calls for tokens (asked at block_number), skipping those the cache holds."""
    tokens = tuple(dict.fromkeys(token.lower() for token in tokens))
    cached = {}
    if cache is not None:
        cached = {token: records for token in tokens if (records := cache.get(chain_id, token)) is not None}
    missing = tuple(token for token in tokens if token not in cached)
    calls = tuple(call for token in missing for call in metadata_calls(token, block_number))
    return MetadataPlan(chain_id, tokens, missing, cached, calls, cache)
