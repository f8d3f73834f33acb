"""Linked cases: flow_edges indexed on chain and recipient, to find the other cases whose trace reached an address

Revision ID: b1d3f5a7c9e0
Revises: a7c9e1b3d5f6
Create Date: 2026-12-02 07:05:00

An index only (nothing is rebuilt).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b1d3f5a7c9e0'
down_revision = 'a7c9e1b3d5f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('flow_edges', schema=None) as batch_op:
        batch_op.create_index('ix_flow_edges_chain_to', ['chain_id', 'to_address'], unique=False)


def downgrade():
    with op.batch_alter_table('flow_edges', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_edges_chain_to')
