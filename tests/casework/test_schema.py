"""The migrations build the schema the models describe, and the schema enforces the rules."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, ImmutableRowError, Resolution, utcnow
from casework.services.cases import format_reference, next_reference
from casework.services.search_index import outside_the_models
from tests.fixtures.factories import at_once

CORE_TABLES = {
    "cases", "reporters", "case_addresses", "reported_transactions", "reported_losses", "evidence_records",
    "transfers", "flow_edges", "referrals", "case_events", "messages", "notes", "users", "sla_clocks",
    "sla_events", "escalations", "evidence_jobs", "notifications", "reference_counters",
}


def test_migrations_create_every_table(app):
    assert set(inspect(db.engine).get_table_names()) >= CORE_TABLES


# SQLite cannot reflect expression indexes (uq_transfers_movement); tests/casework/test_duplicate_keys.py checks it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(app):
    """A model change without its migration shows up here as a difference."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False,
                                                               "include_name": outside_the_models})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_closing_without_a_resolution_is_refused_by_the_database(app, make_case):
    filed = make_case()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE cases SET status = 'closed' WHERE id = :id"), {"id": filed.case.id})
    db.session.rollback()


def test_a_closed_case_with_a_resolution_is_accepted(app, make_case):
    case = make_case().case
    case.status, case.resolution = CaseStatus.CLOSED, Resolution.UNRECOVERABLE
    db.session.commit()
    assert db.session.get(Case, case.id).resolution is Resolution.UNRECOVERABLE


def test_unknown_status_values_are_refused_by_the_database(app, make_case):
    filed = make_case()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE cases SET status = 'lost' WHERE id = :id"), {"id": filed.case.id})
    db.session.rollback()


def test_case_events_cannot_be_changed_or_deleted(app, make_case):
    event = make_case().case.events[0]
    event.summary = "rewritten history"
    with pytest.raises(ImmutableRowError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(CaseEvent, event.id))
    with pytest.raises(ImmutableRowError):
        db.session.commit()
    db.session.rollback()


def test_references_are_sequential_per_year_and_readable(app):
    now = utcnow()
    first, second = next_reference(now), next_reference(now)
    db.session.commit()
    assert first == format_reference(now.year, 1) and second == format_reference(now.year, 2)
    assert first.startswith(f"CW-{now.year}-") and len(first) == len("CW-2026-000123")


def test_each_case_gets_a_unique_reference_and_token(app, make_case):
    filed = [make_case() for _ in range(3)]
    references = {f.case.reference for f in filed}
    assert len(references) == 3
    hashes = db.session.scalars(select(Case.access_token_hash)).all()
    assert len(set(hashes)) == 3
    for f in filed:
        assert len(f.access_token) >= 22  # >= 128 bits in URL-safe base64
        assert f.access_token not in hashes


def test_amounts_beyond_64_bits_are_kept_exactly(app, make_case):
    from casework.models import ReportedLoss

    case = make_case().case
    huge = 2**255 + 12345
    case.losses.append(ReportedLoss(chain_id=1, asset_symbol="X", amount_raw=huge, decimals=18))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(select(ReportedLoss.amount_raw).where(ReportedLoss.case_id == case.id)).all()
    assert huge in stored


def test_concurrent_first_submissions_of_a_year_get_different_references(app):
    """Two transactions that both find no counter row for the year must not both take number 1."""
    year_start = utcnow().replace(year=2031)
    results = at_once(app, lambda: next_reference(year_start), 2)
    assert sorted(results) == [format_reference(2031, 1), format_reference(2031, 2)]
