"""Staff opening a file the victim uploaded: access checked here, each opening logged on the case."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import CaseEvent, CaseFile, EventKind, User
from casework.services import cases as case_service
from casework.services import uploads

# Types a browser may show in the page's own tab: images detected from their bytes at upload. Everything else
# (PDF, text, JSON, CSV) is sent as a download, so nothing the victim uploaded runs or renders as a document.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class OpenedFile:
    """What the view sends: where the content is, under which type and name, shown in place or downloaded."""

    path: Path
    content_type: str
    download_name: str
    inline: bool


def open_case_file(user: User, reference: str, file_id: int) -> OpenedFile:
    """A file of the case for a user who may see the case, logged as FILE_VIEWED (the caller commits); NotFound for
    another case's file or content missing from storage, AccessDenied as cases.get_for."""
    case = case_service.get_for(user, reference)
    case_file = db.session.scalar(select(CaseFile).where(CaseFile.id == file_id, CaseFile.case_id == case.id))
    if case_file is None:
        raise NotFound(_("This case has no such file."))
    path = uploads.path_for(case_file.sha256)
    if not path.is_file():
        raise NotFound(_("The content of this file is missing from storage."))
    name = uploads.display_name(case_file.original_name)
    CaseEvent.record(case, user, EventKind.FILE_VIEWED, summary=name, file_id=case_file.id, sha256=case_file.sha256)
    return OpenedFile(path, case_file.content_type, name, case_file.content_type in INLINE_TYPES)
