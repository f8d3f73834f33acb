"""A file's link to its draft: checked at commit, without cascade (the submit claims the draft first)

Revision ID: f4b8d2e6a1c7
Revises: e5f1a7c2b9d3
Create Date: 2026-11-23 18:10:00

"""
from alembic import op

import casework.models.types


# revision identifiers, used by Alembic.
revision = 'f4b8d2e6a1c7'
down_revision = 'e5f1a7c2b9d3'
branch_labels = None
depends_on = None

NAME = 'fk_case_files_draft_id_report_drafts'


def upgrade():
    with op.batch_alter_table('case_files', schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_='foreignkey')
        batch_op.create_foreign_key(NAME, 'report_drafts', ['draft_id'], ['id'], deferrable=True,
                                    initially='DEFERRED')


def downgrade():
    with op.batch_alter_table('case_files', schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_='foreignkey')
        batch_op.create_foreign_key(NAME, 'report_drafts', ['draft_id'], ['id'], ondelete='CASCADE')
