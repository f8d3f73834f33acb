"""SLA clock arithmetic: when a deadline falls, given a start, a target duration, a calendar and the clock's pauses.

Pure functions of plain values (no database, no Flask), so the sweep, the case page and the tests compute a
deadline the same way.

A `Calendar` is either around the clock (24/7: evidence capture and freeze requests, because funds move at night)
or weekly opening hours in an IANA time zone, less the public holidays of a country (and subdivision) from the
`holidays` package and custom closed dates, plus the make-up working days some countries move onto a weekend
(China's adjusted weekends: the package lists them as `weekend_workdays`; they open with the hours of a Monday).

Business-hours arithmetic walks the opening intervals day by day in local time and converts each boundary to UTC
on its own, so a daylight-saving change between two days (or inside one) moves the UTC instants and never the
local opening hours. A local boundary that falls in a spring-forward gap is read with the offset before the change
(fold 0), i.e. as the first instant after the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from casework.models.enums import EscalationLevel, SlaEventKind

Interval = tuple[datetime, datetime]  # UTC, start included, end excluded
Hours = tuple[tuple[time, time], ...]  # opening intervals of one local day; a close of 00:00 means midnight
MIDNIGHT = time(0)
# A calendar that opens less than this often is refused rather than walked for ever.
MAX_DAYS_WITHOUT_OPENING = 60
OFFICE_HOURS: Hours = ((time(9), time(18)),)
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)


class CalendarError(ValueError):
    """A calendar that cannot hold a deadline (no opening hours, a close before its opening)."""


@dataclass(frozen=True)
class Calendar:
    timezone: str = "UTC"
    # Opening hours per weekday, Monday first (seven entries); ignored when around_the_clock.
    weekly: tuple[Hours, ...] = ((),) * 7
    country: str | None = None
    subdivision: str | None = None
    closed: frozenset[date] = field(default_factory=frozenset)
    around_the_clock: bool = False

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if len(self.weekly) != 7:
            raise CalendarError("weekly opening hours need seven days, Monday first")
        for hours in self.weekly:
            for opens, closes in hours:
                if closes != MIDNIGHT and closes <= opens:
                    raise CalendarError(f"a day closes ({closes}) before it opens ({opens})")

    @classmethod
    def always(cls) -> Calendar:
        """24/7."""
        return cls(around_the_clock=True)

    @classmethod
    def office(cls, timezone: str, *, hours: Hours = OFFICE_HOURS, days: Iterable[int] = MONDAY_TO_FRIDAY,
               country: str | None = None, subdivision: str | None = None,
               closed: Iterable[date] = ()) -> Calendar:
        """The same opening hours on the given weekdays (0 = Monday), closed on the others."""
        open_days = set(days)
        weekly = tuple(hours if weekday in open_days else () for weekday in range(7))
        return cls(timezone=timezone, weekly=weekly, country=country, subdivision=subdivision,
                   closed=frozenset(closed))

    def hours_on(self, day: date) -> Hours:
        """The local opening hours of a day: none on a holiday or closed date, a Monday's on a make-up workday."""
        if day in self.closed:
            return ()
        public, makeup = _public_days(self.country, self.subdivision, day.year)
        if day in public:
            return ()
        if day in makeup:
            return self.weekly[0] or next((hours for hours in self.weekly if hours), ())
        return self.weekly[day.weekday()]

    def intervals_on(self, day: date) -> list[Interval]:
        """The day's opening intervals as UTC instants."""
        zone = ZoneInfo(self.timezone)
        intervals = []
        for opens, closes in self.hours_on(day):
            start = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
            end_day = day + timedelta(days=1) if closes == MIDNIGHT else day
            end = datetime.combine(end_day, closes, tzinfo=zone).astimezone(UTC)
            if end > start:
                intervals.append((start, end))
        return intervals

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.timezone)).date()


@lru_cache(maxsize=256)
def _public_days(country: str | None, subdivision: str | None, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, make-up working days) of a country's year; none without a country."""
    if not country:
        return frozenset(), frozenset()
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    makeup = frozenset(day for day in getattr(table, "weekend_workdays", ()) if day.year == year)
    return frozenset(table.keys()), makeup


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("SLA arithmetic needs timezone-aware datetimes")
    return instant.astimezone(UTC)


def open_intervals(calendar: Calendar, start: datetime, pauses: Sequence[Interval] = ()) -> Iterator[Interval]:
    """The calendar's open time from `start` on, in order, with the clock's pauses cut out (an open-ended pause
    is given as (paused_at, None) by the caller and ends the walk)."""
    start = _aware(start)
    cuts = sorted((_aware(a), _aware(b) if b is not None else None) for a, b in pauses)
    if calendar.around_the_clock:
        source: Iterator[Interval] = iter([(start, datetime.max.replace(tzinfo=UTC))])
    else:
        source = _walk_days(calendar, start)
    for interval in source:
        yield from _minus(interval, cuts)
        if any(b is None and a <= interval[1] for a, b in cuts):
            return


def _walk_days(calendar: Calendar, start: datetime) -> Iterator[Interval]:
    day = calendar.local_date(start) - timedelta(days=1)  # a day's interval may end after local midnight
    days_without = 0
    while True:
        intervals = [(max(a, start), b) for a, b in calendar.intervals_on(day) if b > start]
        if intervals:
            days_without = 0
            yield from intervals
        else:
            days_without += 1
            if days_without > MAX_DAYS_WITHOUT_OPENING:
                raise CalendarError(f"the calendar has no opening hours for {MAX_DAYS_WITHOUT_OPENING} days")
        day += timedelta(days=1)


def _minus(interval: Interval, cuts: Sequence[tuple[datetime, datetime | None]]) -> Iterator[Interval]:
    start, end = interval
    for cut_start, cut_end in cuts:
        if cut_end is not None and cut_end <= start:
            continue
        if cut_start >= end:
            break
        if cut_start > start:
            yield start, cut_start
        if cut_end is None:
            return
        start = max(start, cut_end)
        if start >= end:
            return
    if start < end:
        yield start, end


def deadline(start: datetime, target: timedelta, calendar: Calendar,
             pauses: Sequence[tuple[datetime, datetime | None]] = ()) -> datetime | None:
    """When `target` of the calendar's open time has run from `start`, not counting the pauses; None while a
    pause that has not ended is holding the clock. A target of zero is due at the start."""
    if target < timedelta(0):
        raise ValueError("an SLA target cannot be negative")
    if target == timedelta(0):
        return _aware(start)
    remaining = target
    for begin, end in open_intervals(calendar, start, pauses):
        span = end - begin
        if remaining <= span:
            return begin + remaining
        remaining -= span
    return None  # the walk ends only at a pause that has not ended


def elapsed(start: datetime, until: datetime, calendar: Calendar,
            pauses: Sequence[tuple[datetime, datetime | None]] = ()) -> timedelta:
    """How much of the calendar's open time ran between start and until, not counting the pauses."""
    until = _aware(until)
    total = timedelta(0)
    for begin, end in open_intervals(calendar, start, pauses):
        if begin >= until:
            break
        total += min(end, until) - begin
    return total


@dataclass(frozen=True)
class ClockTimes:
    """What a clock's log says now: its first start, the start of its current cycle, its deadline (None unless it
    runs) and when it was last paused (still), fulfilled or stopped."""

    started_at: datetime
    cycle_started_at: datetime
    due_at: datetime | None
    paused_at: datetime | None = None
    fulfilled_at: datetime | None = None
    stopped_at: datetime | None = None


# A log entry: its kind and instant, and for a clock with a fixed deadline (below) the date its STARTED or MOVED
# entry set.
LogEntry = tuple[SlaEventKind, datetime] | tuple[SlaEventKind, datetime, datetime | None]


def clock_times(log: Sequence[LogEntry], target: timedelta, calendar: Calendar, *,
                recurring: bool = False) -> ClockTimes:
    """The one function that turns a clock's event log (kinds and instants, in order, starting with STARTED) into
    its deadline, under the policy in force (target and calendar): the current cycle's start plus the target, not
    counting the pauses since that start. Fulfilling a recurring clock starts its next cycle; a later STARTED (a
    reopened case) starts a new one. The log's warnings, breaches and policy changes do not move the deadline:
    a recompute after a priority change reads the same log with the new target.

    A fixed deadline is a date a third party set (a referral's follow-up date, a courtesy hold's police-report
    date): a STARTED entry that carries one makes the cycle due then, whatever the target, and a MOVED entry moves
    it. Such a clock is never paused: the third party's date does not wait while the case awaits the victim."""
    starts = [entry[1] for entry in log if entry[0] is SlaEventKind.STARTED]
    if not starts:
        raise ValueError("a clock's log begins with its start")
    cycle = started = _aware(starts[0])
    pauses: list[Interval] = []
    paused_at = fulfilled_at = stopped_at = fixed = None
    for kind, at, *fixed_date in log:
        at = _aware(at)
        given = _aware(fixed_date[0]) if fixed_date and fixed_date[0] is not None else None
        if kind is SlaEventKind.STARTED:
            cycle, pauses, paused_at, fulfilled_at, stopped_at, fixed = at, [], None, None, None, given
        elif kind is SlaEventKind.MOVED and given is not None:
            fixed = given
        elif kind is SlaEventKind.PAUSED and paused_at is None and fixed is None:
            paused_at = at
        elif kind is SlaEventKind.RESUMED and paused_at is not None:
            pauses.append((paused_at, at))
            paused_at = None
        elif kind is SlaEventKind.FULFILLED:
            fulfilled_at = at
            if recurring:
                cycle, pauses = at, []
        elif kind is SlaEventKind.STOPPED:
            stopped_at = at
    finished = stopped_at is not None or (fulfilled_at is not None and not recurring)
    due = None
    if not finished and fixed is not None:
        due = fixed
    elif not finished:
        cuts = [(max(a, cycle), b) for a, b in pauses if b > cycle]
        if paused_at is not None:
            cuts.append((max(paused_at, cycle), None))
        due = deadline(cycle, target, calendar, cuts)
    return ClockTimes(started_at=started, cycle_started_at=cycle, due_at=due, paused_at=paused_at,
                      fulfilled_at=fulfilled_at, stopped_at=stopped_at)


def level_times(due_at: datetime, warning: timedelta,
                head_after: timedelta | None) -> list[tuple[EscalationLevel, datetime]]:
    """When each escalation level of a deadline falls: the warning (with a lead time), the breach, the head of the
    team (after its delay)."""
    times = []
    if warning > timedelta(0):
        times.append((EscalationLevel.WARNING, due_at - warning))
    times.append((EscalationLevel.BREACH, due_at))
    if head_after is not None:
        times.append((EscalationLevel.HEAD, due_at + head_after))
    return times


def levels_due(due_at: datetime, warning: timedelta, head_after: timedelta | None,
               now: datetime) -> tuple[list[EscalationLevel], datetime | None]:
    """The levels a sweep at `now` escalates for a deadline (a warning only while the deadline is ahead: after it,
    the breach says more), and when the next level falls (None: none left)."""
    times = level_times(due_at, warning, head_after)
    due = [level for level, at in times if at <= now]
    if now >= due_at and EscalationLevel.WARNING in due:
        due.remove(EscalationLevel.WARNING)
    later = [at for _level, at in times if at > now]
    return due, min(later) if later else None


def next_opening(calendar: Calendar, now: datetime) -> datetime:
    """`now` if the calendar is open then, else the instant it next opens."""
    begin, _end = next(open_intervals(calendar, now))
    return begin
