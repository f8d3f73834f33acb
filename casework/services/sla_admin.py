"""SLA policies and calendars as admins edit them (Permission.MANAGE_SLA): the page's view of what is in force, one
metric's policy or one calendar changed, the whole YAML file uploaded or downloaded.

Every change is an import: the policies in force are written out as a policy file with the change made, and that
file goes through `sla_clocks.import_policies`, the path of `flask --app casework sla import-policies`. So a change
is checked as a whole file is (a bad value is refused with a message, nothing changed), replaces the stored
policies, and recomputes every running clock exactly as an import does. Each change is logged (who by staff id,
what: the metric or calendar and its new values; no personal data): the application has no audit table outside a
case's own log, and a policy belongs to no case.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

from casework.models import Priority, SlaMetric, User
from casework.services import sla_clocks, sla_policies
from casework.services.access import Permission, require
from casework.services.sla_policies import CalendarSpec, PolicyError, PolicySet

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 256 * 1024
# The shipped calendars' names, as pages show them (a calendar an operator named is shown as named).
CALENDAR_TITLES = {"office": _l("Office hours"), "around_the_clock": _l("Around the clock")}


def calendar_title(name: str) -> str:
    title = CALENDAR_TITLES.get(name)
    return str(title) if title is not None else name


def duration(minutes: int) -> str:
    """Minutes as this page writes them: 4h or 15m (never days, which a reader might take for working days)."""
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def in_force() -> tuple[PolicySet, bool]:
    """The policies in force as stored, and whether an admin or operator stored them (False: the shipped ones)."""
    stored = sla_policies.stored()
    return (stored, True) if stored is not None else (sla_policies.shipped_defaults(), False)


def _calendar_document(spec: CalendarSpec) -> dict[str, Any]:
    if spec.around_the_clock:
        return {"around_the_clock": True}
    weekly = [[f"{opens}-{closes}" for opens, closes in day] for day in spec.weekly]
    return {"timezone": spec.timezone, "weekly": weekly, "country": spec.country, "subdivision": spec.subdivision,
            "closed": list(spec.closed)}


def document(policy_set: PolicySet) -> dict[str, Any]:
    """A policy set as a policy file's document (read_policy_file of its YAML gives the same set back)."""
    rows = {(row.metric, row.priority): row for row in policy_set.rows}
    policies = []
    for metric in SlaMetric:
        mine = [rows[(metric, priority)] for priority in Priority]
        entry: dict[str, Any] = {
            "metric": metric.value, "calendar": rows[(metric, Priority.NORMAL)].calendar,
            "targets": {row.priority.value: duration(row.target_minutes) for row in mine},
            "warning": {row.priority.value: duration(row.warning_minutes) for row in mine},
        }
        if any(row.head_after_minutes is not None for row in mine):
            entry["head_after"] = {row.priority.value: None if row.head_after_minutes is None
                                   else duration(row.head_after_minutes) for row in mine}
        policies.append(entry)
    return {"calendars": {name: _calendar_document(spec) for name, spec in policy_set.calendars.items()},
            "policies": policies}


def policy_file(user: User) -> str:
    """The policies in force as a YAML policy file (the format `sla import-policies` and the upload read)."""
    require(user, Permission.MANAGE_SLA)
    policy_set, _stored = in_force()
    head = ("# Casework SLA policies and calendars (format: docs/sla.md). Durations: 15m, 4h, 2d; a day is 24 hours\n"
            "# of the calendar's open time. Edit and upload this file on the SLA policies page, or import it with\n"
            "# flask --app casework sla import-policies FILE.\n")
    return head + yaml.safe_dump(document(policy_set), allow_unicode=True, sort_keys=False, width=120)


def _apply(user: User, changed: dict[str, Any], what: str, values: Any) -> int:
    """Import the changed document as a policy file; returns how many running clocks were recomputed."""
    recomputed = sla_clocks.import_policies(yaml.safe_dump(changed, allow_unicode=True, sort_keys=False))
    log.info("SLA %s changed by staff member %s to %s; %d running clocks recomputed.", what, user.id, values,
             recomputed)
    return recomputed


def import_file(user: User, data: bytes) -> int:
    """Replace every policy and calendar with an uploaded policy file's (PolicyError: refused, nothing changed);
    returns how many running clocks were recomputed. The caller commits."""
    require(user, Permission.MANAGE_SLA)
    if len(data) > MAX_FILE_BYTES:
        raise PolicyError(_("The policy file is too large: at most %(max)d KB.", max=MAX_FILE_BYTES // 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError(_("The policy file must be UTF-8 text (YAML).")) from None
    recomputed = sla_clocks.import_policies(text)
    log.info("SLA policy file imported by staff member %s; %d running clocks recomputed.", user.id, recomputed)
    return recomputed


def _minutes(value: str, where: str, *, optional: bool = False) -> str | None:
    """A duration from a form (checked here so that the message names the field), as the file writes it."""
    text = (value or "").strip()
    if optional and not text:
        return None
    return duration(sla_policies.parse_duration(text, where))


def edit_policy(user: User, metric: str, *, calendar: str, targets: Mapping[Priority, str],
                warnings: Mapping[Priority, str], heads: Mapping[Priority, str]) -> int:
    """Set one metric's calendar, and its target, warning lead and head-of-team delay at each priority (an empty
    delay: no head-of-team level). Returns how many running clocks were recomputed; the caller commits."""
    require(user, Permission.MANAGE_SLA)
    try:
        metric_ = SlaMetric(metric)
    except ValueError:
        raise NotFound(_("There is no such metric.")) from None
    policy_set, _stored = in_force()
    if calendar not in policy_set.calendars:
        raise PolicyError(_("Choose a calendar from the list."))
    entry: dict[str, Any] = {"metric": metric_.value, "calendar": calendar, "targets": {}, "warning": {}}
    head_after: dict[str, str | None] = {}
    for priority in Priority:
        entry["targets"][priority.value] = _minutes(
            targets.get(priority, ""), _("%(priority)s: target", priority=priority.title))
        entry["warning"][priority.value] = _minutes(
            warnings.get(priority, ""), _("%(priority)s: warning", priority=priority.title))
        head_after[priority.value] = _minutes(
            heads.get(priority, ""), _("%(priority)s: head of the team after", priority=priority.title), optional=True)
    if any(value is not None for value in head_after.values()):
        entry["head_after"] = head_after
    changed = document(policy_set)
    changed["policies"] = [entry if other["metric"] == metric_.value else other for other in changed["policies"]]
    return _apply(user, changed, f"policy {metric_.value}", entry)


def edit_calendar(user: User, name: str, *, around_the_clock: bool, timezone: str, weekly: Sequence[str],
                  country: str, subdivision: str, closed: str) -> int:
    """Change a calendar: 24/7, or weekly opening hours (seven days, Monday first, each "09:00-12:00, 13:00-18:00"
    or empty for closed) in an IANA time zone, with a country's (and subdivision's) public holidays and closed dates
    (ISO dates, separated by commas, spaces or lines). Returns how many running clocks were recomputed; the caller
    commits."""
    require(user, Permission.MANAGE_SLA)
    policy_set, _stored = in_force()
    if name not in policy_set.calendars:
        raise NotFound(_("There is no such calendar."))
    if len(weekly) != 7:
        raise PolicyError(_("Give the opening hours of all seven days."))
    if around_the_clock:
        value: dict[str, Any] = {"around_the_clock": True}
    else:
        value = {
            "timezone": timezone.strip() or "UTC",
            "weekly": [[part.strip() for part in day.split(",") if part.strip()] for day in weekly],
            "country": country.strip() or None, "subdivision": subdivision.strip() or None,
            "closed": [day for day in closed.replace(",", " ").split() if day],
        }
    changed = document(policy_set)
    changed["calendars"][name] = value
    return _apply(user, changed, f"calendar {name}", value)


@dataclass(frozen=True)
class PolicyCell:
    priority: str
    priority_title: str
    target: str
    warning: str
    head_after: str


@dataclass(frozen=True)
class PolicyLine:
    metric: str
    title: str
    recurring: bool
    calendar: str
    cells: list[PolicyCell]


@dataclass(frozen=True)
class CalendarLine:
    name: str
    title: str
    around_the_clock: bool
    timezone: str
    weekly: list[tuple[str, str]]  # (the day's name in the reader's language, its hours as the form writes them)
    country: str
    subdivision: str
    closed: str
    used_by: list[str]


@dataclass(frozen=True)
class AdminPage:
    stored: bool
    policies: list[PolicyLine]
    calendars: list[CalendarLine]


def admin_page(user: User) -> AdminPage:
    """The policies in force per metric and priority, and the calendars, as the admin page shows and edits them."""
    require(user, Permission.MANAGE_SLA)
    policy_set, stored = in_force()
    rows = {(row.metric, row.priority): row for row in policy_set.rows}
    policies = [
        PolicyLine(
            metric=metric.value, title=metric.title, recurring=metric in sla_policies.RECURRING,
            calendar=rows[(metric, Priority.NORMAL)].calendar,
            cells=[PolicyCell(priority.value, priority.title, duration(rows[(metric, priority)].target_minutes),
                              duration(rows[(metric, priority)].warning_minutes),
                              "" if rows[(metric, priority)].head_after_minutes is None
                              else duration(rows[(metric, priority)].head_after_minutes))
                   for priority in Priority])
        for metric in SlaMetric
    ]
    days = get_day_names("wide", locale=get_locale())
    calendars = [
        CalendarLine(
            name=spec.name, title=calendar_title(spec.name), around_the_clock=spec.around_the_clock,
            timezone=spec.timezone,
            weekly=[(days[weekday], ", ".join(f"{opens}-{closes}" for opens, closes in spec.weekly[weekday]))
                    for weekday in range(7)],
            country=spec.country or "", subdivision=spec.subdivision or "", closed=", ".join(spec.closed),
            used_by=[line.title for line in policies if line.calendar == spec.name])
        for spec in policy_set.calendars.values()
    ]
    return AdminPage(stored=stored, policies=policies, calendars=calendars)
