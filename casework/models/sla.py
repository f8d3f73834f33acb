"""SLA policies, calendars, clocks and their escalations.

A policy gives each (metric, priority) a target, the calendar it counts in, a warning lead time and the delay after
a breach before the head of the team hears of it. A clock is one case's deadline for one metric; its `due_at` and
`escalate_at` are derived from its append-only event log (casework.services.sla.clock_times) and kept here so the
sweep and the queue read an index, never the log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db
from casework.models.enums import EscalationLevel, Priority, SlaEventKind, SlaMetric
from casework.models.types import UTCDateTime, enum_column, utcnow


class SlaCalendar(db.Model):
    """Weekly opening hours in an IANA zone, less a country's public holidays and custom closed dates (or 24/7).

    `weekly`: seven lists (Monday first) of ["09:00", "18:00"] pairs; `closed`: ISO dates."""

    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    around_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    weekly: Mapped[list[Any]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(2))
    subdivision: Mapped[str | None] = mapped_column(String(10))
    closed: Mapped[list[str]] = mapped_column(JSON, default=list)


class SlaPolicy(db.Model):
    """The target of one metric at one priority, and how its clock escalates."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint("metric", "priority", name="uq_sla_policies_metric_priority"),
        CheckConstraint("target_minutes >= 0 AND warning_minutes >= 0 AND (head_after_minutes IS NULL OR "
                        "head_after_minutes >= 0)", name="durations"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[SlaMetric] = mapped_column(enum_column(SlaMetric, "sla_metric", length=40))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id"))
    target_minutes: Mapped[int] = mapped_column(Integer)
    warning_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # None: no level after the breach.
    head_after_minutes: Mapped[int | None] = mapped_column(Integer)


class SlaClock(db.Model):
    """A deadline on a case for one metric (first response, evidence captured, ...).

    `started_at` is the first start; `cycle_started_at` the start of the current cycle (a recurring metric starts
    again when fulfilled). `due_at` is set only while the clock runs; `escalate_at` is when the sweep next has
    something to do for it (a warning, the breach, the head of the team; later when it falls at night), NULL
    when nothing is left. `breached_at` is the first breach, never cleared.

    `referral_id` is 0 for the case's own clocks, else the referral whose deadline the clock holds (its follow-up
    date, a courtesy hold's police-report date). It is part of the clock's key and not a foreign key, so that
    filing writes a case's clocks without naming a referral; referrals are never deleted, and a case's clocks go
    with the case."""

    __tablename__ = "sla_clocks"
    __table_args__ = (UniqueConstraint("case_id", "metric", "referral_id", name="uq_sla_clocks_clock"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    metric: Mapped[SlaMetric] = mapped_column(enum_column(SlaMetric, "sla_metric", length=40))
    # A server default only: filing inserts the clocks (and events) from a SELECT on PostgreSQL, without the column.
    referral_id: Mapped[int] = mapped_column(Integer, server_default="0")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cycle_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SlaEvent(db.Model):
    """An entry of a clock's log: started, paused, resumed, fulfilled, policy applied, warned, breached, stopped,
    moved (a referral's date changed; `data["due_at"]`, as a STARTED event's, is the clock's fixed deadline).

    Keyed by (case, metric, referral) rather than the clock's id so that filing writes a case's clocks and their
    first events in the one statement that inserts the case. Never updated or deleted."""

    __tablename__ = "sla_events"
    __table_args__ = (
        ForeignKeyConstraint(["case_id", "metric", "referral_id"],
                             ["sla_clocks.case_id", "sla_clocks.metric", "sla_clocks.referral_id"],
                             ondelete="CASCADE", name="fk_sla_events_clock"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    metric: Mapped[SlaMetric] = mapped_column(enum_column(SlaMetric, "sla_metric", length=40))
    # A server default only: filing inserts the clocks (and events) from a SELECT on PostgreSQL, without the column.
    referral_id: Mapped[int] = mapped_column(Integer, server_default="0")
    kind: Mapped[SlaEventKind] = mapped_column(enum_column(SlaEventKind, "sla_event_kind", length=16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Escalation(db.Model):
    """A warning, breach or head-of-team level of a clock; unique per (clock, level, due_at) so a second sweep is a
    no-op, and a new deadline (a recurring clock's next cycle, a recompute) escalates again."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("clock_id", "level", "due_at", name="uq_escalations_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"), index=True)
    level: Mapped[EscalationLevel] = mapped_column(enum_column(EscalationLevel, "escalation_level", length=16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaDigest(db.Model):
    """A staff member's daily digest of SLA warnings, one per user and local day (the unique key makes a second
    scheduler, or a run after downtime, a no-op). It covers the warnings told in (period_start, period_end];
    `warnings` 0 means the day had none and no e-mail was sent."""

    __tablename__ = "sla_digests"
    __table_args__ = (UniqueConstraint("user_id", "local_date", name="uq_sla_digests_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    warnings: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
