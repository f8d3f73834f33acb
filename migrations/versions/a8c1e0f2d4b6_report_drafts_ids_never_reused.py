"""Wizard files orphaned by the lost-file submit are deleted; SQLite never gives a draft's id again

Until this revision the final submit could leave a draft's files behind on SQLite (the claim's check for files
compared the wrong columns), linked to the deleted draft's id, and SQLite, which reuses the highest free rowid,
could hand that id to the next draft, whose victim then saw the files. Such a file is linked to a draft that no
longer exists, or to a draft created after the file was uploaded (a reused id): its row is deleted here (the
content goes with the scheduler's hourly purge of unused files). report_drafts becomes AUTOINCREMENT on SQLite;
PostgreSQL's sequences never reuse an id.

Revision ID: a8c1e0f2d4b6
Revises: f4b8d2e6a1c7
Create Date: 2026-12-02 01:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a8c1e0f2d4b6'
down_revision = 'f4b8d2e6a1c7'
branch_labels = None
depends_on = None

ORPHANED_FILES = """
DELETE FROM case_files
WHERE case_id IS NULL AND draft_id IS NOT NULL AND (
    NOT EXISTS (SELECT 1 FROM report_drafts WHERE report_drafts.id = case_files.draft_id)
    OR case_files.uploaded_at < (SELECT created_at FROM report_drafts WHERE report_drafts.id = case_files.draft_id)
)
"""


def upgrade():
    op.execute(ORPHANED_FILES)
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('report_drafts', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('report_drafts', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': False}):
            pass
