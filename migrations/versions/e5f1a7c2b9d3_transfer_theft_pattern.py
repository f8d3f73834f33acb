"""The theft pattern a decoded transfer shows (approval drain, direct drain, scam payment)

Revision ID: e5f1a7c2b9d3
Revises: c3d9e5a1f024
Create Date: 2026-11-23 16:50:00

"""
from alembic import op
import sqlalchemy as sa

import casework.models.types


# revision identifiers, used by Alembic.
revision = 'e5f1a7c2b9d3'
down_revision = 'c3d9e5a1f024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pattern', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('approval_tx_hash', sa.String(length=66), nullable=True))


def downgrade():
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_column('approval_tx_hash')
        batch_op.drop_column('pattern')
