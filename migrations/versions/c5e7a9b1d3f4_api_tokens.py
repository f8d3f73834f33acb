"""API tokens: a staff member's bearer tokens for /api/v1, stored hashed

Revision ID: c5e7a9b1d3f4
Revises: b2d4f6a8c0e1
Create Date: 2026-12-02 04:10:00

A new table only (nothing existing is rebuilt). The token itself is never stored: token_hash is its SHA-256,
prefix its first characters for listings.
"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c5e7a9b1d3f4'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
