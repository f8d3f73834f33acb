"""In a real browser, a statement longer than the limit reaches the server whole and is refused with the limit:
the browser never cuts it short without a word (200,000 characters pasted, 10,000 kept)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import ReportDraft
from tests.casework.test_report_wizard import fill_wizard

pytestmark = pytest.mark.e2e


def test_a_pasted_statement_over_the_limit_is_refused_with_the_limit_not_cut(live_server, phone_page, client):
    fill_wizard(client, until=5)  # the draft belongs to this session: hand its cookie to the browser
    phone_page.context.add_cookies([{"name": "session", "value": client.get_cookie("session").value,
                                     "url": live_server}])
    phone_page.goto(live_server + "/report/step/6")
    statement = "They asked me to sign a message to claim the airdrop. " * 3_704  # 200,016 characters
    phone_page.fill("#statement", statement)
    assert phone_page.evaluate("document.querySelector('#statement').value.length") == len(statement)
    phone_page.click(".wizard-buttons button.primary")
    phone_page.wait_for_load_state()
    assert phone_page.url.endswith("/report/step/6")
    error = phone_page.inner_text("#statement-errors")
    assert f"At most 10000 characters; you wrote {len(statement)}." in error
    db.session.expire_all()
    draft = db.session.scalars(select(ReportDraft)).one()
    assert draft.answers["evidence"]["statement"] == [statement]
