"""Filing a case: the report as plain values (`NewReport`), its priority, and the one function that writes a case
and every row of its report in the caller's transaction (`file_case`; the wizard's submit uses `write_case`, which
also moves the draft's files to the case).

The INSERTs are plain SQL rather than the ORM's unit of work: this is the hot path of every submitted report
(see bench/intake.py). On PostgreSQL they are one statement (the case, then its rows in data-modifying CTEs); on
SQLite one per table.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, union_all, update

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseContact,
    CaseEvent,
    CaseFile,
    CaseStatus,
    EventKind,
    EvidenceJob,
    IncidentType,
    Priority,
    ReportedLoss,
    ReportedTransaction,
    Reporter,
    ReportExtras,
    SlaClock,
    SlaEvent,
    utcnow,
)
from casework.services import first_hour, search_index, sla_clocks
from casework.services.cases import assign_reference, provisional_reference
from casework.services.tokens import new_access_token
from forms.contacts import contact_rows

# Tokens that track the US dollar closely enough to size a loss without a price feed.
USD_STABLECOINS = frozenset({"USDT", "USDC", "DAI", "BUSD", "FDUSD", "TUSD", "USDP", "CUSDT"})
LARGE_LOSS_USD = Decimal(10_000)
MEDIUM_LOSS_USD = Decimal(1_000)


@dataclass(frozen=True)
class LossInput:
    chain_id: int
    asset_symbol: str
    amount_raw: int
    decimals: int
    token_address: str | None = None
    fiat_value_cents: int | None = None
    fiat_currency: str | None = None

    def usd_estimate(self) -> Decimal | None:
        """The loss in US dollars when the report lets us tell without a price feed."""
        return usd_estimate(self)


def usd_estimate(loss: LossInput | ReportedLoss) -> Decimal | None:
    """A loss (as reported, or as stored) in US dollars when we can tell without a price feed: a USD fiat value or
    a stablecoin amount; None otherwise."""
    if loss.fiat_value_cents is not None and (loss.fiat_currency or "").upper() == "USD":
        return Decimal(loss.fiat_value_cents) / 100
    if loss.asset_symbol.upper() in USD_STABLECOINS:
        return Decimal(loss.amount_raw).scaleb(-loss.decimals)
    return None


@dataclass(frozen=True)
class AddressInput:
    chain_id: int
    address: str
    role: AddressRole
    label: str | None = None


@dataclass(frozen=True)
class TransactionInput:
    chain_id: int
    tx_hash: str
    note: str | None = None


@dataclass(frozen=True)
class ReporterInput:
    name: str
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    preferred_language: str = "en"
    jurisdiction: str | None = None
    consent_law_enforcement: bool = False
    consent_exchanges: bool = False
    consent_consumer_agencies: bool = False


@dataclass(frozen=True)
class NewReport:
    """Everything a validated report holds, as plain values (built by the wizard or the demo)."""

    incident_type: IncidentType
    reporter: ReporterInput
    summary: str = ""
    incident_at: datetime | None = None
    discovered_at: datetime | None = None
    victim_timezone: str | None = None
    wallet_app: str | None = None
    first_contact: str | None = None
    chain_ids: tuple[int, ...] = ()
    losses: tuple[LossInput, ...] = ()
    addresses: tuple[AddressInput, ...] = ()
    transactions: tuple[TransactionInput, ...] = ()
    exchanges_involved: tuple[str, ...] = field(default=())
    # The other side's contacts by kind (websites, phones, emails, social, apps), and reports made elsewhere
    # (police_report_number, police_agency, platform_ticket).
    scammer_contacts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prior_reports: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FiledCase:
    case_id: int
    reference: str
    access_token: str  # shown to the victim once; only its hash is stored

    @property
    def case(self) -> Case:
        """The filed case, loaded from the session."""
        return db.session.get_one(Case, self.case_id)


FREEZABLE_ROLES = frozenset({AddressRole.EXCHANGE_DEPOSIT, AddressRole.EXCHANGE_HOT_WALLET})


def priority_from_facts(*, happened_at: datetime | None, usd_loss: Decimal, freezable: bool,
                        now: datetime) -> Priority:
    """Priority from how recent the theft is, how large the loss is and whether funds may be freezable.

    - critical: stolen in the last 24 hours and either a large loss (>= 10,000 USD) or funds known
      to have reached an exchange (a freeze is still possible);
    - high: stolen in the last 72 hours, or a large loss, or an exchange involved;
    - normal: a loss of at least 1,000 USD, or stolen in the last 30 days;
    - low: everything else (old, small, or of unknown size and age).
    `happened_at`: the incident time, else the discovery time (None: unknown). `usd_loss`: the sum of the losses
    whose USD size is known (`usd_estimate`). `freezable`: an exchange is named or holds an address of the case.
    The intake (`assess_priority`) and the recompute of a stored case (services.priority) both call this.
    """
    age = now - happened_at if happened_at else None
    large = usd_loss >= LARGE_LOSS_USD
    if age is not None and age <= timedelta(hours=24) and (large or freezable):
        return Priority.CRITICAL
    if (age is not None and age <= timedelta(hours=72)) or large or freezable:
        return Priority.HIGH
    if usd_loss >= MEDIUM_LOSS_USD or (age is not None and age <= timedelta(days=30)):
        return Priority.NORMAL
    return Priority.LOW


def assess_priority(report: NewReport, now: datetime) -> Priority:
    """The priority of a report being filed (`priority_from_facts` on its facts)."""
    return priority_from_facts(
        happened_at=report.incident_at or report.discovered_at,
        usd_loss=sum((usd_estimate(loss) or Decimal(0) for loss in report.losses), Decimal(0)),
        freezable=_freezable(report),
        now=now,
    )


def _freezable(report: NewReport) -> bool:
    """An exchange is named or holds an address of the report: a freeze may be possible."""
    return bool(report.exchanges_involved) or any(a.role in FREEZABLE_ROLES for a in report.addresses)


def file_case(report: NewReport, *, now: datetime | None = None, first_hour_work: bool = True) -> FiledCase:
    """Write the case, its reporter, losses, addresses, transactions, extras and the 'submitted' event, and give
    it its reference: all in the caller's transaction, which commits once, so a failure leaves no half-case.

    The reference's counter row stays locked from here to that commit: concurrent filings queue there, so
    the caller commits soon after. first_hour_work False: queue no evidence work (tests of a handler's own steps).
    """
    now = now or utcnow()
    case_id, token = write_case(report, now, first_hour_work=first_hour_work)
    return FiledCase(case_id=case_id, reference=assign_reference(case_id, now), access_token=token)


def write_case(report: NewReport, now: datetime, *, files_of_draft: int | None = None,
               first_hour_work: bool = True) -> tuple[int, str]:
    """Insert the case under a provisional reference, with everything the report holds and its first-hour evidence
    jobs (casework.services.first_hour), in the caller's transaction, and move every file of the draft
    `files_of_draft` (an id) to it; returns the case's id and the secret token of its private link. The caller
    gives the case its reference (`cases.assign_reference`) as late as it can: see `file_case`.
    """
    token, token_hash = new_access_token()
    priority = assess_priority(report, now)
    case_values = {
        "reference": provisional_reference(token_hash),
        "status": CaseStatus.SUBMITTED,
        "incident_type": report.incident_type,
        "priority": priority,
        "chain_ids": sorted(set(report.chain_ids)),
        "summary": report.summary,
        "wallet_app": report.wallet_app,
        "first_contact": report.first_contact,
        "incident_at": report.incident_at,
        "discovered_at": report.discovered_at,
        "victim_timezone": report.victim_timezone,
        "access_token_hash": token_hash,
        "submitted_at": now,
        "updated_at": now,
    }
    event = CaseEvent.row(EventKind.SUBMITTED, actor_label="victim", created_at=now, priority=priority,
                          incident_type=report.incident_type)
    evidence_jobs = first_hour.jobs_at_submit(report, now) if first_hour_work else []
    events = [event]
    if evidence_jobs:
        events.append(first_hour.queued_event(evidence_jobs, now))
    has_extras = bool(report.scammer_contacts or report.exchanges_involved or report.prior_reports)
    extras = {
        "scammer_contacts": {kind: list(values) for kind, values in report.scammer_contacts.items()},
        "exchanges": list(report.exchanges_involved),
        "prior_reports": dict(report.prior_reports),
    }
    clocks, clock_events = sla_clocks.filing_rows(priority, now, freezable=_freezable(report))
    case_values["next_due_at"] = min((clock["due_at"] for clock in clocks if clock["due_at"]), default=None)
    children: list[tuple[type, list[dict[str, Any]]]] = [
        (Reporter, [vars(report.reporter)]),
        (ReportedLoss, [vars(loss) for loss in report.losses]),
        (CaseAddress, [vars(address) for address in report.addresses]),
        (ReportedTransaction, [vars(tx) for tx in report.transactions]),
        (CaseEvent, events),
        # The first-hour evidence work, queued with the case (casework.services.first_hour).
        (EvidenceJob, evidence_jobs),
        (ReportExtras, [extras] if has_extras else []),
        (search_index.SearchDocument, [{"document": _search_document(report)}]),
        # The contacts again, normalised, for finding linked cases (services.linked).
        (CaseContact, contact_rows(report.scammer_contacts) if report.scammer_contacts else []),
        # The SLA clocks, then their first events (which name their clock by case and metric).
        (SlaClock, clocks),
        (SlaEvent, clock_events),
    ]
    children = [(model, rows) for model, rows in children if rows]
    connection = db.session.connection()
    moves_files = files_of_draft is not None
    if connection.dialect.name == "postgresql":
        shape = (tuple(case_values), tuple((model, tuple(rows[0]), len(rows)) for model, rows in children),
                 moves_files)
        parameters = {f"case_{key}": value for key, value in case_values.items()}
        if moves_files:
            parameters["from_draft"] = files_of_draft
        for index, (_model, rows) in enumerate(children):
            for number, row in enumerate(rows):
                parameters.update({f"t{index}_{number}_{key}": value for key, value in row.items()})
        case_id = connection.execute(_case_in_one_statement(shape), parameters).scalar_one()
    else:
        case_id = connection.execute(_INSERT_CASE, case_values).scalar_one()
        for model, rows in children:
            values = [{**row, "case_id": case_id} for row in rows]
            # Several rows go to the driver's executemany.
            connection.execute(_INSERTS[model], values[0] if len(values) == 1 else values)
        if moves_files:
            connection.execute(_MOVE_FILES, {"to_case": case_id, "from_draft": files_of_draft})
    return case_id, token


# Built once: building a statement costs more than running it. (Multi-row VALUES would do in one statement, but
# SQLAlchemy compiles those anew at every call.)
_INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)
_INSERTS = {model: insert(model.__table__)
            for model in (Reporter, ReportedLoss, CaseAddress, ReportedTransaction, CaseEvent, ReportExtras,
                          CaseContact, EvidenceJob, SlaClock, SlaEvent)}
_INSERTS[search_index.SearchDocument] = search_index.SQLITE_WRITE  # FTS5: keyed by rowid, not case_id
_files = CaseFile.__table__
_MOVE_FILES = (
    update(_files)
    .where(_files.c.draft_id == bindparam("from_draft"))
    .values(case_id=bindparam("to_case"), draft_id=None)
)


def _search_document(report: NewReport) -> str:
    reporter = report.reporter
    return search_index.build_document(
        name=reporter.name, email=reporter.email, phone=reporter.phone,
        addresses=[a.address for a in report.addresses], tx_hashes=[t.tx_hash for t in report.transactions],
        scammer_contacts=report.scammer_contacts,
    )


@functools.lru_cache(maxsize=256)
def _case_in_one_statement(
    shape: tuple[tuple[str, ...], tuple[tuple[type, tuple[str, ...], int], ...], bool],
) -> Select:
    """PostgreSQL: INSERT the case and, in CTEs, each table's rows for it and (if asked) the UPDATE moving a draft's
    files to it, returning the case's id; built once per shape (which columns, how many rows of each table, whether
    files move). Parameters: case_<column>, t<table>_<row>_<column>, from_draft."""
    case_keys, children, moves_files = shape
    cases = Case.__table__
    new_case = (
        insert(cases)
        .values({key: bindparam(f"case_{key}", type_=cases.c[key].type) for key in case_keys})
        .returning(cases.c.id)
        .cte("new_case")
    )
    inserts = []
    for index, (model, keys, count) in enumerate(children):
        table = model.__table__
        rows = [
            select(new_case.c.id, *(bindparam(f"t{index}_{number}_{key}", type_=table.c[key].type) for key in keys))
            for number in range(count)
        ]
        source = rows[0] if count == 1 else union_all(*rows)
        inserts.append(insert(table).from_select(["case_id", *keys], source).cte(f"new_{table.name}"))
    if moves_files:
        moved = (
            update(_files)
            .where(_files.c.draft_id == bindparam("from_draft"))
            .values(case_id=select(new_case.c.id).scalar_subquery(), draft_id=None)
        )
        inserts.append(moved.cte("moved_files"))
    return select(new_case.c.id).add_cte(*inserts)
