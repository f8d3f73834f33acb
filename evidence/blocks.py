"""Blocks by time, blocks with their transactions, and the native value they carry.

Discovery and tracing read these besides logs:

- The blocks of a time window. Block timestamps never decrease along a chain, so the first block
  at or after a moment is found by search. A binary search takes one round trip per halving (about
  25 on Ethereum); here each round asks for `probes` evenly spaced blocks in one batch and narrows
  the interval (probes + 1)-fold, both ends of the window at once: with 32 probes, 20 million
  blocks take 5 rounds.
- Native coin sent by an address. No log records a plain value transfer, so blocks are read with
  their full transactions and the senders' transactions picked out; receipts then say which ones
  succeeded. That costs one block per block in the range (batched), which is fine on a devnet and
  for windows of hours. Value moved by contracts (internal transactions) is not in any block:
  that needs a provider's trace API (``trace_filter``, ``debug_traceTransaction``) or an indexer's
  ``alchemy_getAssetTransfers``, which is the production path for long windows on mainnet.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from evidence.capture import checked_reply
from evidence.decode import hex_int, receipt_status
from evidence.errors import CaptureError, DiscoveryError
from evidence.models import RawRecord
from evidence.rpc import RpcClient

DEFAULT_PROBES = 32


@dataclass(frozen=True)
class Head:
    """The chain an endpoint serves and its latest block, with the records that say so."""

    chain_id: int
    number: int
    timestamp: int
    records: tuple[RawRecord, ...]


@dataclass(frozen=True)
class BlockWindow:
    """The blocks mined within a time window: from_block..to_block (empty when to_block < from_block)."""

    chain_id: int
    from_block: int
    to_block: int
    head_block: int
    records: tuple[RawRecord, ...]

    @property
    def is_empty(self) -> bool:
        """True when no block was mined in the window."""
        return self.to_block < self.from_block


@dataclass(frozen=True)
class NativeSend:
    """Native coin sent by a transaction, as read from a block with full transactions.

    to_address is None for a contract creation until the receipt names the contract. tx_status
    is None until receipts are joined (and stays None for pre-Byzantium receipts).
    """

    tx_hash: str
    tx_index: int
    block_number: int
    timestamp: datetime
    from_address: str
    to_address: str | None
    value: int
    source_record: str
    tx_status: int | None = None
    receipt_record: str | None = None

    @property
    def position(self) -> tuple[int, int, int]:
        """(block, transaction index, -1): value moves before any log of its transaction."""
        return self.block_number, self.tx_index, -1


def read_head(client: RpcClient, *, chain_id: int | None = None) -> Head:
    """Ask the endpoint for its chain id and latest block; with chain_id, refuse another chain."""
    chain_reply, head_reply = client.batch([("eth_chainId", []), ("eth_getBlockByNumber", ["latest", False])])
    served = hex_int(checked_reply(chain_reply, "the chain id").result)
    if chain_id is not None and served != chain_id:
        raise CaptureError(f"The RPC endpoint serves chain {served}, not chain {chain_id}: check its RPC URLs.")
    block = checked_reply(head_reply, "the latest block").result
    if not isinstance(block, dict):
        raise CaptureError("The RPC endpoint did not return its latest block.")
    records = (RawRecord.from_reply("chain_id", served, chain_reply), RawRecord.from_reply("head", served, head_reply))
    return Head(served, hex_int(block["number"]), hex_int(block["timestamp"]), records)


def _probe_points(low: int, high: int, probes: int) -> list[int]:
    """Up to `probes` block numbers strictly between low and high, evenly spaced."""
    inside = high - low - 1
    if inside <= probes:
        return list(range(low + 1, high))
    return sorted({low + (high - low) * step // (probes + 1) for step in range(1, probes + 1)})


def find_window(client: RpcClient, since: datetime, until: datetime, *, chain_id: int | None = None,
                probes: int = DEFAULT_PROBES) -> BlockWindow:
    """Find the blocks whose timestamps fall within [since, until] (aware datetimes), in a few round trips."""
    if since.tzinfo is None or until.tzinfo is None:
        raise DiscoveryError("Give the time window in UTC (timezone-aware datetimes).")
    if until < since:
        raise DiscoveryError("The time window ends before it starts.")
    head = read_head(client, chain_id=chain_id)
    # Each target is "the first block whose timestamp is at least t"; block timestamps are seconds.
    targets = (math.ceil(since.timestamp()), math.floor(until.timestamp()) + 1)
    known = {head.number: head.timestamp}
    # For each target the answer lies in (low, high]: low is before it (or -1), high at or after it
    # (or head + 1, meaning no block has been mined at or after the target yet).
    bounds = [[-1, head.number if head.timestamp >= target else head.number + 1] for target in targets]
    records = list(head.records)
    while True:
        wanted = sorted({number for low, high in bounds for number in _probe_points(low, high, probes)} - set(known))
        if not wanted:
            break
        replies = client.batch([("eth_getBlockByNumber", [hex(number), False]) for number in wanted])
        for number, reply in zip(wanted, replies, strict=True):
            block = checked_reply(reply, f"block {number}").result
            if not isinstance(block, dict):
                raise CaptureError(f"The node has no block {number} although its head is {head.number}: try again.")
            known[number] = hex_int(block["timestamp"])
            records.append(RawRecord.from_reply("block", head.chain_id, reply))
        for target, bound in zip(targets, bounds, strict=True):
            for number, timestamp in known.items():
                if bound[0] < number < bound[1]:
                    bound[0 if timestamp < target else 1] = number
    first_in, first_after = bounds[0][1], bounds[1][1]
    return BlockWindow(head.chain_id, first_in, first_after - 1, head.number, tuple(records))


def fetch_blocks(client: RpcClient, chain_id: int, numbers: Iterable[int], *,
                 full_transactions: bool) -> dict[int, RawRecord]:
    """Fetch blocks by number in one batch (split at the client's batch size); refuse missing ones."""
    numbers = sorted(set(numbers))
    if not numbers:
        return {}
    replies = client.batch([("eth_getBlockByNumber", [hex(number), full_transactions]) for number in numbers])
    blocks = {}
    for number, reply in zip(numbers, replies, strict=True):
        if not isinstance(checked_reply(reply, f"block {number}").result, dict):
            raise CaptureError(f"The node has no block {number}: the chain may have reorganised, try again.")
        blocks[number] = RawRecord.from_reply("block", chain_id, reply)
    return blocks


def block_timestamp(record: RawRecord) -> datetime:
    """The UTC time of a block record."""
    return datetime.fromtimestamp(hex_int(record.result["timestamp"]), UTC)


def native_sends(blocks: Iterable[RawRecord], senders: Collection[str] | None = None) -> list[NativeSend]:
    """Transactions carrying native value in full-transaction blocks, from the given senders (all when None)."""
    sends = []
    for record in blocks:
        timestamp = block_timestamp(record)
        for tx in record.result.get("transactions") or []:
            if not isinstance(tx, dict):
                raise ValueError("native_sends needs blocks fetched with full transactions")
            value = hex_int(tx.get("value")) or 0
            sender = tx["from"].lower()
            if value and (senders is None or sender in senders):
                sends.append(NativeSend(
                    tx_hash=tx["hash"].lower(), tx_index=hex_int(tx["transactionIndex"]),
                    block_number=hex_int(tx["blockNumber"]), timestamp=timestamp, from_address=sender,
                    to_address=tx["to"].lower() if tx.get("to") else None, value=value, source_record=record.sha256,
                ))
    return sorted(sends, key=lambda send: send.position)


def receipt_calls(sends: Iterable[NativeSend]) -> list[tuple[str, list[str]]]:
    """The receipt requests that settle native sends (to batch alongside other calls)."""
    return [("eth_getTransactionReceipt", [send.tx_hash]) for send in sends]


def settle_native(sends: Iterable[NativeSend], receipts: Mapping[str, RawRecord]) -> list[NativeSend]:
    """Join receipts (by tx hash) to sends: drop failed ones (nothing moved), name created contracts."""
    settled = []
    for send in sends:
        record = receipts.get(send.tx_hash)
        receipt = record.result if record is not None else None
        if not isinstance(receipt, dict):
            raise CaptureError(f"The node returned no receipt for {send.tx_hash}: the chain may have reorganised.")
        status = receipt_status(receipt)
        if status == 0:
            continue
        recipient = send.to_address or (receipt.get("contractAddress") or "").lower() or None
        settled.append(replace(send, to_address=recipient, tx_status=status, receipt_record=record.sha256))
    return settled
