"""Evidence test fixtures: the staged scenarios on the session's anvil, fast RPC clients, a fault proxy,
a scratch chain, and the devnet's labels and chain settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from web3 import Web3

from evidence.capture import capture_transactions
from evidence.chains import ChainConfig, default_chains
from evidence.decode import decode_records
from evidence.devnet.anvil import AnvilNode
from evidence.devnet.staging import StagedScenario
from evidence.labels import AddressLabel, LabelBook
from evidence.models import Capture, Decoded
from evidence.rpc import RpcClient
from tests.evidence.faultproxy import FAST_RETRY, FaultProxy
from tests.evidence.scenario import Scenario, stage_scenario


@pytest.fixture(scope="session")
def scenario(w3: Web3) -> Iterator[Scenario]:
    """The evidence scenario staged once; the chain is reverted to before it at the end of the session."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield stage_scenario(w3)
    finally:
        w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="session")
def captured(anvil: AnvilNode, scenario: Scenario) -> Capture:
    """One capture of every staged transaction."""
    return capture_transactions(RpcClient([anvil.rpc_url], retry=FAST_RETRY), scenario.transaction_hashes(),
                                chain_id=31337)


@pytest.fixture(scope="session")
def decoded(captured: Capture) -> Decoded:
    """The staged capture, decoded."""
    return decode_records(captured.records, native_symbol="ETH")


@pytest.fixture
def rpc(anvil: AnvilNode) -> RpcClient:
    """An RPC client straight to anvil with fast retries."""
    return RpcClient([anvil.rpc_url], retry=FAST_RETRY)


@pytest.fixture
def proxy(anvil: AnvilNode) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of anvil that holds a request longer than FAST_RETRY's timeout."""
    with FaultProxy(anvil.rpc_url, hang_seconds=FAST_RETRY.timeout * 3) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def scratch_chain(w3: Web3, staged_thefts: StagedScenario) -> Iterator[None]:
    """Let a test change the shared chain, then put it back as staged for the other tests."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


@pytest.fixture
def devnet_chain() -> ChainConfig:
    """The shipped devnet settings (no log-range cap)."""
    return default_chains().get(31337)


@pytest.fixture
def devnet_labels(staged_thefts: StagedScenario) -> Callable[..., LabelBook]:
    """Build a LabelBook from the staged thefts' own labels (only the given categories, when named)."""
    def build(*categories: str) -> LabelBook:
        return LabelBook(
            AddressLabel(None, label.address.lower(), label.name, label.category, "devnet staging", 1.0)
            for label in staged_thefts.labels if not categories or label.category in categories
        )

    return build
