"""`python -m evidence discover` and `python -m evidence trace` run as real subprocesses against anvil."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evidence.devnet.anvil import AnvilNode, free_port
from evidence.devnet.staging import APPROVAL_PHISHING, LEAKED_RECOVERY_PHRASE, StagedScenario
from tests.evidence.test_cli import run_cli
from tests.evidence.test_graph_svg import parse_svg

pytestmark = pytest.mark.chain


def iso(timestamp: int, shift: timedelta = timedelta()) -> str:
    return (datetime.fromtimestamp(timestamp, UTC) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_discover_prints_one_json_line_per_candidate(anvil: AnvilNode, staged_thefts: StagedScenario) -> None:
    theft = staged_thefts.theft(LEAKED_RECOVERY_PHRASE)
    result = run_cli("discover", "--rpc-url", anvil.rpc_url, "--victim", theft.address_of("victim"),
                     "--since", iso(theft.steps[0].timestamp, -timedelta(minutes=1)),
                     "--until", iso(theft.steps[-1].timestamp))
    assert result.returncode == 0, result.stderr
    token, native = (json.loads(line) for line in result.stdout.splitlines())
    assert (token["kind"], token["tx_hash"], token["value"]) == (
        "erc20", theft.step("token_drain").tx_hash, str(theft.stolen_token_amount))
    assert (native["kind"], native["symbol"], native["value"], native["log_index"]) == (
        "native", "ETH", str(theft.stolen_native_amount), None)
    assert native["timestamp"] == iso(theft.step("native_drain").timestamp)
    assert result.stderr == ""


def test_trace_prints_the_graph_and_draws_it(anvil: AnvilNode, staged_thefts: StagedScenario,
                                            tmp_path: Path) -> None:
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    hot_wallet = theft.address_of("exchange_hot_wallet")
    labels = tmp_path / "labels.csv"
    labels.write_text("address,name,category,source,confidence\n"
                      f"{hot_wallet},Harbour Exchange: Hot Wallet 1,exchange_hot_wallet,analyst,0.9\n"
                      "0xnot-an-address,Broken,exchange,analyst,0.9\n")
    svg = tmp_path / "flow.svg"
    result = run_cli("trace", "--rpc-url", anvil.rpc_url, "--depth", "5", "--labels", str(labels),
                     "--from-block", str(theft.step("drain").block_number), "--svg", str(svg),
                     theft.address_of("attacker"))
    assert result.returncode == 0, result.stderr
    graph = json.loads(result.stdout)
    assert [edge["tx_hash"] for edge in graph["edges"]] == [theft.step(action).tx_hash
                                                            for action in ("hop_1", "hop_2", "deposit", "sweep")]
    assert {(edge["value"], edge["amount"]) for edge in graph["edges"]} == {(str(theft.stolen_token_amount), "25000")}
    (proposal,) = graph["proposals"]
    assert (proposal["kind"], proposal["target"], proposal["address"], proposal["amount"]) == (
        "exchange_freeze", "Harbour Exchange", theft.address_of("exchange_deposit").lower(),
        str(theft.stolen_token_amount))
    assert result.stderr == "warning: labels.csv: line 3: '0xnot-an-address' is not an address (0x followed by 40 " \
                            "hexadecimal digits).\n"
    assert parse_svg(svg.read_text()).tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("arguments, message", [
    (["trace", "0x1234"], "error: '0x1234' is not an address (0x followed by 40 hexadecimal digits).\n"),
    (["trace", "--depth", "0", "0x" + "11" * 20], "error: --depth and --breadth must each be at least 1.\n"),
    (["discover", "--victim", "0x" + "11" * 20, "--since", "2026-11-02", "--until", "2026-11-01"],
     "error: --until is before --since.\n"),
])
def test_bad_arguments_exit_2_with_one_line(anvil: AnvilNode, arguments: list[str], message: str) -> None:
    result = run_cli(*arguments[:1], "--rpc-url", anvil.rpc_url, *arguments[1:])
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


def test_a_time_that_is_not_iso_is_a_usage_error(anvil: AnvilNode) -> None:
    result = run_cli("discover", "--rpc-url", anvil.rpc_url, "--victim", "0x" + "11" * 20, "--since", "tuesday",
                     "--until", "2026-11-01")
    assert result.returncode == 2 and "'tuesday' is not an ISO-8601 time" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["trace", "0x" + "11" * 20],
                                     ["discover", "--victim", "0x" + "11" * 20, "--since", "2026-11-01T00:00:00Z",
                                      "--until", "2026-11-02T00:00:00Z"]])
def test_an_unreachable_node_exits_1_without_a_traceback(command: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v3/secret-api-key"
    result = run_cli(*command[:1], "--rpc-url", url, "--attempts", "1", *command[1:])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: JSON-RPC eth_chainId") and "secret-api-key" not in result.stderr
    assert "Traceback" not in result.stderr
