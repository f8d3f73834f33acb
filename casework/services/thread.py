"""The staff side of the victim thread: replies the victim sees, and internal notes the victim never sees.

Replying and noting need Permission.WORK_CASES; reading the thread needs VIEW_CASES (so legal can read). A reply
queues an e-mail notice to the victim, in their language, that holds neither the message nor the access token: the
victim reads the message in the portal. Text is checked as the portal checks it (portal.checked_text): a refused
reply or note raises portal.PortalError with a message for the staff member.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from casework.extensions import db
from casework.models import Case, CaseEvent, EventKind, Message, MessageAuthor, Note, User
from casework.services import links, mail, portal, sla_clocks
from casework.services.access import Permission, require
from casework.services.submissions import claim_once
from forms.portal import INFORMATION_MAX_CHARS, MESSAGE_MAX_CHARS


def reply_to_victim(user: User, case: Case, body: str, *, once: str | None = None) -> Message:
    """A staff message the victim sees in their portal; the victim is told by e-mail if they gave an address.
    `once`: the form's key (submissions.claim_once: a second post of it raises AlreadyDone)."""
    require(user, Permission.WORK_CASES)
    body = portal.checked_text(body, MESSAGE_MAX_CHARS, required=True)
    claim_once(case, once)
    message = Message(case=case, author_kind=MessageAuthor.STAFF, author=user, body=body)
    db.session.add(message)
    CaseEvent.record(case, user, EventKind.MESSAGE, author=MessageAuthor.STAFF)
    sla_clocks.on_staff_message(case)
    _notify_victim(case)
    return message


def add_note(user: User, case: Case, body: str, *, once: str | None = None) -> Note:
    """An internal note: staff only, never shown to the victim (`once` as for reply_to_victim)."""
    require(user, Permission.WORK_CASES)
    body = portal.checked_text(body, INFORMATION_MAX_CHARS, required=True)
    claim_once(case, once)
    note = Note(case=case, author=user, body=body)
    db.session.add(note)
    CaseEvent.record(case, user, EventKind.NOTE)
    return note


def _notify_victim(case: Case) -> None:
    reporter = case.reporter
    if reporter is None or not reporter.email:
        return
    portal_url = links.public_url(portal.PORTAL_PATH)
    with force_locale(reporter.preferred_language or "en"):
        subject = _("New message about your case %(reference)s", reference=case.reference)
        body = _(
            "Your case handler has written to you about case %(reference)s.\n\n"
            "To read the message, open the private link you received when you filed your report, or go to "
            "%(url)s and enter your case reference and access code.\n\n"
            "For your safety this e-mail does not contain the message itself. Casework will never ask for your "
            "recovery phrase, your private key or any fee.",
            reference=case.reference,
            url=portal_url,
        )
    mail.queue_email(reporter.email, subject, body, case_id=case.id)
