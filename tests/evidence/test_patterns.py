"""Theft-pattern labels on the staged scenario and on hand-made movements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from evidence.models import Decoded, Movement, TheftLabel
from evidence.patterns import APPROVAL_DRAIN, DIRECT_DRAIN, SCAM_PAYMENT, label_thefts
from tests.evidence.scenario import ETHER, USD, Scenario


def labels_by_tx(labels: list[TheftLabel]) -> dict[str, TheftLabel]:
    """Labels keyed by transaction hash (one per transaction in these tests)."""
    return {label.tx_hash: label for label in labels}


def test_scenario_labels(decoded: Decoded, scenario: Scenario) -> None:
    labels = labels_by_tx(label_thefts(decoded.movements, scenario.victim, calls=decoded.calls,
                                       voluntary={scenario.scam_payment}))
    via_drainer = labels[scenario.drain_via_drainer]
    assert (via_drainer.pattern, via_drainer.counterparty, via_drainer.approval_tx_hash, via_drainer.value) == (
        APPROVAL_DRAIN, scenario.drainer, scenario.approve_drainer, 700 * USD)
    after_permit = labels[scenario.drain_after_permit]
    assert (after_permit.pattern, after_permit.counterparty, after_permit.approval_tx_hash) == (
        APPROVAL_DRAIN, scenario.attacker, scenario.permit)
    nft = labels[scenario.nft_drain]
    assert (nft.pattern, nft.approval_tx_hash) == (APPROVAL_DRAIN, scenario.nft_approval_for_all)
    assert labels[scenario.direct_token_drain].pattern == DIRECT_DRAIN
    assert (labels[scenario.native_drain].pattern, labels[scenario.native_drain].value) == (DIRECT_DRAIN, 3 * ETHER)
    assert labels[scenario.scam_payment].pattern == SCAM_PAYMENT
    assert scenario.failed_transfer not in labels and scenario.failed_native not in labels
    assert scenario.approve_drainer not in labels and scenario.permit not in labels


def test_without_a_hint_a_victim_signed_payment_is_a_direct_drain(decoded: Decoded, scenario: Scenario) -> None:
    labels = labels_by_tx(label_thefts(decoded.movements, scenario.victim))
    assert labels[scenario.scam_payment].pattern == DIRECT_DRAIN


def test_voluntary_true_makes_every_victim_signed_transfer_a_payment(decoded: Decoded, scenario: Scenario) -> None:
    shouted_victim = "0x" + scenario.victim[2:].upper()
    labels = label_thefts(decoded.movements, shouted_victim, calls=decoded.calls, voluntary=True)
    assert {label.pattern for label in labels} == {SCAM_PAYMENT, APPROVAL_DRAIN}


def test_a_drain_whose_approval_was_not_captured_is_still_an_approval_drain(decoded: Decoded,
                                                                             scenario: Scenario) -> None:
    without_approvals = [movement for movement in decoded.movements if movement.kind != "approval"]
    label = labels_by_tx(label_thefts(without_approvals, scenario.victim))[scenario.drain_via_drainer]
    assert (label.pattern, label.counterparty, label.approval_tx_hash) == (APPROVAL_DRAIN, scenario.attacker, None)


VICTIM, SPENDER, OTHER, TOKEN = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20, "0x" + "dd" * 20


def movement(kind: str, block: int, tx_from: str, sender: str, recipient: str, value: int,
             **fields: object) -> Movement:
    """A hand-made movement of TOKEN."""
    base = Movement(kind=kind, chain_id=1, tx_hash=f"0x{block:064x}", log_index=0, block_number=block,
                    timestamp=datetime(2026, 1, 1, tzinfo=UTC), tx_status=1, tx_from=tx_from, tx_to=TOKEN,
                    token=TOKEN, from_address=sender, to_address=recipient, value=value, decimals=6, symbol="T",
                    source_record="00" * 32)
    return replace(base, **fields)


def test_an_approval_after_the_drain_does_not_explain_it() -> None:
    drain = movement("erc20", 5, SPENDER, VICTIM, SPENDER, 10)
    late_approval = movement("approval", 6, VICTIM, VICTIM, SPENDER, 10, approval_scope="amount")
    (label,) = label_thefts([drain, late_approval], VICTIM)
    assert label.approval_tx_hash is None


def test_a_revoked_allowance_grants_nothing() -> None:
    revoke = movement("approval", 4, VICTIM, VICTIM, SPENDER, 0, approval_scope="amount")
    drain = movement("erc20", 5, SPENDER, VICTIM, OTHER, 10)
    (label,) = label_thefts([revoke, drain], VICTIM)
    assert label.approval_tx_hash is None


def test_an_approval_to_someone_else_does_not_explain_the_drain() -> None:
    approval = movement("approval", 4, VICTIM, VICTIM, OTHER, 10, approval_scope="amount")
    drain = movement("erc20", 5, SPENDER, VICTIM, SPENDER, 10)
    (label,) = label_thefts([approval, drain], VICTIM)
    assert (label.counterparty, label.approval_tx_hash) == (SPENDER, None)


def test_pre_byzantium_transfers_are_labelled_and_failed_ones_are_not() -> None:
    unknown_status = movement("erc20", 5, VICTIM, VICTIM, OTHER, 10, tx_status=None)
    failed = movement("erc20", 6, VICTIM, VICTIM, OTHER, 10, tx_status=0)
    assert [label.tx_hash for label in label_thefts([unknown_status, failed], VICTIM)] == [unknown_status.tx_hash]


def test_incoming_transfers_are_not_thefts() -> None:
    assert label_thefts([movement("erc20", 5, OTHER, OTHER, VICTIM, 10)], VICTIM) == []
