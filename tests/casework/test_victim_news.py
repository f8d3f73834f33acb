"""The victim hears by e-mail, in their language, that stolen funds were frozen or returned, however the handler
records it: with an amount (the e-mail names it) or by moving the referral to frozen or returned without one (the
console's status form, the API). One e-mail per piece of news; other referral changes are staff business."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import Notification, Referral, ReferralKind, ReferralStatus, Role
from casework.services import recoveries, referrals
from tests.fixtures.factories import csrf_token

R = ReferralStatus


@pytest.fixture
def handler(make_user):
    return make_user(Role.HANDLER)


@pytest.fixture
def referral(make_case) -> Referral:
    case = make_case(language="zh_Hans_CN").case
    sent = Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, status=R.SENT, target_name="Harbour Exchange",
                    chain_id=1, symbol="USDT", decimals=6, amount_raw=1_000 * 10**6)
    db.session.add(sent)
    db.session.commit()
    return sent


def to_victim(referral: Referral) -> list[Notification]:
    return db.session.scalars(select(Notification).where(Notification.recipient == referral.case.reporter.email,
                                                         Notification.subject.contains("资金"))
                              .order_by(Notification.id)).all()


def test_a_freeze_recorded_without_an_amount_is_emailed_in_the_victims_language(client, handler, login, referral):
    login(handler)
    page = f"/staff/cases/{referral.case.reference}"
    response = client.post(f"{page}/referrals/{referral.id}/status", data={
        "status": "frozen", "expected": "sent", "note": "", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    (news,) = to_victim(referral)
    assert news.subject == f"您的案件 {referral.case.reference}：资金已被冻结"
    assert "被盗资金已在追踪到的地方被冻结" in news.body_text and "USDT" not in news.body_text


def test_a_return_without_an_amount_is_emailed_too(app, handler, referral):
    referrals.update_referral(handler, referral, R.RETURNED, expected="sent")
    db.session.commit()
    (news,) = to_victim(referral)
    assert "被盗资金正在退还" in news.body_text


def test_an_amount_recorded_is_emailed_once_with_the_amount(app, handler, referral):
    recoveries.record_recovery(handler, referral, "frozen", "600", expected="sent")
    db.session.commit()
    (news,) = to_victim(referral)  # the move to frozen does not add a second e-mail
    assert "600 USDT" in news.body_text
    recoveries.record_recovery(handler, referral, "frozen", "400", expected="frozen")
    db.session.commit()
    assert ["400 USDT" in n.body_text for n in to_victim(referral)] == [False, True]


def test_other_referral_changes_are_not_emailed_to_the_victim(app, handler, referral):
    outbox = db.session.scalars(select(Notification)).all()
    referrals.update_referral(handler, referral, R.ACKNOWLEDGED, expected="sent")
    referrals.update_referral(handler, referral, R.DECLINED, expected="acknowledged")
    db.session.commit()
    assert db.session.scalars(select(Notification)).all() == outbox


def test_a_victim_without_an_email_address_is_told_on_the_portal_only(app, handler, referral):
    referral.case.reporter.email = None
    db.session.commit()
    referrals.update_referral(handler, referral, R.FROZEN, expected="sent")
    db.session.commit()
    assert db.session.scalars(select(Notification).where(Notification.subject.contains("资金"))).all() == []
