"""The staff queue and case page as plain values (view-models), and the fund-flow graph the case page shows.

Each checks the reader's access here, as every service does: a template receives QueueLine or CasePage
values and never runs a query, and the graph view receives the SVG text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from eth_utils import to_checksum_address
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.i18n import LANGUAGES
from casework.models import (
    AddressRole,
    Case,
    CaseEvent,
    EventKind,
    MessageAuthor,
    ReportExtras,
    TraceRun,
    Transfer,
    TransferKind,
    User,
    utcnow,
)
from casework.services import cases as case_service
from casework.services import chains, directory, jobs, labels, tracing, uploads
from casework.services import evidence as evidence_service
from casework.services.access import Permission, can
from casework.services.report_answers import country_name
from casework.web import format_amount
from evidence.graph_svg import SvgWords, render_flow_svg
from evidence.trace import FlowGraph

# Who acted, when it was not a named staff member (CaseEvent.actor_label).
ACTORS = {"victim": _l("the victim"), "system": _l("the system"), "staff": _l("staff")}
UNLIMITED_ALLOWANCE = 2**256 - 1
# The other side's contacts (ReportExtras.scammer_contacts) and reports made elsewhere (prior_reports), as staff
# read them.
CONTACT_KINDS = {
    "websites": _l("Websites"), "phones": _l("Phone numbers"), "emails": _l("E-mail addresses"),
    "social": _l("Messenger and social accounts"), "apps": _l("Apps and platforms"),
}
PRIOR_REPORTS = {
    "police_report_number": _l("Police report number"), "police_agency": _l("Police agency"),
    "platform_ticket": _l("Exchange or platform ticket"),
}
# A staff member's views of a case are logged at most once in this window (CASE_VIEWED).
VIEW_LOG_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Consent:
    """Whether the victim lets us share their case with one kind of recipient."""

    recipient: str
    given: bool


@dataclass(frozen=True)
class VictimFacts:
    name: str
    email: str | None
    phone: str | None
    country: str | None
    jurisdiction: str | None
    language: str
    consents: list[Consent]


@dataclass(frozen=True)
class LabelledValues:
    """A label and what the victim wrote under it (one kind of scammer contact, one report made elsewhere)."""

    label: str
    values: list[str]


@dataclass(frozen=True)
class FileLine:
    id: int
    name: str
    content_type: str
    size: str
    uploaded_at: datetime


@dataclass(frozen=True)
class CaseActions:
    """The forms the viewer may use on the page (the POST routes check the same permissions again)."""

    reply: bool
    add_note: bool
    capture: bool
    discover: bool
    trace: bool
    confirm_theft: bool
    add_attacker: bool

    @property
    def run_evidence(self) -> bool:
        return self.capture or self.discover or self.trace


@dataclass(frozen=True)
class LossLine:
    amount: str
    symbol: str
    token_address: str | None
    chain: str


@dataclass(frozen=True)
class AddressLine:
    role: str
    address: str
    chain: str
    label: str
    anchor: str  # the id of its row, which the fund-flow graph links to


@dataclass(frozen=True)
class TransactionLine:
    tx_hash: str
    chain: str
    note: str | None


@dataclass(frozen=True)
class ChainChoice:
    chain_id: int
    name: str
    named_by_victim: bool


@dataclass(frozen=True)
class ReferralLine:
    kind: str
    target_name: str
    status: str
    amount: str | None
    target_address: str | None
    follow_up_due_at: datetime | None


@dataclass(frozen=True)
class JobLine:
    id: int
    kind: str
    status: str
    progress: str
    last_error: str | None


@dataclass(frozen=True)
class TransferLine:
    id: int
    block_time: datetime
    kind: str
    failed: bool
    pattern: str | None
    approval_tx_hash: str | None
    amount: str
    from_address: str
    to_address: str
    tx_hash: str
    reported: bool
    confirmed: bool
    can_confirm: bool


@dataclass(frozen=True)
class EvidenceSection:
    chains: list[ChainChoice]
    discover_since: date
    discover_until: date
    records: int
    latest_chain_hash: str | None
    referrals: list[ReferralLine]
    trace_run_id: int | None
    graph_svg: Markup | None
    trace_chain_id: int | None
    trace_depth: int
    trace_breadth: int
    has_attacker_address: bool
    # The exchanges the latest trace reached, and the directory entry (slug) of each shown name that has one.
    trace_exchanges: list[str]
    directory_slugs: dict[str, str]
    elsewhere: dict[str, list[str]]
    jobs: list[JobLine]
    transfers: list[TransferLine]


@dataclass(frozen=True)
class ThreadEntry:
    from_victim: bool
    author: str
    created_at: datetime
    body: str


@dataclass(frozen=True)
class TimelineEntry:
    created_at: datetime
    title: str
    summary: str
    actor: str


@dataclass(frozen=True)
class CasePage:
    """Everything the staff case page shows, as plain values in the reader's language."""

    reference: str
    status: str
    resolution: str | None
    priority_code: str
    priority: str
    incident: str
    wallet_app: str | None
    first_contact: str | None
    incident_at: datetime | None
    discovered_at: datetime | None
    victim_timezone: str | None
    submitted_at: datetime
    handler: str | None
    statement: str
    victim: VictimFacts | None
    scammer_contacts: list[LabelledValues]
    exchanges: list[str]
    prior_reports: list[LabelledValues]
    files: list[FileLine]
    losses: list[LossLine]
    addresses: list[AddressLine]
    transactions: list[TransactionLine]
    evidence: EvidenceSection
    messages: list[ThreadEntry]
    notes: list[ThreadEntry]
    timeline: list[TimelineEntry]
    actions: CaseActions


def _amount(raw: int, decimals: int | None, symbol: str | None) -> str:
    number = format_amount(raw, decimals) if decimals is not None else str(raw)
    return f"{number} {symbol}" if symbol else number


def _transfer_line(transfer: Transfer, victims: set[tuple[int, str]], reported: set[str],
                   confirmed: set[int]) -> TransferLine:
    """A value movement. One that left a victim address can be marked as part of the theft until it is, and so can
    any of a reported transaction when the victim gave no address on its chain."""
    if transfer.kind is TransferKind.APPROVAL and transfer.amount_raw == UNLIMITED_ALLOWANCE:
        amount = _("unlimited %(symbol)s", symbol=transfer.symbol or "").strip()
    else:
        amount = _amount(transfer.amount_raw, transfer.decimals, transfer.symbol)
    is_reported = transfer.tx_hash in reported
    is_confirmed = transfer.id in confirmed
    from_victim = (transfer.chain_id, transfer.from_address) in victims
    unknown_victim = is_reported and not any(chain_id == transfer.chain_id for chain_id, _ in victims)
    return TransferLine(
        id=transfer.id, block_time=transfer.block_time, kind=transfer.kind.title, failed=transfer.tx_status == 0,
        pattern=transfer.pattern.title if transfer.pattern else None,
        approval_tx_hash=transfer.approval_tx_hash if transfer.pattern else None, amount=amount,
        from_address=transfer.from_address, to_address=transfer.to_address, tx_hash=transfer.tx_hash,
        reported=is_reported, confirmed=is_confirmed,
        can_confirm=not is_confirmed and (from_victim or unknown_victim),
    )


def address_anchor(chain_id: int, address: str) -> str:
    """The id of a case address's row on the case page, which the fund-flow graph's boxes link to."""
    return f"address-{chain_id}-{address.lower()}"


def _graph_svg(case: Case, run: TraceRun, page_url: str = "") -> str:
    """A trace run's drawing: each box links to its address's row on the case page (page_url#anchor), or to the
    chain's explorer for an address the case does not hold."""
    held = {a.address.lower() for a in case.addresses if a.chain_id == run.chain_id}
    chain = chains.registry().get(run.chain_id) if run.chain_id in chains.registry() else None

    def href(address: str) -> str | None:
        if address.lower() in held:
            return f"{page_url}#{address_anchor(run.chain_id, address)}"
        link = chain.explorer_address(to_checksum_address(address)) if chain else None
        return link if link and link.startswith(("https://", "http://")) else None

    title = f"{case.reference} · {chains.chain_name(run.chain_id)}"
    return render_flow_svg(FlowGraph.from_dict(run.graph), title=title, words=graph_words(), href=href)


def _trace_chain(case: Case, named: set[int]) -> int | None:
    """The chain the Trace form offers first: one with an attacker address, else the one the victim named."""
    attacked = sorted({a.chain_id for a in case.addresses if a.role is AddressRole.ATTACKER})
    return next(iter(attacked or sorted(named)), None)


def _evidence(case: Case) -> EvidenceSection:
    head = evidence_service.last_record(case)
    trace_run = tracing.latest_trace(case)
    reported = {tx.tx_hash for tx in case.transactions}
    victims = {(a.chain_id, a.address) for a in case.addresses if a.role is AddressRole.VICTIM}
    confirmed = {e.data.get("transfer_id") for e in case.events if e.action is EventKind.THEFT_CONFIRMED and e.data}
    named = set(case.chain_ids)
    exchanges = sorted({node["exchange"] for node in (trace_run.graph.get("nodes") or []) if node.get("exchange")}
                       if trace_run else set())
    return EvidenceSection(
        chains=[ChainChoice(c.chain_id, c.name, c.chain_id in named) for c in chains.registry()],
        discover_since=((case.incident_at or case.submitted_at) - timedelta(days=1)).date(),
        discover_until=case.submitted_at.date(),
        records=head.sequence + 1 if head else 0,
        latest_chain_hash=head.chain_hash if head else None,
        referrals=[
            ReferralLine(
                kind=r.kind.title, target_name=r.target_name, status=r.status.title,
                amount=_amount(r.amount_raw, r.decimals or 0, r.symbol) if r.amount_raw is not None else None,
                target_address=r.target_address, follow_up_due_at=r.follow_up_due_at,
            )
            for r in case.referrals
        ],
        trace_run_id=trace_run.id if trace_run else None,
        # render_flow_svg escapes every text it draws and checks every link, so its SVG goes into the page as it is.
        graph_svg=Markup(_graph_svg(case, trace_run)) if trace_run else None,  # noqa: S704
        trace_chain_id=_trace_chain(case, named),
        trace_depth=tracing.DEFAULT_DEPTH,
        trace_breadth=tracing.DEFAULT_BREADTH,
        has_attacker_address=any(a.role is AddressRole.ATTACKER for a in case.addresses),
        trace_exchanges=exchanges,
        directory_slugs=directory.entry_slugs([*exchanges, *(r.target_name for r in case.referrals)]),
        elsewhere=labels.other_cases(case),
        jobs=[
            JobLine(job.id, job.kind.title, job.status.title, job.progress, job.last_error)
            for job in jobs.jobs_for(case)
        ],
        transfers=[_transfer_line(t, victims, reported, confirmed) for t in evidence_service.transfers_for(case)],
    )


def _staff_name(user: User | None) -> str:
    return user.display_name if user is not None else _("Staff")


def _actions(user: User) -> CaseActions:
    works = can(user, Permission.WORK_CASES)
    return CaseActions(reply=works, add_note=works, capture=works, discover=works, trace=works, confirm_theft=works,
                       add_attacker=works)


def _victim(case: Case) -> VictimFacts | None:
    reporter = case.reporter
    if reporter is None:
        return None
    return VictimFacts(
        name=reporter.name, email=reporter.email, phone=reporter.phone,
        country=country_name(reporter.country) or None, jurisdiction=reporter.jurisdiction,
        language=str(LANGUAGES.get(reporter.preferred_language, reporter.preferred_language)),
        consents=[
            Consent(_("Exchanges and stablecoin issuers"), reporter.consent_exchanges),
            Consent(_("Police and other law enforcement"), reporter.consent_law_enforcement),
            Consent(_("Consumer-protection agencies"), reporter.consent_consumer_agencies),
        ],
    )


def _extras(case: Case) -> ReportExtras:
    return db.session.scalar(select(ReportExtras).where(ReportExtras.case_id == case.id)) or ReportExtras(
        scammer_contacts={}, exchanges=[], prior_reports={})


def record_view(user: User, case: Case) -> CaseEvent | None:
    """Log that user opened the case page (CASE_VIEWED), unless they did within VIEW_LOG_WINDOW; the caller commits."""
    since = utcnow() - VIEW_LOG_WINDOW
    seen = db.session.scalar(select(CaseEvent.id).where(
        CaseEvent.case_id == case.id, CaseEvent.actor_id == user.id, CaseEvent.action == EventKind.CASE_VIEWED,
        CaseEvent.created_at >= since,
    ).limit(1))
    return None if seen is not None else CaseEvent.record(case, user, EventKind.CASE_VIEWED)


def case_page(user: User, reference: str) -> CasePage:
    """The case page of reference for user, or AccessDenied / NotFound (as cases.get_for)."""
    case = case_service.get_for(user, reference)
    extras = _extras(case)
    return CasePage(
        reference=case.reference,
        status=case.status.title,
        resolution=case.resolution.title if case.resolution else None,
        priority_code=case.priority.value,
        priority=case.priority.title,
        incident=case.incident_type.title,
        wallet_app=case.wallet_app,
        first_contact=case.first_contact,
        incident_at=case.incident_at,
        discovered_at=case.discovered_at,
        victim_timezone=case.victim_timezone,
        submitted_at=case.submitted_at,
        handler=case.assigned_handler.display_name if case.assigned_handler else None,
        statement=case.summary or "",
        victim=_victim(case),
        scammer_contacts=[
            LabelledValues(str(label), list(extras.scammer_contacts[kind]))
            for kind, label in CONTACT_KINDS.items() if extras.scammer_contacts.get(kind)
        ],
        exchanges=list(extras.exchanges),
        prior_reports=[
            LabelledValues(str(label), [extras.prior_reports[name]])
            for name, label in PRIOR_REPORTS.items() if extras.prior_reports.get(name)
        ],
        files=[
            FileLine(f.id, uploads.display_name(f.original_name), f.content_type,
                     _("%(kb)s KB", kb=format_amount(-(-f.size // 1024), 0)), f.uploaded_at)
            for f in uploads.files_of_case(case)
        ],
        losses=[
            LossLine(_amount(loss.amount_raw, loss.decimals, None), loss.asset_symbol, loss.token_address,
                     chains.chain_name(loss.chain_id))
            for loss in case.losses
        ],
        addresses=[
            AddressLine(a.role.title, a.address, chains.chain_name(a.chain_id), a.label or "",
                        address_anchor(a.chain_id, a.address))
            for a in case.addresses
        ],
        transactions=[
            TransactionLine(tx.tx_hash, chains.chain_name(tx.chain_id), tracing.note_words(tx.note) or None)
            for tx in case.transactions
        ],
        evidence=_evidence(case),
        messages=[
            ThreadEntry(
                from_victim=m.author_kind is MessageAuthor.VICTIM,
                author=_("Victim") if m.author_kind is MessageAuthor.VICTIM else _staff_name(m.author),
                created_at=m.created_at, body=m.body,
            )
            for m in case.messages
        ],
        notes=[ThreadEntry(False, n.author.display_name, n.created_at, n.body) for n in case.notes],
        timeline=[
            TimelineEntry(e.created_at, e.title, e.staff_summary,
                          e.actor.display_name if e.actor else str(ACTORS.get(e.actor_label, e.actor_label)))
            for e in case.events
        ],
        actions=_actions(user),
    )


def flow_graph_svg(user: User, reference: str, run_id: int, *, page_url: str = "") -> str:
    """The SVG of one trace run of the case, for a user who may see the case, its boxes linking to page_url's
    address rows; NotFound for another case's run."""
    case = case_service.get_for(user, reference)
    run = db.session.scalar(select(TraceRun).where(TraceRun.id == run_id, TraceRun.case_id == case.id))
    if run is None:
        raise NotFound(_("This case has no such trace."))
    return _graph_svg(case, run, page_url)


def graph_words() -> SvgWords:
    """The fund-flow drawing's own words in the reader's language."""
    return SvgWords(
        legend=_("Legend"),
        seed=_("Start (seed), thick border"),
        unlabelled=_("Unlabelled address"),
        deposit=lambda exchange: _("Deposit: %(exchange)s", exchange=exchange),
        inferred=_("inferred"),
        more_not_shown=_("more not shown"),
        continued=_("continued from above"),
        transactions=lambda count: ngettext("%(num)d transaction", "%(num)d transactions", count),
        categories={code: labels.category_title(code) for code in labels.CATEGORY_TITLES},
        roles={
            "seed": _("start"), "endpoint": _("endpoint"), "exchange_deposit": _("exchange deposit address"),
            "intermediary": _("intermediary"), "holder": _("holds the funds"), "unexplored": _("not followed further"),
        },
    )
