"""Foreign keys hold on every database: SQLite enforces them on every connection as PostgreSQL does, so a case
with evidence or events cannot be deleted, a file cannot keep a link to a draft that is gone, and the CASCADE and
SET NULL deletes happen."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.models import (
    CaseAddress,
    CaseEvent,
    CaseFile,
    EvidenceRecord,
    Notification,
    ReportDraft,
    ReportedLoss,
    Reporter,
    StoredFile,
    utcnow,
)
from casework.models.case import Case
from casework.models.enums import AddressRole, IncidentType
from casework.services import drafts, mail, uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _add_evidence(case_id: int) -> None:
    db.session.execute(insert(EvidenceRecord).values(
        case_id=case_id, sequence=1, kind="transaction", canonical_json="{}", captured_at=utcnow(),
        sha256="a" * 64, chain_hash="b" * 64,
    ))
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _case_without_events() -> int:
    """A case as filing stores it, but without its audit entry (which could not be deleted afterwards)."""
    case = Case(
        reference="CW-2026-999999", incident_type=IncidentType.APPROVAL_PHISHING, access_token_hash="c" * 64,
        reporter=Reporter(name="Li Wei"),
        losses=[ReportedLoss(chain_id=1, asset_symbol="USDT", amount_raw=10**6, decimals=6)],
        addresses=[CaseAddress(chain_id=1, address="0x" + "1" * 40, role=AddressRole.VICTIM)],
    )
    db.session.add(case)
    db.session.commit()
    return case.id


def test_every_sqlite_connection_enforces_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL always enforces foreign keys")
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    with db.engine.connect() as other:  # a second connection from the pool
        assert other.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_deleting_a_case_with_evidence_is_refused(app):
    case_id = _case_without_events()  # only the evidence holds it
    _add_evidence(case_id)
    with pytest.raises(IntegrityError):
        db.session.execute(delete(Case).where(Case.id == case_id))
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Case, case_id) is not None and _count(EvidenceRecord) == 1


def test_deleting_a_case_with_audit_events_is_refused(app, make_case):
    case_id = make_case().case_id
    with pytest.raises(IntegrityError):
        db.session.execute(delete(Case).where(Case.id == case_id))
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Case, case_id) is not None


def test_deleting_a_case_deletes_its_report_and_keeps_its_e_mails_unlinked(app):
    case_id = _case_without_events()
    mail.queue_email("victim@example.org", "Your report", "Received.", case_id=case_id)
    db.session.execute(delete(Case).where(Case.id == case_id))
    db.session.commit()
    assert [_count(model) for model in (Reporter, ReportedLoss, CaseAddress)] == [0, 0, 0]  # CASCADE
    assert db.session.scalars(select(Notification.case_id)).all() == [None]  # SET NULL


def test_a_file_linked_to_a_missing_draft_fails_at_commit(app):
    draft, _token = drafts.new_draft("en")
    uploads.store_upload(PNG, "wallet.png", draft=draft)
    db.session.commit()
    db.session.execute(delete(ReportDraft).where(ReportDraft.id == draft.id))
    db.session.flush()  # the link is checked at commit, not before: the submit deletes its draft first
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _count(ReportDraft) == 1 and db.session.scalars(select(CaseFile.draft_id)).all() == [draft.id]


def test_a_file_cannot_name_a_draft_that_never_existed(app):
    draft, _token = drafts.new_draft("en")
    attached = uploads.store_upload(PNG, "wallet.png", draft=draft).file
    db.session.commit()
    attached.draft_id = draft.id + 1000
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalars(select(CaseFile.draft_id)).all() == [draft.id]


def test_content_a_file_uses_cannot_be_deleted(app):
    draft, _token = drafts.new_draft("en")
    attached = uploads.store_upload(PNG, "wallet.png", draft=draft).file
    db.session.commit()
    with pytest.raises(IntegrityError):  # what `uploads.purge_unused_files` counts on when an upload races it
        db.session.execute(delete(StoredFile).where(StoredFile.id == attached.stored_file_id))
        db.session.commit()
    db.session.rollback()
    assert _count(StoredFile) == 1


# --- Migrations: SQLite rebuilds tables with foreign keys off, and the upgrade removes files lost by old submits ---

THIS_REVISION = "a8c1e0f2d4b6"


def _before_this_revision() -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(THIS_REVISION).down_revision


def _as_an_older_release(statements: list[tuple[str, dict]]) -> None:
    """Run statements on a connection of our own, as an older release could: on SQLite with foreign keys
    unchecked."""
    if db.engine.dialect.name == "sqlite":
        with sqlite3.connect(db.engine.url.database) as connection:
            connection.execute("PRAGMA foreign_keys = OFF")
            for statement, parameters in statements:
                connection.execute(statement, {key: str(value) if isinstance(value, datetime) else value
                                               for key, value in parameters.items()})
        return
    with db.engine.begin() as connection:
        for statement, parameters in statements:
            connection.execute(text(statement), parameters)


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL checked these keys all along and rebuilds no table")


def test_the_upgrade_deletes_files_lost_by_old_submits_and_the_hourly_purge_their_content(app):
    from flask_migrate import downgrade, upgrade

    sqlite = db.engine.dialect.name == "sqlite"
    kept_draft, _token = drafts.new_draft("en")
    kept = uploads.store_upload(PNG, "mine.png", draft=kept_draft).file
    submitted, _token = drafts.new_draft("en")
    reused = uploads.store_upload(PNG[:-1] + b"\x02", "reused id.png", draft=submitted).file
    lost = uploads.store_upload(PNG[:-1] + b"\x01", "lost.png", draft=submitted).file
    db.session.commit()
    paths = [uploads.path_for(f.sha256) for f in (kept, reused, lost)]
    ids, kept_draft_id, submitted_id = (kept.id, reused.id, lost.id), kept_draft.id, submitted.id
    db.session.remove()
    downgrade(revision=_before_this_revision())
    # What the lost-file submit left: a file whose draft id SQLite gave again to a newer draft, and (SQLite only:
    # PostgreSQL always refused it) a file of a deleted draft.
    statements = [("UPDATE case_files SET draft_id = :draft, uploaded_at = :long_ago WHERE id = :file",
                   {"draft": kept_draft_id, "long_ago": datetime(2000, 1, 1), "file": ids[1]})]
    if sqlite:
        statements.append(("DELETE FROM report_drafts WHERE id = :draft", {"draft": submitted_id}))
    _as_an_older_release(statements)
    upgrade()
    remaining = db.session.scalars(select(CaseFile.id).order_by(CaseFile.id)).all()
    assert remaining == ([ids[0]] if sqlite else [ids[0], ids[2]])
    assert uploads.purge_unused_files(now=utcnow() + uploads.UNUSED_FILE_GRACE * 2) == (2 if sqlite else 1)
    assert paths[0].exists() and not paths[1].exists() and paths[2].exists() is not sqlite


def test_migrating_down_and_up_keeps_every_row_and_leaves_foreign_keys_on(app, sqlite_only, make_case):
    from flask_migrate import downgrade, upgrade

    make_case()
    draft, _token = drafts.new_draft("en")
    uploads.store_upload(PNG, "wallet.png", draft=draft)
    db.session.commit()
    tables = (Case, Reporter, CaseEvent, ReportDraft, CaseFile)
    before = [_count(model) for model in tables]
    db.session.remove()
    downgrade(revision=_before_this_revision())
    upgrade()
    assert [_count(model) for model in tables] == before
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_an_upgrade_that_leaves_a_dangling_reference_fails_and_says_where(app, sqlite_only, capsys):
    from flask_migrate import downgrade, upgrade

    draft, _token = drafts.new_draft("en")
    uploads.store_upload(PNG, "wallet.png", draft=draft)
    db.session.commit()
    db.session.remove()
    downgrade(revision=_before_this_revision())
    _as_an_older_release([("UPDATE case_files SET case_id = 4242, draft_id = NULL", {})])  # no repair for this
    with pytest.raises(SystemExit):  # Flask-Migrate's way of failing
        upgrade()
    assert "1 rows refer to rows that do not exist (case_files -> cases)" in capsys.readouterr().err

