"""Forms that take effect once: the keys of submitted forms (a second post with a key changes nothing)

Revision ID: f1a3b5c7d9e2
Revises: d4e6f8a0b2c4
Create Date: 2026-12-02 04:20:00

"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'f1a3b5c7d9e2'
down_revision = 'd4e6f8a0b2c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_form_submissions_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
        sa.UniqueConstraint('key', name=op.f('uq_form_submissions_key')),
    )
    op.create_index(op.f('ix_form_submissions_case_id'), 'form_submissions', ['case_id'], unique=False)
    op.create_index(op.f('ix_form_submissions_created_at'), 'form_submissions', ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_form_submissions_created_at'), table_name='form_submissions')
    op.drop_index(op.f('ix_form_submissions_case_id'), table_name='form_submissions')
    op.drop_table('form_submissions')
