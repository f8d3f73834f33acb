"""The text of a referral's request: plain text, in English (the language exchanges', issuers' and agencies'
compliance desks read; the directory records no other), written from the case's facts and the route.

It names the case reference, the deposit address and chain, the incoming transfers with their hashes and amounts,
the path from the victim, what is asked, our contact (CASEWORK_REFERRAL_CONTACT, else the mail sender) and, for a
courtesy hold, that a police report follows by its due date. The victim's name, e-mail and phone go in only with
their consent for that kind of target (exchanges and issuers, law enforcement, consumer agencies; a lawyer's
handover carries none: the victim gives the lawyer their details themselves), and the draft says which it did.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, FlowEdge, Referral, ReferralKind, utcnow
from casework.services import chains, tracing
from casework.web import format_amount

# The longest path written out, in hops: a trace is at most 10 deep.
MAX_PATH_HOPS = 10
_REQUESTS = {
    ReferralKind.EXCHANGE_FREEZE: (
        "Freeze request",
        "We ask you to freeze the funds that reached the deposit address(es) above and the account that holds them, "
        "to keep that account's records (identity, log-ins, deposits and withdrawals), and to tell us what you "
        "froze and in which assets."),
    ReferralKind.STABLECOIN_ISSUER: (
        "Token freeze request",
        "We ask you to freeze the tokens held at the address(es) above, so that they cannot be moved further, and "
        "to tell us what you froze."),
    ReferralKind.POLICE: (
        "Report of a crypto-asset theft",
        "We ask you to record this theft and, where the funds reached a service that acts only on requests from law "
        "enforcement, to send it a freeze request through its law-enforcement channel as soon as you can: the funds "
        "can be moved on at any time."),
    ReferralKind.CONSUMER_AGENCY: (
        "Complaint about a crypto-asset theft",
        "We file this complaint on the victim's behalf and ask you to record it, to take the steps open to you "
        "against the services involved, and to tell us its reference."),
    ReferralKind.LAWYER: (
        "Case handover",
        "We hand this case over to you for legal action. Our case file, with its on-chain evidence and the hash of "
        "every raw record, is available on request."),
}
_CONSENTS = {
    ReferralKind.EXCHANGE_FREEZE: "consent_exchanges",
    ReferralKind.STABLECOIN_ISSUER: "consent_exchanges",
    ReferralKind.POLICE: "consent_law_enforcement",
    ReferralKind.CONSUMER_AGENCY: "consent_consumer_agencies",
}


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str
    personal_data_shared: bool


def may_share_personal_data(referral: Referral) -> bool:
    """True when the victim consented to their details going to this kind of target."""
    reporter = referral.case.reporter
    consent = _CONSENTS.get(referral.kind)
    return bool(reporter is not None and consent and getattr(reporter, consent))


def compose(referral: Referral, route) -> Draft:
    """The request for this referral, for its route (a directory.Route; None for a police report without a directory
    entry)."""
    case = referral.case
    title, request = _REQUESTS[referral.kind]
    target = route.organisation.name if route is not None else referral.target_name
    subject = f"{title}: case {case.reference}"
    if referral.target_address:
        subject += f", address {referral.target_address}"
    lines = [f"To: {target}", "", f"Our case reference: {case.reference}", ""]
    lines += _where(referral)
    lines += _how_it_got_there(referral)
    lines += ["Request:", request, ""]
    lines += _police_channel(referral)
    if route is not None and route.police_report_due is not None and referral.kind in (
            ReferralKind.EXCHANGE_FREEZE, ReferralKind.STABLECOIN_ISSUER):
        due = (utcnow() + route.police_report_due).date().isoformat()
        days = route.police_report_due.days
        lines += [f"If you grant a courtesy hold, a police report will reach you within {days} days of this request, "
                  f"by {due}.", ""]
    shared = may_share_personal_data(referral)
    lines += _victim(referral, shared)
    lines += ["Our contact:", contact(), "",
              "We will never ask you for, and you should never accept from anyone, a wallet's recovery phrase or "
              "private key."]
    return Draft(subject=subject, body="\n".join(lines), personal_data_shared=shared)


def _where(referral: Referral) -> list[str]:
    case = referral.case
    if referral.target_address and referral.chain_id is not None:
        lines = [f"Deposit address: {referral.target_address} on {chains.chain_name(referral.chain_id)} "
                 f"(chain id {referral.chain_id})"]
        if referral.amount_raw is not None:
            lines.append(f"Amount traced to it: {_amount(referral.amount_raw, referral.decimals, referral.symbol)}")
        return [*lines, ""]
    losses = [f"- {_amount(loss.amount_raw, loss.decimals, loss.asset_symbol)} on {chains.chain_name(loss.chain_id)}"
              for loss in case.losses]
    victims = [f"- {a.address} on {chains.chain_name(a.chain_id)}" for a in case.addresses
               if a.role is AddressRole.VICTIM]
    lines = ["What the victim reported losing:", *(losses or ["- (not stated)"]), ""]
    if victims:
        lines += ["The victim's addresses:", *victims, ""]
    return lines


def _how_it_got_there(referral: Referral) -> list[str]:
    """The incoming transfers (transaction hash and amount) and the path from the victim, from the latest trace."""
    if not referral.target_address or referral.chain_id is None:
        return []
    run = tracing.latest_trace(referral.case, referral.chain_id)
    if run is None:
        hashes = referral.tx_hashes or []
        return ["Incoming transactions:", *(f"- transaction {h}" for h in hashes), ""] if hashes else []
    edges = list(db.session.scalars(select(FlowEdge).where(FlowEdge.trace_run_id == run.id)
                                    .order_by(FlowEdge.hop, FlowEdge.block_number, FlowEdge.id)))
    target = referral.target_address.lower()
    incoming = [e for e in edges if e.to_address.lower() == target]
    lines = []
    if incoming:
        lines += ["Incoming transfers (transaction hash: amount):",
                  *(f"- transaction {e.tx_hash}: {_amount(e.amount_raw, e.decimals, e.symbol)}" for e in incoming), ""]
    path = path_to(edges, target)
    if path:
        lines += ["Path of the funds from the victim (hop: from -> to, transaction hash):",
                  *(f"{e.hop}: {e.from_address} -> {e.to_address}, transaction {e.tx_hash}" for e in path), ""]
    return lines


def path_to(edges: list[FlowEdge], target: str) -> list[FlowEdge]:
    """One chain of edges from the trace's start to target, walking back along the earliest hop into each address."""
    into: dict[str, FlowEdge] = {}
    for edge in edges:
        into.setdefault(edge.to_address.lower(), edge)
    path: list[FlowEdge] = []
    address = target
    while address in into and len(path) < MAX_PATH_HOPS:
        edge = into[address]
        if edge in path:
            break
        path.insert(0, edge)
        address = edge.from_address.lower()
    return path


def _police_channel(referral: Referral) -> list[str]:
    """For a police package: the service the funds reached and its law-enforcement channel."""
    if referral.kind is not ReferralKind.POLICE or not referral.target_address:
        return []
    sibling = next((r for r in referral.case.referrals if r is not referral and r.organisation is not None
                    and r.target_address == referral.target_address), None)
    if sibling is None:
        return []
    organisation = sibling.organisation
    channel = organisation.channel or "(see its law-enforcement guidelines)"
    return [f"The funds reached {organisation.name}, which acts only on requests from law enforcement: {channel}",
            ""]


def _victim(referral: Referral, shared: bool) -> list[str]:
    reporter = referral.case.reporter
    if reporter is None:
        return []
    if not shared:
        return ["The victim has not agreed to their personal details being passed to you: write to us and we will "
                "pass your questions on.", ""]
    lines = ["The victim (who agreed to their details being passed to you):", f"Name: {reporter.name}"]
    if reporter.email:
        lines.append(f"E-mail: {reporter.email}")
    if reporter.phone:
        lines.append(f"Phone: {reporter.phone}")
    return [*lines, ""]


def contact() -> str:
    return current_app.config.get("REFERRAL_CONTACT") or current_app.config["MAIL_SENDER"]


def _amount(raw: int, decimals: int | None, symbol: str | None) -> str:
    number = format_amount(raw, decimals) if decimals is not None else str(raw)
    return f"{number} {symbol}" if symbol else number



