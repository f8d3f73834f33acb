"""The devnet token and the staged thefts, checked against what a real anvil node says happened."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from evidence.devnet.anvil import start_anvil
from evidence.devnet.contracts import ContractError, contract_at, deploy, load_artefact, send_transaction
from evidence.devnet.staging import (
    APPROVAL_PHISHING,
    LEAKED_RECOVERY_PHRASE,
    StagedScenario,
    StagingError,
    scenario_is_on_chain,
    stage_thefts,
)

pytestmark = pytest.mark.chain

# The story as the demo tells it, written out independently of the staging module's constants.
USDT = 10**6
ETH = 10**18
PHISHING_LOSS = 25_000 * USDT
PHISHING_VICTIM_GAS_MONEY = ETH // 20
PHRASE_VICTIM_TOKENS = 8_000 * USDT
PHRASE_VICTIM_ETH = 3_500 * ETH // 1000
MAX_UINT256 = 2**256 - 1
ZERO = "0x0000000000000000000000000000000000000000"


def rpc(w3: Web3, method: str, *params: object) -> object:
    response = w3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response["result"]


@pytest.fixture
def token(w3: Web3, staged_thefts: StagedScenario) -> Contract:
    return contract_at(w3, "CaseworkUSD", staged_thefts.token.address)


def fee_paid(w3: Web3, tx_hash: str) -> int:
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    return receipt["gasUsed"] * receipt["effectiveGasPrice"]


def test_token_is_a_six_decimal_usdt_lookalike_owned_by_the_issuer(token: Contract, staged_thefts: StagedScenario):
    assert token.functions.name().call() == "Casework Demo USD"
    assert token.functions.symbol().call() == staged_thefts.token.symbol == "cUSDT"
    assert token.functions.decimals().call() == staged_thefts.token.decimals == 6
    assert token.functions.owner().call() == staged_thefts.token.issuer
    assert token.functions.totalSupply().call() == PHISHING_LOSS + PHRASE_VICTIM_TOKENS


def test_every_staged_transaction_is_alone_in_its_block_and_signed_by_the_recorded_sender(
    w3: Web3, staged_thefts: StagedScenario
):
    steps = staged_thefts.setup_steps + tuple(s for theft in staged_thefts.thefts for s in theft.steps)
    assert [s.tx_hash for s in steps] == list(staged_thefts.tx_hashes[1:])
    for step in steps:
        tx = w3.eth.get_transaction(step.tx_hash)
        block = w3.eth.get_block(step.block_number)
        assert tx["from"] == step.sender
        assert tx["blockNumber"] == step.block_number
        assert [h.to_0x_hex() for h in block["transactions"]] == [step.tx_hash]
        assert block["timestamp"] == step.timestamp
    blocks = [staged_thefts.token.deploy_block_number] + [s.block_number for s in steps]
    assert blocks == sorted(set(blocks))


def test_theft_steps_are_minutes_apart(staged_thefts: StagedScenario):
    for theft in staged_thefts.thefts:
        gaps = [b.timestamp - a.timestamp for a, b in zip(theft.steps, theft.steps[1:], strict=False)]
        assert all(gap >= 60 for gap in gaps), (theft.kind, gaps)
    phishing = staged_thefts.theft(APPROVAL_PHISHING)
    assert phishing.step("sweep").timestamp - phishing.step("approve").timestamp >= 10 * 60


@pytest.mark.parametrize(
    ("action", "holder"),
    [
        ("approve", "victim"),
        ("drain", "attacker"),
        ("hop_1", "intermediary_1"),
        ("hop_2", "intermediary_2"),
        ("deposit", "exchange_deposit"),
        ("sweep", "exchange_hot_wallet"),
    ],
)
def test_phishing_loss_sits_with_one_party_after_each_step(
    token: Contract, staged_thefts: StagedScenario, action: str, holder: str
):
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    block = theft.step(action).block_number
    balances = {p.role: token.functions.balanceOf(p.address).call(block_identifier=block) for p in theft.parties}
    assert balances == {p.role: PHISHING_LOSS if p.role == holder else 0 for p in theft.parties}


def test_phishing_victim_is_drained_but_keeps_gas_money_and_the_unlimited_approval(
    w3: Web3, token: Contract, staged_thefts: StagedScenario
):
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    victim, attacker = theft.address_of("victim"), theft.address_of("attacker")
    assert theft.stolen_token_amount == PHISHING_LOSS
    assert token.functions.balanceOf(victim).call() == 0
    assert token.functions.balanceOf(theft.address_of("exchange_deposit")).call() == 0
    assert token.functions.balanceOf(theft.address_of("exchange_hot_wallet")).call() == PHISHING_LOSS
    assert w3.eth.get_balance(victim) == PHISHING_VICTIM_GAS_MONEY - fee_paid(w3, theft.step("approve").tx_hash)
    # The approval outlives the drain: this is why victims are told to revoke it at once.
    assert token.functions.allowance(victim, attacker).call() == MAX_UINT256


def test_victim_approved_the_attacker_for_an_unlimited_amount(w3: Web3, token: Contract, staged_thefts: StagedScenario):
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    approve = theft.step("approve")
    topic = Web3.keccak(text="Approval(address,address,uint256)").to_0x_hex()
    logs = w3.eth.get_logs({"address": token.address, "fromBlock": 0, "toBlock": "latest", "topics": [topic]})
    events = [token.events.Approval().process_log(log) for log in logs]
    assert [
        (e["transactionHash"].to_0x_hex(), e["args"]["owner"], e["args"]["spender"], e["args"]["value"]) for e in events
    ] == [(approve.tx_hash, theft.address_of("victim"), theft.address_of("attacker"), MAX_UINT256)]


def test_transfer_events_follow_the_money_in_order(w3: Web3, token: Contract, staged_thefts: StagedScenario):
    phishing = staged_thefts.theft(APPROVAL_PHISHING).address_of
    phrase = staged_thefts.theft(LEAKED_RECOVERY_PHRASE).address_of
    expected = [
        (ZERO, phishing("victim"), PHISHING_LOSS),
        (ZERO, phrase("victim"), PHRASE_VICTIM_TOKENS),
        (phishing("victim"), phishing("attacker"), PHISHING_LOSS),
        (phishing("attacker"), phishing("intermediary_1"), PHISHING_LOSS),
        (phishing("intermediary_1"), phishing("intermediary_2"), PHISHING_LOSS),
        (phishing("intermediary_2"), phishing("exchange_deposit"), PHISHING_LOSS),
        (phishing("exchange_deposit"), phishing("exchange_hot_wallet"), PHISHING_LOSS),
        (phrase("victim"), phrase("attacker"), PHRASE_VICTIM_TOKENS),
        (phrase("attacker"), phrase("intermediary_1"), PHRASE_VICTIM_TOKENS),
    ]
    topic = Web3.keccak(text="Transfer(address,address,uint256)").to_0x_hex()
    logs = w3.eth.get_logs(
        {
            "address": token.address,
            "fromBlock": staged_thefts.token.deploy_block_number,
            "toBlock": "latest",
            "topics": [topic],
        }
    )
    events = [token.events.Transfer().process_log(log) for log in logs]
    assert [(e["args"]["from"], e["args"]["to"], e["args"]["value"]) for e in events] == expected
    token_steps = [
        s
        for s in staged_thefts.setup_steps + tuple(s for t in staged_thefts.thefts for s in t.steps)
        if s.token_address == token.address and s.action != "approve"
    ]
    assert [e["transactionHash"].to_0x_hex() for e in events] == [s.tx_hash for s in token_steps]
    assert [(s.from_address, s.to_address, s.amount) for s in token_steps] == expected


def test_leaked_phrase_thief_pays_gas_with_the_victims_eth_and_takes_the_rest(w3: Web3, staged_thefts: StagedScenario):
    theft = staged_thefts.theft(LEAKED_RECOVERY_PHRASE)
    victim, attacker = theft.address_of("victim"), theft.address_of("attacker")
    token_drain, native_drain = theft.step("token_drain"), theft.step("native_drain")

    assert w3.eth.get_transaction(token_drain.tx_hash)["from"] == victim
    assert w3.eth.get_balance(victim, token_drain.block_number - 1) == PHRASE_VICTIM_ETH
    after_token_drain = w3.eth.get_balance(victim, token_drain.block_number)
    assert after_token_drain == PHRASE_VICTIM_ETH - fee_paid(w3, token_drain.tx_hash)

    tx = w3.eth.get_transaction(native_drain.tx_hash)
    assert (tx["from"], tx["to"]) == (victim, attacker)
    stolen = tx["value"]
    victim_after = w3.eth.get_balance(victim, native_drain.block_number)
    assert after_token_drain - victim_after == stolen + fee_paid(w3, native_drain.tx_hash)
    assert victim_after == 0
    gained = w3.eth.get_balance(attacker, native_drain.block_number) - w3.eth.get_balance(
        attacker, native_drain.block_number - 1
    )
    assert gained == stolen == native_drain.amount == theft.stolen_native_amount
    assert theft.stolen_token_amount == PHRASE_VICTIM_TOKENS


def test_leaked_phrase_loot_moves_on_one_hop(w3: Web3, token: Contract, staged_thefts: StagedScenario):
    theft = staged_thefts.theft(LEAKED_RECOVERY_PHRASE)
    attacker, hop = theft.address_of("attacker"), theft.address_of("intermediary_1")
    native_hop = theft.step("native_hop")
    # The thief's only ETH was the victim's, so both hops' gas came out of the stolen amount.
    gas = fee_paid(w3, theft.step("token_hop").tx_hash) + fee_paid(w3, native_hop.tx_hash)
    assert w3.eth.get_balance(hop) == native_hop.amount == theft.stolen_native_amount - gas
    assert w3.eth.get_balance(attacker) == 0
    assert token.functions.balanceOf(hop).call() == PHRASE_VICTIM_TOKENS
    assert token.functions.balanceOf(attacker).call() == 0
    assert token.functions.balanceOf(theft.address_of("victim")).call() == 0


def test_issuer_blacklist_freezes_and_burns_funds(
    w3: Web3, token: Contract, staged_thefts: StagedScenario, scratch_chain: None
):
    issuer = staged_thefts.token.issuer
    hot_wallet = staged_thefts.theft(APPROVAL_PHISHING).address_of("exchange_hot_wallet")
    for address in (issuer, hot_wallet):
        rpc(w3, "anvil_impersonateAccount", address)
        rpc(w3, "anvil_setBalance", address, hex(ETH))
    functions = token.functions

    receipt = w3.eth.wait_for_transaction_receipt(functions.addBlackList(hot_wallet).transact({"from": issuer}))
    (added,) = token.events.AddedBlackList().process_receipt(receipt)
    assert added["args"]["_user"] == hot_wallet
    assert functions.isBlackListed(hot_wallet).call() is True
    with pytest.raises(ContractLogicError, match="blacklisted"):
        functions.transfer(issuer, 1).transact({"from": hot_wallet})
    w3.eth.wait_for_transaction_receipt(functions.approve(issuer, 1).transact({"from": hot_wallet}))
    with pytest.raises(ContractLogicError, match="blacklisted"):
        functions.transferFrom(hot_wallet, issuer, 1).transact({"from": issuer})

    supply = functions.totalSupply().call()
    receipt = w3.eth.wait_for_transaction_receipt(functions.destroyBlackFunds(hot_wallet).transact({"from": issuer}))
    (destroyed,) = token.events.DestroyedBlackFunds().process_receipt(receipt, errors=DISCARD)
    assert (destroyed["args"]["_blackListedUser"], destroyed["args"]["_balance"]) == (hot_wallet, PHISHING_LOSS)
    assert functions.balanceOf(hot_wallet).call() == 0
    assert functions.totalSupply().call() == supply - PHISHING_LOSS


def test_removing_from_the_blacklist_unfreezes(
    w3: Web3, token: Contract, staged_thefts: StagedScenario, scratch_chain: None
):
    issuer = staged_thefts.token.issuer
    hot_wallet = staged_thefts.theft(APPROVAL_PHISHING).address_of("exchange_hot_wallet")
    for address in (issuer, hot_wallet):
        rpc(w3, "anvil_impersonateAccount", address)
        rpc(w3, "anvil_setBalance", address, hex(ETH))
    functions = token.functions
    w3.eth.wait_for_transaction_receipt(functions.addBlackList(hot_wallet).transact({"from": issuer}))
    receipt = w3.eth.wait_for_transaction_receipt(functions.removeBlackList(hot_wallet).transact({"from": issuer}))
    assert token.events.RemovedBlackList().process_receipt(receipt)[0]["args"]["_user"] == hot_wallet
    w3.eth.wait_for_transaction_receipt(functions.transfer(issuer, 5 * USDT).transact({"from": hot_wallet}))
    assert functions.balanceOf(issuer).call() == 5 * USDT


def test_only_the_issuer_can_blacklist_or_mint(w3: Web3, token: Contract, staged_thefts: StagedScenario):
    outsider = staged_thefts.theft(APPROVAL_PHISHING).address_of("attacker")
    rpc(w3, "anvil_impersonateAccount", outsider)
    with pytest.raises(ContractLogicError, match="not the issuer"):
        token.functions.addBlackList(outsider).transact({"from": outsider})
    with pytest.raises(ContractLogicError, match="not the issuer"):
        token.functions.mint(outsider, 1).transact({"from": outsider})


def test_blacklist_state_is_restored_after_scratch_tests(token: Contract, staged_thefts: StagedScenario):
    hot_wallet = staged_thefts.theft(APPROVAL_PHISHING).address_of("exchange_hot_wallet")
    assert token.functions.isBlackListed(hot_wallet).call() is False
    assert token.functions.balanceOf(hot_wallet).call() == PHISHING_LOSS


def test_scenario_is_on_the_chain_it_was_staged_on(w3: Web3, staged_thefts: StagedScenario):
    assert scenario_is_on_chain(w3, staged_thefts) is True


def test_scenario_with_an_unknown_transaction_is_not_on_chain(w3: Web3, staged_thefts: StagedScenario):
    forged = dataclasses.replace(
        staged_thefts, token=dataclasses.replace(staged_thefts.token, deploy_tx_hash="0x" + "ab" * 32)
    )
    assert scenario_is_on_chain(w3, forged) is False


def test_staging_again_on_the_same_node_is_refused(w3: Web3, staged_thefts: StagedScenario):
    with pytest.raises(StagingError, match="already staged"):
        stage_thefts(w3)


def test_fresh_node_lacks_the_scenario_until_staged_with_the_same_addresses(staged_thefts: StagedScenario):
    # How long staging takes is measured in bench/inputs.py.
    with start_anvil() as node:
        fresh = Web3(Web3.HTTPProvider(node.rpc_url))
        assert scenario_is_on_chain(fresh, staged_thefts) is False
        restaged = stage_thefts(fresh)
        assert scenario_is_on_chain(fresh, restaged) is True
    assert restaged.token.address == staged_thefts.token.address
    assert [t.parties for t in restaged.thefts] == [t.parties for t in staged_thefts.thefts]
    assert restaged.labels == staged_thefts.labels


def test_scenario_round_trips_through_json_without_any_key_material(staged_thefts: StagedScenario):
    text = staged_thefts.to_json()
    assert StagedScenario.from_json(text) == staged_thefts
    # Anything 32 bytes long in the file must be one of the staged transaction hashes, never a key.
    assert set(re.findall(r"0x[0-9a-fA-F]{64}\b", text)) == set(staged_thefts.tx_hashes)
    assert "seed" not in json.loads(text)


@pytest.mark.parametrize("text", ["{}", "[]", '{"format": 99}', "not json"])
def test_reading_something_that_is_not_a_scenario_says_so(text: str):
    with pytest.raises(ValueError, match="Not a saved devnet scenario"):
        StagedScenario.from_json(text)


def test_missing_artefact_says_how_to_build_it():
    with pytest.raises(ContractError, match="compile.mjs"):
        load_artefact("NoSuchContract")


def test_deploy_from_a_node_account_returns_a_working_contract(w3: Web3, scratch_chain: None):
    deployer = w3.eth.accounts[0]
    token = deploy(w3, "CaseworkUSD", sender=deployer)
    assert token.functions.owner().call() == deployer
    assert token.functions.totalSupply().call() == 0


def test_deploy_of_a_reverting_constructor_is_a_clear_error(w3: Web3, tmp_path: Path, scratch_chain: None):
    # PUSH1 0 PUSH1 0 REVERT: a constructor that always reverts.
    (tmp_path / "Reverts.json").write_text(
        json.dumps({"abi": [{"type": "constructor", "inputs": []}], "bytecode": "0x60006000fd"})
    )
    with pytest.raises(ContractError, match="Deploying Reverts reverted"):
        deploy(w3, "Reverts", sender=w3.eth.accounts[0], build_dir=tmp_path)


def test_a_reverted_transaction_is_reported_with_its_hash(w3: Web3, token: Contract, scratch_chain: None):
    poor = w3.eth.accounts[1]
    # An explicit gas limit skips estimation, so the revert happens on chain and the receipt shows it.
    tx = token.functions.transfer(w3.eth.accounts[2], 1).build_transaction({"from": poor, "gas": 100_000})
    with pytest.raises(ContractError, match=r"Transaction 0x[0-9a-f]{64} reverted in block \d+"):
        send_transaction(w3, tx, sender=poor)
