"""Decode raw records into value movements and recognised calls: pure functions, no network.

Logs are read the way ethereum-etl reads them, from topics and data words rather than through an
ABI, so every shape real tokens emit is understood:

- ``Transfer(address,address,uint256)``: the indexed topics after topic 0 followed by the 32-byte
  words of data must make exactly three values (from, to, value). Four topics (token id indexed)
  is ERC-721; three topics and one data word is ERC-20; variants with fewer indexed fields (values
  in data) are ERC-721 when the token answers supportsInterface(0x80ac58cd) with true, else ERC-20.
- ``Approval(address,address,uint256)``: the same layout (owner, spender, value); four topics, or an
  ERC-721 token, makes it a one-token approval (approval_scope "token"), otherwise an allowance
  ("amount"). ``ApprovalForAll(address,address,bool)`` is an operator approval ("all", value 1/0).
- Native value: a transaction's ``value`` above zero, from its sender to its recipient (to the
  created contract for a deployment).

A receipt's ``status`` gives tx_status 1 (success) or 0 (failed: nothing moved, and there are no
logs); receipts from before Byzantium have a ``root`` and no status, and decode with tx_status None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evidence.calls import recognise_call
from evidence.models import ContractCall, Decoded, Movement, RawRecord, TokenMetadata
from evidence.tokens import metadata_from_records

TOPIC_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
TOPIC_APPROVAL = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"
TOPIC_APPROVAL_FOR_ALL = "0x17307eab39ab6107e8899845ad3d59bd9653f200f220920489ca2b5937696c31"
TOKEN_EVENT_TOPICS = (TOPIC_TRANSFER, TOPIC_APPROVAL, TOPIC_APPROVAL_FOR_ALL)


def hex_int(value: str | None) -> int | None:
    """Parse a JSON-RPC quantity ("0x1a"), or None when absent."""
    return None if value is None else int(value, 16)


def _words(data: str) -> list[str]:
    body = data.removeprefix("0x")
    if len(body) % 64:
        return []
    return ["0x" + body[start : start + 64] for start in range(0, len(body), 64)]


def _address(word: str) -> str:
    return "0x" + word[-40:].lower()


def receipt_status(receipt: dict[str, Any]) -> int | None:
    """1 or 0 from a receipt's status; None for pre-Byzantium receipts, which carry a state root instead."""
    return hex_int(receipt.get("status"))


def _log_values(log: dict[str, Any]) -> list[str] | None:
    values = [topic.lower() for topic in log["topics"][1:]] + _words(log.get("data", "0x"))
    return values if len(values) == 3 else None


def _log_movement(log: dict[str, Any], metadata: TokenMetadata | None) -> tuple[str, str | None, list[str]] | None:
    """Classify one log as (kind, approval_scope, [from, to, value]) or None when it is no token event."""
    topics = log.get("topics") or []
    if not topics:
        return None
    values = _log_values(log)
    if values is None:
        return None
    topic0 = topics[0].lower()
    is_erc721 = len(topics) == 4 or (len(topics) < 3 and metadata is not None and metadata.is_erc721)
    if topic0 == TOPIC_TRANSFER:
        return ("erc721" if is_erc721 else "erc20"), None, values
    if topic0 == TOPIC_APPROVAL:
        return "approval", ("token" if is_erc721 else "amount"), values
    if topic0 == TOPIC_APPROVAL_FOR_ALL:
        return "approval", "all", values
    return None


@dataclass(frozen=True)
class LogEvent:
    """A token event read from an eth_getLogs answer (logs only come from transactions that succeeded).

    source_record is the sha256 of the "logs" record it came from. Block timestamps and the
    transaction's sender are not part of a log: the caller joins them from other records.
    """

    token: str
    kind: str
    approval_scope: str | None
    from_address: str
    to_address: str
    value: int
    tx_hash: str
    tx_index: int
    log_index: int
    block_number: int
    source_record: str

    @property
    def position(self) -> tuple[int, int, int]:
        """Where the event sits in chain order: (block, transaction index, log index)."""
        return self.block_number, self.tx_index, self.log_index


def decode_log_records(records: Iterable[RawRecord], tokens: Mapping[str, TokenMetadata]) -> list[LogEvent]:
    """Decode the token events in "logs" records, in chain order, skipping logs a reorganisation removed."""
    events = []
    for record in records:
        if record.kind != "logs" or not isinstance(record.result, list):
            continue
        for log in record.result:
            if log.get("removed"):
                continue
            token = log["address"].lower()
            classified = _log_movement(log, tokens.get(token))
            if classified is None:
                continue
            kind, scope, (sender, recipient, amount) = classified
            events.append(LogEvent(
                token=token, kind=kind, approval_scope=scope, from_address=_address(sender),
                to_address=_address(recipient), value=int(amount, 16), tx_hash=log["transactionHash"].lower(),
                tx_index=hex_int(log["transactionIndex"]), log_index=hex_int(log["logIndex"]),
                block_number=hex_int(log["blockNumber"]), source_record=record.sha256,
            ))
    # Records of several queries may hold the same log (tracing asks about an address again for
    # another token): keep each log once.
    unique = {(event.tx_hash, event.log_index): event for event in events}
    return sorted(unique.values(), key=lambda event: event.position)


def _index(records: Iterable[RawRecord]) -> tuple[list[RawRecord], dict[str, RawRecord], dict[str, RawRecord]]:
    transactions, receipts, blocks = [], {}, {}
    for record in records:
        if record.result is None:
            continue
        if record.kind == "transaction":
            transactions.append(record)
        elif record.kind == "receipt":
            receipts[record.result["transactionHash"].lower()] = record
        elif record.kind == "block":
            blocks[record.result["hash"].lower()] = record
    return transactions, receipts, blocks


def decode_records(
    records: Iterable[RawRecord], *, native_symbol: str | None = None, native_decimals: int | None = 18
) -> Decoded:
    """Decode captured records into movements and recognised calls, in chain order.

    Transactions without a receipt and block among the records (pending, or not captured) are skipped.
    """
    records = list(records)
    tokens = {address: meta for (_, address), meta in metadata_from_records(records).items()}
    transactions, receipts, blocks = _index(records)
    movements: list[Movement] = []
    calls: list[ContractCall] = []
    ordered = []
    for tx_record in transactions:
        tx = tx_record.result
        receipt_record = receipts.get(tx["hash"].lower())
        block_record = blocks.get((tx.get("blockHash") or "").lower())
        if receipt_record is not None and block_record is not None:
            ordered.append((hex_int(tx["blockNumber"]), hex_int(tx["transactionIndex"]), tx_record, receipt_record,
                            block_record))
    for _, _, tx_record, receipt_record, block_record in sorted(ordered, key=lambda item: item[:2]):
        tx, receipt, block = tx_record.result, receipt_record.result, block_record.result
        context = {
            "chain_id": tx_record.chain_id,
            "tx_hash": tx["hash"].lower(),
            "block_number": hex_int(tx["blockNumber"]),
            "timestamp": datetime.fromtimestamp(hex_int(block["timestamp"]), UTC),
            "tx_status": receipt_status(receipt),
            "tx_from": tx["from"].lower(),
            "tx_to": tx["to"].lower() if tx.get("to") else None,
        }
        value = hex_int(tx.get("value")) or 0
        if value:
            recipient = context["tx_to"] or (receipt.get("contractAddress") or "").lower() or None
            movements.append(Movement(
                kind="native", log_index=None, token=None, from_address=context["tx_from"], to_address=recipient,
                value=value, decimals=native_decimals, symbol=native_symbol, source_record=tx_record.sha256,
                supporting_records=(receipt_record.sha256, block_record.sha256), **context,
            ))
        for log in receipt.get("logs") or []:
            token = log["address"].lower()
            metadata = tokens.get(token)
            classified = _log_movement(log, metadata)
            if classified is None:
                continue
            kind, scope, (sender, recipient, amount) = classified
            movements.append(Movement(
                kind=kind, log_index=hex_int(log["logIndex"]), token=token, from_address=_address(sender),
                to_address=_address(recipient), value=int(amount, 16),
                decimals=metadata.decimals if metadata else None, symbol=metadata.symbol if metadata else None,
                source_record=receipt_record.sha256,
                supporting_records=(block_record.sha256, *(metadata.records if metadata else ())),
                approval_scope=scope, **context,
            ))
        recognised = recognise_call(tx.get("input")) if context["tx_to"] else None
        if recognised is not None:
            function, selector, arguments = recognised
            calls.append(ContractCall(
                chain_id=context["chain_id"], tx_hash=context["tx_hash"], block_number=context["block_number"],
                tx_status=context["tx_status"], caller=context["tx_from"], contract=context["tx_to"],
                function=function, selector=selector, args=arguments, source_record=tx_record.sha256,
            ))
    return Decoded(movements=tuple(movements), calls=tuple(calls), tokens=tokens)
