"""Command line for analysts (no database needed).

- ``python -m evidence decode --rpc-url URL [--chain-id N] TXHASH...`` prints one JSON object per
  line for every value movement in the given transactions.
- ``python -m evidence discover --rpc-url URL --victim ADDR --since ISO --until ISO`` prints one
  JSON object per line for every transfer or approval that left the victim's address in the window.
- ``python -m evidence trace --rpc-url URL [--depth D] [--breadth B] [--labels FILE]
  [--from-block N] ADDRESS...`` prints the fund-flow graph as one JSON document (``--svg FILE``
  also draws it).

Errors go to stderr as one line without a traceback: exit status 2 for bad arguments (a malformed
hash, address or time), 1 when the chain could not be read or a transaction was not found or is
still pending. Notes about what was not looked at go to stderr too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from evidence.capture import capture_transactions, normalise_address, normalise_tx_hash
from evidence.chains import ChainConfig, ChainRegistry, chains_from_file, default_chains
from evidence.decode import decode_records, hex_int
from evidence.discover import TransferCandidate, discover_outgoing
from evidence.errors import EvidenceError
from evidence.graph_svg import render_flow_svg
from evidence.labels import LabelBook, load_labels
from evidence.models import Movement
from evidence.rpc import RetryPolicy, RpcClient
from evidence.trace import trace_funds

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


def candidate_line(candidate: TransferCandidate) -> str:
    """One discovery candidate as the CLI prints it: a JSON object with the value as a decimal string."""
    return json.dumps({
        "chain_id": candidate.chain_id,
        "tx_hash": candidate.tx_hash,
        "log_index": candidate.log_index,
        "kind": candidate.kind,
        "token": candidate.token,
        "symbol": candidate.symbol,
        "decimals": candidate.decimals,
        "from": candidate.from_address,
        "to": candidate.to_address,
        "value": str(candidate.value),
        "block_number": candidate.block_number,
        "timestamp": candidate.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tx_from": candidate.tx_from,
        "approval_scope": candidate.approval_scope,
    }, ensure_ascii=False)


class _UsageError(EvidenceError):
    """Arguments that make no sense together (exit status 2)."""


def _moment(text: str) -> datetime:
    """An ISO-8601 time; without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not an ISO-8601 time (e.g. 2026-11-23T16:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _connection_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--rpc-url", action="append", default=[],
                         help="JSON-RPC endpoint; repeat for failover (default: the chain's configured URLs)")
    command.add_argument("--chain-id", type=int, help="the chain the endpoint must serve")
    command.add_argument("--chains", metavar="FILE", help="chain configuration (.toml, .yaml or .json)")
    command.add_argument("--timeout", type=float, default=15.0, help="seconds per HTTP request (default 15)")
    command.add_argument("--attempts", type=int, default=3, help="rounds over the endpoints before giving up")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evidence", description="On-chain evidence tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    decode = commands.add_parser("decode", help="capture transactions and print their value movements as JSON lines")
    decode.add_argument("tx_hashes", nargs="+", metavar="TXHASH")
    _connection_options(decode)
    discover = commands.add_parser("discover", help="print what left a victim's address in a time window")
    discover.add_argument("--victim", required=True, metavar="ADDR")
    discover.add_argument("--since", required=True, type=_moment, metavar="ISO", help="start (UTC unless an offset)")
    discover.add_argument("--until", required=True, type=_moment, metavar="ISO", help="end (UTC unless an offset)")
    _connection_options(discover)
    trace = commands.add_parser("trace", help="follow funds from addresses and print the flow graph as JSON")
    trace.add_argument("addresses", nargs="+", metavar="ADDRESS")
    trace.add_argument("--depth", type=int, default=4, help="hops to follow from the addresses (default 4)")
    trace.add_argument("--breadth", type=int, default=5, help="transfers followed out of each address (default 5)")
    trace.add_argument("--labels", action="append", default=[], metavar="FILE",
                       help="address labels: TagPack .yaml, etherscan-labels .json or .csv (repeatable)")
    trace.add_argument("--from-block", type=int, default=0, help="follow transfers from this block on (default 0)")
    trace.add_argument("--to-block", type=int, help="up to this block (default: the head)")
    trace.add_argument("--svg", metavar="FILE", help="also write the graph as an SVG picture")
    _connection_options(trace)
    return parser


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse malformed hashes, addresses and limits before any request (raises EvidenceError)."""
    if args.command == "decode":
        for value in args.tx_hashes:
            normalise_tx_hash(value)
    elif args.command == "discover":
        normalise_address(args.victim)
        if args.until < args.since:
            raise _UsageError("--until is before --since.")
    else:
        for value in args.addresses:
            normalise_address(value)
        if args.depth < 1 or args.breadth < 1:
            raise _UsageError("--depth and --breadth must each be at least 1.")


def _client(args: argparse.Namespace, registry: ChainRegistry) -> tuple[RpcClient, list[str]]:
    urls = args.rpc_url or (list(registry.get(args.chain_id).rpc_urls) if args.chain_id is not None else [])
    if not urls:
        raise _UsageError("give --rpc-url, or --chain-id of a configured chain.")
    return RpcClient(urls, retry=RetryPolicy(attempts=max(args.attempts, 1), timeout=args.timeout)), urls


def _chain(args: argparse.Namespace, registry: ChainRegistry, client: RpcClient, urls: list[str]) -> ChainConfig:
    """The chain to query: --chain-id, or the one the endpoint serves; configured settings when known."""
    chain_id = args.chain_id if args.chain_id is not None else hex_int(client.call("eth_chainId").result)
    if chain_id in registry:
        return replace(registry.get(chain_id), rpc_urls=tuple(urls))
    # An unconfigured chain still works: no log-range cap until the provider refuses a range.
    return ChainConfig(chain_id, f"chain {chain_id}", tuple(urls), None, None, "native", 18, 1, False, None)


def _decode(args: argparse.Namespace, registry: ChainRegistry) -> int:
    client, _ = _client(args, registry)
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


def _discover(args: argparse.Namespace, registry: ChainRegistry) -> int:
    client, urls = _client(args, registry)
    discovery = discover_outgoing(client, _chain(args, registry, client, urls), args.victim, args.since, args.until)
    for candidate in discovery.candidates:
        print(candidate_line(candidate))
    for note in discovery.limitations:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _trace(args: argparse.Namespace, registry: ChainRegistry) -> int:
    client, urls = _client(args, registry)
    chain = _chain(args, registry, client, urls)
    labels = []
    for path in args.labels:
        parsed = load_labels(path)
        labels += parsed.labels
        for problem in parsed.problems:
            print(f"warning: {Path(path).name}: {problem}", file=sys.stderr)
    graph = trace_funds(client, chain, args.addresses, from_block=args.from_block, to_block=args.to_block,
                        max_depth=args.depth, max_breadth=args.breadth,
                        labels=LabelBook(labels).resolver(chain.chain_id) if labels else None)
    print(json.dumps(graph.to_dict(), ensure_ascii=False, indent=2))
    for note in graph.limitations:
        print(f"note: {note}", file=sys.stderr)
    if args.svg:
        try:
            Path(args.svg).write_text(render_flow_svg(graph), encoding="utf-8")
        except OSError as error:
            print(f"error: cannot write {args.svg}: {error.strerror or error}.", file=sys.stderr)
            return EXIT_FAILED
    return 0


COMMANDS = {"decode": _decode, "discover": _discover, "trace": _trace}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = _parser().parse_args(argv)
    try:
        _check_arguments(args)
    except EvidenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        registry = chains_from_file(args.chains) if args.chains else default_chains()
        return COMMANDS[args.command](args, registry)
    except _UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except EvidenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
