"""What the victim sees of their case: the status in plain words, the victim-visible timeline, the thread, and their
own PDF copy. A Case becomes a `reports.victim.VictimReport` (plain, translated text) here; templates never see the
ORM objects.

Only events whose kind carries a sentence for the victim (EventKind) reach the victim, and their text is that
sentence and the data this application itself recorded: a staff member's summary (a status-change reason, say) is
never shown; the summary a handler writes for the victim when closing the case is. Internal notes never appear.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import get_locale, get_translations, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from casework.extensions import db
from casework.i18n import LANGUAGES
from casework.models import (
    AddressRole,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    MessageAuthor,
    Referral,
    ReferralKind,
    ReferralStatus,
    Resolution,
    Transfer,
    TransferKind,
    utcnow,
)
from casework.services import chains, report_answers, uploads
from casework.services.tracing import note_words
from casework.web import format_amount
from reports.victim import (
    TEMPLATE,
    AddressLine,
    ContactLine,
    FileLine,
    LossLine,
    MessageLine,
    TimelineEntry,
    TransactionLine,
    VictimReport,
)

# The status as the victim reads it: a short title and what it means for them.
VICTIM_STATUS = {
    CaseStatus.SUBMITTED: (
        _l("Received"),
        _l("We have received your report. A case handler will look at it soon; the most urgent cases come first."),
    ),
    CaseStatus.TRIAGE: (
        _l("Being reviewed"),
        _l("A case handler is reading your report and deciding what to do first."),
    ),
    CaseStatus.INVESTIGATING: (
        _l("Under investigation"),
        _l("We are tracing where your funds went on the blockchain and collecting the evidence that exchanges and "
           "the police will need."),
    ),
    CaseStatus.ESCALATED: (
        _l("Escalated"),
        _l("Your case needs urgent or specialist attention and has been passed to a senior member of the team."),
    ),
    CaseStatus.RECOVERY: (
        _l("Recovery in progress"),
        _l("We know where funds went and are asking the exchanges or token issuers holding them to freeze or "
           "return them. This can take weeks; we will write to you here."),
    ),
    CaseStatus.AWAITING_VICTIM: (
        _l("Waiting for your answer"),
        _l("We need something from you to continue. Read the latest message below and reply there."),
    ),
    CaseStatus.CLOSED: (_l("Closed"), _l("Your case is closed.")),
}
CLOSED_EXPLANATIONS = {
    Resolution.RECOVERED: _l("Your case is closed: the funds were recovered."),
    Resolution.PARTIALLY_RECOVERED: _l("Your case is closed: part of the funds was recovered."),
    Resolution.UNRECOVERABLE: _l(
        "Your case is closed: we could not recover the funds. The evidence stays on file and can still support a "
        "police investigation."
    ),
    Resolution.DUPLICATE: _l("This case is closed because the same theft is handled in another case."),
    Resolution.WITHDRAWN: _l("This case is closed because the report was withdrawn."),
}
# Roles only a trace gives an address: the victim's report does not list them (they are the handler's leads).
TRACED_ROLES = frozenset({AddressRole.INTERMEDIARY, AddressRole.EXCHANGE_HOT_WALLET, AddressRole.BRIDGE,
                          AddressRole.MIXER})
# Addresses as the victim named them (the staff titles are for the console).
VICTIM_ADDRESS_ROLE = {
    AddressRole.VICTIM: _l("Your address"),
    AddressRole.ATTACKER: _l("Thief or scammer"),
    AddressRole.EXCHANGE_DEPOSIT: _l("Exchange deposit"),
    AddressRole.INTERMEDIARY: _l("Funds passed through"),
}


def _victim_sentence(event: CaseEvent) -> str | None:
    """The event's sentence on the victim's timeline (EventKind carries it), or None when the victim does not see it."""
    kind = event.action
    if kind is EventKind.STATUS:
        try:
            status = CaseStatus(event.data.get("after"))
        except ValueError:
            return None
        return kind.for_victim(by_victim=False, status=str(VICTIM_STATUS[status][0]))
    return kind.for_victim(by_victim=event.actor_label == "victim")


# What the victim themselves added, shown under the entry: the key of the event's data that holds it.
_VICTIM_DETAIL = {
    EventKind.ADDRESS_ADDED: "address",
    EventKind.TRANSACTION_ADDED: "tx_hash",
    EventKind.FILE_ADDED: "name",
}


def _victim_detail(event: CaseEvent) -> str:
    """What the victim themselves added, shown under the entry, and the summary written for the victim when their
    case was closed; nothing else of anyone else's events."""
    if event.action is EventKind.STATUS:
        return str((event.data or {}).get("victim_summary") or "")
    if event.action is EventKind.RECOVERY:  # the amount frozen or returned (never the staff note)
        return str((event.data or {}).get("amount") or "")
    if event.actor_label != "victim":
        return ""
    if event.action is EventKind.INFORMATION_ADDED:
        return event.summary
    key = _VICTIM_DETAIL.get(event.action)
    return str((event.data or {}).get(key, "")) if key else ""


class _Clock:
    """Times in the victim's own zone with the zone written out (UTC when the case has no usable zone)."""

    def __init__(self, zone_name: str | None) -> None:
        try:
            self.zone = zoneinfo.ZoneInfo(zone_name) if zone_name else UTC
            self.name = zone_name or "UTC"
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.zone, self.name = UTC, "UTC"

    def __call__(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return f"{moment.astimezone(self.zone):%Y-%m-%d %H:%M} ({self.name})"


def _victim_events(case: Case) -> list[tuple[CaseEvent, str]]:
    """The victim-visible events with their sentence, oldest first; a run of evidence captures is shown once."""
    kept: list[tuple[CaseEvent, str]] = []
    previous_action = None
    for event in case.events:
        title = _victim_sentence(event)
        if title is None or (event.action is EventKind.EVIDENCE and previous_action is EventKind.EVIDENCE):
            continue
        previous_action = event.action
        kept.append((event, title))
    return kept


def victim_timeline(case: Case) -> list[TimelineEntry]:
    """The timeline the victim sees, oldest first, times in the victim's zone."""
    clock = _Clock(case.victim_timezone)
    return [
        TimelineEntry(clock(event.created_at), event.created_at.isoformat(), title, _victim_detail(event))
        for event, title in _victim_events(case)
    ]


def _files(case: Case, clock: _Clock) -> tuple[FileLine, ...]:
    return tuple(
        FileLine(f.original_name, _("%(kb)s KB", kb=format_amount(-(-f.size // 1024), 0)), f.sha256,
                 clock(f.uploaded_at))
        for f in uploads.files_of_case(case)
    )


def _status_text(case: Case) -> tuple[str, str]:
    title, explanation = VICTIM_STATUS[case.status]
    if case.status is CaseStatus.CLOSED and case.resolution in CLOSED_EXPLANATIONS:
        explanation = CLOSED_EXPLANATIONS[case.resolution]
    return str(title), str(explanation)


def _consents(case: Case) -> tuple[str, ...]:
    reporter = case.reporter
    if reporter is None:
        return ()
    given = [
        (reporter.consent_law_enforcement, _("the police and other law enforcement")),
        (reporter.consent_exchanges, _("exchanges and stablecoin issuers")),
        (reporter.consent_consumer_agencies, _("consumer-protection agencies")),
    ]
    return tuple(text for consented, text in given if consented)


def build_victim_report(case: Case, *, now: datetime | None = None) -> VictimReport:
    """The victim's view of their case, translated into the current locale."""
    clock = _Clock(case.victim_timezone)
    status_title, status_explanation = _status_text(case)
    reporter = case.reporter
    timeline = victim_timeline(case)
    additions = tuple(
        TimelineEntry(clock(event.created_at), event.created_at.isoformat(), _("You added information."), event.summary)
        for event in case.events if event.action is EventKind.INFORMATION_ADDED and event.actor_label == "victim"
    )
    return VictimReport(
        reference=case.reference,
        language="zh-Hans" if str(get_locale()).startswith("zh") else "en",
        generated_at=clock(now or utcnow()),
        status_title=status_title,
        status_explanation=status_explanation,
        incident_type=case.incident_type.title,
        submitted_at=clock(case.submitted_at),
        incident_at=clock(case.incident_at) or None,
        discovered_at=clock(case.discovered_at) or None,
        time_zone=case.victim_timezone,
        wallet_app=case.wallet_app,
        first_contact=case.first_contact,
        chains=tuple(chains.chain_name(chain_id) for chain_id in case.chain_ids),
        statement=case.summary,
        losses=tuple(
            LossLine(format_amount(loss.amount_raw, loss.decimals), loss.asset_symbol, chains.chain_name(loss.chain_id),
                     loss.token_address,
                     f"{format_amount(loss.fiat_value_cents, 2)} {loss.fiat_currency}"
                     if loss.fiat_value_cents is not None and loss.fiat_currency else None,
                     ngettext("%(num)d decimal", "%(num)d decimals", loss.decimals) if loss.token_address else None)
            for loss in case.losses
        ),
        addresses=tuple(
            AddressLine(str(VICTIM_ADDRESS_ROLE.get(a.role, _("Other"))), a.address, chains.chain_name(a.chain_id),
                        a.label or "")
            for a in case.addresses if a.role not in TRACED_ROLES
        ),
        transactions=tuple(
            TransactionLine(tx.tx_hash, chains.chain_name(tx.chain_id), note_words(tx.note))
            for tx in case.transactions
        ),
        files=_files(case, clock),
        additions=additions,
        timeline=tuple(timeline),
        messages=tuple(
            MessageLine(clock(m.created_at), m.created_at.isoformat(),
                        _("You") if m.author_kind is MessageAuthor.VICTIM else _("Your case handler"),
                        m.author_kind is MessageAuthor.VICTIM, m.body)
            for m in case.messages
        ),
        contact=ContactLine(reporter.name, reporter.email, reporter.phone,
                            report_answers.country_name(reporter.country) if reporter.country else None,
                            LANGUAGES.get(reporter.preferred_language, reporter.preferred_language))
        if reporter is not None else None,
        consents=_consents(case),
    )


@dataclass(frozen=True)
class Findings:
    """What the evidence work found, in plain words for the victim: what left their address and when, which
    exchanges it reached, and what happens next. Never an intermediary address, a note or a lead."""

    moved: tuple[str, ...]
    traced_to: tuple[str, ...]
    next_steps: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.moved or self.traced_to or self.next_steps)


def victim_findings(case: Case) -> Findings:
    """The case's findings for its victim, in the current locale, times in the victim's zone."""
    clock = _Clock(case.victim_timezone)
    victims = {a.address for a in case.addresses if a.role is AddressRole.VICTIM}
    attackers = {a.address for a in case.addresses if a.role is AddressRole.ATTACKER}
    thefts = db.session.scalars(
        select(Transfer).where(Transfer.case_id == case.id, Transfer.kind != TransferKind.APPROVAL)
        .order_by(Transfer.block_number, Transfer.log_index)
    )
    moved = tuple(
        _("%(amount)s %(symbol)s left your address on %(when)s.",
          amount=format_amount(t.amount_raw, t.decimals or 0), symbol=t.symbol or "?", when=clock(t.block_time))
        for t in thefts if t.from_address in victims and t.to_address in attackers and t.tx_status != 0
    )
    freezes = [r for r in db.session.scalars(select(Referral).where(Referral.case_id == case.id)
                                             .order_by(Referral.id))
               if r.kind is ReferralKind.EXCHANGE_FREEZE and r.status is not ReferralStatus.CLOSED]
    names = list(dict.fromkeys(exchange_name(r) for r in freezes))
    traced_to = tuple(_("We traced your funds to %(exchange)s.", exchange=name) for name in names)
    return Findings(moved, traced_to, tuple(step for r in freezes for step in _next_steps(r, clock)))


def exchange_name(referral: Referral) -> str:
    """The name a victim knows a referral's target by: its directory entry's, else the label's without the wallet
    ("Harbour Exchange: Hot Wallet 1" -> "Harbour Exchange")."""
    if referral.organisation is not None:
        return referral.organisation.name
    return referral.target_name.split(":", 1)[0].strip()


def _next_steps(referral: Referral, clock: _Clock) -> list[str]:
    name, status = exchange_name(referral), referral.status
    if status in (ReferralStatus.PROPOSED, ReferralStatus.DRAFTED):
        steps = [_("We are preparing a request to %(exchange)s to freeze the funds.", exchange=name)]
    elif status in (ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED):
        steps = [_("We have asked %(exchange)s to freeze the funds.", exchange=name)]
    elif status in (ReferralStatus.FROZEN, ReferralStatus.RETURNED):
        steps = [_("%(exchange)s has frozen funds from your case.", exchange=name)]
    else:
        steps = [_("%(exchange)s did not freeze the funds; your case handler will tell you what else can be done.",
                   exchange=name)]
    if (referral.police_report_due_at is not None and referral.police_report_sent_at is None
            and status is not ReferralStatus.DECLINED):
        steps.append(_("%(exchange)s can hold the funds only for a short time unless a police report follows: report "
                       "the theft to the police by %(date)s and send us the report's number in a message below.",
                       exchange=name, date=clock(referral.police_report_due_at)))
    return steps


def render_victim_copy(case: Case) -> bytes:
    """The victim's PDF copy in the current locale; the download is logged on the case (the caller commits)."""
    from reports.render import render_pdf  # loads WeasyPrint on first use, not at app start-up

    pdf = render_pdf(TEMPLATE, build_victim_report(case), translations=get_translations())
    CaseEvent.record(case, None, EventKind.REPORT_DOWNLOADED, actor_label="victim",
                     sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
    return pdf
