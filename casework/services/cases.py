"""Reading cases for staff (with authorization) and handing out case references."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import Case, CaseStatus, Priority, ReferenceCounter, User
from casework.services.access import Permission, require

REFERENCE_PREFIX = "CW"


def format_reference(year: int, number: int) -> str:
    """CW-2026-000123."""
    return f"{REFERENCE_PREFIX}-{year:04d}-{number:06d}"


def next_reference(now: datetime) -> str:
    """Allocate the next case reference of now's year inside the caller's transaction.

    The year's counter row is created if missing (ON CONFLICT DO NOTHING, so two first submissions
    of a year cannot both create it), then incremented and read in one UPDATE ... RETURNING, which
    holds the row lock until the caller commits: two submissions never get the same number. A
    reference only names a case: opening it needs the victim's secret token or a staff login.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ReferenceCounter).values(year=now.year, last_number=0).on_conflict_do_nothing(index_elements=["year"])
    )
    number = db.session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.year == now.year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
    ).scalar_one()
    return format_reference(now.year, number)


_PRIORITY_ORDER = sql_case({p.value: p.rank for p in Priority}, value=Case.priority)


def queue_for(user: User, *, include_closed: bool = False) -> list[Case]:
    """The cases a staff member may see, most urgent first (priority, then oldest submission)."""
    require(user, Permission.VIEW_CASES)
    query = select(Case).options(selectinload(Case.reporter), selectinload(Case.assigned_handler))
    if not include_closed:
        query = query.where(Case.status != CaseStatus.CLOSED)
    query = query.order_by(_PRIORITY_ORDER, Case.submitted_at, Case.id)
    return list(db.session.scalars(query))


def get_for(user: User, reference: str) -> Case:
    """The case with this reference if user may see it; 404 when there is none."""
    require(user, Permission.VIEW_CASES)
    case = db.session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise NotFound(_("There is no case %(ref)s.", ref=reference))
    return case
