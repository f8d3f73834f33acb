"""SLA policies and calendars: the shipped defaults (casework/sla_policies.yaml), the YAML format operators import,
and the policy in force for a metric at a priority.

The policies live in the database (sla_policies, sla_calendars); until an operator imports some, the shipped
defaults apply. An import is complete: it names a target for every metric at every priority, so no clock is ever
left without one. The referral deadlines (FIXED_DEADLINES) are the exception: their deadline is the date the
referral holds, so their policy needs no target, and a file that leaves them out (one written before they existed)
keeps the shipped defaults' policies for them. What is in force is cached per application for a minute (filing
reads it for every case); an import in the same process clears the cache, other processes see it within the minute.
"""

from __future__ import annotations

import re
import time as monotonic
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import yaml
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from casework.extensions import db
from casework.models import Priority, SlaCalendar, SlaMetric, SlaPolicy
from casework.services.sla import Calendar, CalendarError, next_opening

DEFAULTS_FILE = Path(__file__).resolve().parents[1] / "sla_policies.yaml"
CACHE_SECONDS = 60
RECURRING = frozenset({SlaMetric.VICTIM_UPDATE})
# Deadlines a third party set (a referral's follow-up date, a courtesy hold's police-report date): the clock's log
# carries the date; the policy gives the warning, the head of the team's delay and the calendar.
FIXED_DEADLINES = frozenset({SlaMetric.REFERRAL_FOLLOW_UP, SlaMetric.POLICE_REPORT_DUE})
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd]?)\s*$")
_UNIT_MINUTES = {"": 1, "m": 1, "h": 60, "d": 24 * 60}
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
CALENDAR_NAME_MAX = 60  # the columns of sla_calendars
SUBDIVISION_MAX = 10


class PolicyError(ValueError):
    """A policy file that cannot be used, with a message for the operator."""


@dataclass(frozen=True)
class Policy:
    """The target of one metric at one priority, the calendar it counts in, and its escalation."""

    metric: SlaMetric
    priority: Priority
    target: timedelta
    calendar: Calendar
    warning: timedelta
    head_after: timedelta | None = None

    @property
    def recurring(self) -> bool:
        """The victim hears from us at least every `target`: fulfilling the clock starts it again."""
        return self.metric in RECURRING


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar as stored (weekly: seven lists of (opens, closes) "HH:MM" pairs)."""

    name: str
    timezone: str = "UTC"
    around_the_clock: bool = False
    weekly: tuple[tuple[tuple[str, str], ...], ...] = ((),) * 7
    country: str | None = None
    subdivision: str | None = None
    closed: tuple[str, ...] = ()

    def calendar(self) -> Calendar:
        """The arithmetic's calendar."""
        if self.around_the_clock:
            return Calendar.always()
        weekly = tuple(tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in day) for day in self.weekly)
        return Calendar(timezone=self.timezone, weekly=weekly, country=self.country, subdivision=self.subdivision,
                        closed=frozenset(date.fromisoformat(day) for day in self.closed))


@dataclass(frozen=True)
class PolicyRow:
    metric: SlaMetric
    priority: Priority
    calendar: str
    target_minutes: int
    warning_minutes: int
    head_after_minutes: int | None


@dataclass(frozen=True)
class PolicySet:
    calendars: dict[str, CalendarSpec]
    rows: tuple[PolicyRow, ...]

    def policies(self) -> dict[tuple[SlaMetric, Priority], Policy]:
        calendars = {name: spec.calendar() for name, spec in self.calendars.items()}
        return {
            (row.metric, row.priority): Policy(
                metric=row.metric, priority=row.priority, target=timedelta(minutes=row.target_minutes),
                calendar=calendars[row.calendar], warning=timedelta(minutes=row.warning_minutes),
                head_after=None if row.head_after_minutes is None else timedelta(minutes=row.head_after_minutes),
            )
            for row in self.rows
        }


def parse_duration(value: Any, where: str) -> int:
    """Minutes in "90", "15m", "4h" or "2d" (a bare number is minutes)."""
    match = _DURATION.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        raise PolicyError(_("%(where)s: %(value)s is not a duration (write it as 15m, 4h or 2d).", where=where,
                            value=value))
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)]


def _per_priority(value: Any, where: str, *, optional: bool = False) -> dict[Priority, int | None]:
    if value is None:
        if optional:
            return dict.fromkeys(Priority)
        raise PolicyError(_("%(where)s is missing.", where=where))
    if not isinstance(value, Mapping):
        minutes = parse_duration(value, where)
        return dict.fromkeys(Priority, minutes)
    unknown = set(map(str, value)) - {p.value for p in Priority}
    if unknown:
        raise PolicyError(_("%(where)s: unknown priority %(name)s.", where=where, name=sorted(unknown)[0]))
    missing = [p.value for p in Priority if p.value not in value]
    if missing and not optional:
        raise PolicyError(_("%(where)s: no value for priority %(name)s.", where=where, name=missing[0]))
    return {p: None if value.get(p.value) is None else parse_duration(value[p.value], f"{where} {p.value}")
            for p in Priority}


def _weekly(value: Any, where: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    if not isinstance(value, list) or len(value) != 7:
        raise PolicyError(_("%(where)s: weekly needs seven days, Monday first.", where=where))
    days = []
    for day in value:
        intervals = []
        for interval in ([day] if isinstance(day, str) else day or []):
            if interval == "":
                continue
            match = _INTERVAL.match(str(interval))
            if match is None:
                raise PolicyError(_("%(where)s: %(value)s is not an opening interval (write 09:00-18:00).",
                                    where=where, value=interval))
            h1, m1, h2, m2 = map(int, match.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                raise PolicyError(_("%(where)s: %(value)s is not an opening interval (write 09:00-18:00).",
                                    where=where, value=interval))
            intervals.append((f"{h1:02d}:{m1:02d}", "00:00" if h2 == 24 else f"{h2:02d}:{m2:02d}"))
        days.append(tuple(intervals))
    return tuple(days)


@cache
def _zones() -> frozenset[str]:
    """The IANA time zones this machine knows (read once: reading them walks the zone database)."""
    return frozenset(available_timezones())


def _check_calendar_fields(where: str, name: str, value: Mapping, closed: tuple[str, ...]) -> None:
    """What the arithmetic would refuse with a message of its own (or the database with none), said plainly."""
    if len(name) > CALENDAR_NAME_MAX:
        raise PolicyError(_("%(where)s: a calendar's name has at most %(max)d characters.", where=where,
                            max=CALENDAR_NAME_MAX))
    zone = str(value.get("timezone") or "UTC")
    if zone not in _zones():
        raise PolicyError(_("%(where)s cannot be used: %(zone)s is not an IANA time zone (write it like "
                            "Asia/Shanghai or Europe/Berlin).", where=where, zone=zone[:64]))
    country, subdivision = value.get("country"), value.get("subdivision")
    if country and not re.fullmatch("[A-Z]{2}", str(country)):
        raise PolicyError(_("%(where)s: give the country as its two-letter code in capitals, such as CN or DE.",
                            where=where))
    if subdivision and len(str(subdivision)) > SUBDIVISION_MAX:
        raise PolicyError(_("%(where)s: give the subdivision as its code, such as BE or SH.", where=where))
    for day in closed:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise PolicyError(_("%(where)s: %(value)s is not a date (write closed dates like 2026-12-24).",
                                where=where, value=day[:40])) from None


def _calendar_spec(name: str, value: Any) -> CalendarSpec:
    where = _("calendar %(name)s", name=name)
    if not isinstance(value, Mapping):
        raise PolicyError(_("%(where)s is not a mapping.", where=where))
    if value.get("around_the_clock"):
        return CalendarSpec(name=name, around_the_clock=True)
    closed = tuple(str(day) for day in value.get("closed") or ())
    _check_calendar_fields(where, name, value, closed)
    spec = CalendarSpec(
        name=name, timezone=str(value.get("timezone") or "UTC"), weekly=_weekly(value.get("weekly"), where),
        country=value.get("country") or None, subdivision=value.get("subdivision") or None, closed=closed,
    )
    if spec.country:
        try:
            Calendar(timezone="UTC", country=spec.country, subdivision=spec.subdivision).hours_on(date(2026, 1, 1))
        except NotImplementedError:
            raise PolicyError(_("%(where)s: the holidays package does not know country %(country)s "
                                "(subdivision %(subdivision)s).", where=where, country=spec.country,
                                subdivision=spec.subdivision or "-")) from None
    try:
        next_opening(spec.calendar(), datetime.now(UTC))  # a calendar that never opens would hold no deadline
    except (ValueError, KeyError, CalendarError, NotImplementedError) as error:
        raise PolicyError(_("%(where)s cannot be used: %(error)s", where=where, error=error)) from None
    return spec


def parse_policies(document: Any) -> PolicySet:
    """A policy document (parsed YAML) checked: every metric at every priority, every calendar usable."""
    if not isinstance(document, Mapping):
        raise PolicyError(_("A policy file holds calendars and policies."))
    calendars = {str(name): _calendar_spec(str(name), value)
                 for name, value in (document.get("calendars") or {}).items()}
    rows: dict[tuple[SlaMetric, Priority], PolicyRow] = {}
    for entry in document.get("policies") or []:
        if not isinstance(entry, Mapping):
            raise PolicyError(_("Each policy is a mapping with metric, calendar and targets."))
        try:
            metric = SlaMetric(entry.get("metric"))
        except ValueError:
            raise PolicyError(_("Unknown metric %(name)s.", name=entry.get("metric"))) from None
        where = _("policy %(metric)s", metric=metric.value)
        calendar = str(entry.get("calendar") or "")
        if calendar not in calendars:
            raise PolicyError(_("%(where)s: unknown calendar %(name)s.", where=where, name=calendar or "-"))
        targets = _per_priority(entry.get("targets"), _("%(where)s targets", where=where),
                                optional=metric in FIXED_DEADLINES)
        warnings = _per_priority(entry.get("warning", 0), _("%(where)s warning", where=where))
        heads = _per_priority(entry.get("head_after"), _("%(where)s head_after", where=where), optional=True)
        for priority in Priority:
            if (metric, priority) in rows:
                raise PolicyError(_("%(where)s is given twice.", where=where))
            rows[(metric, priority)] = PolicyRow(metric, priority, calendar, targets[priority] or 0,
                                                 warnings[priority] or 0, heads[priority])
    missing = [metric.value for metric in SlaMetric
               if (metric, Priority.NORMAL) not in rows and metric not in FIXED_DEADLINES]
    if missing:
        raise PolicyError(_("No policy for metric %(name)s.", name=missing[0]))
    return PolicySet(calendars=calendars, rows=tuple(rows.values()))


def read_policy_file(text: str) -> PolicySet:
    """A YAML policy file's text, parsed and checked."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyError(_("The policy file is not valid YAML: %(error)s", error=error)) from None
    return parse_policies(document)


def shipped_defaults() -> PolicySet:
    return read_policy_file(DEFAULTS_FILE.read_text(encoding="utf-8"))


def store(policy_set: PolicySet) -> None:
    """Replace the stored policies and calendars with these (the caller commits)."""
    db.session.execute(delete(SlaPolicy))
    db.session.execute(delete(SlaCalendar))
    ids = {}
    for spec in policy_set.calendars.values():
        row = SlaCalendar(name=spec.name, timezone=spec.timezone, around_the_clock=spec.around_the_clock,
                          weekly=[[list(pair) for pair in day] for day in spec.weekly], country=spec.country,
                          subdivision=spec.subdivision, closed=list(spec.closed))
        db.session.add(row)
        db.session.flush()
        ids[spec.name] = row.id
    db.session.add_all(SlaPolicy(metric=row.metric, priority=row.priority, calendar_id=ids[row.calendar],
                                 target_minutes=row.target_minutes, warning_minutes=row.warning_minutes,
                                 head_after_minutes=row.head_after_minutes) for row in policy_set.rows)
    db.session.flush()
    forget()


def stored() -> PolicySet | None:
    """The policies in the database, or None when none were imported."""
    rows = db.session.execute(select(SlaPolicy, SlaCalendar).join(SlaCalendar)).all()
    if not rows:
        return None
    calendars = {
        calendar.name: CalendarSpec(
            name=calendar.name, timezone=calendar.timezone, around_the_clock=calendar.around_the_clock,
            weekly=tuple(tuple((a, b) for a, b in day) for day in calendar.weekly), country=calendar.country,
            subdivision=calendar.subdivision, closed=tuple(calendar.closed),
        )
        for _policy, calendar in rows
    }
    return PolicySet(calendars=calendars, rows=tuple(
        PolicyRow(policy.metric, policy.priority, calendar.name, policy.target_minutes, policy.warning_minutes,
                  policy.head_after_minutes)
        for policy, calendar in rows
    ))


def in_force() -> dict[tuple[SlaMetric, Priority], Policy]:
    """Every (metric, priority)'s policy: the stored ones, else the shipped defaults (cached, see the module). The
    shipped defaults fill in the referral deadlines an import left out."""
    cached = current_app.extensions.get("sla_policies")
    now = monotonic.monotonic()
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    policies = shipped_defaults().policies()
    imported = stored()
    if imported is not None:
        policies.update(imported.policies())
    current_app.extensions["sla_policies"] = (now, policies)
    return policies


def policy_for(metric: SlaMetric, priority: Priority) -> Policy:
    return in_force()[(metric, priority)]


def forget() -> None:
    """Drop this application's cached policies (after an import)."""
    current_app.extensions.pop("sla_policies", None)
