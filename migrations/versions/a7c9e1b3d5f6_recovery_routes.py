"""Recovery routes: the directory of organisations, recovered amounts, staff alerts, referral routes and drafts

Revision ID: a7c9e1b3d5f6
Revises: c5e7a9b1d3f4
Create Date: 2026-12-02 07:10:00

New tables: organisations (the directory), recoveries (amounts a referral's target froze or returned) and
staff_alerts (the console's notices). referrals gains its directory entry, a courtesy hold's police-report
deadline, the drafted request, where it was sent and whether it carried personal data; its status gains
"returned". users gains on_duty. Three event kinds join the CHECK on case_events.action (attacker_added,
recovery, first_hour); on SQLite that rebuilds case_events, and its append-only triggers are created again.
"""
import sqlalchemy as sa
from alembic import op

from casework.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'a7c9e1b3d5f6'
down_revision = 'c5e7a9b1d3f4'
branch_labels = None
depends_on = None

KINDS = ('submitted', 'status', 'assigned', 'message', 'note', 'evidence', 'discovery', 'theft_confirmed', 'trace',
         'information_added', 'address_added', 'transaction_added', 'file_added', 'report_downloaded',
         'access_link_replaced', 'case_viewed', 'file_viewed', 'priority', 'task', 'merged', 'duplicate_merged',
         'referral')
NEW_KINDS = ('attacker_added', 'recovery', 'first_hour')
EVENT_CHECK = 'ck_case_events_event_kind'
STATUSES = ('proposed', 'drafted', 'sent', 'acknowledged', 'frozen', 'declined', 'closed')
NEW_STATUSES = ('returned',)
STATUS_CHECK = 'ck_referrals_referral_status'
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


def _replace_event_check(kinds) -> None:
    if _sqlite():
        _sqlite_triggers(create=False)
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(EVENT_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(EVENT_CHECK), sa.column('action').in_(kinds))
    if _sqlite():
        _sqlite_triggers(create=True)


def upgrade():
    _replace_event_check(KINDS + NEW_KINDS)
    op.create_table(
        'organisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.Enum('exchange', 'stablecoin_issuer', 'wallet_maker', 'consumer_agency', 'police',
                                  'regulator', 'lawyer', name='organisation_kind', native_enum=False,
                                  create_constraint=True, length=24), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('requester', sa.Enum('victim', 'police', 'court_order', 'nobody', name='requester',
                                       native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('channel_kind', sa.Enum('email', 'web_form', 'portal', 'phone', 'in_person', 'none',
                                          name='channel_kind', native_enum=False, create_constraint=True,
                                          length=16), nullable=False),
        sa.Column('channel', sa.String(length=500), nullable=True),
        sa.Column('requirements', sa.Text(), nullable=True),
        sa.Column('turnaround', sa.String(length=200), nullable=True),
        sa.Column('courtesy_hold_days', sa.Integer(), nullable=True),
        sa.Column('follow_up_days', sa.Integer(), nullable=False),
        sa.Column('can_freeze', sa.Boolean(), nullable=False),
        sa.Column('aliases', sa.JSON(), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_organisations_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
        sa.UniqueConstraint('slug', name=op.f('uq_organisations_slug')),
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_country'), ['country'], unique=False)

    op.create_table(
        'staff_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('message', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('read_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_staff_alerts_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_alerts_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_alerts')),
    )
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_alerts_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_staff_alerts_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_duty', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(STATUS_CHECK), sa.column('status').in_(STATUSES + NEW_STATUSES))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('police_report_due_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('draft_subject', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('draft_body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sent_to', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('personal_data_shared', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_referrals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_police_report_due_at'), ['police_report_due_at'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_organisation_id_organisations'), 'organisations',
                                    ['organisation_id'], ['id'], ondelete='SET NULL')

    op.create_table(
        'recoveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('frozen', 'returned', name='recovery_kind', native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column('chain_id', sa.Integer(), nullable=True),
        sa.Column('token_address', sa.String(length=42), nullable=True),
        sa.Column('symbol', sa.String(length=64), nullable=False),
        sa.Column('decimals', sa.Integer(), nullable=False),
        sa.Column('amount_raw', sa.String(length=78), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_recoveries_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_recoveries_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_recoveries_referral_id_referrals'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recoveries')),
    )
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.create_index('ix_recoveries_case_kind', ['case_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_recoveries_referral_id'), ['referral_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recoveries_referral_id'))
        batch_op.drop_index('ix_recoveries_case_kind')
    op.drop_table('recoveries')
    # A referral that was "returned" stops a downgrade at the CHECK, as it should: nothing of it is lost.
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referrals_police_report_due_at'))
        batch_op.drop_index(batch_op.f('ix_referrals_organisation_id'))
        batch_op.drop_column('personal_data_shared')
        batch_op.drop_column('sent_to')
        batch_op.drop_column('draft_body')
        batch_op.drop_column('draft_subject')
        batch_op.drop_column('police_report_due_at')
        batch_op.drop_column('organisation_id')
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(STATUS_CHECK), sa.column('status').in_(STATUSES))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('on_duty')
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_alerts_user_unread')
        batch_op.drop_index(batch_op.f('ix_staff_alerts_case_id'))
    op.drop_table('staff_alerts')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_country'))
    op.drop_table('organisations')
    _replace_event_check(KINDS)
