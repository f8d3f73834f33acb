"""Each staff member's own settings page: the time zone the console shows times in, the language of the console and
of their e-mails, and SLA warnings one by one or in a daily digest; a bad zone is refused with a clear message and
changes nothing."""

from __future__ import annotations

import re

import pytest

from casework.extensions import db
from casework.models import Role, SlaWarnings, User
from casework.services import users
from tests.fixtures.factories import csrf_token

SETTINGS = "/staff/settings"


@pytest.fixture
def handler(make_user, login):
    user = make_user(Role.HANDLER)
    login(user)
    return user


def _save(client, **data):
    values = {"time_zone": "", "language": "", "sla_warnings": "email", **data}
    return client.post(SETTINGS, data={**values, "csrf_token": csrf_token(client, SETTINGS)})


def _stored(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_header_links_to_the_settings_page(client, handler):
    page = client.get("/staff/cases").get_data(as_text=True)
    assert f'href="{SETTINGS}"' in page


def test_a_new_account_reads_times_in_the_team_zone_and_gets_each_warning_by_mail(app, client, handler):
    app.config["STAFF_TIMEZONE"] = "Asia/Shanghai"
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "(Asia/Shanghai)" in page and re.search(r'<input checked[^>]*value="email"', page)
    assert handler.sla_warnings is SlaWarnings.EMAIL and handler.time_zone is None


def test_a_staff_member_saves_their_zone_language_and_the_digest(client, handler):
    response = _save(client, time_zone="Europe/Berlin", language="zh_Hans_CN", sla_warnings="digest")
    assert response.status_code == 302 and response.headers["Location"].endswith(SETTINGS)
    stored = _stored(handler)
    assert (stored.time_zone, stored.preferred_language, stored.sla_warnings) == (
        "Europe/Berlin", "zh_Hans_CN", SlaWarnings.DIGEST)
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "您的设置已保存。" in page  # the console follows the saved language at once
    assert "(Europe/Berlin)" in page and 'value="Europe/Berlin"' in page


def test_the_saved_language_is_the_consoles_in_a_new_session(client, handler, login):
    _save(client, language="zh_Hans_CN")
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, SETTINGS)})
    client.delete_cookie("session")
    login(handler)
    assert "您的设置" in client.get(SETTINGS).get_data(as_text=True)


def test_empty_fields_go_back_to_the_defaults(client, handler):
    _save(client, time_zone="Europe/Berlin", language="en", sla_warnings="digest")
    _save(client)
    stored = _stored(handler)
    assert (stored.time_zone, stored.preferred_language, stored.sla_warnings) == (None, None, SlaWarnings.EMAIL)


@pytest.mark.parametrize("zone", ["Asia/Shangai", "Mars/Olympus_Mons", "../../etc/passwd", "localtime", "UTC+8"])
def test_a_zone_that_is_not_in_the_zone_database_is_refused_with_a_message(client, handler, zone):
    _save(client, time_zone="Asia/Tokyo")
    response = _save(client, time_zone=zone, sla_warnings="digest")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "is not a time zone we know" in page and "field-error" in page
    stored = _stored(handler)
    assert stored.time_zone == "Asia/Tokyo" and stored.sla_warnings is SlaWarnings.EMAIL  # nothing changed


def test_an_unknown_language_or_delivery_is_refused(client, handler):
    assert _save(client, language="fr").status_code == 422
    response = _save(client, sla_warnings="pigeon")
    assert response.status_code == 422 and "Choose how you want to hear about SLA warnings." in response.get_data(
        as_text=True)
    assert _stored(handler).sla_warnings is SlaWarnings.EMAIL


def test_a_post_without_the_csrf_token_changes_nothing(client, handler):
    response = client.post(SETTINGS, data={"time_zone": "Europe/Berlin", "sla_warnings": "digest"})
    assert response.status_code == 400
    assert _stored(handler).time_zone is None


def test_the_service_refuses_an_unknown_zone_naming_the_field(app, make_user):
    user = make_user(Role.LEGAL)
    with pytest.raises(users.SettingsError) as refused:
        users.save_settings(user, time_zone="Europe/Berlinn", language="", sla_warnings="email")
    assert refused.value.field == "time_zone" and user.time_zone is None
