"""Compiled devnet contracts: load their artefacts, deploy them and send transactions to them.

Artefacts are built by `node evidence/devnet/compile.mjs` and committed under build/, so nothing
here needs a Solidity compiler at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxParams, TxReceipt

BUILD_DIR = Path(__file__).resolve().parent / "build"
RECEIPT_TIMEOUT_SECONDS = 30.0

# A sender is either a key held here (signed locally, as a real wallet does) or an address the
# node can sign for (anvil's unlocked or impersonated accounts).
Sender = LocalAccount | ChecksumAddress | str


class ContractError(RuntimeError):
    """A compiled artefact is missing or malformed, or a transaction to a contract reverted."""


def load_artefact(name: str, *, build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    """Return the compiled artefact <build_dir>/<name>.json ({contractName, abi, bytecode, ...})."""
    path = build_dir / f"{name}.json"
    if not path.is_file():
        raise ContractError(
            f"No compiled contract '{name}' at {path}: run 'node evidence/devnet/compile.mjs' to build it."
        )
    artefact = json.loads(path.read_text(encoding="utf-8"))
    if not artefact.get("abi") or not str(artefact.get("bytecode", "")).startswith("0x"):
        raise ContractError(f"{path} has no ABI or bytecode: rebuild it with 'node evidence/devnet/compile.mjs'.")
    return artefact


def contract_at(w3: Web3, name: str, address: str, *, build_dir: Path = BUILD_DIR) -> Contract:
    """Bind the ABI of the compiled contract `name` to a deployed address."""
    abi = load_artefact(name, build_dir=build_dir)["abi"]
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def send_transaction(w3: Web3, tx: TxParams, *, sender: Sender) -> TxReceipt:
    """Send tx from sender, wait for its receipt and return it; raise ContractError if it reverted.

    A LocalAccount signs here with its own nonce; any other sender is signed for by the node.
    """
    if isinstance(sender, LocalAccount):
        fields = dict(tx)
        fields["from"] = sender.address
        fields.setdefault("nonce", w3.eth.get_transaction_count(sender.address, "pending"))
        fields.setdefault("chainId", w3.eth.chain_id)
        if "gas" not in fields:
            fields["gas"] = w3.eth.estimate_gas(fields)
        if "gasPrice" not in fields and "maxFeePerGas" not in fields:
            fields["maxPriorityFeePerGas"] = w3.eth.max_priority_fee
            fields["maxFeePerGas"] = 2 * w3.eth.get_block("latest")["baseFeePerGas"] + fields["maxPriorityFeePerGas"]
        signed = sender.sign_transaction(fields)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    else:
        tx_hash = w3.eth.send_transaction({**tx, "from": Web3.to_checksum_address(sender)})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS)
    if receipt["status"] != 1:
        raise ContractError(f"Transaction {tx_hash.to_0x_hex()} reverted in block {receipt['blockNumber']}.")
    return receipt


def deploy(w3: Web3, name: str, *args: Any, sender: Sender, build_dir: Path = BUILD_DIR) -> Contract:
    """Deploy the compiled contract `name` with constructor args from sender; return it bound to its address.

    Raise ContractError when the constructor reverts, whether the node sees it while estimating gas or on chain.
    """
    artefact = load_artefact(name, build_dir=build_dir)
    factory = w3.eth.contract(abi=artefact["abi"], bytecode=artefact["bytecode"])
    sender_address = sender.address if isinstance(sender, LocalAccount) else Web3.to_checksum_address(sender)
    try:
        tx = factory.constructor(*args).build_transaction({"from": sender_address})
        receipt = send_transaction(w3, tx, sender=sender)
    except ContractLogicError as error:
        raise ContractError(f"Deploying {name} reverted: {error.message}") from error
    except ContractError as error:
        raise ContractError(f"Deploying {name} failed: {error}") from error
    address = receipt["contractAddress"]
    if address is None or not w3.eth.get_code(address):
        raise ContractError(f"Deploying {name} left no code on chain (tx {receipt['transactionHash'].to_0x_hex()}).")
    return w3.eth.contract(address=address, abi=artefact["abi"])
