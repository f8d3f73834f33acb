"""The staff queue: filters, search, sort orders, pages and the CSV export of a filtered list.

`parse_query` turns request arguments into a `QueueQuery` (refusing bad values with a WorkflowError a handler can
read), `find_cases` gives one page of it as plain values, `export_csv` every matching case as CSV text. The web
console and the JSON API call the same three.

A page costs what the page holds, not what the table holds: each order is read from an index in that order
(ix_cases_urgency, ix_cases_submitted, ix_cases_updated), a page is LIMIT/OFFSET of it, `has_next` comes from
reading one row more, and the total is counted only up to TOTAL_CAP ("more than 500"). A search first finds its cases in
case_search (see search_index), a case's reference by its beginning through ix_cases_reference_pattern.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, func, literal_column, select, text
from sqlalchemy import case as sql_case
from sqlalchemy.orm import joinedload, selectinload

from casework.extensions import db
from casework.models import Case, CaseStatus, IncidentType, Priority, Referral, Role, User, utcnow
from casework.models.case import URGENCY_SQL
from casework.services import chains, recoveries, referral_panel, referrals, search_index, sla_clocks
from casework.services.access import Permission, require
from casework.services.workflow import WorkflowError
from casework.web import format_amount

OPEN_STATUSES = tuple(status for status in CaseStatus if status is not CaseStatus.CLOSED)
SORTS = ("urgency", "deadline", "newest", "oldest", "updated", "due")
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 10_000
TOTAL_CAP = 500
MAX_SEARCH_CHARS = 200
CSV_BATCH = 500
# Ids are 32-bit integers in the database: a larger number is refused here, not sent to it.
MAX_ID = 2**31 - 1
# A search that starts like a case reference (CW-2026-00012...) looks the reference up by its beginning.
_REFERENCE = re.compile(r"^CW-\d{0,4}(-\d{0,6})?$")
_TRUE = {"1", "on", "true", "yes"}
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_URGENCY = literal_column(URGENCY_SQL)
# What a queue line shows besides the case's own columns, read in one query each per page (or CSV batch).
_LOADED = (joinedload(Case.assigned_handler), selectinload(Case.losses),
           selectinload(Case.referrals).selectinload(Referral.recoveries))


@dataclass(frozen=True)
class QueueQuery:
    """What a staff member asked the queue for; the defaults are the open cases, most urgent first."""

    statuses: tuple[CaseStatus, ...] = OPEN_STATUSES
    priority: Priority | None = None
    incident_type: IncidentType | None = None
    chain_id: int | None = None
    handler_id: int | None = None
    unassigned: bool = False
    mine: bool = False
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""
    sort: str = "urgency"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def filtered(self) -> bool:
        """True when anything narrows the list beyond the default (sort and page do not)."""
        return self.mine or self.narrowed

    @property
    def narrowed(self) -> bool:
        """True when a filter or a search narrows the list ("my cases" alone does not)."""
        default = QueueQuery()
        return any(getattr(self, f.name) != getattr(default, f.name)
                   for f in fields(self) if f.name not in ("sort", "page", "per_page", "mine", "handler_id")) or (
            self.handler_id is not None and not self.mine)

    def args(self, *, page: int | None = None) -> dict[str, str | list[str]]:
        """The query-string arguments that give this query again (only those that differ from the default), on
        another page if given: for the pagination and CSV links."""
        values: dict[str, str | list[str]] = {}
        if self.statuses != OPEN_STATUSES:
            values["status"] = [status.value for status in self.statuses]
        for key, value in (("priority", self.priority), ("incident", self.incident_type)):
            if value is not None:
                values[key] = value.value
        for key, value in (("chain", self.chain_id), ("handler", None if self.mine else self.handler_id)):
            if value is not None:
                values[key] = str(value)
        for key, flag in (("unassigned", self.unassigned), ("mine", self.mine)):
            if flag:
                values[key] = "1"
        for key, day in (("from", self.created_from), ("to", self.created_to)):
            if day is not None:
                values[key] = day.isoformat()
        if self.q:
            values["q"] = self.q
        if self.sort != "urgency":
            values["sort"] = self.sort
        if self.per_page != DEFAULT_PER_PAGE:
            values["per_page"] = str(self.per_page)
        page = self.page if page is None else page
        if page != 1:
            values["page"] = str(page)
        return values


@dataclass(frozen=True)
class QueueLine:
    """One case in the queue, as the page and the CSV show it."""

    reference: str
    status_code: str
    status: str
    priority_code: str
    priority: str
    incident: str
    losses: str
    submitted_at: datetime
    updated_at: datetime
    handler: str | None
    chains: list[str]
    # The referrals' frozen and returned amounts per asset, and their nearest follow-up or police-report date.
    recovered: str
    next_due: datetime | None
    overdue: bool
    # The nearest deadline of the case's running SLA clocks (cases.next_due_at, the "deadline" order), and how it
    # stands: "due in 3 h 5 min" or "overdue by 1 d 2 h" (sla_overdue), in the reader's language.
    sla_due: datetime | None
    sla_overdue: bool
    sla_text: str


@dataclass(frozen=True)
class QueuePage:
    lines: list[QueueLine]
    page: int
    per_page: int
    has_next: bool
    # How many cases match, counted up to TOTAL_CAP: total_capped means "at least TOTAL_CAP".
    total: int
    total_capped: bool

    @property
    def first(self) -> int:
        """The position of the page's first line in the whole list (1-based), 0 for an empty page."""
        return (self.page - 1) * self.per_page + 1 if self.lines else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.lines)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class QueueFilters:
    """The choices of the queue's filter form."""

    statuses: list[Choice]
    priorities: list[Choice]
    incidents: list[Choice]
    chains: list[Choice]
    handlers: list[Choice]
    sorts: list[Choice]


def parse_query(args: Mapping[str, str], *, user: User) -> QueueQuery:
    """The query in request arguments (status may repeat or hold commas); a bad value raises WorkflowError with a
    message that says what to give instead."""
    def one(key: str) -> str:
        return (args.get(key) or "").strip()

    listed = args.getlist("status") if hasattr(args, "getlist") else [args.get("status") or ""]
    status_values = [value.strip() for entry in listed for value in (entry or "").split(",") if value.strip()]
    statuses = tuple(dict.fromkeys(_enum(CaseStatus, value, _("status")) for value in status_values))
    priority = _enum(Priority, one("priority"), _("priority")) if one("priority") else None
    incident = _enum(IncidentType, one("incident"), _("incident type")) if one("incident") else None
    chain_id = _number(one("chain"), _("chain")) if one("chain") else None
    if chain_id is not None and chain_id not in chains.registry():
        raise WorkflowError(_("Chain %(chain)s is not one we work with. Choose a chain from the list.",
                              chain=chain_id))
    handler_id = _number(one("handler"), _("handler")) if one("handler") else None
    unassigned, mine = one("unassigned").lower() in _TRUE, one("mine").lower() in _TRUE
    if unassigned and (handler_id is not None or mine):
        raise WorkflowError(_("A case cannot be unassigned and have a handler: choose one or the other."))
    if mine and handler_id is not None and handler_id != user.id:
        raise WorkflowError(_("“My cases” shows your own cases: leave the handler empty or choose yourself."))
    created_from = _day(one("from"), _("Submitted from")) if one("from") else None
    created_to = _day(one("to"), _("Submitted to")) if one("to") else None
    if created_from and created_to and created_from > created_to:
        raise WorkflowError(_("The “Submitted from” date is after the “Submitted to” date. Swap them or change one."))
    q = one("q")
    if len(q) > MAX_SEARCH_CHARS:
        raise WorkflowError(_("The search is too long: at most %(max)d characters.", max=MAX_SEARCH_CHARS))
    if q and not search_index.words(q):
        raise WorkflowError(_("Search for letters or digits: a name, an address, a hash, a reference…"))
    sort = one("sort") or "urgency"
    if sort not in SORTS:
        raise WorkflowError(_("Unknown order “%(value)s”. Choose an order from the list.", value=sort[:40]))
    page = _number(one("page"), _("page")) if one("page") else 1
    if not 1 <= page <= MAX_PAGE:
        raise WorkflowError(_("There is no page %(page)s: pages go from 1 to %(max)d.", page=page, max=MAX_PAGE))
    per_page = _number(one("per_page"), _("cases per page")) if one("per_page") else DEFAULT_PER_PAGE
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise WorkflowError(_("Show from 1 to %(max)d cases per page.", max=MAX_PER_PAGE))
    return QueueQuery(
        statuses=statuses or OPEN_STATUSES, priority=priority, incident_type=incident, chain_id=chain_id,
        handler_id=user.id if mine else handler_id, unassigned=unassigned, mine=mine, created_from=created_from,
        created_to=created_to, q=q, sort=sort, page=page, per_page=per_page,
    )


def _enum(enum_cls, value: str, what: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise WorkflowError(_("Unknown %(what)s “%(value)s”. Choose one from the list.", what=what,
                              value=value[:40])) from None


def _number(value: str, what: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise WorkflowError(_("The %(what)s must be a whole number, not “%(value)s”.", what=what, value=value[:40]))
    if int(value) > MAX_ID:
        raise WorkflowError(_("The %(what)s is too large: “%(value)s”.", what=what, value=value[:40]))
    return int(value)


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WorkflowError(_("The “%(what)s” date must be a date like 2026-03-31, not “%(value)s”.", what=what,
                              value=value[:40])) from None


def find_cases(user: User, query: QueueQuery) -> QueuePage:
    """One page of the cases the query asks for, and how many there are (up to TOTAL_CAP)."""
    require(user, Permission.VIEW_CASES)
    conditions = _conditions(query)
    statement = (
        _ordered(select(Case).where(*conditions), query.sort)
        .options(*_LOADED)
        .limit(query.per_page + 1)
        .offset((query.page - 1) * query.per_page)
    )
    cases = list(db.session.scalars(statement))
    # In the page's order, so the count reads the same index as the page (never the whole table), and stops.
    capped = _ordered(select(Case.id).where(*conditions), query.sort).limit(TOTAL_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(capped))
    return QueuePage(
        lines=[_line(case) for case in cases[:query.per_page]], page=query.page, per_page=query.per_page,
        has_next=len(cases) > query.per_page, total=min(total, TOTAL_CAP), total_capped=total > TOTAL_CAP,
    )


def export_csv(user: User, query: QueueQuery) -> Iterator[str]:
    """Every case the query matches (not one page) as CSV text, streamed in pieces: UTF-8 with a byte-order mark so
    spreadsheets read Chinese names, and any cell that a spreadsheet would run as a formula neutralised."""
    require(user, Permission.VIEW_CASES)
    statement = (
        _ordered(select(Case).where(*_conditions(query)), query.sort)
        .options(*_LOADED)
        .execution_options(yield_per=CSV_BATCH)
    )
    header = [_("Reference"), _("Status"), _("Priority"), _("Incident"), _("Reported loss"), _("Submitted"),
              _("Last updated"), _("Handler"), _("Chains"), _("Frozen and returned"), _("Next referral date")]

    def rows() -> Iterator[str]:
        yield "\ufeff" + _csv_row(header)
        for case in db.session.scalars(statement):
            line = _line(case)
            yield _csv_row([line.reference, line.status, line.priority, line.incident, line.losses,
                            _iso(line.submitted_at), _iso(line.updated_at), line.handler or "",
                            ", ".join(line.chains), line.recovered,
                            _iso(line.next_due) if line.next_due else ""])

    return rows()


def filter_choices(user: User) -> QueueFilters:
    """The filter form's choices; the handlers are the active handlers and supervisors."""
    require(user, Permission.VIEW_CASES)
    staff = db.session.execute(
        select(User.id, User.display_name)
        .where(User.active.is_(True), User.role.in_((Role.HANDLER, Role.SUPERVISOR)))
        .order_by(User.display_name, User.id)
    ).all()
    return QueueFilters(
        statuses=[Choice(s.value, s.title) for s in CaseStatus],
        priorities=[Choice(p.value, p.title) for p in Priority],
        incidents=[Choice(i.value, i.title) for i in IncidentType],
        chains=[Choice(str(c.chain_id), c.name) for c in chains.registry()],
        handlers=[Choice(str(person.id), person.display_name) for person in staff],
        sorts=[Choice("urgency", _("Most urgent first")), Choice("deadline", _("Nearest SLA deadline first")),
               Choice("newest", _("Newest first")), Choice("oldest", _("Oldest first")),
               Choice("updated", _("Recently updated")), Choice("due", _("Nearest referral date first"))],
    )


def _conditions(query: QueueQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Case.status.in_(query.statuses)]
    if CaseStatus.CLOSED not in query.statuses:
        # A merged duplicate is closed; it shows only where closed cases are asked for.
        conditions.append(Case.merged_into_id.is_(None))
    if query.priority is not None:
        # The rank too, so that the urgency index reads only this priority's part.
        conditions += [Case.priority == query.priority, literal_column(URGENCY_SQL) == query.priority.rank]
    if query.incident_type is not None:
        conditions.append(Case.incident_type == query.incident_type)
    if query.chain_id is not None:
        conditions.append(_on_chain(query.chain_id))
    if query.unassigned:
        conditions.append(Case.assigned_handler_id.is_(None))
    elif query.handler_id is not None:
        conditions.append(Case.assigned_handler_id == query.handler_id)
    if query.created_from is not None:
        conditions.append(Case.submitted_at >= _midnight(query.created_from))
    if query.created_to is not None:
        conditions.append(Case.submitted_at < _midnight(date.fromordinal(query.created_to.toordinal() + 1)))
    if query.q:
        conditions.append(_search(query.q))
    return conditions


def _search(q: str) -> ColumnElement[bool]:
    reference = q.strip().upper()
    if _REFERENCE.match(reference):
        return Case.reference.like(reference + "%")
    dialect = db.session.get_bind().dialect.name
    return search_index.matching_case_ids(q, dialect)


def _on_chain(chain_id: int) -> ColumnElement[bool]:
    if db.session.get_bind().dialect.name == "postgresql":
        return text("CAST(cases.chain_ids AS JSONB) @> CAST(:queue_chain AS JSONB)").bindparams(
            queue_chain=f"[{chain_id}]")
    return text("EXISTS (SELECT 1 FROM json_each(cases.chain_ids) WHERE json_each.value = :queue_chain)").bindparams(
        queue_chain=chain_id)


def _ordered(statement: Select, sort: str) -> Select:
    orders = {
        "urgency": (_URGENCY, Case.submitted_at, Case.id),
        # Cases without a running clock last (NULLS LAST: ix_cases_next_due_at's own order on PostgreSQL).
        "deadline": (Case.next_due_at.asc().nulls_last(), Case.id),
        "newest": (Case.submitted_at.desc(), Case.id.desc()),
        "oldest": (Case.submitted_at, Case.id),
        "updated": (Case.updated_at.desc(), Case.id.desc()),
    }
    if sort == "due":  # not read from an index: a subquery per case, for a list narrowed by its filters
        return statement.order_by(_nearest_referral_date().asc().nulls_last(), Case.id)
    return statement.order_by(*orders[sort])


def _nearest_referral_date() -> ColumnElement:
    """The nearest follow-up or police-report date (until the report reached the target) of a case's referrals still
    waiting on their target."""
    waiting = (Referral.case_id == Case.id, Referral.status.in_(referrals.AWAITING))
    follow_up = select(func.min(Referral.follow_up_due_at)).where(*waiting).scalar_subquery()
    police = select(func.min(Referral.police_report_due_at)).where(
        *waiting, Referral.police_report_sent_at.is_(None)).scalar_subquery()
    return sql_case((follow_up.is_(None), police), (police.is_(None), follow_up), (follow_up < police, follow_up),
                    else_=police)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _line(case: Case) -> QueueLine:
    next_due = referral_panel.nearest_due_date(case.referrals)
    now = utcnow()
    sla_due = case.next_due_at
    sla_overdue = sla_due is not None and sla_due <= now
    if sla_due is None:
        sla_text = ""
    elif sla_overdue:
        sla_text = _("overdue by %(time)s", time=sla_clocks.span(now - sla_due))
    else:
        sla_text = _("due in %(time)s", time=sla_clocks.span(sla_due - now))
    return QueueLine(
        reference=case.reference, status_code=case.status.value, status=case.status.title,
        priority_code=case.priority.value, priority=case.priority.title, incident=case.incident_type.title,
        losses=", ".join(f"{format_amount(loss.amount_raw, loss.decimals)} {loss.asset_symbol}"
                         for loss in case.losses),
        submitted_at=case.submitted_at, updated_at=case.updated_at,
        handler=case.assigned_handler.display_name if case.assigned_handler else None,
        chains=[chains.chain_name(chain_id) for chain_id in case.chain_ids or ()],
        recovered=recoveries.summary(recoveries.case_totals(case)),
        next_due=next_due, overdue=next_due is not None and next_due < now,
        sla_due=sla_due, sla_overdue=sla_overdue, sla_text=sla_text,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv_row(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(str(cell)) for cell in cells])
    return buffer.getvalue()


