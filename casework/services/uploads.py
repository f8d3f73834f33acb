"""Uploaded files: checked by their content, scanned for secrets, stored once by SHA-256 under UPLOAD_DIR.

`store_upload(data, original_name, draft=... or case=...)` is the one entry point (the wizard and the victim's
portal both use it). It returns the `CaseFile` added to the session (the caller commits) or raises
`UploadRejected` with a message for the victim. The file lands on disk as UPLOAD_DIR/ab/cd/<sha256>, never under
a name the user chose; the name they gave is kept only as text in the database. `open_stored(stored)` reads it.

Accepted, by magic bytes (the name's extension is never trusted): PNG, JPEG, GIF, WebP, PDF, and plain text
(UTF-8, UTF-16 with a BOM, or GB18030), which is labelled JSON when it parses as JSON and CSV when it is named
.csv. Text is scanned with the secret guard and refused if it holds a recovery phrase or a private key. Archives
(ZIP) are refused: their contents cannot be scanned for secrets without unpacking untrusted data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.models import Case, CaseFile, ReportDraft, StoredFile, utcnow
from casework.services.rows import insert_new
from forms.secrets import find_secrets, redact_secrets, scan_bytes_for_secret, secret_warning

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_DRAFT = 30
MAX_FILES_PER_CASE = 200
_NAME_MAX = 255
# Image and document signatures: (prefix at offset 0, content type). WebP is RIFF....WEBP, checked separately.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_ARCHIVES = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")
# Control characters that never appear in chat exports or CSV files (tab, LF, FF, CR and ESC aside).
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


class UploadRejected(ValueError):
    """An upload that cannot be accepted; `message` is translated and meant for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Attached(NamedTuple):
    """An upload attached to its draft or case; `new` is false when that content was already attached there."""

    file: CaseFile
    new: bool


@dataclass(frozen=True)
class Detected:
    """What the content of a file turned out to be."""

    content_type: str
    is_text: bool


def _decode_text(data: bytes) -> str | None:
    """The file as text if it is text (a BOM, UTF-8 or GB18030, no binary control bytes), else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    else:
        text = None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            return None
    if _BINARY_CONTROLS.search(text):
        return None
    return text


def detect_type(data: bytes, original_name: str = "") -> Detected | None:
    """The content type of an upload judged from its bytes, or None when it is not a type we accept."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return Detected(content_type, is_text=False)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Detected("image/webp", is_text=False)
    if data.startswith(_ARCHIVES):
        return None
    text = _decode_text(data)
    if text is None:
        return None
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(text)
            return Detected("application/json", is_text=True)
        except ValueError:
            pass
    if original_name.lower().endswith(".csv"):
        return Detected("text/csv", is_text=True)
    return Detected("text/plain", is_text=True)


def display_name(original_name: str | None) -> str:
    """The user's file name as safe display text: no path, no control characters, no secret, bounded length."""
    name = unicodedata.normalize("NFC", original_name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if unicodedata.category(character)[0] != "C").strip()
    if find_secrets(name):
        name = redact_secrets(name)
    return name[:_NAME_MAX] or _("unnamed file")


def upload_dir() -> Path:
    """Where file contents live (UPLOAD_DIR)."""
    return Path(current_app.config["UPLOAD_DIR"])


def path_for(sha256: str) -> Path:
    """Where the content with this SHA-256 is stored."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return upload_dir() / sha256[:2] / sha256[2:4] / sha256


def open_stored(stored: StoredFile) -> IO[bytes]:
    """Open a stored file's content for reading."""
    return path_for(stored.sha256).open("rb")


def _write_content(sha256: str, data: bytes) -> None:
    """Write the content under its hash, atomically; content already there is left as it is."""
    write_file(path_for(sha256), data)


def write_file(target: Path, data: bytes) -> None:
    """Write data to target atomically (a temporary file renamed into place); a file already there is left as it
    is (callers name files by their content's hash)."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _stored_file(sha256: str, size: int, content_type: str) -> StoredFile:
    """The StoredFile row for this content, inserted if new (safe when two uploads of it race), and locked
    against `purge_unused_files` until the caller commits (FOR KEY SHARE on PostgreSQL; SQLite has one writer)."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for _attempt in range(3):
        db.session.execute(
            insert(StoredFile)
            .values(sha256=sha256, size=size, content_type=content_type, stored_at=utcnow())
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        stored = db.session.scalars(
            select(StoredFile).where(StoredFile.sha256 == sha256).with_for_update(key_share=True)
        ).one_or_none()
        if stored is not None:  # None: a purge deleted the unused row between the two statements; insert it again
            return stored
    raise RuntimeError("the stored file row kept disappearing")


def read_limited(stream: IO[bytes], limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read at most `limit` bytes, refusing a stream that holds more."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(_("This file is larger than %(mb)d MB. Send a smaller file.", mb=limit // (1024 * 1024)))
    return data


def check_upload(data: bytes, original_name: str = "") -> Detected:
    """Refuse empty, oversized, wrongly typed or secret-holding content; return what it is."""
    if not data:
        raise UploadRejected(_("This file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRejected(
            _("This file is larger than %(mb)d MB. Send a smaller file.", mb=MAX_UPLOAD_BYTES // (1024 * 1024))
        )
    detected = detect_type(data, original_name)
    if detected is None:
        raise UploadRejected(
            _(
                "This type of file is not accepted. Send screenshots (PNG, JPEG, GIF, WebP), PDF documents or "
                "text files (such as a chat export), one by one rather than in an archive."
            )
        )
    if detected.is_text:
        finding = scan_bytes_for_secret(data, detected.content_type)
        if finding is not None:
            raise UploadRejected(secret_warning(finding.kind))
    return detected


def store_upload(
    data: bytes | IO[bytes],
    original_name: str | None,
    *,
    draft: ReportDraft | None = None,
    case: Case | None = None,
) -> Attached:
    """Check an upload, store its content by SHA-256 and attach it to a draft or a case (the caller commits).

    Raises UploadRejected with a message for the victim. Uploading the same content twice to the same draft or
    case, one after the other or at the same moment, attaches it once: the second gets the existing CaseFile,
    with `new` false.
    """
    if (draft is None) == (case is None):
        raise ValueError("attach an upload to exactly one of a draft or a case")
    content = data if isinstance(data, bytes) else read_limited(data)
    name = display_name(original_name)
    detected = check_upload(content, name)
    owner = CaseFile.draft_id == draft.id if draft is not None else CaseFile.case_id == case.id
    count = db.session.scalar(select(func.count(CaseFile.id)).where(owner))
    limit = MAX_FILES_PER_DRAFT if draft is not None else MAX_FILES_PER_CASE
    if count >= limit:
        raise UploadRejected(_("You can send at most %(n)d files here.", n=limit))
    sha256 = hashlib.sha256(content).hexdigest()
    # The row first, locked: a purge of unused content can then no longer remove the file written next.
    stored = _stored_file(sha256, len(content), detected.content_type)
    _write_content(sha256, content)
    # On the link's unique key (owner, content): a second tap or tab sending the same file adds nothing.
    new_id = insert_new(CaseFile, stored_file_id=stored.id, draft_id=draft.id if draft is not None else None,
                        case_id=case.id if case is not None else None, original_name=name, uploaded_at=utcnow())
    attached = db.session.scalar(select(CaseFile).where(owner, CaseFile.stored_file_id == stored.id))
    return Attached(attached, new=new_id is not None)


def files_of_draft(draft: ReportDraft) -> list[CaseFile]:
    """The files attached to a draft, oldest first."""
    return list(db.session.scalars(select(CaseFile).where(CaseFile.draft_id == draft.id).order_by(CaseFile.id)))


def files_of_case(case: Case) -> list[CaseFile]:
    """The files attached to a case, oldest first."""
    return list(db.session.scalars(select(CaseFile).where(CaseFile.case_id == case.id).order_by(CaseFile.id)))


def remove_from_draft(draft: ReportDraft, case_file_id: int) -> bool:
    """Detach one file from a draft (its content stays while other uploads use it); False if it is not there."""
    attached = db.session.scalar(
        select(CaseFile).where(CaseFile.id == case_file_id, CaseFile.draft_id == draft.id, CaseFile.case_id.is_(None))
    )
    if attached is None:
        return False
    db.session.delete(attached)
    return True


UNUSED_FILE_GRACE = timedelta(hours=1)
_PURGE_BATCH = 200


def purge_unused_files(*, now: datetime | None = None) -> int:
    """Delete the contents no draft and no case uses any more (a draft that expired, a file removed before
    sending), stored more than an hour ago; returns how many. Commits, one file at a time.

    Each row is deleted only while nothing refers to it (the foreign key refuses otherwise, and an upload
    that reuses the content holds a lock on the row: see `_stored_file`); its file is removed before the
    commit, so an upload of the same content that waited for this row writes the file again.
    """
    cutoff = (now or utcnow()) - UNUSED_FILE_GRACE
    used = select(CaseFile.id).where(CaseFile.stored_file_id == StoredFile.id).exists()
    candidates = db.session.scalars(
        select(StoredFile.id).where(StoredFile.stored_at < cutoff, ~used).order_by(StoredFile.id).limit(_PURGE_BATCH)
    ).all()
    db.session.commit()
    purged = 0
    for stored_id in candidates:
        try:
            sha256 = db.session.scalar(
                delete(StoredFile).where(StoredFile.id == stored_id, ~used).returning(StoredFile.sha256)
            )
            if sha256 is not None:
                path_for(sha256).unlink(missing_ok=True)
                purged += 1
            db.session.commit()
        except IntegrityError:  # an upload attached it meanwhile: it stays
            db.session.rollback()
    if purged:
        log.info("Purged %d uploaded files that no draft or case uses any more.", purged)
    return purged
