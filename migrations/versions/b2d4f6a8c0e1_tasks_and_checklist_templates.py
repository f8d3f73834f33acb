"""Tasks on a case and the checklist template items per incident type, with the shipped items

Revision ID: b2d4f6a8c0e1
Revises: e7a9c1d3f5b6
Create Date: 2026-12-02 04:30:00

task_template_items holds the checklist of each incident type. The shipped items are seeded here with a `key` and
no `title`: the application shows a key's title in the reader's language (casework.models.tasks.DEFAULT_TASK_TITLES)
until an admin writes a title of their own. tasks holds a case's tasks; a task made from a template item keeps the
item's id, once per case (uq_tasks_template_item).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2d4f6a8c0e1'
down_revision = 'e7a9c1d3f5b6'
branch_labels = None
depends_on = None

INCIDENT_TYPES = ('approval_phishing', 'leaked_secret', 'fake_support', 'investment_scam', 'fake_wallet', 'sim_swap',
                  'account_takeover', 'other')
_TRACE = (('trace_funds', 1), ('identify_exchange', 1), ('send_freeze_requests', 2))
# (incident type, [(key, due days after submission), ...]) in checklist order.
SEED = (
    ('approval_phishing', (('confirm_approval_drain', 0), *_TRACE, ('tell_revoke_approvals', 0))),
    ('leaked_secret', (('tell_move_remaining', 0), ('confirm_drain', 0), *_TRACE)),
    ('fake_wallet', (('tell_move_remaining', 0), ('confirm_drain', 0), *_TRACE)),
    ('fake_support', (('confirm_drain', 0), ('collect_scam_contacts', 1), *_TRACE, ('warn_recovery_scams', 1))),
    ('investment_scam', (('confirm_payments', 1), ('collect_scam_contacts', 1), *_TRACE, ('report_platform', 3),
                         ('warn_recovery_scams', 1))),
    ('sim_swap', (('secure_accounts', 0), ('confirm_drain', 0), *_TRACE)),
    ('account_takeover', (('contact_exchange_security', 0), ('secure_accounts', 0), ('trace_funds', 1),
                          ('send_freeze_requests', 2))),
    ('other', (('review_case', 1), ('trace_funds', 2), ('identify_exchange', 2))),
)


def seed_rows() -> list[dict]:
    """The shipped template items as rows (also used by the tests to restore them on an emptied database)."""
    return [
        {'incident_type': incident_type, 'position': position, 'key': key, 'title': None, 'due_days': due_days,
         'active': True}
        for incident_type, items in SEED
        for position, (key, due_days) in enumerate(items, start=1)
    ]


def upgrade():
    items = op.create_table(
        'task_template_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_type', sa.Enum(*INCIDENT_TYPES, name='incident_type', native_enum=False,
                                           create_constraint=True), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=True),
        sa.Column('due_days', sa.Integer(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.CheckConstraint('due_days IS NULL OR (due_days >= 0 AND due_days <= 365)', name=op.f('ck_task_template_items_due_days_range')),
        sa.CheckConstraint('key IS NOT NULL OR title IS NOT NULL', name=op.f('ck_task_template_items_key_or_title')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_template_items')),
    )
    op.create_index('ix_task_template_items_type', 'task_template_items', ['incident_type', 'active', 'position'],
                    unique=False)
    op.create_table(
        'tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=True),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('template_item_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('(done_at IS NULL) = (done_by_id IS NULL)', name=op.f('ck_tasks_done_by_iff_done')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_tasks_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users')),
        sa.ForeignKeyConstraint(['template_item_id'], ['task_template_items.id'],
                                name=op.f('fk_tasks_template_item_id_task_template_items'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tasks_created_by_id_users')),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_tasks_done_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
        sa.UniqueConstraint('case_id', 'template_item_id', name='uq_tasks_template_item'),
    )
    op.create_index(op.f('ix_tasks_case_id'), 'tasks', ['case_id'], unique=False)
    op.create_index(op.f('ix_tasks_assignee_id'), 'tasks', ['assignee_id'], unique=False)
    op.bulk_insert(items, seed_rows())


def downgrade():
    op.drop_index(op.f('ix_tasks_assignee_id'), table_name='tasks')
    op.drop_index(op.f('ix_tasks_case_id'), table_name='tasks')
    op.drop_table('tasks')
    op.drop_index('ix_task_template_items_type', table_name='task_template_items')
    op.drop_table('task_template_items')
