"""Evidence jobs queued at most once per case and key (the first hour's follow-on trace)

Revision ID: b8d0f2a4c6e8
Revises: b1d3f5a7c9e0
Create Date: 2026-12-02 07:20:00

evidence_jobs gains once_key: a job that must exist only once for its case (the first-hour trace of a chain, which
the capture and the discovery may both queue, on two schedulers at once) carries a key, and a unique index on
(case_id, once_key) lets only one such row in. Jobs without a key (NULL) are not limited.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d0f2a4c6e8'
down_revision = 'b1d3f5a7c9e0'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('evidence_jobs', sa.Column('once_key', sa.String(length=64), nullable=True))
    op.create_index('uq_evidence_jobs_once', 'evidence_jobs', ['case_id', 'once_key'], unique=True)


def downgrade():
    op.drop_index('uq_evidence_jobs_once', table_name='evidence_jobs')
    with op.batch_alter_table('evidence_jobs', schema=None) as batch_op:
        batch_op.drop_column('once_key')
