"""SLA policies, calendars and clocks

Revision ID: f2b4d6e8a0c3
Revises: b8d0f2a4c6e8
Create Date: 2026-12-02 07:30:00

New tables sla_calendars and sla_policies. sla_clocks, sla_events and escalations were written by nothing until
now, so they are dropped and created again in their new shape: clocks gain the start of the current cycle, when
the sweep next looks at them (escalate_at, indexed), when they stopped and their first breach; events are keyed
by (case, metric) and carry data; event kinds gain "stopped" and escalation levels "head". cases gains
next_due_at (indexed), its running clocks' nearest deadline, for the queue's order.
"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'f2b4d6e8a0c3'
down_revision = 'b8d0f2a4c6e8'
branch_labels = None
depends_on = None

METRICS = ('first_response', 'triage', 'evidence_captured', 'freeze_sent', 'victim_update', 'resolution')
EVENT_KINDS = ('started', 'paused', 'resumed', 'fulfilled', 'policy_applied', 'warned', 'breached')
LEVELS = ('warning', 'breach')
PRIORITIES = ('critical', 'high', 'normal', 'low')


def _enum(values, name, length):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _drop_old() -> None:
    for table in ('escalations', 'sla_events', 'sla_clocks'):
        op.drop_table(table)


def _clocks(times, *, indexed) -> None:
    """sla_clocks with these timestamp columns (the start and the cycle's start required)."""
    op.create_table(
        'sla_clocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('metric', _enum(METRICS, 'sla_metric', 40), nullable=False),
        *(sa.Column(name, UTCDateTime(timezone=True), nullable=name not in ('started_at', 'cycle_started_at'))
          for name in times),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sla_clocks_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clocks')),
        sa.UniqueConstraint('case_id', 'metric', name='uq_sla_clocks_metric'),
    )
    for column in ('case_id', *indexed):
        op.create_index(op.f(f'ix_sla_clocks_{column}'), 'sla_clocks', [column], unique=False)


def _escalations(levels) -> None:
    op.create_table(
        'escalations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clock_id', sa.Integer(), nullable=False),
        sa.Column('level', _enum(levels, 'escalation_level', 16), nullable=False),
        sa.Column('due_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['clock_id'], ['sla_clocks.id'], name=op.f('fk_escalations_clock_id_sla_clocks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
        sa.UniqueConstraint('clock_id', 'level', 'due_at', name='uq_escalations_once'),
    )
    op.create_index(op.f('ix_escalations_clock_id'), 'escalations', ['clock_id'], unique=False)


def upgrade():
    _drop_old()
    op.create_table(
        'sla_calendars',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('around_the_clock', sa.Boolean(), nullable=False),
        sa.Column('weekly', sa.JSON(), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('subdivision', sa.String(length=10), nullable=True),
        sa.Column('closed', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendars')),
        sa.UniqueConstraint('name', name=op.f('uq_sla_calendars_name')),
    )
    op.create_table(
        'sla_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('metric', _enum(METRICS, 'sla_metric', 40), nullable=False),
        sa.Column('priority', _enum(PRIORITIES, 'priority', 8), nullable=False),
        sa.Column('calendar_id', sa.Integer(), nullable=False),
        sa.Column('target_minutes', sa.Integer(), nullable=False),
        sa.Column('warning_minutes', sa.Integer(), nullable=False),
        sa.Column('head_after_minutes', sa.Integer(), nullable=True),
        sa.CheckConstraint('target_minutes >= 0 AND warning_minutes >= 0 AND (head_after_minutes IS NULL OR '
                           'head_after_minutes >= 0)', name=op.f('ck_sla_policies_durations')),
        sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'],
                                name=op.f('fk_sla_policies_calendar_id_sla_calendars')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
        sa.UniqueConstraint('metric', 'priority', name='uq_sla_policies_metric_priority'),
    )
    _clocks(('started_at', 'cycle_started_at', 'due_at', 'escalate_at', 'paused_at', 'fulfilled_at', 'stopped_at',
             'breached_at'), indexed=('due_at', 'escalate_at'))
    op.create_table(
        'sla_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('metric', _enum(METRICS, 'sla_metric', 40), nullable=False),
        sa.Column('kind', _enum(EVENT_KINDS + ('stopped',), 'sla_event_kind', 16), nullable=False),
        sa.Column('at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sla_events_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_id', 'metric'], ['sla_clocks.case_id', 'sla_clocks.metric'],
                                name='fk_sla_events_clock', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_events')),
    )
    op.create_index(op.f('ix_sla_events_case_id'), 'sla_events', ['case_id'], unique=False)
    _escalations(LEVELS + ('head',))
    # Plain ALTER TABLE, not a batch: on SQLite a batch rebuilds cases and loses its expression index
    # (ix_cases_urgency), which reflection cannot copy.
    op.add_column('cases', sa.Column('next_due_at', UTCDateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_cases_next_due_at'), 'cases', ['next_due_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_cases_next_due_at'), table_name='cases')
    op.execute('ALTER TABLE cases DROP COLUMN next_due_at')  # SQLite 3.35+ too, without rebuilding the table
    _drop_old()
    op.drop_table('sla_policies')
    op.drop_table('sla_calendars')
    _clocks(('started_at', 'due_at', 'paused_at', 'fulfilled_at'), indexed=('due_at',))
    op.create_table(
        'sla_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clock_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum(EVENT_KINDS, 'sla_event_kind', 16), nullable=False),
        sa.Column('at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['clock_id'], ['sla_clocks.id'], name=op.f('fk_sla_events_clock_id_sla_clocks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_events')),
    )
    op.create_index(op.f('ix_sla_events_clock_id'), 'sla_events', ['clock_id'], unique=False)
    _escalations(LEVELS)
