"""Address labels, trace runs, flow-edge detail, freeze-request targets, 64-bit fiat values

Revision ID: b7c41e2f9a10
Revises: da8ab5c137cb
Create Date: 2026-11-23 16:20:00

"""
from alembic import op
import sqlalchemy as sa

import casework.models.types


# revision identifiers, used by Alembic.
revision = 'b7c41e2f9a10'
down_revision = 'da8ab5c137cb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('address_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('confidence_pct', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', casework.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(address) = 42 AND address = lower(address)', name=op.f('ck_address_labels_address_lowercase')),
    sa.CheckConstraint('confidence_pct >= 0 AND confidence_pct <= 100', name=op.f('ck_address_labels_confidence_range')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_address_labels_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_labels')),
    sa.UniqueConstraint('chain_id', 'address', 'source', name='uq_address_labels_source')
    )
    with op.batch_alter_table('address_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_labels_address'), ['address'], unique=False)

    op.create_table('trace_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.Integer(), nullable=False),
    sa.Column('graph', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', casework.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_trace_runs_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_trace_runs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_runs'))
    )
    with op.batch_alter_table('trace_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_runs_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('flow_edges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trace_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('evidence_record_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('symbol', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decimals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('log_index', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('block_number', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_flow_edges_trace_run_id'), ['trace_run_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_flow_edges_trace_run_id_trace_runs'), 'trace_runs', ['trace_run_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_flow_edges_evidence_record_id_evidence_records'), 'evidence_records', ['evidence_record_id'], ['id'])

    with op.batch_alter_table('reported_losses', schema=None) as batch_op:
        batch_op.alter_column('fiat_value_cents', existing_type=sa.Integer(), type_=sa.BigInteger(),
                              existing_nullable=True)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_address', sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column('symbol', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decimals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('amount_raw', casework.models.types.UInt256(length=78), nullable=True))
        batch_op.add_column(sa.Column('tx_hashes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('reported_losses', schema=None) as batch_op:
        batch_op.alter_column('fiat_value_cents', existing_type=sa.BigInteger(), type_=sa.Integer(),
                              existing_nullable=True)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        for column in ('reason', 'tx_hashes', 'amount_raw', 'decimals', 'symbol', 'token_address'):
            batch_op.drop_column(column)

    with op.batch_alter_table('flow_edges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_flow_edges_evidence_record_id_evidence_records'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_flow_edges_trace_run_id_trace_runs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_flow_edges_trace_run_id'))
        for column in ('block_number', 'log_index', 'decimals', 'symbol', 'evidence_record_id', 'trace_run_id'):
            batch_op.drop_column(column)

    with op.batch_alter_table('trace_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_runs_case_id'))
    op.drop_table('trace_runs')

    with op.batch_alter_table('address_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_labels_address'))
    op.drop_table('address_labels')
