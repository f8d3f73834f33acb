"""The normalised scammer contacts of each case, for finding linked cases

Revision ID: e7a9c1d3f5b6
Revises: a1c3e5f7b9d0
Create Date: 2026-12-02 04:30:00

case_contacts(case_id, kind, value) holds each case's scammer websites, phones, e-mails and social handles in the
form forms.contacts.normalise_contact gives them, indexed on (kind, value): the linked-cases lookup reads it by
index alone. Filled here from report_extras for the cases filed before; filing writes it from now on.
"""
import sqlalchemy as sa
from alembic import op

from forms.contacts import contact_rows

# revision identifiers, used by Alembic.
revision = 'e7a9c1d3f5b6'
down_revision = 'a1c3e5f7b9d0'
branch_labels = None
depends_on = None

BATCH = 1_000


def upgrade():
    contacts = op.create_table(
        'case_contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('value', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_contacts_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_contacts')),
        sa.UniqueConstraint('case_id', 'kind', 'value', name='uq_case_contacts_value'),
    )
    op.create_index('ix_case_contacts_kind_value', 'case_contacts', ['kind', 'value'], unique=False)
    extras = sa.table('report_extras', sa.column('case_id', sa.Integer()), sa.column('scammer_contacts', sa.JSON()))
    connection = op.get_bind()
    rows = []
    for case_id, scammer_contacts in connection.execute(sa.select(extras.c.case_id, extras.c.scammer_contacts)).all():
        rows.extend({'case_id': case_id, **row} for row in contact_rows(scammer_contacts or {}))
        if len(rows) >= BATCH:
            op.bulk_insert(contacts, rows)
            rows = []
    if rows:
        op.bulk_insert(contacts, rows)


def downgrade():
    op.drop_index('ix_case_contacts_kind_value', table_name='case_contacts')
    op.drop_table('case_contacts')
