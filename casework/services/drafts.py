"""The report wizard's drafts: the victim's answers kept on the server between steps (start, find, save a step,
e-mail the resume link, discard, expire), and the claim the final submit makes on a draft."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, select

from casework.extensions import db
from casework.models import CaseFile, ReportDraft, utcnow
from casework.services.links import public_url
from casework.services.mail import queue_email
from casework.services.tokens import hash_token, new_access_token
from forms.report import STEP_NAMES
from forms.secrets import redact_secrets

DRAFT_LIFETIME = timedelta(days=30)


def new_draft(locale: str, *, now: datetime | None = None) -> tuple[ReportDraft, str]:
    """Start a draft; returns it (added to the session) and the secret token of its resume link (shown, not kept)."""
    now = now or utcnow()
    token, token_hash = new_access_token()
    draft = ReportDraft(
        resume_token_hash=token_hash, answers={}, completed_steps=[], step=1, locale=locale,
        created_at=now, updated_at=now, expires_at=now + DRAFT_LIFETIME,
    )
    db.session.add(draft)
    db.session.flush()
    return draft, token


def find_draft(token: str | None, *, now: datetime | None = None) -> ReportDraft | None:
    """The unexpired draft whose resume token this is, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(ReportDraft).where(
            ReportDraft.resume_token_hash == hash_token(token), ReportDraft.expires_at > (now or utcnow())
        )
    )


def _scrubbed(values: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Answers with any secret taken out: a draft never holds a recovery phrase or key, whatever the form did."""
    return {
        # NUL characters cannot be stored in PostgreSQL text and never belong in an answer.
        str(name)[:200].replace("\x00", ""): [
            redact_secrets(value.replace("\x00", "")) for value in items if isinstance(value, str)
        ]
        for name, items in values.items()
    }


def save_step(
    draft: ReportDraft, step: str, values: Mapping[str, list[str]], *, complete: bool, now: datetime | None = None
) -> None:
    """Keep a step's answers (secrets removed) and whether they passed validation; the draft lives 30 more days."""
    now = now or utcnow()
    draft.answers = {**draft.answers, step: _scrubbed(values)}
    done = [name for name in draft.completed_steps if name != step]
    draft.completed_steps = [*done, step] if complete else done
    draft.step = STEP_NAMES.index(step) + 1
    draft.updated_at = now
    draft.expires_at = now + DRAFT_LIFETIME


def first_incomplete_step(draft: ReportDraft) -> str | None:
    """The first step not yet answered validly, or None when all are."""
    return next((step for step in STEP_NAMES if step not in draft.completed_steps), None)


def resume_path(token: str) -> str:
    """The path of a draft's private resume link."""
    return current_app.url_map.bind("localhost").build("report.resume", {"token": token})


def email_resume_link_once(draft: ReportDraft, email: str, token: str) -> bool:
    """Queue the resume link to `email` unless this draft's link was already e-mailed; True if queued now."""
    if draft.resume_link_emailed:
        return False
    with force_locale(draft.locale):
        body = _(
            "You started a report of stolen funds. To continue where you left off, open this private link:\n\n"
            "%(link)s\n\n"
            "Keep it to yourself: anyone with the link can read and change your report. It works for 30 days after "
            "your last change.\n\nWe will never ask for your recovery phrase, your private key or any fee.",
            link=public_url(resume_path(token)),
        )
        queue_email(email, _("Your report: link to continue"), body)
    draft.resume_link_emailed = True
    return True


def discard_draft(draft: ReportDraft) -> None:
    """Delete a draft and detach its files (their content stays while other uploads use it)."""
    db.session.execute(delete(CaseFile).where(CaseFile.draft_id == draft.id, CaseFile.case_id.is_(None)))
    db.session.execute(delete(ReportDraft).where(ReportDraft.id == draft.id))


def expire_drafts(now: datetime | None = None) -> int:
    """Delete drafts left alone for 30 days, with their files' links; returns how many (the caller commits)."""
    expired = select(ReportDraft.id).where(ReportDraft.expires_at <= (now or utcnow()))
    db.session.execute(delete(CaseFile).where(CaseFile.draft_id.in_(expired), CaseFile.case_id.is_(None)))
    return db.session.execute(delete(ReportDraft).where(ReportDraft.id.in_(expired))).rowcount

@dataclass(frozen=True)
class ClaimedDraft:
    """What the final submit needs of a draft it has claimed (`claim_draft`)."""

    id: int
    answers: dict[str, Any]
    locale: str
    reviewed_digest: str | None
    reviewed_report: dict[str, Any] | None


def claim_draft(token: str | None, *, now: datetime | None = None) -> ClaimedDraft | None:
    """Delete the unexpired draft whose resume token this is, returning what the submit needs of it; or None.

    Deleting is the claim, in the caller's transaction: a second submit of the same draft (a double click)
    waits for this transaction, then finds the draft gone. The caller files the case in the same transaction,
    or rolls back, which gives the draft back as it was.
    """
    if not token or len(token) > 200:
        return None
    row = db.session.connection().execute(
        _CLAIM_DRAFT, {"token_hash": hash_token(token), "now": now or utcnow()}
    ).one_or_none()
    return ClaimedDraft(**row._mapping) if row is not None else None


_drafts = ReportDraft.__table__
_CLAIM_DRAFT = (
    delete(_drafts)
    .where(_drafts.c.resume_token_hash == bindparam("token_hash"), _drafts.c.expires_at > bindparam("now"))
    .returning(
        _drafts.c.id, _drafts.c.answers, _drafts.c.locale, _drafts.c.reviewed_digest, _drafts.c.reviewed_report,
    )
)
