"""The handler console's event kinds, a supervisor's priority override and the pointer of a merged duplicate

Revision ID: d4e6f8a0b2c4
Revises: b3d5f7a9c1e2
Create Date: 2026-12-02 04:00:00

Five event kinds join the CHECK on case_events.action (priority, task, merged, duplicate_merged, referral). On
SQLite replacing the CHECK rebuilds case_events, which drops its append-only triggers: they are created again
here, exactly as b3d5f7a9c1e2 made them.

cases gains priority_overridden (a supervisor set the priority; recomputing from the facts keeps it) and
merged_into_id (a duplicate points at the case it was merged into; nothing of it is deleted).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e6f8a0b2c4'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None

KINDS = ('submitted', 'status', 'assigned', 'message', 'note', 'evidence', 'discovery', 'theft_confirmed', 'trace',
         'information_added', 'address_added', 'transaction_added', 'file_added', 'report_downloaded',
         'access_link_replaced', 'case_viewed', 'file_viewed')
NEW_KINDS = ('priority', 'task', 'merged', 'duplicate_merged', 'referral')
CHECK = 'ck_case_events_event_kind'
REFUSAL = 'case_events rows are append-only: an audit entry is never changed or deleted'


def _sqlite() -> bool:
    return op.get_context().dialect.name == 'sqlite'


def _sqlite_triggers(create: bool) -> None:
    for statement in ('UPDATE', 'DELETE'):
        if create:
            op.execute(f"""
                CREATE TRIGGER case_events_no_{statement.lower()} BEFORE {statement} ON case_events
                BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END
            """)
        else:
            op.execute(f"DROP TRIGGER IF EXISTS case_events_no_{statement.lower()}")


def _replace_check(kinds) -> None:
    if _sqlite():
        _sqlite_triggers(create=False)
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.create_check_constraint(op.f(CHECK), sa.column('action').in_(kinds))
    if _sqlite():
        _sqlite_triggers(create=True)


def upgrade():
    _replace_check(KINDS + NEW_KINDS)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority_overridden', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_merged_into_id_cases'), 'cases', ['merged_into_id'], ['id'],
                                    ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_merged_into_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('priority_overridden')
    # The audit log refuses deletes: rows of the new kinds stop a downgrade, as they should (nothing of it is lost).
    _replace_check(KINDS)
