"""Victim text over a limit is refused with the limit, never cut short without a word."""

from __future__ import annotations

import re

from casework.extensions import db
from casework.models import ReportDraft
from forms.report import STATEMENT_MAX_CHARS
from tests.casework.test_report_wizard import fill_wizard, post_step


def test_the_statement_box_does_not_let_the_browser_cut_a_long_paste(client):
    fill_wizard(client, until=5)
    page = client.get("/report/step/6").get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*name=\"statement\"[^>]*>", page).group(0)
    assert "maxlength" not in textarea
    assert "At most 10,000 characters" in page


def test_a_statement_over_the_limit_is_refused_with_the_limit_and_kept_whole(client):
    fill_wizard(client, until=5)
    statement = "They asked me to sign. " * (200_000 // 23 + 1)
    response = post_step(client, 6, {"statement": statement})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"At most {STATEMENT_MAX_CHARS} characters; you wrote {len(statement)}." in page
    db.session.expire_all()
    draft = db.session.query(ReportDraft).one()
    assert draft.answers["evidence"]["statement"] == [statement]
    assert "evidence" not in draft.completed_steps
