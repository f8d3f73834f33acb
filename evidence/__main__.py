"""Command line: ``python -m evidence decode --rpc-url URL [--chain-id N] TXHASH...``.

Prints one JSON object per line for every value movement in the given transactions. Errors go to
stderr as one line without a traceback: exit status 2 for bad arguments (a malformed hash), 1 when
the chain could not be read or a transaction was not found or is still pending.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from evidence.capture import capture_transactions, normalise_tx_hash
from evidence.chains import ChainRegistry, chains_from_file, default_chains
from evidence.decode import decode_records
from evidence.errors import EvidenceError
from evidence.models import Movement
from evidence.rpc import RetryPolicy, RpcClient

EXIT_FAILED = 1
EXIT_USAGE = 2


def movement_line(movement: Movement) -> str:
    """One movement as the CLI prints it: a JSON object with the value as a decimal string."""
    return json.dumps({
        "chain_id": movement.chain_id,
        "tx_hash": movement.tx_hash,
        "log_index": movement.log_index,
        "kind": movement.kind,
        "token": movement.token,
        "symbol": movement.symbol,
        "decimals": movement.decimals,
        "from": movement.from_address,
        "to": movement.to_address,
        "value": str(movement.value),
        "block_number": movement.block_number,
        "timestamp": movement.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tx_status": movement.tx_status,
    }, ensure_ascii=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evidence", description="On-chain evidence tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    decode = commands.add_parser("decode", help="capture transactions and print their value movements as JSON lines")
    decode.add_argument("tx_hashes", nargs="+", metavar="TXHASH")
    decode.add_argument("--rpc-url", action="append", default=[],
                        help="JSON-RPC endpoint; repeat for failover (default: the chain's configured URLs)")
    decode.add_argument("--chain-id", type=int, help="the chain the endpoint must serve")
    decode.add_argument("--chains", metavar="FILE", help="chain configuration (.toml, .yaml or .json)")
    decode.add_argument("--timeout", type=float, default=15.0, help="seconds per HTTP request (default 15)")
    decode.add_argument("--attempts", type=int, default=3, help="rounds over the endpoints before giving up")
    return parser


def _decode(args: argparse.Namespace, registry: ChainRegistry) -> int:
    urls = args.rpc_url or (list(registry.get(args.chain_id).rpc_urls) if args.chain_id is not None else [])
    if not urls:
        print("error: give --rpc-url, or --chain-id of a configured chain.", file=sys.stderr)
        return EXIT_USAGE
    client = RpcClient(urls, retry=RetryPolicy(attempts=max(args.attempts, 1), timeout=args.timeout))
    capture = capture_transactions(client, args.tx_hashes, chain_id=args.chain_id)
    chain = registry.get(capture.chain_id) if capture.chain_id in registry else None
    decoded = decode_records(capture.records, native_symbol=chain.native_symbol if chain else None,
                             native_decimals=chain.native_decimals if chain else 18)
    for movement in decoded.movements:
        print(movement_line(movement))
    for tx_hash in capture.not_found:
        print(f"error: transaction {tx_hash} was not found on chain {capture.chain_id}.", file=sys.stderr)
    for tx_hash in capture.pending:
        print(f"error: transaction {tx_hash} is not mined yet on chain {capture.chain_id}.", file=sys.stderr)
    return EXIT_FAILED if capture.not_found or capture.pending else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = _parser().parse_args(argv)
    try:
        for value in args.tx_hashes:
            normalise_tx_hash(value)
    except EvidenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        registry = chains_from_file(args.chains) if args.chains else default_chains()
        return _decode(args, registry)
    except EvidenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
