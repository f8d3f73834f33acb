"""The audit log refuses UPDATE and DELETE in the database too, and records staff views of a case and its files

Revision ID: b3d5f7a9c1e2
Revises: f3b5d7e9a1c2
Create Date: 2026-12-02 02:40:00

Two new event kinds (case_viewed, file_viewed) join the CHECK on case_events.action. Then a trigger refuses every
UPDATE and DELETE of a case_events row: on PostgreSQL one row trigger calling a function, on SQLite one trigger
per statement kind. TRUNCATE (which the test suite uses to empty PostgreSQL) fires neither.

SQLite drops a table's triggers with the table: the batch_alter_table below (which rebuilds case_events) runs
before the triggers are created, and any later migration that rebuilds case_events on SQLite must create them
again (tests/casework/test_audit_log.py fails until it does).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = 'f3b5d7e9a1c2'
branch_labels = None
depends_on = None

KINDS = ('submitted', 'status', 'assigned', 'message', 'note', 'evidence', 'discovery', 'theft_confirmed', 'trace',
         'information_added', 'address_added', 'transaction_added', 'file_added', 'report_downloaded',
         'access_link_replaced')
NEW_KINDS = ('case_viewed', 'file_viewed')
CHECK = 'ck_case_events_event_kind'
REFUSAL = 'case_events rows are append-only: an audit entry is never changed or deleted'


def _replace_check(kinds):
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.create_check_constraint(op.f(CHECK), sa.column('action').in_(kinds))


def upgrade():
    _replace_check(KINDS + NEW_KINDS)
    if op.get_context().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'restrict_violation';
            END $$
        """)
        op.execute("""
            CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
            FOR EACH ROW EXECUTE FUNCTION case_events_append_only()
        """)
    else:
        for statement in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER case_events_no_{statement.lower()} BEFORE {statement} ON case_events
                BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END
            """)


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER case_events_append_only ON case_events")
        op.execute("DROP FUNCTION case_events_append_only()")
    else:
        op.execute("DROP TRIGGER case_events_no_update")
        op.execute("DROP TRIGGER case_events_no_delete")
    op.execute("DELETE FROM case_events WHERE action IN ('case_viewed', 'file_viewed')")
    _replace_check(KINDS)
