"""Issued documents: the dossiers we rendered, their SHA-256 and verification code

Revision ID: e4a6c8e0f2a4
Revises: c2e4a6b8d0f1
Create Date: 2026-12-07 21:40:00

New table documents (one row per PDF issued: case, audience, language, sha256 and code, both unique, size, who
rendered it and when, the referral whose letter it is). Two event kinds join the CHECK on case_events.action
(document_issued, document_downloaded); on SQLite that rebuilds case_events, and its append-only triggers are
created again.
"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'e4a6c8e0f2a4'
down_revision = 'c2e4a6b8d0f1'
branch_labels = None
depends_on = None

KINDS = ('submitted', 'status', 'assigned', 'message', 'note', 'evidence', 'discovery', 'theft_confirmed', 'trace',
         'information_added', 'address_added', 'transaction_added', 'file_added', 'report_downloaded',
         'access_link_replaced', 'case_viewed', 'file_viewed', 'priority', 'task', 'merged', 'duplicate_merged',
         'referral', 'attacker_added', 'recovery', 'first_hour')
NEW_KINDS = ('document_issued', 'document_downloaded')
EVENT_CHECK = 'ck_case_events_event_kind'
AUDIENCES = ('evidence', 'consumer_complaint', 'exchange_freeze', 'issuer_freeze', 'police_package', 'victim_copy')
REFUSAL = 'case_events rows are append-only: an audit entry is never changed or deleted'


def _sqlite() -> bool:
    return op.get_context().dialect.name == 'sqlite'


def _sqlite_triggers(create: bool) -> None:
    for statement in ('UPDATE', 'DELETE'):
        if create:
            op.execute(f"""
                CREATE TRIGGER case_events_no_{statement.lower()} BEFORE {statement} ON case_events
                BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END
            """)
        else:
            op.execute(f"DROP TRIGGER IF EXISTS case_events_no_{statement.lower()}")


def _replace_event_check(kinds) -> None:
    if _sqlite():
        _sqlite_triggers(create=False)
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(EVENT_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(EVENT_CHECK), sa.column('action').in_(kinds))
    if _sqlite():
        _sqlite_triggers(create=True)


def upgrade():
    _replace_event_check(KINDS + NEW_KINDS)
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.Enum(*AUDIENCES, name='document_audience', native_enum=False,
                                      create_constraint=True, length=32), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=10), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('rendered_by_id', sa.Integer(), nullable=True),
        sa.Column('rendered_by_label', sa.String(length=32), nullable=False),
        sa.Column('rendered_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_documents_sha256_length')),
        sa.CheckConstraint('length(code) = 10', name=op.f('ck_documents_code_length')),
        sa.CheckConstraint('size > 0', name=op.f('ck_documents_size_positive')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_documents_case_id_cases'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_documents_referral_id_referrals')),
        sa.ForeignKeyConstraint(['rendered_by_id'], ['users.id'], name=op.f('fk_documents_rendered_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('code', name=op.f('uq_documents_code')),
        sa.UniqueConstraint('sha256', name=op.f('uq_documents_sha256')),
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_referral_id'), ['referral_id'], unique=False)


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_referral_id'))
        batch_op.drop_index(batch_op.f('ix_documents_case_id'))
    op.drop_table('documents')
    # Audit entries of these kinds stop a downgrade at the CHECK, as they should: nothing of the log is lost.
    _replace_event_check(KINDS)
