"""Plain frozen dataclasses that evidence returns: raw records, decoded movements, calls, captures.

Addresses and hashes are lowercase 0x-hex strings throughout; amounts are integers in base units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from evidence.canonical import CANONICAL_VERSION, canonical_json, sha256_hex
from evidence.rpc import RpcReply

# What a record was captured for; part of its canonical form.
RECORD_KINDS = ("transaction", "receipt", "block", "token_call", "chain_id", "head", "logs")
MOVEMENT_KINDS = ("native", "erc20", "erc721", "approval")


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with six fractional digits and a Z, as canonical records write captured_at."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class RawRecord:
    """One JSON-RPC answer before decoding: result_json/error_json as the node sent them, hashed in canonical form."""

    kind: str
    chain_id: int
    method: str
    params: tuple[Any, ...]
    result_json: str | None
    error_json: str | None
    source: str
    captured_at: datetime

    @classmethod
    def from_reply(cls, kind: str, chain_id: int, reply: RpcReply) -> RawRecord:
        """Wrap an RPC reply as a record of the given kind."""
        if kind not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        record = cls(kind, chain_id, reply.method, reply.params, reply.result_json, reply.error_json, reply.source,
                     reply.captured_at)
        # Reuse the values the transport already parsed rather than parsing the text again.
        record.__dict__["result"] = reply.result
        record.__dict__["error"] = reply.error
        return record

    @classmethod
    def from_canonical_json(cls, data: bytes | str, version: int = CANONICAL_VERSION) -> RawRecord:
        """Rebuild a record from its stored canonical form (result/error text is then the canonical JSON)."""
        value = json.loads(data)

        def text(member: Any) -> str | None:
            return None if member is None else canonical_json(member, version).decode("utf-8")

        return cls(
            kind=value["kind"], chain_id=value["chain_id"], method=value["method"], params=tuple(value["params"]),
            result_json=text(value["result"]), error_json=text(value["error"]), source=value["source"],
            captured_at=datetime.strptime(value["captured_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        )

    @cached_property
    def result(self) -> Any:
        """The parsed result (None when the node answered null or with an error)."""
        return None if self.result_json is None else json.loads(self.result_json)

    @cached_property
    def error(self) -> Any:
        """The parsed JSON-RPC error object, or None."""
        return None if self.error_json is None else json.loads(self.error_json)

    def canonical_dict(self) -> dict[str, Any]:
        """The record as evidence/canonical.py hashes it."""
        return {
            "kind": self.kind, "chain_id": self.chain_id, "method": self.method, "params": list(self.params),
            "result": self.result, "error": self.error, "source": self.source,
            "captured_at": format_timestamp(self.captured_at),
        }

    def canonical_json(self) -> bytes:
        """The record's canonical JSON bytes."""
        return canonical_json(self.canonical_dict())

    @cached_property
    def sha256(self) -> str:
        """Lowercase hex SHA-256 of the canonical form: the id other objects use to cite this record."""
        return sha256_hex(self.canonical_json())


@dataclass(frozen=True)
class TokenMetadata:
    """What a token contract said about itself; None where a call reverted, was missing or made no sense."""

    chain_id: int
    address: str
    symbol: str | None
    name: str | None
    decimals: int | None
    is_erc721: bool
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class Movement:
    """A value movement: native coin, ERC-20 or ERC-721 transfer, or an approval granted.

    For approvals, from_address is the owner and to_address the spender or operator; value is the
    allowance (approval_scope "amount"), the token id ("token") or 1/0 for granted/revoked ("all").
    source_record is the sha256 of the raw record it was decoded from (the receipt for logs, the
    transaction for native value); supporting_records cite the block (timestamp), receipt (status)
    and token calls (symbol, decimals) that completed it.
    """

    kind: str
    chain_id: int
    tx_hash: str
    log_index: int | None
    block_number: int
    timestamp: datetime
    tx_status: int | None
    tx_from: str
    tx_to: str | None
    token: str | None
    from_address: str
    to_address: str | None
    value: int
    decimals: int | None
    symbol: str | None
    source_record: str
    supporting_records: tuple[str, ...] = ()
    approval_scope: str | None = None


@dataclass(frozen=True)
class ContractCall:
    """A recognised token call in a transaction's input (approve, permit, transferFrom, ...)."""

    chain_id: int
    tx_hash: str
    block_number: int
    tx_status: int | None
    caller: str
    contract: str
    function: str
    selector: str
    args: tuple[tuple[str, str | int | bool], ...]
    source_record: str

    def arg(self, name: str) -> str | int | bool | None:
        """One decoded argument by name, or None when the function has no such argument."""
        return dict(self.args).get(name)


@dataclass(frozen=True)
class Capture:
    """Everything captured for a set of reported transactions, all-or-nothing.

    records holds every raw response in capture order (ready for hashing and chaining), including
    the null answers that prove a hash was not found. found lists the mined transactions;
    not_found the hashes the node did not know; pending those known but not yet in a block.
    """

    chain_id: int
    head_block: int
    records: tuple[RawRecord, ...]
    found: tuple[str, ...]
    not_found: tuple[str, ...]
    pending: tuple[str, ...] = ()
    captured_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def confirmations(self, block_number: int) -> int:
        """Blocks on top of block_number at capture time, itself included."""
        return max(self.head_block - block_number + 1, 0)


@dataclass(frozen=True)
class TheftLabel:
    """A theft pattern recognised in decoded movements (see evidence/patterns.py for the rules)."""

    pattern: str
    chain_id: int
    tx_hash: str
    log_index: int | None
    victim: str
    counterparty: str | None
    token: str | None
    value: int
    approval_tx_hash: str | None = None
    explanation: str = ""


@dataclass(frozen=True)
class Decoded:
    """What decode_records derives from raw records: movements and calls in chain order, token metadata."""

    movements: tuple[Movement, ...]
    calls: tuple[ContractCall, ...]
    tokens: dict[str, TokenMetadata]
