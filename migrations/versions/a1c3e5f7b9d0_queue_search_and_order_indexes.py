"""The queue: one search document per case (case_search) and indexes for the queue's orders

Revision ID: a1c3e5f7b9d0
Revises: f1a3b5c7d9e2
Create Date: 2026-12-02 04:30:00

case_search holds each case's search document (see casework/services/search_index.py). On SQLite it is an FTS5
table with the trigram tokenizer, keyed by rowid = the case's id. On PostgreSQL a table with a generated 'simple'
tsvector, a pg_trgm GIN index on the text and a GIN index on the tsvector. Every existing case is indexed here.

cases gains the indexes the queue's orders read in order, so a page costs what the page holds: urgency (priority
rank, then oldest submission, then id; an expression index), submission time and last update, and a
pattern index on the reference (a plain one on SQLite) for a search by a reference's beginning.

Note for later migrations: SQLite cannot reflect expression indexes, so a batch rebuild of cases drops
ix_cases_urgency; create it again there (as b9d2f1a3c5e7 does for uq_transfers_movement).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d0'
down_revision = 'f1a3b5c7d9e2'
branch_labels = None
depends_on = None

URGENCY = ("CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 END")
BATCH = 1000


def _sqlite() -> bool:
    return op.get_context().dialect.name == 'sqlite'


def upgrade():
    if _sqlite():
        op.execute("CREATE VIRTUAL TABLE case_search USING fts5(document, tokenize = 'trigram')")
    else:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute("""
            CREATE TABLE case_search (
                case_id INTEGER NOT NULL,
                document TEXT NOT NULL DEFAULT '',
                document_tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, document)) STORED,
                CONSTRAINT pk_case_search PRIMARY KEY (case_id),
                CONSTRAINT fk_case_search_case_id_cases FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE
            )
        """)
        op.execute('CREATE INDEX ix_case_search_trigram ON case_search USING gin (document gin_trgm_ops)')
        op.execute('CREATE INDEX ix_case_search_words ON case_search USING gin (document_tsv)')
    op.create_index('ix_cases_urgency', 'cases', [sa.text(f'({URGENCY})'), 'submitted_at', 'id'], unique=False)
    op.create_index('ix_cases_submitted', 'cases', ['submitted_at', 'id'], unique=False)
    op.create_index('ix_cases_updated', 'cases', ['updated_at', 'id'], unique=False)
    op.create_index('ix_cases_reference_pattern', 'cases', ['reference'], unique=False,
                    postgresql_ops={'reference': 'varchar_pattern_ops'})
    _index_existing_cases()


def _index_existing_cases():
    from casework.services import search_index

    connection = op.get_bind()
    last = 0
    while True:
        ids = connection.execute(sa.text('SELECT id FROM cases WHERE id > :last ORDER BY id LIMIT :batch'),
                                 {'last': last, 'batch': BATCH}).scalars().all()
        if not ids:
            return
        for case_id in ids:
            search_index.write(connection, case_id, search_index.document_from_rows(connection, case_id))
        last = ids[-1]


def downgrade():
    op.drop_index('ix_cases_reference_pattern', table_name='cases')
    op.drop_index('ix_cases_updated', table_name='cases')
    op.drop_index('ix_cases_submitted', table_name='cases')
    op.drop_index('ix_cases_urgency', table_name='cases')
    op.execute('DROP TABLE case_search')
