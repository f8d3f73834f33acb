"""Staff time zones, SLA warnings by e-mail or in a daily digest, and the digests sent

Revision ID: c2e4a6b8d0f1
Revises: a1b3c5d7e9f1
Create Date: 2026-12-07 21:45:00

users gains time_zone (an IANA zone, NULL for the configured default) and sla_warnings ('email' or 'digest', with
its CHECK; 'email' for every existing account). New table sla_digests: one row per staff member and local day,
unique, so a digest is sent once however many schedulers run. users has no expression index, so SQLite's batch
rebuild of it loses nothing (unlike cases and its ix_cases_urgency).
"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c2e4a6b8d0f1'
down_revision = 'a1b3c5d7e9f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sla_warnings', sa.Enum('email', 'digest', name='sla_warnings',
                                                              native_enum=False, create_constraint=True, length=6),
                                      server_default='email', nullable=False))
    op.create_table(
        'sla_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('local_date', sa.Date(), nullable=False),
        sa.Column('period_start', UTCDateTime(timezone=True), nullable=False),
        sa.Column('period_end', UTCDateTime(timezone=True), nullable=False),
        sa.Column('warnings', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sla_digests_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_digests')),
        sa.UniqueConstraint('user_id', 'local_date', name='uq_sla_digests_once'),
    )


def downgrade():
    op.drop_table('sla_digests')
    with op.batch_alter_table('users', schema=None) as batch_op:
        # The enum's CHECK first: SQLite's rebuild would otherwise copy a CHECK on a column that is gone.
        batch_op.drop_constraint(op.f('ck_users_sla_warnings'), type_='check')
        batch_op.drop_column('sla_warnings')
        batch_op.drop_column('time_zone')
