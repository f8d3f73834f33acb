"""Reading cases for staff (with authorization) and handing out case references."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, text, update
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import Case, User
from casework.services.access import Permission, require

REFERENCE_PREFIX = "CW"


def format_reference(year: int, number: int) -> str:
    """CW-2026-000123."""
    return f"{REFERENCE_PREFIX}-{year:04d}-{number:06d}"


def next_reference(now: datetime) -> str:
    """Allocate the next case reference of now's year inside the caller's transaction.

    One upsert: the year's counter row is created at 1, or incremented, and read back (INSERT ... ON
    CONFLICT DO UPDATE ... RETURNING, on PostgreSQL and SQLite alike). The row stays locked until the
    caller commits, so two filings never get the same number and a rolled-back one leaves no gap; the
    caller takes the reference as late as it can. A reference only names a case: opening it needs the
    victim's secret token or a staff login.
    """
    number = db.session.connection().execute(_COUNT_UP, {"year": now.year}).scalar_one()
    return format_reference(now.year, number)


# The same SQL on PostgreSQL and SQLite (3.35+). Written as text because SQLAlchemy compiles an ON CONFLICT
# construct anew at every call, and this runs at every filing.
_COUNT_UP = text(
    "INSERT INTO reference_counters (year, last_number) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_number = reference_counters.last_number + 1 "
    "RETURNING last_number"
)


PROVISIONAL_PREFIX = "pending-"


def provisional_reference(access_token_hash: str) -> str:
    """What a case being filed is called until `assign_reference` numbers it, in the same transaction: no
    one else ever sees it. Unique, because every case has its own access token."""
    return PROVISIONAL_PREFIX + access_token_hash[:12]


def assign_reference(case_id: int, now: datetime) -> str:
    """Number a case written under its provisional reference; returns the reference. Call it last before
    the commit: from here to the commit, other filings wait for the counter row (see next_reference)."""
    reference = next_reference(now)
    db.session.connection().execute(_NAME_CASE, {"case": case_id, "reference": reference, "now": now})
    return reference


_NAME_CASE = (
    update(Case.__table__)
    .where(Case.__table__.c.id == bindparam("case"))
    .values(reference=bindparam("reference"), updated_at=bindparam("now"))
)


def get_for(user: User, reference: str) -> Case:
    """The case with this reference if user may see it; 404 when there is none."""
    require(user, Permission.VIEW_CASES)
    case = db.session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise NotFound(_("There is no case %(ref)s.", ref=reference))
    return case
