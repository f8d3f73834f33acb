"""SLA clocks indexed by start and by first breach

Revision ID: a1b3c5d7e9f1
Revises: d3f5a7b9c1e3
Create Date: 2026-12-07 21:40:00

The supervisors' SLA page reads the clocks started in a period (compliance per metric and priority) and the
breaches recorded in a period (the breach list, breaches per week): both are ranges on sla_clocks.started_at and
sla_clocks.breached_at, which get an index each so that a period reads its own clocks, not the whole table.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1b3c5d7e9f1'
down_revision = 'd3f5a7b9c1e3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_sla_clocks_started_at'), 'sla_clocks', ['started_at'], unique=False)
    op.create_index(op.f('ix_sla_clocks_breached_at'), 'sla_clocks', ['breached_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sla_clocks_breached_at'), table_name='sla_clocks')
    op.drop_index(op.f('ix_sla_clocks_started_at'), table_name='sla_clocks')
