"""The act-now checklist follows the wallet the victim named and what they already did."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from casework.extensions import db
from casework.models import IncidentType, Notification
from casework.services import checklist
from forms.report import WALLET_APPS
from tests.casework.test_report_wizard import answers, fill_wizard, post_step, submit

OTHER_WALLET_WORDS = {"imToken": "授权管理", "MetaMask": "MetaMask", "Trust Wallet": "Trust Wallet",
                      "TokenPocket": "授权检测", "Ledger": "Ledger"}


def revoke_text(wallet_app: str | None) -> str:
    actions = checklist.act_now(IncidentType.APPROVAL_PHISHING, "US", wallet_app)
    return next(action.text for action in actions if action.key == "revoke")


@pytest.mark.parametrize("wallet", WALLET_APPS)
def test_each_common_wallet_gets_its_own_way_to_revoke_and_no_other_wallets(app, wallet):
    with app.test_request_context():
        text = revoke_text(wallet)
    assert OTHER_WALLET_WORDS[wallet] in text and "revoke.cash" in text
    # A Ledger connects to revoke.cash through a browser wallet, MetaMask named among them.
    allowed = {"Ledger": {"MetaMask"}}.get(wallet, set())
    others = [word for name, word in OTHER_WALLET_WORDS.items() if name != wallet and word in text]
    assert set(others) <= allowed


def test_a_metamask_user_is_not_told_about_imtokens_approval_manager(app):
    with app.test_request_context():
        text = revoke_text("MetaMask")
    assert "imToken" not in text and "授权管理" not in text


@pytest.mark.parametrize("wallet", [None, "SafePal", "  metamask "])
def test_another_wallet_gets_the_general_way_and_a_typed_name_is_recognised(app, wallet):
    with app.test_request_context():
        text = revoke_text(wallet)
    if wallet and wallet.strip() == "metamask":
        assert "MetaMask has no approval list of its own" in text
    else:
        assert "If your wallet app has an approval or authorization manager" in text
        assert not any(word in text for word in OTHER_WALLET_WORDS.values())


def test_a_victim_who_reported_to_the_police_is_not_sent_to_the_police(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        told = checklist.act_now(IncidentType.FAKE_SUPPORT, "CN", "imToken", reported_to_police=True)
        not_yet = checklist.act_now(IncidentType.FAKE_SUPPORT, "CN", "imToken")
    assert "拨打 110" in checklist.as_text(not_yet)
    assert "拨打 110" not in checklist.as_text(told) and "police_reported" in [action.key for action in told]


def test_the_confirmation_page_and_e_mail_know_the_police_report_number_was_given(client):
    fill_wizard(client)  # step 6 gives a police report number
    assert submit(client).status_code == 302
    page = client.get("/report/done").get_data(as_text=True)
    email = db.session.scalars(select(Notification.body_text).where(Notification.subject.like("%报告%"))).one()
    assert "Call 110" not in page and "Keep your police report at hand" in page
    assert "拨打 110" not in email and "请妥善保管报警材料" in email  # the e-mail is in the victim's language


def test_without_a_police_report_number_the_victim_is_sent_to_the_police(client):
    fill_wizard(client, until=5)
    assert post_step(client, 6, {**answers()[6], "police_report_number": ""}).status_code == 302
    assert post_step(client, 7, answers()[7]).status_code == 302
    assert submit(client).status_code == 302
    assert "Call 110" in client.get("/report/done").get_data(as_text=True)
