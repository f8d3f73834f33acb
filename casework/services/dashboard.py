"""The staff dashboard: figures across all cases, each from one aggregate query, as plain values.

One function per figure (open cases by status and priority, new cases per day, losses per asset, referrals by
outcome, top receiving exchanges), each checking the reader's access. `dashboard_page` turns them into what the
template shows (an SVG chart from reports.charts and the same numbers as a table), and `figure_table` gives a
figure's table for its CSV download, with amounts written plainly (no thousands separators) for spreadsheets.

Amounts are summed in the database as integers in base units (aggregates.exact_sum), grouped per asset (chain,
token contract and decimals, so that only like amounts are added), and shown through Decimal. Days are UTC days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import Integer, String, cast, desc, distinct, func, null, or_, select, union_all
from sqlalchemy import case as sql_case
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import (
    Case,
    CaseStatus,
    Priority,
    Recovery,
    RecoveryKind,
    Referral,
    ReferralKind,
    ReferralStatus,
    ReportedLoss,
    Resolution,
    TransferKind,
    User,
    utcnow,
)
from casework.models.aggregates import exact_sum, utc_day
from casework.services import chains
from casework.services.access import Permission, require
from casework.web import format_amount
from reports import charts

DAYS = 30
TOP_EXCHANGES = 10
OPEN_STATUSES = [status for status in CaseStatus if status is not CaseStatus.CLOSED]


@dataclass(frozen=True)
class OpenCases:
    """Open cases counted per (status, priority)."""

    counts: dict[tuple[CaseStatus, Priority], int]

    def count(self, status: CaseStatus, priority: Priority) -> int:
        return self.counts.get((status, priority), 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DayCount:
    day: date
    cases: int


@dataclass(frozen=True)
class Asset:
    """An asset as amounts are added up: chain, token contract (lower case; None for the native coin), decimals."""

    chain_id: int
    token_address: str | None
    decimals: int
    symbol: str

    def amount(self, raw: int) -> str:
        return f"{format_amount(raw, self.decimals)} {self.symbol}"


@dataclass(frozen=True)
class AssetLoss:
    """What victims reported losing in one asset, what referrals' targets froze and returned of it (Recovery rows),
    and how the cases that lost it closed."""

    asset: Asset
    cases: int
    reported_raw: int
    frozen_raw: int
    returned_raw: int
    closed_recovered: int
    closed_partially_recovered: int


@dataclass(frozen=True)
class ReferralOutcomes:
    counts: dict[tuple[ReferralKind, ReferralStatus], int]

    def count(self, kind: ReferralKind, status: ReferralStatus) -> int:
        return self.counts.get((kind, status), 0)


@dataclass(frozen=True)
class AssetAmount:
    asset: Asset
    amount_raw: int


@dataclass(frozen=True)
class ExchangeLine:
    """An exchange named in freeze requests: the cases whose funds reached it, and the amounts per asset."""

    name: str
    cases: int
    referrals: int
    frozen: int
    amounts: list[AssetAmount]


def open_cases(user: User) -> OpenCases:
    """Cases not closed, per status and priority."""
    require(user, Permission.VIEW_CASES)
    rows = db.session.execute(
        select(Case.status, Case.priority, func.count()).where(Case.status != CaseStatus.CLOSED)
        .group_by(Case.status, Case.priority))
    return OpenCases({(status, priority): count for status, priority, count in rows})


def new_cases_per_day(user: User, *, days: int = DAYS, today: date | None = None) -> list[DayCount]:
    """Cases submitted on each of the last `days` UTC days up to today, oldest first; a day without one is zero."""
    require(user, Permission.VIEW_CASES)
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    day = utc_day(Case.submitted_at)
    rows = db.session.execute(
        select(day, func.count()).where(Case.submitted_at >= start, Case.submitted_at < start + timedelta(days=days))
        .group_by(day))
    counts = {date.fromisoformat(text): count for text, count in rows}
    return [DayCount(first + timedelta(days=n), counts.get(first + timedelta(days=n), 0)) for n in range(days)]


def losses_per_asset(user: User) -> list[AssetLoss]:
    """Reported losses per asset beside the amounts frozen and returned in that asset. Cases merged into another,
    or closed as duplicates, are left out: their loss is already counted on the case they duplicate."""
    require(user, Permission.VIEW_CASES)
    counted = or_(Case.resolution.is_(None), Case.resolution != Resolution.DUPLICATE)
    reported = (
        select(ReportedLoss.chain_id.label("chain_id"), func.lower(ReportedLoss.token_address).label("token"),
               ReportedLoss.decimals.label("decimals"), ReportedLoss.asset_symbol.label("symbol"),
               ReportedLoss.amount_raw.label("reported"), cast(null(), String).label("frozen"),
               cast(null(), String).label("returned"),
               ReportedLoss.case_id.label("case_id"),
               sql_case((Case.resolution == Resolution.RECOVERED, ReportedLoss.case_id)).label("recovered"),
               sql_case((Case.resolution == Resolution.PARTIALLY_RECOVERED, ReportedLoss.case_id)).label("partly"))
        .join(Case, Case.id == ReportedLoss.case_id).where(Case.merged_into_id.is_(None), counted)
    )
    recovered = (
        select(Recovery.chain_id, func.lower(Recovery.token_address), Recovery.decimals, Recovery.symbol,
               cast(null(), String), sql_case((Recovery.kind == RecoveryKind.FROZEN, Recovery.amount_raw)),
               sql_case((Recovery.kind == RecoveryKind.RETURNED, Recovery.amount_raw)),
               cast(null(), Integer), cast(null(), Integer), cast(null(), Integer))
        .join(Case, Case.id == Recovery.case_id).where(Case.merged_into_id.is_(None), counted)
    )
    both = union_all(reported, recovered).subquery()
    rows = db.session.execute(
        select(both.c.chain_id, both.c.token, both.c.decimals, func.min(both.c.symbol),
               exact_sum(both.c.reported), exact_sum(both.c.frozen), exact_sum(both.c.returned),
               func.count(distinct(both.c.case_id)),
               func.count(distinct(both.c.recovered)), func.count(distinct(both.c.partly)))
        .group_by(both.c.chain_id, both.c.token, both.c.decimals)
    )
    lines = [AssetLoss(Asset(chain_id, token, decimals, symbol or "?"), cases, int(reported_sum or 0),
                       int(frozen_sum or 0), int(returned_sum or 0), recovered, partly)
             for chain_id, token, decimals, symbol, reported_sum, frozen_sum, returned_sum, cases, recovered, partly
             in rows]
    return sorted(lines, key=lambda line: (line.asset.chain_id, line.asset.symbol, line.asset.token_address or ""))


def referrals_by_outcome(user: User) -> ReferralOutcomes:
    """Referrals counted per kind and status."""
    require(user, Permission.VIEW_CASES)
    rows = db.session.execute(
        select(Referral.kind, Referral.status, func.count()).group_by(Referral.kind, Referral.status))
    return ReferralOutcomes({(kind, status): count for kind, status, count in rows})


def top_exchanges(user: User, *, limit: int = TOP_EXCHANGES) -> list[ExchangeLine]:
    """The exchanges named in freeze requests (in any status), most cases first, with the amounts per asset that
    reached each (one query ranks them, one adds up their amounts)."""
    require(user, Permission.VIEW_CASES)
    freeze = Referral.kind == ReferralKind.EXCHANGE_FREEZE
    cases = func.count(distinct(Referral.case_id)).label("cases")
    referrals = func.count().label("referrals")
    ranked = db.session.execute(
        select(Referral.target_name, cases, referrals,
               func.count(sql_case((Referral.status == ReferralStatus.FROZEN, 1))))
        .where(freeze).group_by(Referral.target_name)
        .order_by(desc(cases), desc(referrals), Referral.target_name).limit(limit)
    ).all()
    token = func.lower(Referral.token_address)
    amounts: dict[str, list[AssetAmount]] = {name: [] for name, *_ in ranked}
    rows = db.session.execute(
        select(Referral.target_name, Referral.chain_id, token, Referral.decimals, func.min(Referral.symbol),
               exact_sum(Referral.amount_raw))
        .where(freeze, Referral.target_name.in_(list(amounts)), Referral.amount_raw.is_not(None),
               Referral.chain_id.is_not(None), Referral.decimals.is_not(None))
        .group_by(Referral.target_name, Referral.chain_id, token, Referral.decimals)
    )
    for name, chain_id, token_address, decimals, symbol, total in rows:
        amounts[name].append(AssetAmount(Asset(chain_id, token_address, decimals, symbol or "?"), int(total)))
    return [ExchangeLine(name, case_count, referral_count, frozen_count,
                         sorted(amounts[name], key=lambda item: (item.asset.chain_id, item.asset.symbol)))
            for name, case_count, referral_count, frozen_count in ranked]


# What the page and the CSV files show.

@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Figure:
    slug: str
    title: str
    description: str
    svg: Markup
    table: Table


@dataclass(frozen=True)
class DashboardPage:
    figures: list[Figure]
    generated_at: datetime


# How a table writes an amount of an asset (the number only; the asset is named beside it).
AmountWriter = Callable[[Asset, int], str]


def _shown(asset: Asset, raw: int) -> str:
    return format_amount(raw, asset.decimals)


def _plain(asset: Asset, raw: int) -> str:
    """An amount for a spreadsheet: digits and a decimal point, no separators, no unit."""
    return format_amount(raw, asset.decimals).replace(",", "")


def _asset_name(asset: Asset) -> str:
    return f"{asset.symbol} · {chains.chain_name(asset.chain_id)}"


def _cases(count: int) -> str:
    return ngettext("%(num)d case", "%(num)d cases", count)


class _OpenCasesFigure:
    slug = "open-cases"
    title = _l("Open cases by status and priority")
    description = _l("One bar per status; its parts are the cases of each priority.")

    @staticmethod
    def data(user: User) -> OpenCases:
        return open_cases(user)

    @staticmethod
    def chart(data: OpenCases, title: str, description: str) -> str:
        return charts.stacked_bar_chart(
            chart_id="chart-open-cases", title=title, description=description, empty_text=_("There are no open cases."),
            labels=[status.title for status in OPEN_STATUSES],
            series=[charts.Series(priority.title, [data.count(status, priority) for status in OPEN_STATUSES])
                    for priority in Priority])

    @staticmethod
    def table(data: OpenCases, amount: AmountWriter) -> Table:
        rows = [[status.title, *(str(data.count(status, p)) for p in Priority),
                 str(sum(data.count(status, p) for p in Priority))] for status in OPEN_STATUSES]
        rows.append([_("Total"), *(str(sum(data.count(s, p) for s in OPEN_STATUSES)) for p in Priority),
                     str(data.total)])
        return Table([_("Status"), *(p.title for p in Priority), _("Total")], rows)


class _NewCasesFigure:
    slug = "new-cases"
    title = _l("New cases per day, last 30 days (UTC)")
    description = _l("One column per calendar day in UTC, oldest first; a day without a new case counts as zero.")

    @staticmethod
    def data(user: User) -> list[DayCount]:
        return new_cases_per_day(user)

    @staticmethod
    def chart(data: list[DayCount], title: str, description: str) -> str:
        return charts.column_chart(
            chart_id="chart-new-cases", title=title, description=description,
            empty_text=_("No case was submitted in these 30 days."),
            labels=[line.day.isoformat() for line in data], values=[line.cases for line in data])

    @staticmethod
    def table(data: list[DayCount], amount: AmountWriter) -> Table:
        return Table([_("Day (UTC)"), _("New cases")], [[line.day.isoformat(), str(line.cases)] for line in data])


class _LossesFigure:
    slug = "losses"
    title = _l("Losses reported and frozen per asset")
    description = _l(
        "One bar per asset: the whole bar is the loss victims reported (cases merged into another left out), its "
        "first part what exchanges or issuers have frozen. The table also gives the amounts returned, and the cases "
        "closed as recovered.")

    @staticmethod
    def data(user: User) -> list[AssetLoss]:
        return losses_per_asset(user)

    @staticmethod
    def chart(data: list[AssetLoss], title: str, description: str) -> str:
        frozen = [min(line.frozen_raw, line.reported_raw) for line in data]
        rest = [line.reported_raw - part for line, part in zip(data, frozen, strict=True)]
        return charts.stacked_bar_chart(
            chart_id="chart-losses", title=title, description=description, normalise=True,
            empty_text=_("No loss has been reported yet."),
            labels=[_asset_name(line.asset) for line in data],
            series=[charts.Series(_("Frozen"), frozen), charts.Series(_("Not frozen"), rest)],
            value_labels=[[line.asset.amount(part) for line, part in zip(data, parts, strict=True)]
                          for parts in (frozen, rest)],
            total_labels=[line.asset.amount(line.reported_raw) for line in data])

    @staticmethod
    def table(data: list[AssetLoss], amount: AmountWriter) -> Table:
        headers = [_("Asset"), _("Chain"), _("Token contract"), _("Cases"), _("Reported"), _("Frozen"),
                   _("Recovered"), _("Closed as recovered"), _("Closed as partially recovered")]
        rows = [[line.asset.symbol, chains.chain_name(line.asset.chain_id),
                 line.asset.token_address or TransferKind.NATIVE.title, str(line.cases),
                 amount(line.asset, line.reported_raw), amount(line.asset, line.frozen_raw),
                 amount(line.asset, line.returned_raw),
                 str(line.closed_recovered), str(line.closed_partially_recovered)] for line in data]
        return Table(headers, rows)


class _ReferralsFigure:
    slug = "referrals"
    title = _l("Referrals by outcome")
    description = _l("One bar per kind of referral; its parts are the referrals in each status.")

    @staticmethod
    def data(user: User) -> ReferralOutcomes:
        return referrals_by_outcome(user)

    @staticmethod
    def chart(data: ReferralOutcomes, title: str, description: str) -> str:
        return charts.stacked_bar_chart(
            chart_id="chart-referrals", title=title, description=description,
            empty_text=_("There are no referrals yet."), labels=[kind.title for kind in ReferralKind],
            series=[charts.Series(status.title, [data.count(kind, status) for kind in ReferralKind])
                    for status in ReferralStatus])

    @staticmethod
    def table(data: ReferralOutcomes, amount: AmountWriter) -> Table:
        rows = [[kind.title, *(str(data.count(kind, s)) for s in ReferralStatus),
                 str(sum(data.count(kind, s) for s in ReferralStatus))] for kind in ReferralKind]
        return Table([_("Kind"), *(s.title for s in ReferralStatus), _("Total")], rows)


class _ExchangesFigure:
    slug = "exchanges"
    title = _l("Top receiving exchanges")
    description = _l("The ten exchanges named in the most freeze requests, by the number of cases whose funds reached "
                     "them.")

    @staticmethod
    def data(user: User) -> list[ExchangeLine]:
        return top_exchanges(user)

    @staticmethod
    def chart(data: list[ExchangeLine], title: str, description: str) -> str:
        return charts.bar_chart(
            chart_id="chart-exchanges", title=title, description=description,
            empty_text=_("No freeze request names an exchange yet."), labels=[line.name for line in data],
            values=[line.cases for line in data], value_labels=[_cases(line.cases) for line in data])

    @staticmethod
    def table(data: list[ExchangeLine], amount: AmountWriter) -> Table:
        rows = [[line.name, str(line.cases), str(line.referrals), str(line.frozen),
                 "; ".join(f"{amount(item.asset, item.amount_raw)} {_asset_name(item.asset)}" for item in line.amounts)]
                for line in data]
        return Table([_("Exchange"), _("Cases"), _("Freeze requests"), _("Funds frozen"), _("Amounts that reached it")],
                     rows)


FIGURES = {figure.slug: figure for figure in (_OpenCasesFigure, _NewCasesFigure, _LossesFigure, _ReferralsFigure,
                                                _ExchangesFigure)}


def dashboard_page(user: User) -> DashboardPage:
    """Every figure as a chart and its table, in the reader's language."""
    figures = []
    for spec in FIGURES.values():
        data = spec.data(user)
        title, description = str(spec.title), str(spec.description)
        # reports.charts escapes every text it draws, so its SVG goes into the page as it is.
        svg = Markup(spec.chart(data, title, description))  # noqa: S704
        figures.append(Figure(spec.slug, title, description, svg, spec.table(data, _shown)))
    return DashboardPage(figures, utcnow())


def figure_table(user: User, slug: str) -> Table:
    """One figure's table for its CSV file (amounts as plain numbers); 404 for a figure there is not."""
    require(user, Permission.VIEW_CASES)
    spec = FIGURES.get(slug)
    if spec is None:
        raise NotFound(_("There is no such figure."))
    return spec.table(spec.data(user), _plain)
