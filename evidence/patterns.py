"""Label theft patterns in a victim's decoded movements.

Rules, applied to movements out of the victim's address in transactions that did not fail
(tx_status 1, or None for pre-Byzantium receipts), in chain order:

- ``direct_drain``: the transaction was signed by the victim (tx_from == victim). On chain this is
  what a stolen key looks like: whoever holds the key sends the funds out.
- ``scam_payment``: the same shape, when the caller says the victim sent it on purpose (``voluntary``
  is True for every transaction, or the collection of transaction hashes the victim sent). The chain
  cannot tell a drain from a payment made to a scammer; only the victim's account can.
- ``approval_drain``: a token left the victim in a transaction someone else signed. Only an
  allowance lets a third party move a holder's tokens, so the movement is matched with the most
  recent earlier approval by the victim of the same token (Approval/ApprovalForAll events, or
  recognised approve/increaseAllowance/permit/setApprovalForAll calls with the victim as owner)
  whose spender is the transaction's sender or the contract it called (phishing kits call a
  drainer contract that holds the allowance). counterparty is that spender and approval_tx_hash
  the approval's transaction; when no captured approval matches, the label is still
  approval_drain with counterparty the transaction's sender and approval_tx_hash None (capture the
  approval to complete the evidence).

Approvals themselves are not labelled: they move nothing until they are used.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from evidence.models import ContractCall, Movement, TheftLabel

APPROVAL_DRAIN = "approval_drain"
DIRECT_DRAIN = "direct_drain"
SCAM_PAYMENT = "scam_payment"

_GRANTING_CALLS = {"approve": "spender", "increaseAllowance": "spender", "permit": "spender",
                   "setApprovalForAll": "operator"}


def _grants(victim: str, movements: Iterable[Movement], calls: Iterable[ContractCall]) -> list[tuple]:
    """(block, position, token, spender, tx_hash) for every approval the victim granted."""
    grants = []
    for movement in movements:
        # A zero allowance or a revoked operator is a revocation, but token id 0 is a real token.
        granted = movement.approval_scope == "token" or movement.value > 0
        if movement.kind == "approval" and movement.from_address == victim and movement.tx_status != 0 and granted:
            grants.append((movement.block_number, movement.log_index or 0, movement.token, movement.to_address,
                           movement.tx_hash))
    for call in calls:
        spender_argument = _GRANTING_CALLS.get(call.function)
        owner = call.arg("owner") if call.function == "permit" else call.caller
        if spender_argument is None or owner != victim or call.tx_status == 0:
            continue
        if call.arg("approved") is False or call.arg("allowed") is False or call.arg("amount") == 0:
            continue
        grants.append((call.block_number, -1, call.contract, call.arg(spender_argument), call.tx_hash))
    return sorted(grants, key=lambda grant: grant[:2])


def label_thefts(
    movements: Iterable[Movement],
    victim: str,
    *,
    calls: Iterable[ContractCall] = (),
    voluntary: bool | Collection[str] = False,
) -> list[TheftLabel]:
    """Label the victim's outgoing movements as approval_drain, direct_drain or scam_payment (rules above)."""
    victim = victim.lower()
    movements = list(movements)
    grants = _grants(victim, movements, calls)
    voluntary_hashes = {tx_hash.lower() for tx_hash in voluntary} if not isinstance(voluntary, bool) else set()
    labels = []
    for movement in movements:
        if movement.kind == "approval" or movement.from_address != victim or movement.tx_status == 0:
            continue
        common = {"chain_id": movement.chain_id, "tx_hash": movement.tx_hash, "log_index": movement.log_index,
                  "victim": victim, "token": movement.token, "value": movement.value}
        if movement.tx_from == victim:
            sent_on_purpose = voluntary is True or movement.tx_hash in voluntary_hashes
            pattern = SCAM_PAYMENT if sent_on_purpose else DIRECT_DRAIN
            explanation = ("The victim's own account sent this; the victim reports sending it voluntarily."
                           if sent_on_purpose else "The victim's own account signed this transfer out.")
            labels.append(TheftLabel(pattern=pattern, counterparty=movement.to_address, explanation=explanation,
                                     **common))
            continue
        if movement.token is None:
            continue
        position = (movement.block_number, movement.log_index or 0)
        matching = [grant for grant in grants if grant[2] == movement.token and grant[:2] <= position
                    and grant[3] in (movement.tx_from, movement.tx_to)]
        if matching:
            _, _, _, spender, approval_tx = matching[-1]
            explanation = f"Moved by {spender}, which the victim had approved in {approval_tx}."
        else:
            spender, approval_tx = movement.tx_from, None
            explanation = "Moved by another account; the approval that allowed it is not among the captured records."
        labels.append(TheftLabel(pattern=APPROVAL_DRAIN, counterparty=spender, approval_tx_hash=approval_tx,
                                 explanation=explanation, **common))
    return labels
