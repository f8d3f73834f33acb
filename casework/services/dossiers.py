"""Documents we issue: rendering a case's dossier or letter (its content comes from services.dossier_content),
keeping the PDF and the record of every document issued, downloads, and what /verify may say about a document.

Who may render and download: legal staff, supervisors, administrators, and the handler assigned to the case. Each
issue is a `Document` row (SHA-256 of the PDF, a random verification code printed inside it) and a DOCUMENT_ISSUED
event; each later download of the stored PDF is a DOCUMENT_DOWNLOADED event. The PDF itself is kept under
UPLOAD_DIR/documents by its hash, apart from the victims' uploads (whose unused files are purged).
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.i18n import LANGUAGES
from casework.models import (
    Case,
    CaseEvent,
    Document,
    DocumentAudience,
    EventKind,
    Referral,
    Role,
    User,
    utcnow,
)
from casework.models.documents import VERIFICATION_CODE_LENGTH
from casework.services import cases as case_service
from casework.services import dossier_content, uploads
from casework.services.access import AccessDenied, Permission, can
from reports.dossier import TRANSFERS_CSV, TRANSFERS_XLSX

# The audiences this service renders today (the others of DocumentAudience have no template yet).
RENDERABLE = (DocumentAudience.EVIDENCE, DocumentAudience.EXCHANGE_FREEZE)
# Roles that may render and download any case's documents; a handler may for the cases assigned to them.
DOSSIER_ROLES = (Role.LEGAL, Role.SUPERVISOR)
CLI_LABEL = "cli"


class DossierError(Exception):
    """A document cannot be rendered or found as asked; the message is meant for the person asking."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Issued:
    """A document just issued: its record and its bytes."""

    document: Document
    pdf: bytes


@dataclass(frozen=True)
class IssuedFacts:
    """What /verify may say about a document: that we issued it, for which case and audience, and when."""

    reference: str
    audience: str
    language: str
    issued_at: datetime


def may_render(user: User | None, case: Case) -> bool:
    """Whether user may render and download the case's documents."""
    if not can(user, Permission.DOWNLOAD_DOSSIERS):
        return False
    return user.has_role(*DOSSIER_ROLES) or case.assigned_handler_id == user.id


def _require(user: User, case: Case) -> None:
    if not may_render(user, case):
        raise AccessDenied(_("Only legal staff, supervisors and the case's assigned handler may issue or download "
                             "its documents."))


def new_code() -> str:
    """A verification code: 10 characters of base32 from the system's random source (50 bits), not derived from
    anything in the document."""
    return base64.b32encode(secrets.token_bytes(7)).decode("ascii")[:VERIFICATION_CODE_LENGTH]


def normalise_code(text: str) -> str:
    """A code as typed (any case, spaces or dashes) in the stored form."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def display_code(code: str) -> str:
    """A code in two groups of five, as printed: ABCDE-FGHIJ."""
    return f"{code[:5]}-{code[5:]}"


def verify_url(code: str) -> str:
    """The public verification page with the code filled in."""
    return f"{current_app.config['PUBLIC_URL']}/verify?code={display_code(code)}"


def _documents_dir() -> Path:
    return uploads.upload_dir() / "documents"


def document_path(sha256: str) -> Path:
    """Where an issued PDF is kept."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return _documents_dir() / sha256[:2] / f"{sha256}.pdf"


def _unused_code() -> str:
    while True:
        code = new_code()
        if db.session.scalar(select(Document.id).where(Document.code == code)) is None:
            return code


def issue(case: Case, audience: DocumentAudience, *, language: str, actor: User | None,
          actor_label: str = CLI_LABEL, referral: Referral | None = None, now: datetime | None = None) -> Issued:
    """Render, keep and record a document of case for audience in language; the caller commits.

    A staff actor must be allowed (may_render); actor None is the command line (actor_label says so)."""
    if actor is not None:
        _require(actor, case)
    if audience not in RENDERABLE:
        raise DossierError(_("%(audience)s documents cannot be rendered yet.", audience=audience.title))
    letters_for = dossier_content.freeze_referrals(case)
    if audience is DocumentAudience.EXCHANGE_FREEZE and (referral is None or referral not in letters_for):
        raise DossierError(_("Choose the freeze request (an exchange and its deposit address) the letter is for."))
    if language not in LANGUAGES:
        raise DossierError(_("Documents are written in English or Simplified Chinese."))
    from reports.dossier import render_evidence_dossier  # loads WeasyPrint on first use, not at app start-up
    from reports.freeze_letter import render_freeze_letter
    from reports.render import MissingFont

    now = now or utcnow()
    code = _unused_code()
    with force_locale(language):
        try:
            if audience is DocumentAudience.EXCHANGE_FREEZE:
                letter = dossier_content.build_freeze_letter(case, referral, code=display_code(code),
                                                             verify_link=verify_url(code), now=now)
                pdf = render_freeze_letter(letter, translations=get_translations())
            else:
                prepared_by = (_("%(name)s, %(role)s, for Casework", name=actor.display_name, role=actor.role.title)
                               if actor is not None else _("Casework (issued from the command line)"))
                dossier = dossier_content.build_evidence_dossier(
                    case, code=display_code(code), verify_link=verify_url(code), prepared_by=prepared_by, now=now)
                pdf = render_evidence_dossier(dossier, translations=get_translations())
        except MissingFont as missing:
            raise DossierError(str(missing)) from None
    sha256 = hashlib.sha256(pdf).hexdigest()
    uploads.write_file(document_path(sha256), pdf)
    document = Document(case_id=case.id, audience=audience, language=language, sha256=sha256, code=code,
                        size=len(pdf), rendered_by_id=actor.id if actor else None,
                        rendered_by_label="staff" if actor else actor_label, rendered_at=now,
                        referral_id=referral.id if referral else None)
    db.session.add(document)
    CaseEvent.record(case, actor, EventKind.DOCUMENT_ISSUED, actor_label=None if actor else actor_label,
                     audience=audience, language=language, code=display_code(code), sha256=sha256, size=len(pdf))
    return Issued(document, pdf)


def documents_of(case: Case) -> list[Document]:
    """The documents issued for a case, newest first."""
    return list(db.session.scalars(select(Document).where(Document.case_id == case.id)
                                   .order_by(Document.rendered_at.desc(), Document.id.desc())))


def issue_for(user: User, reference: str, audience: DocumentAudience, language: str,
              referral_id: int | None = None) -> Issued:
    """Issue a document of the case `reference` as a signed-in staff member (AccessDenied, NotFound as usual); a
    freeze letter names its referral."""
    case = case_service.get_for(user, reference)
    referral = next((r for r in case.referrals if r.id == referral_id), None) if referral_id else None
    return issue(case, audience, language=language, actor=user, referral=referral)


def download(user: User, reference: str, document_id: int) -> tuple[Document, bytes]:
    """An issued document's stored bytes, for a user who may have them; the download is logged (the caller
    commits). NotFound for another case's document."""
    document, pdf = _stored(user, reference, document_id)
    CaseEvent.record(document.case, user, EventKind.DOCUMENT_DOWNLOADED, audience=document.audience,
                     code=display_code(document.code), document_id=document.id)
    return document, pdf


def _stored(user: User, reference: str, document_id: int) -> tuple[Document, bytes]:
    case = case_service.get_for(user, reference)
    _require(user, case)
    document = db.session.scalar(select(Document).where(Document.id == document_id, Document.case_id == case.id))
    if document is None:
        raise NotFound(_("This case has no such document."))
    return document, document_path(document.sha256).read_bytes()


# The files a dossier carries that can be downloaded on their own, by their extension.
SHEETS = {"csv": (TRANSFERS_CSV, "text/csv"),
          "xlsx": (TRANSFERS_XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}


def download_sheet(user: User, reference: str, document_id: int, extension: str) -> tuple[Document, bytes, str]:
    """The transfers spreadsheet attached to an issued dossier (exactly the one inside its PDF), with its media
    type; logged as a download of the document (the caller commits). NotFound for an unknown format or document."""
    if extension not in SHEETS:
        raise NotFound(_("There is no such spreadsheet."))
    document, pdf = _stored(user, reference, document_id)
    name, media_type = SHEETS[extension]
    attached = PdfReader(io.BytesIO(pdf)).attachments.get(name)
    if not attached:
        raise NotFound(_("There is no such spreadsheet."))
    CaseEvent.record(document.case, user, EventKind.DOCUMENT_DOWNLOADED, audience=document.audience,
                     code=display_code(document.code), document_id=document.id, file=name)
    return document, attached[0], media_type


def sha256_of(stream: BinaryIO, *, limit: int, chunk: int = 64 * 1024) -> str | None:
    """The SHA-256 of a stream read in chunks, or None when it is longer than limit bytes."""
    digest, read = hashlib.sha256(), 0
    while block := stream.read(chunk):
        read += len(block)
        if read > limit:
            return None
        digest.update(block)
    return digest.hexdigest()


def lookup(*, sha256: str | None = None, code: str | None = None) -> IssuedFacts | None:
    """What we may say about a document we issued, found by its SHA-256 or its verification code; None when we did
    not issue it. Nothing of the case's content."""
    query = select(Document)
    if sha256 is not None:
        query = query.where(Document.sha256 == sha256.lower())
    elif code is not None:
        query = query.where(Document.code == normalise_code(code))
    else:
        return None
    document = db.session.scalar(query)
    if document is None:
        return None
    return IssuedFacts(reference=document.case.reference, audience=document.audience.title,
                       language=str(LANGUAGES.get(document.language, document.language)),
                       issued_at=document.rendered_at)


@dataclass(frozen=True)
class DocumentLine:
    id: int
    audience: str
    language: str
    rendered_by: str
    rendered_at: datetime
    sha256: str
    code: str
    has_sheet: bool  # the dossier carries the transfers spreadsheet


@dataclass(frozen=True)
class DocumentsPanel:
    """The "Documents" section of the staff case page: what was issued, and whether the reader may issue more."""

    may_render: bool
    lines: list[DocumentLine]
    languages: list[tuple[str, str]]
    freeze_requests: list[tuple[int, str]]  # (referral id, "exchange · deposit address") a letter can be issued for


def panel(user: User, case: Case) -> DocumentsPanel:
    """The case page's Documents section for user (who may see the case)."""
    by_label = {CLI_LABEL: _("Command line")}
    return DocumentsPanel(
        may_render=may_render(user, case),
        lines=[
            DocumentLine(d.id, d.audience.title, str(LANGUAGES.get(d.language, d.language)),
                         d.rendered_by.display_name if d.rendered_by else str(by_label.get(d.rendered_by_label,
                                                                                           d.rendered_by_label)),
                         d.rendered_at, d.sha256, display_code(d.code),
                         d.audience in (DocumentAudience.EVIDENCE, DocumentAudience.EXCHANGE_FREEZE))
            for d in documents_of(case)
        ],
        languages=list(LANGUAGES.items()),
        freeze_requests=[(r.id, f"{dossier_content.exchange_name(r)} · {r.target_address}")
                         for r in dossier_content.freeze_referrals(case)],
    )
