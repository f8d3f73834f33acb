"""Stage two realistic thefts on a local devnet so the whole casework flow runs offline.

(a) Approval phishing: a victim signs an unlimited `approve` for a drainer, who pulls the whole
    cUSDT balance with `transferFrom`, moves it through two intermediaries into an exchange
    deposit address, which the exchange sweeps into its hot wallet.
(b) Leaked recovery phrase: the thief holds the victim's key and sends the cUSDT and then all the
    ETH straight from the victim's address (the victim's own ETH pays the gas), then moves both on.

Every account is derived from a fixed text, so a fresh node always gets the same addresses and the
same token address. Private keys exist only inside this module: the scenario records addresses,
transaction hashes, amounts and blocks, never a key (and never the seed text the keys come from).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound
from web3.types import TxParams

from evidence.devnet.anvil import DEVNET_CHAIN_ID
from evidence.devnet.contracts import ContractError, deploy, send_transaction

STABLECOIN_ARTEFACT = "CaseworkUSD"
NATIVE_SYMBOL = "ETH"
NATIVE_DECIMALS = 18
DEFAULT_SEED = "casework-devnet"
SCENARIO_FORMAT = 1

APPROVAL_PHISHING = "approval_phishing"
LEAKED_RECOVERY_PHRASE = "leaked_recovery_phrase"

TOKEN_UNIT = 10**6
ETHER = 10**18
UNLIMITED_ALLOWANCE = 2**256 - 1
PHISHING_VICTIM_TOKENS = 25_000 * TOKEN_UNIT
PHISHING_VICTIM_ETH = 5 * ETHER // 100
PHRASE_VICTIM_TOKENS = 8_000 * TOKEN_UNIT
PHRASE_VICTIM_ETH = 35 * ETHER // 10
# Gas money for the accounts that only forward funds (the drainer, intermediaries, the exchange's
# deposit address): in real cases it arrives from elsewhere and is not part of the theft.
GAS_FLOAT = ETHER // 10
PRIORITY_FEE = 10**9
PLAIN_TRANSFER_GAS = 21_000

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# Seconds after the node's latest block at which each staged transaction is mined: minutes apart,
# as real drains are, but short so the devnet clock does not run far ahead of the wall clock.
SCHEDULE = {
    "deploy": 60,
    "mint_phishing_victim": 120,
    "mint_phrase_victim": 180,
    "approve": 5 * 60,
    "drain": 6 * 60 + 30,
    "hop_1": 9 * 60,
    "hop_2": 13 * 60,
    "deposit": 18 * 60,
    "sweep": 25 * 60,
    "token_drain": 33 * 60,
    "native_drain": 34 * 60,
    "token_hop": 38 * 60,
    "native_hop": 39 * 60,
}


class StagingError(RuntimeError):
    """The thefts cannot be staged on this node (wrong chain, already staged, a step failed)."""


@dataclass(frozen=True)
class AddressLabel:
    """A name an analyst would attach to an address (exchange wallets, the issuer, case parties)."""

    address: str
    name: str
    category: str


@dataclass(frozen=True)
class Party:
    """An address and its role in one theft (victim, attacker, intermediary_1, exchange_deposit, ...)."""

    role: str
    address: str


@dataclass(frozen=True)
class StagedToken:
    """The deployed demo token and the transaction that created it."""

    address: str
    name: str
    symbol: str
    decimals: int
    issuer: str
    deploy_tx_hash: str
    deploy_block_number: int


@dataclass(frozen=True)
class StagedStep:
    """One staged transaction and the value it moved (for an approval, the allowance it granted)."""

    action: str
    tx_hash: str
    block_number: int
    timestamp: int
    sender: str
    from_address: str
    to_address: str
    asset: str
    token_address: str | None
    amount: int
    decimals: int


@dataclass(frozen=True)
class StagedTheft:
    """One theft: who is who, every transaction in chain order, and what was stolen."""

    kind: str
    summary: str
    parties: tuple[Party, ...]
    steps: tuple[StagedStep, ...]
    stolen_token_amount: int
    stolen_native_amount: int

    def address_of(self, role: str) -> str:
        """Return the address playing `role` in this theft, or raise KeyError."""
        for party in self.parties:
            if party.role == role:
                return party.address
        raise KeyError(f"No party with role {role!r} in the {self.kind} theft.")

    def step(self, action: str) -> StagedStep:
        """Return the step with this action (e.g. 'drain', 'sweep'), or raise KeyError."""
        for step in self.steps:
            if step.action == action:
                return step
        raise KeyError(f"No step {action!r} in the {self.kind} theft.")


@dataclass(frozen=True)
class StagedScenario:
    """Everything staged on the devnet: the token, its funding mints, the thefts and address labels."""

    chain_id: int
    token: StagedToken
    setup_steps: tuple[StagedStep, ...]
    thefts: tuple[StagedTheft, ...]
    labels: tuple[AddressLabel, ...]

    @property
    def tx_hashes(self) -> tuple[str, ...]:
        """Every staged transaction hash in chain order, starting with the token deployment."""
        steps = self.setup_steps + tuple(step for theft in self.thefts for step in theft.steps)
        return (self.token.deploy_tx_hash, *(step.tx_hash for step in steps))

    def theft(self, kind: str) -> StagedTheft:
        """Return the theft of this kind (APPROVAL_PHISHING or LEAKED_RECOVERY_PHRASE), or raise KeyError."""
        for theft in self.thefts:
            if theft.kind == kind:
                return theft
        raise KeyError(f"No {kind!r} theft in this scenario.")

    def to_json(self) -> str:
        """Serialise the scenario (no keys in it) for saving under instance/."""
        return json.dumps({"format": SCENARIO_FORMAT, **asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> StagedScenario:
        """Read a scenario written by to_json(); raise ValueError if it is not one."""
        try:
            data = json.loads(text)
            if data.get("format") != SCENARIO_FORMAT:
                raise ValueError(f"unsupported format {data.get('format')!r}")
            return cls(
                chain_id=data["chain_id"],
                token=StagedToken(**data["token"]),
                setup_steps=tuple(StagedStep(**step) for step in data["setup_steps"]),
                thefts=tuple(
                    StagedTheft(
                        kind=theft["kind"],
                        summary=theft["summary"],
                        parties=tuple(Party(**party) for party in theft["parties"]),
                        steps=tuple(StagedStep(**step) for step in theft["steps"]),
                        stolen_token_amount=theft["stolen_token_amount"],
                        stolen_native_amount=theft["stolen_native_amount"],
                    )
                    for theft in data["thefts"]
                ),
                labels=tuple(AddressLabel(**label) for label in data["labels"]),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"Not a saved devnet scenario ({error}): delete it and stage the thefts again.") from error


def _accounts(seed: str) -> dict[str, LocalAccount]:
    """The staging accounts, derived from fixed texts so every fresh node gets the same addresses."""
    roles = [
        "issuer",
        "phishing/victim",
        "phishing/attacker",
        "phishing/intermediary_1",
        "phishing/intermediary_2",
        "exchange/deposit",
        "exchange/hot_wallet",
        "phrase/victim",
        "phrase/attacker",
        "phrase/intermediary_1",
    ]
    return {role: Account.from_key(keccak(text=f"{seed}/{role}")) for role in roles}


class _Stager:
    """Sends the staged transactions at scheduled times and records each one as a StagedStep."""

    token: Contract
    staged_token: StagedToken

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.start = w3.eth.get_block("latest")["timestamp"]

    def rpc(self, method: str, params: list[Any]) -> None:
        response = self.w3.provider.make_request(method, params)
        if response.get("error"):
            raise StagingError(f"The node refused {method}: {response['error']}")

    def set_balance(self, address: str, wei: int) -> None:
        self.rpc("anvil_setBalance", [address, hex(wei)])

    def schedule(self, action: str) -> int:
        """Make the next block carry action's scheduled timestamp; return that timestamp."""
        timestamp = self.start + SCHEDULE[action]
        self.rpc("evm_setNextBlockTimestamp", [timestamp])
        return timestamp

    def check_mined_alone(self, action: str, block_number: int, timestamp: int) -> None:
        # Evidence capture and the tests rely on one staged transaction per block at a known time.
        block = self.w3.eth.get_block(block_number)
        if block["timestamp"] != timestamp or len(block["transactions"]) != 1:
            raise StagingError(f"Step {action} was not mined alone at its scheduled time: is anvil's automine off?")

    def deploy_token(self, issuer: LocalAccount) -> StagedToken:
        timestamp = self.schedule("deploy")
        self.token = deploy(self.w3, STABLECOIN_ARTEFACT, sender=issuer)
        block = self.w3.eth.get_block("latest")
        self.check_mined_alone("deploy", block["number"], timestamp)
        deploy_tx_hash = block["transactions"][0].to_0x_hex()
        if self.w3.eth.get_transaction_receipt(deploy_tx_hash)["contractAddress"] != self.token.address:
            raise StagingError("The token was not deployed by the transaction in the latest block.")
        functions = self.token.functions
        self.staged_token = StagedToken(
            address=self.token.address,
            name=functions.name().call(),
            symbol=functions.symbol().call(),
            decimals=functions.decimals().call(),
            issuer=issuer.address,
            deploy_tx_hash=deploy_tx_hash,
            deploy_block_number=block["number"],
        )
        return self.staged_token

    def send(self, action: str, signer: LocalAccount, tx: TxParams | ContractFunction) -> tuple[str, int, int]:
        """Mine tx (or a contract call) alone in a block at its scheduled time; return (hash, block, timestamp)."""
        timestamp = self.schedule(action)
        try:
            if isinstance(tx, ContractFunction):
                base_fee = self.w3.eth.get_block("latest")["baseFeePerGas"]
                fees: TxParams = {"maxFeePerGas": 2 * base_fee + PRIORITY_FEE, "maxPriorityFeePerGas": PRIORITY_FEE}
                tx = tx.build_transaction({"from": signer.address, "chainId": DEVNET_CHAIN_ID, **fees})
            receipt = send_transaction(self.w3, tx, sender=signer)
        except ContractLogicError as error:
            raise StagingError(f"Staging step {action} failed: {error.message}") from error
        except ContractError as error:
            raise StagingError(f"Staging step {action} failed: {error}") from error
        self.check_mined_alone(action, receipt["blockNumber"], timestamp)
        return receipt["transactionHash"].to_0x_hex(), receipt["blockNumber"], timestamp

    def balance(self, holder: LocalAccount) -> int:
        return self.token.functions.balanceOf(holder.address).call()

    def mint(self, action: str, issuer: LocalAccount, to: LocalAccount, amount: int) -> StagedStep:
        call = self.token.functions.mint(to.address, amount)
        return self._token_step(action, issuer, call, ZERO_ADDRESS, to.address, amount)

    def approve(self, action: str, owner: LocalAccount, spender: LocalAccount, amount: int) -> StagedStep:
        call = self.token.functions.approve(spender.address, amount)
        return self._token_step(action, owner, call, owner.address, spender.address, amount)

    def transfer(self, action: str, sender: LocalAccount, to: LocalAccount, amount: int) -> StagedStep:
        call = self.token.functions.transfer(to.address, amount)
        return self._token_step(action, sender, call, sender.address, to.address, amount)

    def transfer_from(
        self, action: str, spender: LocalAccount, holder: LocalAccount, to: LocalAccount, amount: int
    ) -> StagedStep:
        call = self.token.functions.transferFrom(holder.address, to.address, amount)
        return self._token_step(action, spender, call, holder.address, to.address, amount)

    def _token_step(
        self, action: str, signer: LocalAccount, call: ContractFunction, from_address: str, to_address: str, amount: int
    ) -> StagedStep:
        tx_hash, block_number, timestamp = self.send(action, signer, call)
        token = self.staged_token
        return StagedStep(
            action=action,
            tx_hash=tx_hash,
            block_number=block_number,
            timestamp=timestamp,
            sender=signer.address,
            from_address=from_address,
            to_address=to_address,
            asset=token.symbol,
            token_address=token.address,
            amount=amount,
            decimals=token.decimals,
        )

    def sweep_native(self, action: str, sender: LocalAccount, to: LocalAccount) -> StagedStep:
        """Send sender's whole ETH balance minus the exact gas fee, as sweeper scripts do."""
        # A legacy gas price is paid in full, so the fee is known exactly and nothing is left behind.
        gas_price = 2 * self.w3.eth.get_block("latest")["baseFeePerGas"] + PRIORITY_FEE
        value = self.w3.eth.get_balance(sender.address) - PLAIN_TRANSFER_GAS * gas_price
        if value <= 0:
            raise StagingError(f"Step {action}: {sender.address} has no ETH left to sweep.")
        tx: TxParams = {
            "to": to.address,
            "value": value,
            "gas": PLAIN_TRANSFER_GAS,
            "gasPrice": gas_price,
            "chainId": DEVNET_CHAIN_ID,
        }
        tx_hash, block_number, timestamp = self.send(action, sender, tx)
        return StagedStep(
            action=action,
            tx_hash=tx_hash,
            block_number=block_number,
            timestamp=timestamp,
            sender=sender.address,
            from_address=sender.address,
            to_address=to.address,
            asset=NATIVE_SYMBOL,
            token_address=None,
            amount=value,
            decimals=NATIVE_DECIMALS,
        )


def stage_thefts(w3: Web3, *, seed: str = DEFAULT_SEED) -> StagedScenario:
    """Deploy the demo token on a running anvil node and stage the two thefts; return what was staged.

    A different seed stages an independent copy (other accounts, another token) on the same node.
    """
    if w3.eth.chain_id != DEVNET_CHAIN_ID:
        raise StagingError(f"Thefts are only staged on the local devnet (chain id {DEVNET_CHAIN_ID}).")
    accounts = _accounts(seed)
    issuer = accounts["issuer"]
    if w3.eth.get_transaction_count(issuer.address) != 0:
        raise StagingError(
            "The thefts are already staged on this node: reuse the saved scenario, restart the devnet, "
            "or stage with another seed."
        )
    stager = _Stager(w3)
    stager.set_balance(issuer.address, GAS_FLOAT)
    stager.set_balance(accounts["phishing/victim"].address, PHISHING_VICTIM_ETH)
    stager.set_balance(accounts["phrase/victim"].address, PHRASE_VICTIM_ETH)
    for role in ("phishing/attacker", "phishing/intermediary_1", "phishing/intermediary_2", "exchange/deposit"):
        stager.set_balance(accounts[role].address, GAS_FLOAT)
    token = stager.deploy_token(issuer)
    setup_steps = (
        stager.mint("mint_phishing_victim", issuer, accounts["phishing/victim"], PHISHING_VICTIM_TOKENS),
        stager.mint("mint_phrase_victim", issuer, accounts["phrase/victim"], PHRASE_VICTIM_TOKENS),
    )
    thefts = (_stage_approval_phishing(stager, accounts), _stage_leaked_phrase(stager, accounts))
    return StagedScenario(
        chain_id=DEVNET_CHAIN_ID,
        token=token,
        setup_steps=setup_steps,
        thefts=thefts,
        labels=_labels(token, accounts),
    )


def _stage_approval_phishing(stager: _Stager, accounts: dict[str, LocalAccount]) -> StagedTheft:
    victim, attacker = accounts["phishing/victim"], accounts["phishing/attacker"]
    hop_1, hop_2 = accounts["phishing/intermediary_1"], accounts["phishing/intermediary_2"]
    deposit, hot_wallet = accounts["exchange/deposit"], accounts["exchange/hot_wallet"]
    # Drainers take whatever the wallet holds at the moment they strike, not a preset figure.
    stolen = stager.balance(victim)
    steps = (
        stager.approve("approve", victim, attacker, UNLIMITED_ALLOWANCE),
        stager.transfer_from("drain", attacker, victim, attacker, stolen),
        stager.transfer("hop_1", attacker, hop_1, stolen),
        stager.transfer("hop_2", hop_1, hop_2, stolen),
        stager.transfer("deposit", hop_2, deposit, stolen),
        stager.transfer("sweep", deposit, hot_wallet, stolen),
    )
    parties = (
        Party("victim", victim.address),
        Party("attacker", attacker.address),
        Party("intermediary_1", hop_1.address),
        Party("intermediary_2", hop_2.address),
        Party("exchange_deposit", deposit.address),
        Party("exchange_hot_wallet", hot_wallet.address),
    )
    summary = "Victim approved an unlimited cUSDT allowance on a phishing site; the drainer pulled the balance."
    return StagedTheft(APPROVAL_PHISHING, summary, parties, steps, stolen, 0)


def _stage_leaked_phrase(stager: _Stager, accounts: dict[str, LocalAccount]) -> StagedTheft:
    victim, attacker, hop = accounts["phrase/victim"], accounts["phrase/attacker"], accounts["phrase/intermediary_1"]
    stolen_tokens = stager.balance(victim)
    # Token first, then ETH: the thief needs the victim's ETH to pay for the token transfer, and the
    # stolen ETH then pays for moving everything on.
    steps = (
        stager.transfer("token_drain", victim, attacker, stolen_tokens),
        stager.sweep_native("native_drain", victim, attacker),
        stager.transfer("token_hop", attacker, hop, stolen_tokens),
        stager.sweep_native("native_hop", attacker, hop),
    )
    parties = (
        Party("victim", victim.address),
        Party("attacker", attacker.address),
        Party("intermediary_1", hop.address),
    )
    summary = "Victim's recovery phrase leaked; the thief emptied the wallet of cUSDT and ETH with the victim's key."
    return StagedTheft(LEAKED_RECOVERY_PHRASE, summary, parties, steps, stolen_tokens, steps[1].amount)


def _labels(token: StagedToken, accounts: dict[str, LocalAccount]) -> tuple[AddressLabel, ...]:
    # Intermediaries stay unlabelled on purpose: tracing is meant to find them.
    return (
        AddressLabel(token.address, f"{token.name} ({token.symbol})", "token_contract"),
        AddressLabel(token.issuer, f"{token.name}: Issuer", "issuer"),
        AddressLabel(accounts["exchange/deposit"].address, "Harbour Exchange: Deposit", "exchange_deposit"),
        AddressLabel(accounts["exchange/hot_wallet"].address, "Harbour Exchange: Hot Wallet 1", "exchange_hot_wallet"),
        AddressLabel(accounts["phishing/victim"].address, "Victim (approval phishing)", "victim"),
        AddressLabel(accounts["phishing/attacker"].address, "Phishing drainer", "attacker"),
        AddressLabel(accounts["phrase/victim"].address, "Victim (leaked recovery phrase)", "victim"),
        AddressLabel(accounts["phrase/attacker"].address, "Recovery-phrase thief", "attacker"),
    )


def scenario_is_on_chain(w3: Web3, scenario: StagedScenario) -> bool:
    """True when the node still holds the staged scenario (token code, first and last staged tx in place).

    Connection errors are raised, not reported as False: a stopped node is not a reset one.
    """
    if w3.eth.chain_id != scenario.chain_id or not w3.eth.get_code(Web3.to_checksum_address(scenario.token.address)):
        return False
    last_step = scenario.thefts[-1].steps[-1] if scenario.thefts else None
    expected = [(scenario.token.deploy_tx_hash, scenario.token.deploy_block_number)]
    if last_step is not None:
        expected.append((last_step.tx_hash, last_step.block_number))
    for tx_hash, block_number in expected:
        try:
            tx = w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        if tx["blockNumber"] != block_number:
            return False
    return True
