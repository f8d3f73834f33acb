"""Evidence jobs store their progress and failure as messages (a key and its values) put into words for each reader

Revision ID: f3b5d7e9a1c2
Revises: e2a4c6e8f0b1
Create Date: 2026-12-02 02:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b5d7e9a1c2'
down_revision = 'e2a4c6e8f0b1'
branch_labels = None
depends_on = None


def upgrade():
    # Jobs that ran before keep their text in progress and last_error, shown while they have no message.
    with op.batch_alter_table('evidence_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_message', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('error_message', sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    with op.batch_alter_table('evidence_jobs', schema=None) as batch_op:
        batch_op.drop_column('error_message')
        batch_op.drop_column('progress_message')
