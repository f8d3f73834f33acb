"""The staff case page shows everything the victim gave (contact, consents, the other side, reports made
elsewhere, files), files open from it with safe headers and each opening logged, views of the page are logged
without spamming the timeline, and each role is shown exactly the forms it may use."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import Case, CaseEvent, EventKind, Role, utcnow
from casework.services import case_files, case_page, uploads
from casework.services.access import AccessDenied
from tests.casework.test_report_wizard import answers, post_step, submit
from tests.fixtures.factories import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CHAT = "骗子：转 10 USDT 解锁 <b>空投</b>\n".encode()
HANDLE = "<script>alert(1)</script>@airdrop_admin"


def _file_through_the_wizard(client) -> Case:
    steps = answers()
    steps[5].update(phones="+44 20 7946 0000", emails="support@airdrop-claim.example", social=HANDLE,
                    apps="AirdropPro", exchanges=["Binance", "OKX"])
    steps[6].update(police_agency="Shanghai Pudong Police", platform_ticket="BN-778812")
    for number, data in steps.items():
        assert post_step(client, number, data).status_code == 302, number
    assert submit(client).status_code == 302
    return db.session.scalars(select(Case)).one()


@pytest.fixture
def filed(app, client) -> Case:
    """A case filed by a victim through the report wizard, with every kind of detail it asks for."""
    return _file_through_the_wizard(client)


def _page(client, case: Case) -> str:
    response = client.get(f"/staff/cases/{case.reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_case_page_shows_everything_the_victim_gave(client, filed, make_user, login):
    login(make_user(Role.HANDLER))
    html = _page(client, filed)
    for given in ("+8613800138000", "airdrop-claim.example", "claim.example", "+44 20 7946 0000",
                  "support@airdrop-claim.example", "@airdrop_admin", "AirdropPro", "Binance, OKX", "SH-2026-0042",
                  "Shanghai Pudong Police", "BN-778812", "A Telegram message about an airdrop"):
        assert given in html, given


def test_the_victims_words_are_escaped(client, filed, make_user, login):
    login(make_user(Role.HANDLER))
    html = _page(client, filed)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@airdrop_admin" in html and HANDLE not in html


def test_the_three_consents_are_shown_given_or_not(client, filed, make_user, login):
    login(make_user(Role.HANDLER))
    section = re.search(r'<section id="consents".*?</section>', _page(client, filed), re.DOTALL).group(0)
    shown = re.findall(r'<li class="consent-(given|refused)"><strong>(Yes|No)</strong> · ([^<]+)</li>', section)
    assert shown == [("given", "Yes", "Exchanges and stablecoin issuers"),
                     ("given", "Yes", "Police and other law enforcement"),
                     ("refused", "No", "Consumer-protection agencies")]


def _files(case: Case) -> tuple[int, int]:
    image = uploads.store_upload(PNG, "wallet.png", case=case).file.id
    chat = uploads.store_upload(CHAT, "chat.txt", case=case).file.id
    db.session.commit()
    return image, chat


def _file_views(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                           CaseEvent.action == EventKind.FILE_VIEWED)))


def test_an_image_opens_inline_with_its_detected_type_and_the_view_is_logged(client, make_case, make_user, login):
    case = make_case().case
    image, _chat = _files(case)
    handler = make_user(Role.HANDLER)
    login(handler)
    assert f"/staff/cases/{case.reference}/files/{image}" in _page(client, case)
    response = client.get(f"/staff/cases/{case.reference}/files/{image}")
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    [event] = _file_views(case)
    assert (event.actor_id, event.data["file_id"], event.summary) == (handler.id, image, "wallet.png")


def test_any_other_file_is_a_download_and_each_view_is_logged(client, make_case, make_user, login):
    case = make_case().case
    _image, chat = _files(case)
    login(make_user(Role.LEGAL))
    for _ in range(2):
        response = client.get(f"/staff/cases/{case.reference}/files/{chat}")
        assert response.status_code == 200 and response.data == CHAT
        assert response.mimetype == "text/plain" and response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(_file_views(case)) == 2


def test_a_file_of_another_case_or_without_content_is_not_found(client, make_case, make_user, login):
    mine, other = make_case().case, make_case().case
    image, chat = _files(other)
    login(make_user(Role.HANDLER))
    assert client.get(f"/staff/cases/{mine.reference}/files/{image}").status_code == 404
    uploads.path_for(db.session.get(uploads.CaseFile, chat).sha256).unlink()
    assert client.get(f"/staff/cases/{other.reference}/files/{chat}").status_code == 404
    assert _file_views(mine) == [] and _file_views(other) == []


def test_a_file_is_refused_to_a_deactivated_user_and_to_the_public(client, make_case, make_user, login):
    case = make_case().case
    image, _chat = _files(case)
    assert client.get(f"/staff/cases/{case.reference}/files/{image}").status_code in (302, 401)
    user = make_user(Role.HANDLER)
    user.active = False
    db.session.commit()
    with pytest.raises(AccessDenied):
        case_files.open_case_file(user, case.reference, image)
    assert _file_views(case) == []


def _case_views(case: Case) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == EventKind.CASE_VIEWED))


def test_views_of_the_case_page_are_logged_once_per_user_per_ten_minutes(client, make_case, make_user, login):
    case = make_case().case
    handler, supervisor = make_user(Role.HANDLER), make_user(Role.SUPERVISOR)
    login(handler)
    _page(client, case)
    _page(client, case)
    assert _case_views(case) == 1
    assert case_page.record_view(supervisor, case) is not None  # another reader is logged
    assert case_page.record_view(handler, case) is None
    db.session.commit()
    assert _case_views(case) == 2


@pytest.mark.parametrize(("minutes_ago", "logged"), [(9, False), (11, True)])
def test_a_view_is_logged_again_once_ten_minutes_have_passed(client, make_case, make_user, login, minutes_ago,
                                                             logged):
    case, handler = make_case().case, make_user(Role.HANDLER)
    db.session.add(CaseEvent(case_id=case.id, **CaseEvent.row(EventKind.CASE_VIEWED, actor=handler,
                                                               created_at=utcnow() - timedelta(minutes=minutes_ago))))
    db.session.commit()
    login(handler)
    _page(client, case)
    assert _case_views(case) == 1 + logged


FORMS = {
    "reply": "/messages", "note": "/notes", "capture": "/evidence/capture", "discover": "/evidence/discover",
    "trace": "/evidence/trace",
}


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.HANDLER, set(FORMS)), (Role.SUPERVISOR, set(FORMS)), (Role.ADMIN, set(FORMS)), (Role.LEGAL, set()),
])
def test_each_role_is_shown_exactly_the_forms_it_may_use(client, make_case, make_user, login, role, allowed):
    case = make_case().case
    login(make_user(role))
    html = _page(client, case)
    shown = {name for name, path in FORMS.items() if f'action="/staff/cases/{case.reference}{path}"' in html}
    assert shown == allowed
    actions = case_page.case_page(make_user(role), case.reference).actions
    assert actions.confirm_theft is bool(allowed)


def test_the_forms_stay_refused_to_legal(client, make_case, make_user, login):
    case = make_case().case
    login(make_user(Role.LEGAL))
    token = csrf_token(client, f"/staff/cases/{case.reference}")
    data = {"csrf_token": token, "reply-body": "hello", "note-body": "hello", "chain_id": "1", "run_now": "y",
            "since": "2026-01-01", "until": "2026-01-02", "depth": "2", "breadth": "2"}
    events = db.session.scalar(select(func.count()).select_from(CaseEvent))
    for path in (*FORMS.values(), "/evidence/transfers/1/confirm"):
        assert client.post(f"/staff/cases/{case.reference}{path}", data=data).status_code == 403, path
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == events
