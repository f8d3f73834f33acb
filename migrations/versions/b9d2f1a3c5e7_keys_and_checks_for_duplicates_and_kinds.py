"""One transfer per movement (native ones included), one referral per target, and a CHECK on every kind column

Revision ID: b9d2f1a3c5e7
Revises: a8c1e0f2d4b6
Create Date: 2026-12-02 01:30:00

Native-coin transfers have no log index, and a unique key never matches NULLs, so the same native movement could
be stored twice: the key becomes a unique index on COALESCE(log_index, -1). Referrals get the key the trace
already treats as theirs (case, kind, chain, target address). Rows that break either key are removed first,
keeping the earliest (for referrals: the earliest one already worked on, else the earliest); flow edges that cite
a removed transfer cite the kept one, and a theft pattern found on a removed copy moves to the kept one.

The kind columns get the CHECK their enums have in the models (casework/models/enums.py). The lists are written
out here as they are today: a migration that adds a kind drops the constraint and creates it with the new list.

SQLite cannot reflect an expression index: a later batch_alter_table on `transfers` (which rebuilds the table)
must create uq_transfers_movement again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9d2f1a3c5e7'
down_revision = 'a8c1e0f2d4b6'
branch_labels = None
depends_on = None

CHECKS = {
    # table: (column, constraint name, values)
    'sla_clocks': ('metric', 'ck_sla_clocks_sla_metric',
                   ('first_response', 'triage', 'evidence_captured', 'freeze_sent', 'victim_update', 'resolution')),
    'sla_events': ('kind', 'ck_sla_events_sla_event_kind',
                   ('started', 'paused', 'resumed', 'fulfilled', 'policy_applied', 'warned', 'breached')),
    'escalations': ('level', 'ck_escalations_escalation_level', ('warning', 'breach')),
    'evidence_jobs': ('kind', 'ck_evidence_jobs_job_kind', ('capture', 'discover', 'trace')),
    'transfers': ('pattern', 'ck_transfers_theft_pattern', ('approval_drain', 'direct_drain', 'scam_payment')),
    'evidence_records': ('kind', 'ck_evidence_records_record_kind',
                         ('transaction', 'receipt', 'block', 'token_call', 'chain_id', 'head', 'logs')),
    'case_events': ('action', 'ck_case_events_event_kind',
                    ('submitted', 'status', 'assigned', 'message', 'note', 'evidence', 'discovery',
                     'theft_confirmed', 'trace', 'information_added', 'address_added', 'transaction_added',
                     'file_added', 'report_downloaded', 'access_link_replaced')),
}

# Another row `o` for the same movement as the row of `transfers` named `t`.
SAME_MOVEMENT = """o.case_id = t.case_id AND o.chain_id = t.chain_id AND o.tx_hash = t.tx_hash
    AND COALESCE(o.log_index, -1) = COALESCE(t.log_index, -1) AND o.kind = t.kind"""

# Whether a referral has been worked on (0) or is only proposed (1): the rank that decides which copy stays.
REFERRAL_RANK = "CASE WHEN {row}.status = 'proposed' THEN 1 ELSE 0 END"


def _remove_duplicate_transfers():
    op.execute(f"""
        UPDATE transfers SET
            pattern = (SELECT o.pattern FROM transfers o, transfers t
                       WHERE t.id = transfers.id AND {SAME_MOVEMENT} AND o.pattern IS NOT NULL
                       ORDER BY o.id LIMIT 1),
            approval_tx_hash = (SELECT o.approval_tx_hash FROM transfers o, transfers t
                                WHERE t.id = transfers.id AND {SAME_MOVEMENT} AND o.pattern IS NOT NULL
                                ORDER BY o.id LIMIT 1)
        WHERE pattern IS NULL AND EXISTS (SELECT 1 FROM transfers o, transfers t
                                          WHERE t.id = transfers.id AND {SAME_MOVEMENT} AND o.pattern IS NOT NULL)
    """)
    op.execute(f"""
        UPDATE flow_edges SET transfer_id = (SELECT MIN(o.id) FROM transfers o, transfers t
                                             WHERE t.id = flow_edges.transfer_id AND {SAME_MOVEMENT})
        WHERE transfer_id IS NOT NULL
    """)
    op.execute(f"""
        DELETE FROM transfers WHERE EXISTS (SELECT 1 FROM transfers o, transfers t
                                            WHERE t.id = transfers.id AND {SAME_MOVEMENT} AND o.id < t.id)
    """)


def _remove_duplicate_referrals():
    mine, other = REFERRAL_RANK.format(row='referrals'), REFERRAL_RANK.format(row='o')
    op.execute(f"""
        DELETE FROM referrals WHERE EXISTS (
            SELECT 1 FROM referrals o
            WHERE o.case_id = referrals.case_id AND o.kind = referrals.kind AND o.chain_id = referrals.chain_id
              AND o.target_address = referrals.target_address
              AND ({other} < {mine} OR ({other} = {mine} AND o.id < referrals.id)))
    """)


def upgrade():
    _remove_duplicate_transfers()
    _remove_duplicate_referrals()
    for table, (column, name, values) in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'transfers':
                batch_op.drop_constraint('uq_transfers_movement', type_='unique')
            batch_op.create_check_constraint(op.f(name), sa.column(column).in_(values))
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_referrals_target', ['case_id', 'kind', 'chain_id', 'target_address'])
    op.create_index('uq_transfers_movement', 'transfers',
                    ['case_id', 'chain_id', 'tx_hash', sa.text('COALESCE(log_index, -1)'), 'kind'], unique=True)


def downgrade():
    op.drop_index('uq_transfers_movement', table_name='transfers')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint('uq_referrals_target', type_='unique')
    for table, (_column, name, _values) in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(name), type_='check')
            if table == 'transfers':
                batch_op.create_unique_constraint('uq_transfers_movement',
                                                  ['case_id', 'chain_id', 'tx_hash', 'log_index', 'kind'])
