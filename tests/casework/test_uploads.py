"""Uploads: the type comes from the content, secrets in text are refused, content is stored once by SHA-256."""

import hashlib
import io
import threading
from datetime import timedelta

import pytest
from eth_account.hdaccount.mnemonic import Mnemonic
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import CaseFile, StoredFile, utcnow
from casework.services import drafts, uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x02" * 40
GIF = b"GIF89a" + b"\x03" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x04" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def draft(app):
    created, _token = drafts.new_draft("en")
    db.session.commit()
    return created


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PNG, "photo.jpg", "image/png"),  # the name lies; the bytes decide
        (JPEG, "x.png", "image/jpeg"),
        (GIF, "a.gif", "image/gif"),
        (WEBP, "a.webp", "image/webp"),
        (PDF, "report", "application/pdf"),
        ("聊天记录：客服说要验证钱包\n2026-11-20 10:00".encode(), "chat.txt", "text/plain"),
        ("聊天记录".encode("gb18030"), "chat.txt", "text/plain"),
        (b'{"messages": [{"from": "support", "text": "verify"}]}', "export.json", "application/json"),
        (b"time,from,text\n10:00,support,hello\n", "export.csv", "text/csv"),
    ],
)
def test_the_type_is_detected_from_the_content(draft, content, name, content_type):
    attached = uploads.store_upload(content, name, draft=draft).file
    assert attached.content_type == content_type and attached.original_name == name


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",  # a Windows program
        b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 30,  # a ZIP archive
        b"\x00\x01\x02\x03binary\x00",
    ],
)
def test_other_types_are_refused_with_a_clear_message(draft, content):
    with pytest.raises(uploads.UploadRejected, match="not accepted"):
        uploads.store_upload(content, "evidence.png", draft=draft)


def test_empty_and_oversized_files_are_refused(draft):
    with pytest.raises(uploads.UploadRejected, match="empty"):
        uploads.store_upload(b"", "a.txt", draft=draft)
    with pytest.raises(uploads.UploadRejected, match="larger than 10 MB"):
        uploads.store_upload(io.BytesIO(PNG + b"\x00" * uploads.MAX_UPLOAD_BYTES), "big.png", draft=draft)


@pytest.mark.parametrize("language", ["english", "chinese_simplified"])
def test_text_holding_a_recovery_phrase_is_refused_and_not_stored(app, draft, language):
    from eth_account.hdaccount.mnemonic import Language

    phrase = Mnemonic(Language(language)).generate(12)
    content = f"客服：请把助记词发给我\n我：{phrase}\n".encode()
    with pytest.raises(uploads.UploadRejected, match="recovery phrase"):
        uploads.store_upload(content, "chat.txt", draft=draft)
    assert not uploads.path_for(hashlib.sha256(content).hexdigest()).exists()
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0


def test_ordinary_english_chat_is_accepted(draft):
    text = b"He said the airdrop was real and asked me to connect my wallet and approve the token to claim it."
    assert uploads.store_upload(text, "chat.txt", draft=draft).file.content_type == "text/plain"


def test_content_is_stored_once_under_its_hash_never_under_the_users_name(app, draft):
    first = uploads.store_upload(PNG, "../../etc/passwd", draft=draft).file
    other, _token = drafts.new_draft("en")
    second = uploads.store_upload(PNG, "same.png", draft=other).file
    again = uploads.store_upload(PNG, "duplicate.png", draft=draft).file
    db.session.commit()
    digest = hashlib.sha256(PNG).hexdigest()
    path = uploads.path_for(digest)
    assert path.read_bytes() == PNG and path.name == digest
    assert first.original_name == "passwd" and again.id == first.id
    assert first.stored.id == second.stored.id
    assert db.session.scalar(select(func.count(StoredFile.id))) == 1
    assert db.session.scalar(select(func.count(CaseFile.id))) == 2
    with uploads.open_stored(first.stored) as handle:
        assert handle.read() == PNG


def test_a_draft_holds_a_bounded_number_of_files(draft, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILES_PER_DRAFT", 2)
    uploads.store_upload(PNG, "1.png", draft=draft)
    uploads.store_upload(GIF, "2.gif", draft=draft)
    with pytest.raises(uploads.UploadRejected, match="at most 2 files"):
        uploads.store_upload(JPEG, "3.jpg", draft=draft)


def test_a_file_name_holding_a_secret_is_not_kept(draft):
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    attached = uploads.store_upload(PNG, f"{key}.png", draft=draft).file
    assert key not in attached.original_name


def test_an_upload_goes_to_exactly_one_owner(draft):
    with pytest.raises(ValueError):
        uploads.store_upload(PNG, "a.png")


def _after_the_grace_period():
    return utcnow() + uploads.UNUSED_FILE_GRACE + timedelta(minutes=1)


def _stored_hashes():
    return set(db.session.scalars(select(StoredFile.sha256)))


def test_files_of_an_expired_draft_are_purged_and_files_in_use_stay(app, draft, make_case):
    expired_only = PNG + b"only in the expired draft"
    uploads.store_upload(expired_only, "a.png", draft=draft)
    uploads.store_upload(JPEG, "b.jpg", draft=draft)
    live, _token = drafts.new_draft("en")
    uploads.store_upload(JPEG, "b.jpg", draft=live)  # the same content, in a draft still open
    uploads.store_upload(GIF, "c.gif", case=make_case().case)
    draft.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert drafts.expire_drafts() == 1
    db.session.commit()

    assert uploads.purge_unused_files() == 0  # stored less than an hour ago: an upload may still be using it
    assert uploads.purge_unused_files(now=_after_the_grace_period()) == 1
    gone = hashlib.sha256(expired_only).hexdigest()
    assert not uploads.path_for(gone).exists()
    assert _stored_hashes() == {hashlib.sha256(JPEG).hexdigest(), hashlib.sha256(GIF).hexdigest()}
    for content in (JPEG, GIF):
        assert uploads.path_for(hashlib.sha256(content).hexdigest()).read_bytes() == content


def test_a_purge_leaves_content_that_an_upload_under_way_is_reusing(app, draft):
    earlier, _token = drafts.new_draft("en")
    removed = uploads.store_upload(PDF, "old.pdf", draft=earlier).file
    db.session.commit()
    assert uploads.remove_from_draft(earlier, removed.id)
    db.session.commit()  # the content is now unused

    uploads.store_upload(PDF, "again.pdf", draft=draft)  # the same content again, not yet committed
    results, errors = [], []

    def purge() -> None:
        with app.app_context():
            try:
                results.append(uploads.purge_unused_files(now=_after_the_grace_period()))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=purge)
    thread.start()
    thread.join(timeout=1)  # the purge waits for the upload's transaction
    db.session.commit()
    thread.join(timeout=30)
    assert errors == [] and results == [0]
    assert uploads.path_for(hashlib.sha256(PDF).hexdigest()).read_bytes() == PDF
    assert _stored_hashes() == {hashlib.sha256(PDF).hexdigest()}


def test_an_upload_after_a_purge_stores_the_content_again(app, draft):
    earlier, _token = drafts.new_draft("en")
    removed = uploads.store_upload(GIF, "old.gif", draft=earlier).file
    db.session.commit()
    uploads.remove_from_draft(earlier, removed.id)
    db.session.commit()
    assert uploads.purge_unused_files(now=_after_the_grace_period()) == 1
    attached = uploads.store_upload(GIF, "new.gif", draft=draft).file
    db.session.commit()
    with uploads.open_stored(attached.stored) as handle:
        assert handle.read() == GIF
