"""Evidence jobs carry a lease token; the job and outbox polls read partial indexes of the rows still to do

Revision ID: c7e3a9b1d5f2
Revises: b9d2f1a3c5e7
Create Date: 2026-12-02 01:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7e3a9b1d5f2'
down_revision = 'b9d2f1a3c5e7'
branch_labels = None
depends_on = None

JOBS_TO_DO = sa.text("status IN ('queued', 'running')")
OUTBOX_PENDING = sa.text("status = 'pending'")


def upgrade():
    with op.batch_alter_table('evidence_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
    op.drop_index('ix_evidence_jobs_next_attempt_at', table_name='evidence_jobs')
    op.create_index('ix_evidence_jobs_to_do', 'evidence_jobs', ['next_attempt_at'], unique=False,
                    postgresql_where=JOBS_TO_DO, sqlite_where=JOBS_TO_DO)
    op.drop_index('ix_notifications_next_attempt_at', table_name='notifications')
    op.create_index('ix_notifications_pending', 'notifications', ['next_attempt_at'], unique=False,
                    postgresql_where=OUTBOX_PENDING, sqlite_where=OUTBOX_PENDING)


def downgrade():
    op.drop_index('ix_notifications_pending', table_name='notifications')
    op.create_index('ix_notifications_next_attempt_at', 'notifications', ['next_attempt_at'], unique=False)
    op.drop_index('ix_evidence_jobs_to_do', table_name='evidence_jobs')
    op.create_index('ix_evidence_jobs_next_attempt_at', 'evidence_jobs', ['next_attempt_at'], unique=False)
    with op.batch_alter_table('evidence_jobs', schema=None) as batch_op:
        batch_op.drop_column('lease_token')
