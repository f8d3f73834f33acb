"""Discovery: from a victim's address and a time window alone, find what left the address.

The handler often has no transaction hash, only "my wallet was emptied on Tuesday night". This
finds the candidates; the handler confirms which ones are the theft (and the confirmed hashes are
then captured in full with evidence.capture).

1. The window's blocks, by a batched search over block timestamps (evidence/blocks.py).
2. ``eth_getLogs`` for Transfer, Approval and ApprovalForAll with topic 1 = the victim: ERC-20 and
   ERC-721 transfers out, and the approvals the victim granted (the ones that enable a drain).
   Ranges are split at the chain's log-range cap, and halved when the provider still refuses.
3. Native coin sent by the victim: every block of the window with its transactions (batched),
   then the receipts of the victim's value transfers to drop failed ones. This is capped at
   max_native_blocks (the cost grows with the window, see evidence/blocks.py); beyond it the
   result says so in `limitations` rather than quietly leaving native transfers out.
4. One last batch: token metadata (symbol, decimals), the blocks and transactions of logs not
   already read (timestamps, the transaction's sender), and the receipts.

Not found by this: token variants that do not index the sender (they cannot be filtered by topic)
and native value moved by contracts (internal transactions); both need an indexer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evidence.blocks import (
    DEFAULT_PROBES,
    block_timestamp,
    fetch_blocks,
    find_window,
    native_sends,
    receipt_calls,
    settle_native,
)
from evidence.capture import capture_logs, checked_reply, normalise_address
from evidence.chains import ChainConfig
from evidence.decode import TOKEN_EVENT_TOPICS, decode_log_records, hex_int
from evidence.errors import CaptureError, DiscoveryError
from evidence.models import RawRecord
from evidence.rpc import RpcClient
from evidence.tokens import TokenMetadataCache, metadata_from_records, plan_metadata

# About three days of Ethereum blocks, or a few hours of a fast L2: beyond this, reading every
# block costs more than a hosted provider's trace API.
DEFAULT_MAX_NATIVE_BLOCKS = 20_000


@dataclass(frozen=True)
class TransferCandidate:
    """Something that left the victim's address: a transfer out (native, ERC-20, ERC-721) or an approval.

    For approvals, to_address is the spender/operator and value the allowance (see
    Movement.approval_scope). tx_from is the transaction's sender: the victim for a transfer signed
    with the victim's key, someone else for a drain through an allowance. source_record is the
    sha256 of the raw record it was read from (the logs query, or the block for native value).
    """

    chain_id: int
    tx_hash: str
    log_index: int | None
    kind: str
    token: str | None
    symbol: str | None
    decimals: int | None
    from_address: str
    to_address: str | None
    value: int
    block_number: int
    timestamp: datetime
    tx_from: str | None
    tx_status: int | None
    approval_scope: str | None
    source_record: str


@dataclass(frozen=True)
class Discovery:
    """The candidates found for a victim in a window, with every raw record fetched to find them."""

    chain_id: int
    victim: str
    since: datetime
    until: datetime
    from_block: int
    to_block: int
    head_block: int
    candidates: tuple[TransferCandidate, ...]
    records: tuple[RawRecord, ...]
    limitations: tuple[str, ...] = ()


def address_topic(address: str) -> str:
    """An address as an indexed event topic (left-padded to 32 bytes)."""
    return "0x" + "0" * 24 + address.lower().removeprefix("0x")


def _split(replies: list, *sizes: int) -> list[list]:
    parts, start = [], 0
    for size in sizes:
        parts.append(replies[start : start + size])
        start += size
    return parts


def discover_outgoing(
    client: RpcClient,
    chain: ChainConfig,
    victim: str,
    since: datetime,
    until: datetime,
    *,
    include_native: bool = True,
    max_native_blocks: int = DEFAULT_MAX_NATIVE_BLOCKS,
    probes: int = DEFAULT_PROBES,
    cache: TokenMetadataCache | None = None,
) -> Discovery:
    """Find the victim's outgoing transfers and approvals between since and until (aware datetimes)."""
    try:
        victim = normalise_address(victim)
    except CaptureError as error:
        raise DiscoveryError(str(error)) from None
    window = find_window(client, since, until, chain_id=chain.chain_id, probes=probes)
    records: list[RawRecord] = list(window.records)
    common = {"chain_id": window.chain_id, "victim": victim, "since": since, "until": until,
              "from_block": window.from_block, "to_block": window.to_block, "head_block": window.head_block}
    if window.is_empty:
        return Discovery(**common, candidates=(), records=tuple(records))
    log_records = capture_logs(client, chain, from_block=window.from_block, to_block=window.to_block,
                               topics=[list(TOKEN_EVENT_TOPICS), address_topic(victim)])
    records += log_records
    limitations = []
    span = window.to_block - window.from_block + 1
    blocks: dict[int, RawRecord] = {}
    if not include_native:
        limitations.append("Native transfers were not looked for.")
    elif span > max_native_blocks:
        limitations.append(
            f"Native transfers were not looked for: the window spans {span} blocks, more than the "
            f"{max_native_blocks} read one by one. Narrow the window, or use a provider's trace API."
        )
    else:
        blocks = fetch_blocks(client, window.chain_id, range(window.from_block, window.to_block + 1),
                              full_transactions=True)
        records += blocks.values()
    sends = native_sends(blocks.values(), {victim})
    logs = [log for record in log_records for log in record.result or [] if not log.get("removed")]
    senders = {tx["hash"].lower(): tx["from"].lower()
               for block in blocks.values() for tx in block.result.get("transactions") or []}
    header_numbers = sorted({hex_int(log["blockNumber"]) for log in logs} - set(blocks))
    tx_hashes = sorted({log["transactionHash"].lower() for log in logs} - set(senders))
    plan = plan_metadata(window.chain_id, [log["address"] for log in logs], window.head_block, cache)
    calls: list[tuple[str, Any]] = [("eth_getBlockByNumber", [hex(number), False]) for number in header_numbers]
    calls += [("eth_getTransactionByHash", [tx_hash]) for tx_hash in tx_hashes] + receipt_calls(sends)
    calls += plan.calls
    replies = client.batch(calls) if calls else []
    header_replies, tx_replies, receipt_replies, metadata_replies = _split(
        replies, len(header_numbers), len(tx_hashes), len(sends), len(plan.calls))
    for number, reply in zip(header_numbers, header_replies, strict=True):
        if not isinstance(checked_reply(reply, f"block {number}").result, dict):
            raise CaptureError(f"The node has no block {number}: the chain may have reorganised, try again.")
        blocks[number] = RawRecord.from_reply("block", window.chain_id, reply)
        records.append(blocks[number])
    for tx_hash, reply in zip(tx_hashes, tx_replies, strict=True):
        transaction = checked_reply(reply, tx_hash).result
        if isinstance(transaction, dict):
            senders[tx_hash] = transaction["from"].lower()
        records.append(RawRecord.from_reply("transaction", window.chain_id, reply))
    receipts = {}
    for send, reply in zip(sends, receipt_replies, strict=True):
        receipts[send.tx_hash] = RawRecord.from_reply("receipt", window.chain_id, checked_reply(reply, send.tx_hash))
        records.append(receipts[send.tx_hash])
    token_records = plan.records(metadata_replies)
    records += token_records
    tokens = {address: meta for (_, address), meta in metadata_from_records(token_records).items()}
    candidates = []
    for event in decode_log_records(log_records, tokens):
        if event.from_address != victim:
            continue
        metadata = tokens.get(event.token)
        candidates.append((event.position, TransferCandidate(
            chain_id=window.chain_id, tx_hash=event.tx_hash, log_index=event.log_index, kind=event.kind,
            token=event.token, symbol=metadata.symbol if metadata else None,
            decimals=metadata.decimals if metadata else None, from_address=victim, to_address=event.to_address,
            value=event.value, block_number=event.block_number, timestamp=block_timestamp(blocks[event.block_number]),
            tx_from=senders.get(event.tx_hash), tx_status=1, approval_scope=event.approval_scope,
            source_record=event.source_record,
        )))
    for send in settle_native(sends, receipts):
        candidates.append((send.position, TransferCandidate(
            chain_id=window.chain_id, tx_hash=send.tx_hash, log_index=None, kind="native", token=None,
            symbol=chain.native_symbol, decimals=chain.native_decimals, from_address=victim,
            to_address=send.to_address, value=send.value, block_number=send.block_number, timestamp=send.timestamp,
            tx_from=victim, tx_status=send.tx_status, approval_scope=None, source_record=send.source_record,
        )))
    ordered = tuple(candidate for _, candidate in sorted(candidates, key=lambda item: item[0]))
    return Discovery(**common, candidates=ordered, records=tuple(records), limitations=tuple(limitations))
