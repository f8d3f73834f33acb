"""Stage the evidence test scenario on anvil with the test-only contracts in contracts/build/.

Used by the tests (through conftest fixtures) and by bench/evidence.py. Accounts come from fixed
keys and are impersonated on anvil, so the node signs for them; the victim's key also signs an
EIP-2612 permit off-chain, as a phishing site makes a victim do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

BUILD_DIR = Path(__file__).resolve().parent / "contracts" / "build"
USD = 10**6
ETHER = 10**18
UNLIMITED = 2**256 - 1


def actor(label: str) -> LocalAccount:
    """A test account derived from a label (the same address on every run)."""
    return Account.from_key(keccak(text=f"evidence-tests {label}"))


def fund(w3: Web3, *accounts: LocalAccount) -> None:
    """Give accounts ether and let anvil sign for them."""
    for account in accounts:
        w3.provider.make_request("anvil_setBalance", [account.address, hex(100 * ETHER)])
        w3.provider.make_request("anvil_impersonateAccount", [account.address])


def deploy(w3: Web3, name: str, *args: Any, sender: LocalAccount) -> Contract:
    """Deploy the compiled test contract `name` and return it bound to its address."""
    artefact = json.loads((BUILD_DIR / f"{name}.json").read_text(encoding="utf-8"))
    factory = w3.eth.contract(abi=artefact["abi"], bytecode=artefact["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(*args).transact({"from": sender.address}))
    return w3.eth.contract(address=receipt["contractAddress"], abi=artefact["abi"])


def send(w3: Web3, call: Any, sender: LocalAccount, *, wait: bool = True, **fields: Any) -> str:
    """Send a contract call (or a plain transfer when call is None) and return its hash as 0x-hex."""
    tx = {"from": sender.address, **fields}
    tx_hash = call.transact(tx) if call is not None else w3.eth.send_transaction(tx)
    if wait:
        w3.eth.wait_for_transaction_receipt(tx_hash)
    return tx_hash.to_0x_hex()


def in_one_block(w3: Web3, *senders: Callable[[], str]) -> list[str]:
    """Run the senders with automine off, then mine them together in one block."""
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = [sender() for sender in senders]
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    for tx_hash in hashes:
        w3.eth.wait_for_transaction_receipt(tx_hash)
    return hashes


def sign_permit(w3: Web3, token: Contract, owner: LocalAccount, spender: str, value: int, deadline: int) -> Any:
    """The owner's EIP-2612 signature for token.permit, made off-chain."""
    message = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                       {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                       {"name": "deadline", "type": "uint256"}],
        },
        "primaryType": "Permit",
        "domain": {"name": token.functions.name().call(), "version": "1", "chainId": w3.eth.chain_id,
                   "verifyingContract": token.address},
        "message": {"owner": owner.address, "spender": spender, "value": value,
                    "nonce": token.functions.nonces(owner.address).call(), "deadline": deadline},
    }
    return owner.sign_typed_data(full_message=message)


_TRANSACTION_FIELDS = (
    "approve_drainer", "drain_via_drainer", "permit", "drain_after_permit", "increase_allowance",
    "direct_token_drain", "native_drain", "nft_token_approval", "nft_approval_for_all", "nft_drain", "scam_payment",
    "failed_transfer", "failed_native",
)


@dataclass(frozen=True)
class Scenario:
    """Addresses (lowercase) and transaction hashes of the staged evidence scenario."""

    victim: str
    attacker: str
    scammer: str
    usd6: str
    reverting_symbol: str
    bytes32_symbol: str
    no_metadata: str
    unindexed: str
    nft: str
    drainer: str
    approve_drainer: str
    drain_via_drainer: str
    permit: str
    drain_after_permit: str
    increase_allowance: str
    direct_token_drain: str
    native_drain: str
    nft_token_approval: str
    nft_approval_for_all: str
    nft_drain: str
    scam_payment: str
    failed_transfer: str
    failed_native: str
    same_block: tuple[str, str]

    def transaction_hashes(self) -> list[str]:
        """Every staged transaction hash, in the order they were sent."""
        singles = [getattr(self, item.name) for item in fields(self) if item.name in _TRANSACTION_FIELDS]
        return [*singles, *self.same_block]


def stage_scenario(w3: Web3) -> Scenario:
    """Deploy the test tokens and stage approvals, drains, native and failed transfers."""
    victim, attacker, scammer = actor("victim"), actor("attacker"), actor("scammer")
    fund(w3, victim, attacker, scammer)
    usd6 = deploy(w3, "SixDecimalToken", "Test Dollar", "TUSD", sender=attacker)
    reverting = deploy(w3, "RevertingSymbolToken", sender=attacker)
    bytes32 = deploy(w3, "Bytes32SymbolToken", sender=attacker)
    no_metadata = deploy(w3, "NoMetadataToken", sender=attacker)
    unindexed = deploy(w3, "UnindexedTransferToken", sender=attacker)
    nft = deploy(w3, "TestNft", sender=attacker)
    drainer = deploy(w3, "Drainer", sender=attacker)
    for token in (usd6, reverting, bytes32, no_metadata, unindexed):
        send(w3, token.functions.mint(victim.address, 1_000 * USD), attacker)
    for token_id in (0, 1):
        send(w3, nft.functions.mint(victim.address, token_id), attacker)

    approve_drainer = send(w3, usd6.functions.approve(drainer.address, UNLIMITED), victim)
    drain_via_drainer = send(w3, drainer.functions.drain(usd6.address, victim.address, attacker.address, 700 * USD),
                             attacker)
    deadline = w3.eth.get_block("latest")["timestamp"] + 3600
    signed = sign_permit(w3, usd6, victim, attacker.address, 100 * USD, deadline)
    permit = send(w3, usd6.functions.permit(victim.address, attacker.address, 100 * USD, deadline, signed.v,
                                            signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")), attacker)
    drain_after_permit = send(w3, usd6.functions.transferFrom(victim.address, attacker.address, 100 * USD), attacker)
    increase_allowance = send(w3, bytes32.functions.increaseAllowance(attacker.address, 5 * USD), victim)
    direct_token_drain = send(w3, reverting.functions.transfer(attacker.address, 250 * USD), victim)
    native_drain = send(w3, None, victim, to=attacker.address, value=3 * ETHER)
    nft_token_approval = send(w3, nft.functions.approve(attacker.address, 0), victim)
    nft_approval_for_all = send(w3, nft.functions.setApprovalForAll(attacker.address, True), victim)
    nft_drain = send(w3, nft.functions.transferFrom(victim.address, attacker.address, 1), attacker)
    scam_payment = send(w3, unindexed.functions.transfer(scammer.address, 40 * USD), victim)
    # Explicit gas skips estimation, so the node mines the transfer and it reverts (status 0).
    failed_transfer = send(w3, usd6.functions.transfer(attacker.address, 10_000 * USD), victim, gas=100_000)
    # Value sent to a contract with no payable entry point: mined, reverted, nothing moved.
    failed_native = send(w3, None, victim, to=no_metadata.address, value=ETHER, gas=100_000)
    same_block = in_one_block(
        w3,
        lambda: send(w3, bytes32.functions.transfer(attacker.address, 11 * USD), victim, wait=False),
        lambda: send(w3, no_metadata.functions.transfer(attacker.address, 12 * USD), victim, wait=False),
    )
    return Scenario(
        victim=victim.address.lower(), attacker=attacker.address.lower(), scammer=scammer.address.lower(),
        usd6=usd6.address.lower(), reverting_symbol=reverting.address.lower(), bytes32_symbol=bytes32.address.lower(),
        no_metadata=no_metadata.address.lower(), unindexed=unindexed.address.lower(), nft=nft.address.lower(),
        drainer=drainer.address.lower(), approve_drainer=approve_drainer, drain_via_drainer=drain_via_drainer,
        permit=permit, drain_after_permit=drain_after_permit, increase_allowance=increase_allowance,
        direct_token_drain=direct_token_drain, native_drain=native_drain,
        nft_token_approval=nft_token_approval, nft_approval_for_all=nft_approval_for_all,
        nft_drain=nft_drain, scam_payment=scam_payment, failed_transfer=failed_transfer, failed_native=failed_native,
        same_block=(same_block[0], same_block[1]),
    )
