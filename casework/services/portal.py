"""The victim's portal: opening a case with its reference and secret token, and what the victim adds to it later.

Access: the reference names a case, the token opens it. A wrong token and an unknown reference take the same path
(one query, one hash comparison) and the caller answers both the same way. After a successful opening the reference
is kept in the (signed) session with a fingerprint of the case's current token hash, so the victim can move around
the portal without the token in any URL, and a session opened with a link that has since been replaced no longer
opens the case.

A victim who lost their link asks for a new one (`request_new_link`): it goes to the e-mail address the case holds,
and replaces the old one, which stops working at once.

Additions (messages, more information, addresses, transaction hashes, files) each go through one function here,
which runs the secret guard and the shared validators again (whatever the caller checked) and writes a CaseEvent
with actor_label "victim"; a case that was waiting for the victim goes back to its handler (workflow.victim_answered),
new facts (an address, a transaction, more information) recompute the priority (priority.recompute_priority), and on a
merged duplicate the handler of the case it was merged into is e-mailed (merge.tell_target_handler).
The caller commits. An address or hash the case already holds is refused on the table's
unique key in the same statement that adds it, so two identical adds at once store it once and the second is
answered "already on your case".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import TYPE_CHECKING

from flask import session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseEvent,
    CaseFile,
    EventKind,
    Message,
    MessageAuthor,
    ReportedTransaction,
)
from casework.services import chains, links, merge, priority, search_index, uploads, workflow
from casework.services.confirmation import tracking_path
from casework.services.mail import queue_email
from casework.services.rows import insert_new
from casework.services.submissions import claim_once
from casework.services.tokens import hash_token, new_access_token, token_matches
from forms.portal import INFORMATION_MAX_CHARS, LABEL_MAX_CHARS, MESSAGE_MAX_CHARS, TX_NOTE_MAX_CHARS
from forms.secrets import find_secret, secret_warning
from forms.validators import InvalidInput, check_text_length, normalize_evm_address, normalize_tx_hash

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

VICTIM = "victim"
PORTAL_PATH = "/track"  # where the portal is served; e-mails link here (never with the token)
SESSION_KEY = "track_cases"
MAX_REMEMBERED_CASES = 5
MAX_REFERENCE_LENGTH = 64
# Compared against when the reference is unknown, so that path costs what a wrong token costs.
_DUMMY_HASH = hash_token(secrets.token_urlsafe(24))
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_LINK = re.compile(r"/track/([^/?#\s]+)/([^/?#\s]+)")
# Control characters other than tab, line feed and carriage return: never meant, and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PortalError(ValueError):
    """Something the victim sent cannot be accepted; `message` is translated and safe to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_reference(text: str) -> str:
    """A typed case reference in the stored form: full-width folded, invisible characters dropped, upper case."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFKC", text).translate(_INVISIBLE)).strip().upper()
    return cleaned[:MAX_REFERENCE_LENGTH]


def parse_access(reference: str, code: str) -> tuple[str, str]:
    """The reference and token from the tracking form; the code may be the whole private link pasted in."""
    code = code.strip()
    match = _LINK.search(code)
    if match:
        return normalize_reference(reference or match.group(1)), match.group(2)
    return normalize_reference(reference), code


def open_case(reference: str, token: str) -> Case | None:
    """The case this reference and token open, or None; an unknown reference and a wrong token cost the same."""
    case = db.session.scalar(select(Case).where(Case.reference == normalize_reference(reference)))
    matches = token_matches(token, case.access_token_hash if case is not None else _DUMMY_HASH)
    return case if case is not None and matches else None


def _access_fingerprint(case: Case) -> str:
    """Names the case's current token without revealing its hash; changes when the link is replaced."""
    return hashlib.sha256(b"session:" + case.access_token_hash.encode()).hexdigest()[:16]


def _remembered() -> list[tuple[str, str]]:
    """The (reference, fingerprint) pairs of the session; anything else there (an older format) is ignored."""
    entries = session.get(SESSION_KEY, [])
    return [(entry[0], entry[1]) for entry in entries if isinstance(entry, list | tuple) and len(entry) == 2]


def remember_access(case: Case) -> None:
    """Keep the case's reference (never the token) in the session, the most recent first."""
    remembered = [[ref, mark] for ref, mark in _remembered() if ref != case.reference]
    session[SESSION_KEY] = [[case.reference, _access_fingerprint(case)], *remembered][:MAX_REMEMBERED_CASES]


def forget_access(reference: str) -> None:
    """Stop this browser session from opening the case without the private link."""
    wanted = normalize_reference(reference)
    session[SESSION_KEY] = [[ref, mark] for ref, mark in _remembered() if ref != wanted]


def remembered_references() -> list[str]:
    """The references this session has opened and still opens (not those whose link was replaced since)."""
    return [ref for ref, _mark in _remembered() if case_in_session(ref) is not None]


def case_in_session(reference: str) -> Case | None:
    """The case if this session opened it with its current token, else None."""
    wanted = normalize_reference(reference)
    marks = [mark for ref, mark in _remembered() if ref == wanted]
    if not marks:
        return None
    case = db.session.scalar(select(Case).where(Case.reference == wanted))
    if case is None or not hmac.compare_digest(marks[0], _access_fingerprint(case)):
        return None
    return case


def _same_email(given: str, on_file: str | None) -> bool:
    return bool(on_file) and hmac.compare_digest(given.strip().casefold().encode(), on_file.strip().casefold().encode())


def request_new_link(reference: str, email: str) -> bool:
    """Replace the case's private link and e-mail the new one, if `email` is the address the case holds.

    True when a link was queued. The caller answers the same way either way (and commits): whether a reference
    exists, or which address it holds, is never told. The old link, and sessions opened with it, stop working.
    """
    case = db.session.scalar(select(Case).where(Case.reference == normalize_reference(reference)))
    reporter = case.reporter if case is not None else None
    if reporter is None or not _same_email(email, reporter.email):
        return False
    token, token_hash = new_access_token()
    # Compare-and-set: of two requests at once, one replaces the link and sends it; the other sends nothing.
    replaced = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.access_token_hash == case.access_token_hash)
        .values(access_token_hash=token_hash)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if replaced != 1:
        return False
    CaseEvent.record(case, None, EventKind.ACCESS_LINK_REPLACED, actor_label=VICTIM)
    with force_locale(reporter.preferred_language or "en"):
        subject = _("Your new private link for case %(reference)s", reference=case.reference)
        body = _(
            "You asked for a new private link to follow case %(reference)s. Here it is:\n\n%(link)s\n\n"
            "The link you had before no longer works. Keep this one to yourself: anyone who has it can read your "
            "case.\n\nIf you did not ask for a new link, your case is safe: only this address received it. Casework "
            "will never ask for your recovery phrase, your private key or any fee.",
            reference=case.reference,
            link=links.public_url(tracking_path(case.reference, token)),
        )
    queue_email(reporter.email, subject, body, case_id=case.id)
    return True


def checked_text(text: str, max_chars: int, *, required: bool) -> str:
    """Free text as it may be stored: control characters (NUL included) dropped, CRLF as LF, trimmed; refused
    with PortalError when it holds a secret, is too long, or is empty when required."""
    text = _CONTROL.sub("", text)
    finding = find_secret(text)
    if finding is not None:
        raise PortalError(secret_warning(finding.kind))
    try:
        text = check_text_length(text, max_chars=max_chars).strip()
    except InvalidInput as error:
        raise PortalError(error.message) from None
    if required and not text:
        raise PortalError(_("Write something first."))
    return text


def _configured_chain(chain_id: int) -> int:
    if chain_id not in chains.registry():
        raise PortalError(_("Choose a chain from the list."))
    return chain_id


def _victim_added(case: Case, *, facts_changed: bool = False) -> None:
    """What follows every addition by the victim: a case waiting for them goes back to its handler, new facts
    recompute the priority, and the handler of the case a merged duplicate was merged into is told."""
    workflow.victim_answered(case)
    if facts_changed:
        priority.recompute_priority(case)
    merge.tell_target_handler(case)


def send_victim_message(case: Case, body: str, *, once: str | None = None) -> Message:
    """A message from the victim to their handler (`once`: the form's key, see submissions.claim_once)."""
    body = checked_text(body, MESSAGE_MAX_CHARS, required=True)
    claim_once(case, once)
    message = Message(case=case, author_kind=MessageAuthor.VICTIM, body=body)
    db.session.add(message)
    CaseEvent.record(case, None, EventKind.MESSAGE, actor_label=VICTIM, author=VICTIM)
    _victim_added(case)
    return message


def add_information(case: Case, text: str, *, once: str | None = None) -> CaseEvent:
    """More about what happened, kept as an append-only event (the original statement stays as it was filed)."""
    text = checked_text(text, INFORMATION_MAX_CHARS, required=True)
    claim_once(case, once)
    event = CaseEvent.record(case, None, EventKind.INFORMATION_ADDED, summary=text, actor_label=VICTIM)
    _victim_added(case, facts_changed=True)
    return event


def add_address(case: Case, chain_id: int, address: str, role: AddressRole | str, label: str = "") -> CaseAddress:
    """An address with its role; one the case already holds in that role (added before, or at the same moment) is
    refused with a message."""
    checked_text(address, 200, required=True)
    try:
        address = normalize_evm_address(address)
    except InvalidInput as error:
        raise PortalError(error.message) from None
    chain_id = _configured_chain(chain_id)
    try:
        role = AddressRole(role)
    except ValueError:
        raise PortalError(_("Choose whose address this is from the list.")) from None
    label = checked_text(label or "", LABEL_MAX_CHARS, required=False)
    entry_id = insert_new(CaseAddress, case_id=case.id, chain_id=chain_id, address=address, role=role,
                          label=label or None)
    if entry_id is None:
        raise PortalError(_("This address is already on your case with that role."))
    CaseEvent.record(case, None, EventKind.ADDRESS_ADDED, actor_label=VICTIM, chain_id=chain_id, address=address,
                     role=role)
    search_index.refresh(case.id)
    _victim_added(case, facts_changed=True)
    db.session.expire(case, ["addresses"])
    return db.session.get(CaseAddress, entry_id)


def add_transaction(case: Case, chain_id: int, tx_hash: str, note: str = "") -> ReportedTransaction:
    """A transaction hash; one the case already holds on that chain (added before, or at the same moment) is refused
    with a message."""
    checked_text(tx_hash, 200, required=True)
    try:
        tx_hash = normalize_tx_hash(tx_hash)
    except InvalidInput as error:
        raise PortalError(error.message) from None
    chain_id = _configured_chain(chain_id)
    note = checked_text(note or "", TX_NOTE_MAX_CHARS, required=False)
    entry_id = insert_new(ReportedTransaction, case_id=case.id, chain_id=chain_id, tx_hash=tx_hash, note=note or None)
    if entry_id is None:
        raise PortalError(_("This transaction is already on your case."))
    CaseEvent.record(case, None, EventKind.TRANSACTION_ADDED, actor_label=VICTIM, chain_id=chain_id, tx_hash=tx_hash)
    search_index.refresh(case.id)
    _victim_added(case, facts_changed=True)
    db.session.expire(case, ["transactions"])
    return db.session.get(ReportedTransaction, entry_id)


def add_file(case: Case, upload: FileStorage) -> CaseFile:
    """A file (screenshot, chat export, PDF), checked and stored by the upload service and attached to the case."""
    try:
        attached, new = uploads.store_upload(upload.stream, upload.filename, case=case)
    except uploads.UploadRejected as error:
        raise PortalError(error.message) from None
    if not new:
        raise PortalError(_("This file is already on your case."))
    CaseEvent.record(case, None, EventKind.FILE_ADDED, actor_label=VICTIM, name=attached.original_name,
                     sha256=attached.sha256)
    _victim_added(case)
    return attached
