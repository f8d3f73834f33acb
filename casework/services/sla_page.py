"""The supervisors' SLA page (Permission.VIEW_SLA): the cases at risk and in breach, compliance per metric and
priority over a period, breaches per week as a chart, and each table as a CSV download.

Every figure is a query on an indexed column of sla_clocks, bounded by what it shows, never per case: the clocks at
risk by `due_at` (now to now plus the largest warning lead, each policy's own lead in the same WHERE), the clocks
overdue by `due_at`, the breaches of a period by `breached_at`, compliance by `started_at` (sla_sweep.report, the
same figures as `flask --app casework sla report`). The lists stop at LIST_LIMIT rows and say so. A period is whole
UTC days, both ends included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import and_, func, or_, select
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import Case, Priority, SlaClock, SlaMetric, User, utcnow
from casework.models.aggregates import utc_day
from casework.services import sla_clocks, sla_policies, sla_sweep
from casework.services.access import Permission, require
from casework.services.dashboard import Table
from casework.services.workflow import WorkflowError
from reports import charts

DEFAULT_DAYS = 30
MAX_DAYS = 366
LIST_LIMIT = 200
# Dates outside these are refused with a message (a period's midnight must exist, and 0001-01-01 is no period).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)

    def args(self) -> dict[str, str]:
        """The period as the page's query string gives it."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def default_period(today: date | None = None) -> Period:
    """The last DEFAULT_DAYS UTC days, today included."""
    today = today or utcnow().date()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def _day(value: str, what: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise WorkflowError(_("The “%(what)s” date must be a date like 2026-03-31, not “%(value)s”.", what=what,
                              value=value[:40])) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise WorkflowError(_("The “%(what)s” date must be between %(first)s and %(last)s.", what=what,
                              first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


def parse_period(args: Mapping[str, str], *, today: date | None = None) -> Period:
    """The period in request arguments `from` and `to` (ISO dates; either may be left out: the period then ends
    today, or starts DEFAULT_DAYS before its end). A bad value raises WorkflowError saying what to give instead."""
    first_text, last_text = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    default = default_period(today)
    last = _day(last_text, _("Last day")) if last_text else default.last
    first = _day(first_text, _("First day")) if first_text else max(last - timedelta(days=DEFAULT_DAYS - 1), FIRST_DAY)
    if first > last:
        raise WorkflowError(_("The first day is after the last day. Swap them or change one."))
    if (last - first).days + 1 > MAX_DAYS:
        raise WorkflowError(_("Choose a period of at most %(max)d days.", max=MAX_DAYS))
    return Period(first, last)


@dataclass(frozen=True)
class ClockRow:
    """A case's clock as the lists show it: the case, the metric and priority (in the reader's language), the
    handler (None: unassigned), the deadline while it runs, its first breach, and how it stands now."""

    reference: str
    metric: SlaMetric
    priority: Priority
    handler: str | None
    due_at: datetime | None
    breached_at: datetime | None
    state: str
    text: str


@dataclass(frozen=True)
class ClockList:
    rows: list[ClockRow]
    more: bool  # more than LIST_LIMIT matched: the list shows the first LIST_LIMIT


def _clock_rows(query, now: datetime) -> tuple[list[ClockRow], bool]:
    found = db.session.execute(
        query.add_columns(Case.reference, Case.priority, User.display_name)
        .join(Case, Case.id == SlaClock.case_id)
        .outerjoin(User, User.id == Case.assigned_handler_id)
        .limit(LIST_LIMIT + 1)
    ).all()
    rows = [ClockRow(reference, clock.metric, priority, handler, clock.due_at, clock.breached_at,
                     *sla_clocks.clock_state(clock, now))
            for clock, reference, priority, handler in found[:LIST_LIMIT]]
    return rows, len(found) > LIST_LIMIT


def at_risk(user: User, *, now: datetime | None = None) -> ClockList:
    """The running clocks inside their policy's warning window (due after now, and no further ahead than the
    warning lead of their metric at their case's priority), nearest deadline first."""
    require(user, Permission.VIEW_SLA)
    now = now or utcnow()
    policies = sla_policies.in_force()
    windows = [and_(SlaClock.metric == metric, Case.priority == priority, SlaClock.due_at <= now + policy.warning)
               for (metric, priority), policy in policies.items() if policy.warning > timedelta(0)]
    if not windows:
        return ClockList([], False)
    widest = max(policy.warning for policy in policies.values())
    query = (select(SlaClock).where(SlaClock.due_at > now, SlaClock.due_at <= now + widest, or_(*windows))
             .order_by(SlaClock.due_at, SlaClock.id))
    return ClockList(*_clock_rows(query, now))


def breached(user: User, period: Period, *, now: datetime | None = None) -> ClockList:
    """The clocks in breach: those running past their deadline now (open cases only: a closed case's clocks have
    stopped), longest overdue first, then those whose first breach was recorded in the period, latest first."""
    require(user, Permission.VIEW_SLA)
    now = now or utcnow()
    overdue, more_overdue = _clock_rows(
        select(SlaClock).where(SlaClock.due_at <= now).order_by(SlaClock.due_at, SlaClock.id), now)
    recorded, more_recorded = _clock_rows(
        select(SlaClock).where(SlaClock.breached_at >= period.since, SlaClock.breached_at < period.until)
        .order_by(SlaClock.breached_at.desc(), SlaClock.id), now)
    seen = {(row.reference, row.metric) for row in overdue}
    rows = overdue + [row for row in recorded if (row.reference, row.metric) not in seen]
    return ClockList(rows[:LIST_LIMIT], more_overdue or more_recorded or len(rows) > LIST_LIMIT)


def compliance(user: User, period: Period, *, now: datetime | None = None) -> list[sla_sweep.Compliance]:
    """Compliance per metric and priority of the clocks started in the period (sla_sweep.report)."""
    require(user, Permission.VIEW_SLA)
    return sla_sweep.report(since=period.since, until=period.until, now=now)


@dataclass(frozen=True)
class WeekCount:
    """The breaches first recorded in one week (Monday to Sunday, UTC) that fall inside the period."""

    monday: date
    breaches: int


def breaches_per_week(user: User, period: Period) -> list[WeekCount]:
    """Breaches recorded per week of the period, oldest first; a week without one counts zero. The first and last
    weeks count only their days inside the period. (Read per UTC day from the breached_at index, added up here.)"""
    require(user, Permission.VIEW_SLA)
    day = utc_day(SlaClock.breached_at)
    per_day = db.session.execute(
        select(day, func.count())
        .where(SlaClock.breached_at >= period.since, SlaClock.breached_at < period.until)
        .group_by(day)
    )
    first_monday = period.first - timedelta(days=period.first.weekday())
    weeks = {first_monday + timedelta(weeks=n): 0
             for n in range((period.last - first_monday).days // 7 + 1)}
    for text, count in per_day:
        breach_day = date.fromisoformat(text)
        weeks[breach_day - timedelta(days=breach_day.weekday())] += count
    return [WeekCount(monday, count) for monday, count in weeks.items()]


# What the page and the CSV files show.

def _share(figure: sla_sweep.Compliance) -> str:
    return "—" if figure.compliance is None else f"{figure.compliance:.1%}"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def compliance_table(figures: list[sla_sweep.Compliance]) -> Table:
    headers = [_("Metric"), _("Priority"), _("Started"), _("Met"), _("Breached"), _("Running"), _("Compliance")]
    rows = [[f.metric.title, f.priority.title, str(f.started), str(f.met), str(f.breached), str(f.running),
             _share(f)] for f in figures]
    return Table(headers, rows)


def breach_table(clocks: ClockList) -> Table:
    headers = [_("Case"), _("Metric"), _("Priority"), _("Handler"), _("Deadline (UTC)"), _("First breach (UTC)"),
               _("Now")]
    rows = [[row.reference, row.metric.title, row.priority.title, row.handler or _("Unassigned"),
             _when(row.due_at), _when(row.breached_at), row.text] for row in clocks.rows]
    return Table(headers, rows)


def week_table(weeks: list[WeekCount]) -> Table:
    return Table([_("Week from (Monday, UTC)"), _("Breaches")],
                 [[week.monday.isoformat(), str(week.breaches)] for week in weeks])


WEEKS_TITLE = _l("Breaches per week")
WEEKS_DESCRIPTION = _l("One column per week (Monday to Sunday, UTC), oldest first: the clocks whose first breach "
                       "was recorded that week. The first and last weeks count only their days inside the period.")


def weeks_chart(weeks: list[WeekCount]) -> Markup:
    svg = charts.column_chart(
        chart_id="chart-breaches-per-week", title=str(WEEKS_TITLE), description=str(WEEKS_DESCRIPTION),
        empty_text=_("No breach was recorded in this period."), tick_every=4,
        labels=[week.monday.isoformat() for week in weeks], values=[week.breaches for week in weeks])
    # reports.charts escapes every text it draws, so its SVG goes into the page as it is.
    return Markup(svg)  # noqa: S704


@dataclass(frozen=True)
class SlaPage:
    period: Period
    at_risk: ClockList
    breached: ClockList
    compliance: Table
    weeks: Table
    weeks_svg: Markup
    generated_at: datetime


def sla_page(user: User, period: Period, *, now: datetime | None = None) -> SlaPage:
    """Everything the page shows, in the reader's language."""
    now = now or utcnow()
    weeks = breaches_per_week(user, period)
    return SlaPage(period=period, at_risk=at_risk(user, now=now), breached=breached(user, period, now=now),
                   compliance=compliance_table(compliance(user, period, now=now)), weeks=week_table(weeks),
                   weeks_svg=weeks_chart(weeks), generated_at=now)


TABLES = ("compliance", "breaches", "breaches-per-week")


def csv_table(user: User, name: str, period: Period, *, now: datetime | None = None) -> Table:
    """One of the page's tables (TABLES) for its CSV file; 404 for a table there is not."""
    require(user, Permission.VIEW_SLA)
    if name == "compliance":
        return compliance_table(compliance(user, period, now=now))
    if name == "breaches":
        return breach_table(breached(user, period, now=now))
    if name == "breaches-per-week":
        return week_table(breaches_per_week(user, period))
    raise NotFound(_("There is no such table."))
