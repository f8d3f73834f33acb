"""Report drafts keep the report their review page validated

Revision ID: c3d9e5a1f024
Revises: b7c41e2f9a10
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9e5a1f024'
down_revision = 'b7c41e2f9a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reviewed_report', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('report_drafts', schema=None) as batch_op:
        batch_op.drop_column('reviewed_report')
        batch_op.drop_column('reviewed_digest')
