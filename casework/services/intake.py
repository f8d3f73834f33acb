"""Filing a case: the one function that turns a victim's report into a Case, in one transaction; and the
report wizard's drafts (start, resume, save a step, expire, submit)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, delete, exists, insert, select, union_all, update

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseEvent,
    CaseFile,
    CaseStatus,
    IncidentType,
    Priority,
    ReportDraft,
    ReportedLoss,
    ReportedTransaction,
    Reporter,
    ReportExtras,
    utcnow,
)
from casework.services import checklist, links
from casework.services.cases import assign_reference, provisional_reference
from casework.services.mail import queue_email
from casework.services.tokens import hash_token, new_access_token
from forms.report import STEP_NAMES
from forms.secrets import redact_secrets

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
        if self.fiat_value_cents is not None and (self.fiat_currency or "").upper() == "USD":
            return Decimal(self.fiat_value_cents) / 100
        if self.asset_symbol.upper() in USD_STABLECOINS:
            return Decimal(self.amount_raw).scaleb(-self.decimals)
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


def assess_priority(report: NewReport, now: datetime) -> Priority:
    """Priority from how recent the theft is, how large the loss is and whether funds may be freezable.

    - critical: stolen in the last 24 hours and either a large loss (>= 10,000 USD) or funds known
      to have reached an exchange (a freeze is still possible);
    - high: stolen in the last 72 hours, or a large loss, or an exchange involved;
    - normal: a loss of at least 1,000 USD, or stolen in the last 30 days;
    - low: everything else (old, small, or of unknown size and age).
    USD sizes come from stablecoin amounts or a USD fiat value; other assets count as unknown.
    """
    when = report.incident_at or report.discovered_at
    age = now - when if when else None
    usd = sum((loss.usd_estimate() or Decimal(0) for loss in report.losses), Decimal(0))
    freezable = bool(report.exchanges_involved) or any(
        a.role in (AddressRole.EXCHANGE_DEPOSIT, AddressRole.EXCHANGE_HOT_WALLET) for a in report.addresses
    )
    large = usd >= LARGE_LOSS_USD
    if age is not None and age <= timedelta(hours=24) and (large or freezable):
        return Priority.CRITICAL
    if (age is not None and age <= timedelta(hours=72)) or large or freezable:
        return Priority.HIGH
    if usd >= MEDIUM_LOSS_USD or (age is not None and age <= timedelta(days=30)):
        return Priority.NORMAL
    return Priority.LOW


def file_case(report: NewReport, *, now: datetime | None = None) -> FiledCase:
    """Write the case, its reporter, losses, addresses, transactions, extras and the 'submitted' event, and give
    it its reference: all in the caller's transaction, which commits once, so a failure leaves no half-case.

    The reference's counter row stays locked from here to that commit: concurrent filings queue there, so
    the caller commits soon after.
    """
    now = now or utcnow()
    case_id, token = _write_case(report, now)
    return FiledCase(case_id=case_id, reference=assign_reference(case_id, now), access_token=token)


def _write_case(report: NewReport, now: datetime) -> tuple[int, str]:
    """Insert the case under a provisional reference, with everything the report holds; returns the case's
    id and the secret token of its private link.

    Plain INSERT statements rather than the ORM's unit of work: this is the hot path of every submitted report
    (see bench/intake.py). On PostgreSQL they are one statement (the case, then its rows in data-modifying
    CTEs); on SQLite one per table.
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
    event = {"actor_id": None, "actor_label": "victim", "action": "submitted", "summary": "", "created_at": now,
             "data": CaseEvent.payload(priority=priority, incident_type=report.incident_type)}
    has_extras = bool(report.scammer_contacts or report.exchanges_involved or report.prior_reports)
    extras = {
        "scammer_contacts": {kind: list(values) for kind, values in report.scammer_contacts.items()},
        "exchanges": list(report.exchanges_involved),
        "prior_reports": dict(report.prior_reports),
    }
    children: list[tuple[type, list[dict[str, Any]]]] = [
        (Reporter, [vars(report.reporter)]),
        (ReportedLoss, [vars(loss) for loss in report.losses]),
        (CaseAddress, [vars(address) for address in report.addresses]),
        (ReportedTransaction, [vars(tx) for tx in report.transactions]),
        (CaseEvent, [event]),
        (ReportExtras, [extras] if has_extras else []),
    ]
    children = [(model, rows) for model, rows in children if rows]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        shape = (tuple(case_values), tuple((model, tuple(rows[0]), len(rows)) for model, rows in children))
        parameters = {f"case_{key}": value for key, value in case_values.items()}
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
    return case_id, token


# Built once: building a statement costs more than running it. (Multi-row VALUES would do in one statement, but
# SQLAlchemy compiles those anew at every call.)
_INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)
_INSERTS = {model: insert(model.__table__)
            for model in (Reporter, ReportedLoss, CaseAddress, ReportedTransaction, CaseEvent, ReportExtras)}


@functools.lru_cache(maxsize=256)
def _case_in_one_statement(shape: tuple[tuple[str, ...], tuple[tuple[type, tuple[str, ...], int], ...]]) -> Select:
    """PostgreSQL: INSERT the case and, in CTEs, each table's rows for it, returning the case's id; built once per
    shape (which columns, how many rows of each table). Parameters: case_<column>, t<table>_<row>_<column>."""
    case_keys, children = shape
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
    return select(new_case.c.id).add_cte(*inserts)


# --- Drafts: the wizard's answers, kept on the server between steps -----------------------------------------------

DRAFT_LIFETIME = timedelta(days=30)


def new_draft(locale: str, *, now: datetime | None = None) -> tuple[ReportDraft, str]:
    """Start a draft; returns it (added to the session) and the secret token of its resume link (shown, not kept)."""
    now = now or utcnow()
    token, token_hash = new_access_token()
    draft = ReportDraft(
        resume_token_hash=token_hash, answers={}, completed_steps=[], step=1, locale=locale,
        created_at=now, updated_at=now, expires_at=now + DRAFT_LIFETIME,
    )
    db.session.add(draft)
    db.session.flush()
    return draft, token


def find_draft(token: str | None, *, now: datetime | None = None) -> ReportDraft | None:
    """The unexpired draft whose resume token this is, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(ReportDraft).where(
            ReportDraft.resume_token_hash == hash_token(token), ReportDraft.expires_at > (now or utcnow())
        )
    )


def _scrubbed(values: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Answers with any secret taken out: a draft never holds a recovery phrase or key, whatever the form did."""
    return {
        # NUL characters cannot be stored in PostgreSQL text and never belong in an answer.
        str(name)[:200].replace("\x00", ""): [
            redact_secrets(value.replace("\x00", "")) for value in items if isinstance(value, str)
        ]
        for name, items in values.items()
    }


def save_step(
    draft: ReportDraft, step: str, values: Mapping[str, list[str]], *, complete: bool, now: datetime | None = None
) -> None:
    """Keep a step's answers (secrets removed) and whether they passed validation; the draft lives 30 more days."""
    now = now or utcnow()
    draft.answers = {**draft.answers, step: _scrubbed(values)}
    done = [name for name in draft.completed_steps if name != step]
    draft.completed_steps = [*done, step] if complete else done
    draft.step = STEP_NAMES.index(step) + 1
    draft.updated_at = now
    draft.expires_at = now + DRAFT_LIFETIME


def first_incomplete_step(draft: ReportDraft) -> str | None:
    """The first step not yet answered validly, or None when all are."""
    return next((step for step in STEP_NAMES if step not in draft.completed_steps), None)


def resume_path(token: str) -> str:
    """The path of a draft's private resume link."""
    return current_app.url_map.bind("localhost").build("report.resume", {"token": token})


def tracking_path(reference: str, token: str) -> str:
    """The path of a case's private tracking link, /track/<reference>/<token> (served by the victim's portal)."""
    if "track.private_link" in current_app.view_functions:
        return current_app.url_map.bind("localhost").build(
            "track.private_link", {"reference": reference, "token": token}
        )
    return f"/track/{quote(reference)}/{quote(token)}"


def email_resume_link_once(draft: ReportDraft, email: str, token: str) -> bool:
    """Queue the resume link to `email` unless this draft's link was already e-mailed; True if queued now."""
    if draft.resume_link_emailed:
        return False
    with force_locale(draft.locale):
        body = _(
            "You started a report of stolen funds. To continue where you left off, open this private link:\n\n"
            "%(link)s\n\n"
            "Keep it to yourself: anyone with the link can read and change your report. It works for 30 days after "
            "your last change.\n\nWe will never ask for your recovery phrase, your private key or any fee.",
            link=links.public_url(resume_path(token)),
        )
        queue_email(email, _("Your report: link to continue"), body)
    draft.resume_link_emailed = True
    return True


def discard_draft(draft: ReportDraft) -> None:
    """Delete a draft and detach its files (their content stays while other uploads use it)."""
    db.session.execute(delete(CaseFile).where(CaseFile.draft_id == draft.id, CaseFile.case_id.is_(None)))
    db.session.execute(delete(ReportDraft).where(ReportDraft.id == draft.id))


def expire_drafts(now: datetime | None = None) -> int:
    """Delete drafts left alone for 30 days, with their files' links; returns how many (the caller commits)."""
    expired = select(ReportDraft.id).where(ReportDraft.expires_at <= (now or utcnow()))
    db.session.execute(delete(CaseFile).where(CaseFile.draft_id.in_(expired), CaseFile.case_id.is_(None)))
    return db.session.execute(delete(ReportDraft).where(ReportDraft.id.in_(expired))).rowcount


@dataclass(frozen=True)
class Submitted:
    """A filed case and what the victim must see once: the token of the private tracking link."""

    reference: str
    access_token: str
    tracking_path: str
    incident_type: IncidentType
    country: str | None
    wallet_app: str | None


@dataclass(frozen=True)
class ClaimedDraft:
    """What the final submit needs of a draft it has claimed (`claim_draft`)."""

    id: int
    answers: dict[str, Any]
    locale: str
    reviewed_digest: str | None
    reviewed_report: dict[str, Any] | None
    has_files: bool


def claim_draft(token: str | None, *, now: datetime | None = None) -> ClaimedDraft | None:
    """Delete the unexpired draft whose resume token this is, returning what the submit needs of it; or None.

    Deleting is the claim, in the caller's transaction: a second submit of the same draft (a double click)
    waits for this transaction, then finds the draft gone. The caller files the case in the same transaction,
    or rolls back, which gives the draft back as it was.
    """
    if not token or len(token) > 200:
        return None
    row = db.session.connection().execute(
        _CLAIM_DRAFT, {"token_hash": hash_token(token), "now": now or utcnow()}
    ).one_or_none()
    return ClaimedDraft(**row._mapping) if row is not None else None


_drafts, _files = ReportDraft.__table__, CaseFile.__table__
_CLAIM_DRAFT = (
    delete(_drafts)
    .where(_drafts.c.resume_token_hash == bindparam("token_hash"), _drafts.c.expires_at > bindparam("now"))
    .returning(
        _drafts.c.id, _drafts.c.answers, _drafts.c.locale, _drafts.c.reviewed_digest, _drafts.c.reviewed_report,
        exists().where(_files.c.draft_id == _drafts.c.id).label("has_files"),
    )
)


def submit_draft(draft: ClaimedDraft, report: NewReport, *, now: datetime | None = None) -> Submitted:
    """File the case a claimed draft describes, move its files to the case and queue the confirmation e-mail:
    all in the caller's transaction (the one that claimed the draft), so a failure leaves the draft as it was
    and no case.

    `report` is what `report_answers.report_to_submit(draft)` built.
    """
    now = now or utcnow()
    case_id, token = _write_case(report, now)
    if draft.has_files:
        db.session.connection().execute(_MOVE_FILES, {"to_case": case_id, "from_draft": draft.id})
    # Last, so that concurrent submits wait for this transaction's counter row only while it finishes.
    reference = assign_reference(case_id, now)
    path = tracking_path(reference, token)
    if report.reporter.email:
        subject, body = _confirmation(report, reference, links.public_url(path))
        queue_email(report.reporter.email, subject, body, case_id=case_id)
    return Submitted(
        reference=reference,
        access_token=token,
        tracking_path=path,
        incident_type=report.incident_type,
        country=report.reporter.country,
        wallet_app=report.wallet_app,
    )


_MOVE_FILES = (
    update(_files)
    .where(_files.c.draft_id == bindparam("from_draft"))
    .values(case_id=bindparam("to_case"), draft_id=None)
)


def _confirmation(report: NewReport, reference: str, tracking_url: str) -> tuple[str, str]:
    """The confirmation e-mail's subject and body in the victim's language: the reference, the private link and
    the act-now checklist."""
    language = report.reporter.preferred_language
    text = _confirmation_sentences(language)
    body = "\n\n".join(
        [
            text["received"] % {"reference": reference},
            text["link"] + "\n" + tracking_url,
            text["what_now"],
            _checklist_text(report.incident_type, report.reporter.country, report.wallet_app,
                            bool(report.prior_reports.get("police_report_number")), language),
            text["never"],
        ]
    )
    return text["subject"] % {"reference": reference}, body


@functools.lru_cache(maxsize=16)
def _confirmation_sentences(language: str) -> dict[str, str]:
    """The confirmation e-mail's sentences in this language, %(reference)s still to fill in (the same for every
    case: translated once per process)."""
    with force_locale(language):
        return {
            "subject": _("Your report %(reference)s"),
            "received": _("We have received your report. Your case reference is %(reference)s."),
            "link": _("Follow your case, message your handler and add information with this private link. Keep it "
                      "to yourself: it opens your case."),
            "what_now": _("What to do now:"),
            "never": _("We will never ask for your recovery phrase, your private key or any fee."),
        }


@functools.lru_cache(maxsize=1024)
def _checklist_text(incident_type: IncidentType, country: str | None, wallet_app: str | None,
                    reported_to_police: bool, language: str) -> str:
    """The act-now checklist as e-mail text; the same for every victim with the same answers and language."""
    with force_locale(language):
        return checklist.as_text(checklist.act_now(incident_type, country, wallet_app,
                                                   reported_to_police=reported_to_police))
