"""The daily digest of SLA warnings, for staff who chose it instead of one e-mail per warning (users.sla_warnings).

The sweep still puts every warning among the reader's console alerts at once and e-mails breaches at once; it only
leaves out the warning e-mail of a digest reader (sla_sweep._tell). Once a day, from SLA_DIGEST_HOUR in the reader's
own zone, one e-mail in their language lists the warnings they were told since their previous digest (a first
digest: the past 24 hours; after downtime everything since the last one, up to MAX_SPAN), with the breaches of the
same time, which they already had by e-mail. A day without a warning sends nothing.

Each (reader, local day) is written once to sla_digests with INSERT ... ON CONFLICT DO NOTHING on its unique key,
and only the run whose insert wrote the row queues the e-mail (the outbox, mail.queue_email), in the same
transaction: two schedulers at once, a run again, or a run hours late after downtime send a day's digest once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from casework import timezones
from casework.extensions import db
from casework.models import EscalationLevel, SlaDigest, SlaMetric, SlaWarnings, StaffAlert, User, utcnow
from casework.services import links, mail

log = logging.getLogger(__name__)

# How far back a digest reaches after a long downtime: older warnings stay among the console's alerts only.
MAX_SPAN = timedelta(days=7)
FIRST_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class DigestDay:
    """A reader's local day whose digest is due, and its scheduled moment (UTC): the end of the period it covers."""

    local_date: date
    period_end: datetime


@dataclass(frozen=True)
class Item:
    """One level told to the reader: which case and metric, and the deadline it was about."""

    level: EscalationLevel
    metric: SlaMetric
    reference: str
    due_at: datetime


@dataclass(frozen=True)
class Written:
    """A digest day recorded for a reader: how many warnings it listed (0: nothing was sent)."""

    email: str
    local_date: date
    warnings: int


def due_day(now: datetime, zone: str, hour: int) -> DigestDay | None:
    """The reader's local day whose digest is due at `now`: today once `hour` has come in their zone, else None."""
    local_today = now.astimezone(ZoneInfo(zone)).date()
    # In a spring-forward gap the hour does not exist on the wall; zoneinfo reads it with the offset before the change.
    scheduled = datetime.combine(local_today, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return DigestDay(local_today, scheduled) if now >= scheduled else None


def period_start(day: DigestDay, previous_end: datetime | None) -> datetime:
    """Where the period of day's digest begins: where the previous digest's ended (so nothing is lost to downtime),
    no more than MAX_SPAN back; a first digest covers FIRST_SPAN."""
    if previous_end is None:
        return day.period_end - FIRST_SPAN
    return max(previous_end, day.period_end - MAX_SPAN)


def items_for(user: User, start: datetime, end: datetime) -> list[Item]:
    """The SLA levels the reader was told in the console in (start, end], oldest first."""
    messages = db.session.scalars(
        select(StaffAlert.message)
        .where(StaffAlert.user_id == user.id, StaffAlert.created_at > start, StaffAlert.created_at <= end)
        .order_by(StaffAlert.id)
    )
    items = []
    for message in messages:
        if message.get("key") == "sla.escalated":
            values = message["values"]
            items.append(Item(EscalationLevel(values["level"]), SlaMetric(values["metric"]), values["reference"],
                              datetime.fromisoformat(values["due_at"])))
    return items


def compose(items: list[Item], zone: str, day: date) -> tuple[str, str] | None:
    """The digest's subject and text in the current locale, times in zone; None when it lists no warning."""
    warnings = sorted((item for item in items if item.level is EscalationLevel.WARNING), key=lambda i: i.due_at)
    if not warnings:
        return None
    overdue = [item for item in items if item.level is not EscalationLevel.WARNING]

    def line(item: Item) -> str:
        return _("- %(reference)s · %(metric)s · due %(due)s\n  %(url)s", reference=item.reference,
                 metric=item.metric.title, due=timezones.in_zone(item.due_at, zone),
                 url=links.public_url(f"/staff/cases/{item.reference}"))

    subject = ngettext("SLA digest for %(date)s: %(num)d warning", "SLA digest for %(date)s: %(num)d warnings",
                       len(warnings), date=day.isoformat())
    parts = [ngettext("%(num)d SLA deadline came near since your last digest (times in %(zone)s):",
                      "%(num)d SLA deadlines came near since your last digest (times in %(zone)s):",
                      len(warnings), zone=zone),
             *map(line, warnings)]
    if overdue:
        parts += ["", _("Overdue in the same time (each was e-mailed to you when it happened):"), *map(line, overdue)]
    parts += ["", _("All your alerts: %(url)s", url=links.public_url("/staff/alerts")),
              _("You get this digest instead of an e-mail for each warning. Change it in your settings: %(url)s",
                url=links.public_url("/staff/settings"))]
    return subject, "\n".join(parts)


def _insert(user: User, day: DigestDay, start: datetime, warnings: int) -> bool:
    """Record the reader's digest day: INSERT ... ON CONFLICT DO NOTHING; True when this statement wrote it."""
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(SlaDigest.__table__)
        .values(user_id=user.id, local_date=day.local_date, period_start=start, period_end=day.period_end,
                warnings=warnings, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "local_date"])
        .returning(SlaDigest.__table__.c.id)
    )
    return connection.execute(statement).first() is not None


def _previous_end(user: User, day: DigestDay) -> datetime | None:
    return db.session.scalar(
        select(SlaDigest.period_end).where(SlaDigest.user_id == user.id, SlaDigest.local_date < day.local_date)
        .order_by(SlaDigest.local_date.desc()).limit(1)
    )


def send_digests(now: datetime | None = None) -> list[Written]:
    """Write the digest of every reader whose local digest hour has come today and who has none for today yet,
    committing reader by reader; returns the days written (those with warnings were queued for sending)."""
    now = now or utcnow()
    hour = current_app.config["SLA_DIGEST_HOUR"]
    readers = db.session.scalars(
        select(User).where(User.active.is_(True), User.sla_warnings == SlaWarnings.DIGEST).order_by(User.id)
    ).all()
    due = {}
    for user in readers:
        day = due_day(now, timezones.zone_of(user), hour)
        if day is not None:
            due[user.id] = (user, day)
    done = {tuple(row) for row in db.session.execute(
        select(SlaDigest.user_id, SlaDigest.local_date).where(
            SlaDigest.user_id.in_(list(due)),
            SlaDigest.local_date.in_(sorted({day.local_date for _user, day in due.values()})))
    )} if due else set()
    written = []
    for user, day in due.values():
        if (user.id, day.local_date) in done:
            continue
        start = period_start(day, _previous_end(user, day))
        items = items_for(user, start, day.period_end)
        with force_locale(user.preferred_language or "en"):
            message = compose(items, timezones.zone_of(user), day.local_date)
        warnings = sum(item.level is EscalationLevel.WARNING for item in items)
        if _insert(user, day, start, warnings):  # else another scheduler wrote this day meanwhile
            if message is not None:
                mail.queue_email(user.email, *message)
            written.append(Written(user.email, day.local_date, warnings))
            log.info("SLA digest of %s for staff member %s: %d warnings", day.local_date, user.id, warnings)
        db.session.commit()
    return written
