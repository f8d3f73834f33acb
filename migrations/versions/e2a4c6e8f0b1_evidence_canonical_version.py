"""Each evidence record says which canonical form it is in: 1 for records captured so far, 2 (RFC 8785) from now on

Revision ID: e2a4c6e8f0b1
Revises: c7e3a9b1d5f2
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a4c6e8f0b1'
down_revision = 'c7e3a9b1d5f2'
branch_labels = None
depends_on = None


def upgrade():
    # Rows already stored were written in version 1: the server default records that, and their
    # hashes (which dossiers may already print) are kept as they are.
    with op.batch_alter_table('evidence_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('canonical_version', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.create_check_constraint(op.f('ck_evidence_records_canonical_version_known'), 'canonical_version IN (1, 2)')


def downgrade():
    with op.batch_alter_table('evidence_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_evidence_records_canonical_version_known'), type_='check')
        batch_op.drop_column('canonical_version')
