"""Absolute links come from CASEWORK_PUBLIC_URL, never from the Host header a client sends."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casework.config import ConfigError, read_environment
from casework.extensions import db
from casework.models import Notification
from casework.services import thread
from tests.casework.test_report_wizard import fill_wizard, submit

PUBLIC = "https://casework.example.org"
FORGED = "evil.example"


@pytest.fixture
def forging_client(client, app):
    app.config["PUBLIC_URL"] = PUBLIC
    client.environ_base["HTTP_HOST"] = FORGED
    return client


def test_links_in_e_mails_and_pages_ignore_a_forged_host_header(forging_client, app):
    client = forging_client
    fill_wizard(client)
    saved = client.get("/report/saved").get_data(as_text=True)
    assert f"{PUBLIC}/report/resume/" in saved and FORGED not in saved
    assert submit(client).status_code == 302
    done = client.get("/report/done").get_data(as_text=True)
    link = re.search(r'id="tracking-link" href="([^"]+)"', done).group(1)
    assert link.startswith(f"{PUBLIC}/track/") and FORGED not in done
    bodies = db.session.scalars(select(Notification.body_text)).all()
    assert len(bodies) == 2  # the resume link, then the confirmation
    assert all(PUBLIC in body and FORGED not in body for body in bodies)


def test_the_reply_notification_links_the_configured_portal(app, make_case, make_user):
    app.config["PUBLIC_URL"] = PUBLIC
    filed = make_case()
    handler = make_user()
    with app.test_request_context("/", headers={"Host": FORGED}):
        thread.reply_to_victim(handler, filed.case, "Please send the screenshot of the chat.")
        db.session.commit()
    body = db.session.scalars(select(Notification.body_text)).one()
    assert f"{PUBLIC}/track" in body and FORGED not in body


@pytest.mark.parametrize("value", ["casework.example.org", "ftp://casework.example.org", "https://x.example/?a=1"])
def test_a_public_url_that_is_not_an_address_stops_start_up(value):
    with pytest.raises(ConfigError, match="CASEWORK_PUBLIC_URL"):
        read_environment({"CASEWORK_PUBLIC_URL": value})


def test_the_public_url_is_kept_without_its_trailing_slash():
    assert read_environment({"CASEWORK_PUBLIC_URL": " https://casework.example.org/ "}) == {"PUBLIC_URL": PUBLIC}
