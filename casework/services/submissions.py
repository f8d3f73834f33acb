"""Forms that take effect once: a second post of the same showing of a form (a double click, a browser resending a
request, two taps on a phone) changes nothing.

A form that inherits forms.portal.SentOnce carries a random key per showing. The service that acts on it calls
`claim_once` first: the key is written with INSERT ... ON CONFLICT DO NOTHING (services.rows.insert_new), in the
same transaction as what the form does, so of two posts with one key exactly one writes its row and acts (on
PostgreSQL the second waits for the first to commit; SQLite writers take turns); the other raises AlreadyDone,
which views answer as done ("this was already sent") rather than as an error. A post without a key (an API call,
an old page) is not deduplicated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete

from casework.extensions import db
from casework.models import Case, FormSubmission, utcnow
from casework.services.rows import insert_new

KEEP_FOR = timedelta(days=2)
MAX_KEY_LENGTH = 64


class AlreadyDone(Exception):
    """This showing of the form was already sent and took effect; the message says so."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or _("That was already sent: it was not sent a second time.")
        super().__init__(self.message)


def claim_once(case: Case, key: str | None) -> None:
    """Record that the form with this key acts on case now; raise AlreadyDone if it already did."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return
    if insert_new(FormSubmission, key=key, case_id=case.id, created_at=utcnow()) is None:
        raise AlreadyDone()


def purge_old_keys(now: datetime | None = None) -> int:
    """Forget keys older than KEEP_FOR; returns how many (the caller commits)."""
    cutoff = (now or utcnow()) - KEEP_FOR
    return db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < cutoff)).rowcount
