"""Referral deadlines as SLA clocks: a referral's follow-up date and a courtesy hold's police-report date

Revision ID: d3f5a7b9c1e3
Revises: f2b4d6e8a0c3
Create Date: 2026-12-07 21:45:00

sla_clocks and sla_events gain referral_id, NOT NULL with a server default of 0: 0 is the case's own clock (what
every existing row is, and what filing writes without naming the column, in the statement that inserts the case),
any other value the referral whose deadline the clock holds. It joins the clock's unique key (case, metric,
referral_id, renamed uq_sla_clocks_clock) and the events' foreign key to their clock. It is not a foreign key to
referrals, because 0 names no referral; referrals are never deleted, and a case's clocks cascade with the case.
(A nullable foreign key would need a unique key treating NULLs as equal: an expression index on COALESCE, which
SQLite cannot reflect and every later batch rebuild of the table would silently drop.)

The metric CHECKs (sla_clocks, sla_events, sla_policies) gain referral_follow_up and police_report_due; the event
kind CHECK gains moved (a referral's date changed). referrals gains police_report_sent_at (a handler recorded
that the police report reached the target).

SQLite: each CHECK and key change rebuilds its table (batch mode, foreign keys off during migrations, see env.py);
the sla tables have only plain column indexes, which the batch reflects and creates again. The events' old foreign
key is dropped before the clocks' unique key it relies on (PostgreSQL refuses otherwise), and created again after.
Downgrading deletes the referral clocks, their events and escalations and the new metrics' policies: the older
schema has no place for them.
"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'd3f5a7b9c1e3'
down_revision = 'f2b4d6e8a0c3'
branch_labels = None
depends_on = None

METRICS = ('first_response', 'triage', 'evidence_captured', 'freeze_sent', 'victim_update', 'resolution')
NEW_METRICS = ('referral_follow_up', 'police_report_due')
EVENT_KINDS = ('started', 'paused', 'resumed', 'fulfilled', 'policy_applied', 'warned', 'breached', 'stopped')
NEW_EVENT_KINDS = ('moved',)
KEY = 'referral_id'


def _check(batch_op, name, column, values) -> None:
    batch_op.drop_constraint(op.f(name), type_='check')
    batch_op.create_check_constraint(op.f(name), sa.column(column).in_(values))


def _events_key(batch_op, columns) -> None:
    batch_op.create_foreign_key('fk_sla_events_clock', 'sla_clocks', list(columns), list(columns),
                                ondelete='CASCADE')


def upgrade():
    op.add_column('referrals', sa.Column('police_report_sent_at', UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sla_events_clock', type_='foreignkey')
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column(KEY, sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('uq_sla_clocks_metric', type_='unique')
        batch_op.create_unique_constraint('uq_sla_clocks_clock', ['case_id', 'metric', KEY])
        _check(batch_op, 'ck_sla_clocks_sla_metric', 'metric', METRICS + NEW_METRICS)
    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column(KEY, sa.Integer(), server_default='0', nullable=False))
        _check(batch_op, 'ck_sla_events_sla_metric', 'metric', METRICS + NEW_METRICS)
        _check(batch_op, 'ck_sla_events_sla_event_kind', 'kind', EVENT_KINDS + NEW_EVENT_KINDS)
        _events_key(batch_op, ('case_id', 'metric', KEY))
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        _check(batch_op, 'ck_sla_policies_sla_metric', 'metric', METRICS + NEW_METRICS)


def downgrade():
    # Foreign keys are off on SQLite during migrations: the cascades are written out.
    op.execute(f'DELETE FROM escalations WHERE clock_id IN (SELECT id FROM sla_clocks WHERE {KEY} <> 0)')
    op.execute(f'DELETE FROM sla_events WHERE {KEY} <> 0')
    op.execute(f'DELETE FROM sla_clocks WHERE {KEY} <> 0')
    new_metrics = ', '.join(f"'{metric}'" for metric in NEW_METRICS)
    op.execute(f'DELETE FROM sla_policies WHERE metric IN ({new_metrics})')
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        _check(batch_op, 'ck_sla_policies_sla_metric', 'metric', METRICS)
    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sla_events_clock', type_='foreignkey')
        _check(batch_op, 'ck_sla_events_sla_event_kind', 'kind', EVENT_KINDS)
        _check(batch_op, 'ck_sla_events_sla_metric', 'metric', METRICS)
        batch_op.drop_column(KEY)
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        _check(batch_op, 'ck_sla_clocks_sla_metric', 'metric', METRICS)
        batch_op.drop_constraint('uq_sla_clocks_clock', type_='unique')
        batch_op.create_unique_constraint('uq_sla_clocks_metric', ['case_id', 'metric'])
        batch_op.drop_column(KEY)
    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        _events_key(batch_op, ('case_id', 'metric'))
    op.execute('ALTER TABLE referrals DROP COLUMN police_report_sent_at')  # SQLite 3.35+ too, without a rebuild
