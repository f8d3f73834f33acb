"""Times shown to staff in their own zone, the zone written out and UTC kept in the title: the case page's SLA
clocks and the queue's nearest SLA deadline (due in, overdue by), across a daylight-saving change; staff without a
zone of their own read the configured STAFF_TIMEZONE. The database keeps UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from casework import timezones
from casework.extensions import db
from casework.models import Role, SlaMetric
from tests.fixtures.sla import clock

H = timedelta(hours=1)
# Saturday 22:00 in Berlin (summer time, UTC+2); Berlin's clocks go back at 03:00 on Sunday 25 October 2026.
BEFORE_THE_CHANGE = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)


def test_a_moment_is_written_in_the_zone_with_its_name_across_the_october_change():
    assert timezones.in_zone(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Berlin") == \
        "2026-10-25 02:30 (Europe/Berlin)"  # summer time, UTC+2
    assert timezones.in_zone(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Berlin") == \
        "2026-10-25 02:30 (Europe/Berlin)"  # the same wall time again, now UTC+1
    assert timezones.in_zone(datetime(2026, 12, 8, 1, 0, tzinfo=UTC), "Asia/Shanghai") == \
        "2026-12-08 09:00 (Asia/Shanghai)"


def test_without_a_zone_of_their_own_staff_read_the_configured_one(app, make_user):
    user = make_user(Role.HANDLER)
    app.config["STAFF_TIMEZONE"] = "Asia/Shanghai"
    assert timezones.zone_of(user) == "Asia/Shanghai" and timezones.zone_of(None) == "Asia/Shanghai"
    user.time_zone = "Europe/Berlin"
    assert timezones.zone_of(user) == "Europe/Berlin"
    user.time_zone = "Atlantis/Lost"  # a zone the system's database no longer has
    assert timezones.zone_of(user) == "Asia/Shanghai"


@pytest.fixture
def berliner(make_user, login):
    user = make_user(Role.HANDLER)
    user.time_zone = "Europe/Berlin"
    db.session.commit()
    login(user)
    return user


def _clocks_section(client, reference: str) -> str:
    html = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    start = html.index('id="clocks"')
    return html[start:html.index("</section>", start)]


def test_the_case_page_shows_each_deadline_in_the_readers_zone_on_both_sides_of_the_change(client, file_at,
                                                                                            berliner):
    case = file_at(BEFORE_THE_CHANGE)
    # Triage: four hours, due 00:00 UTC (02:00 summer time); evidence: eight hours, due 04:00 UTC (05:00 winter time).
    assert clock(case, SlaMetric.TRIAGE).due_at == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    section = _clocks_section(client, case.reference)
    assert 'title="2026-10-25 00:00 UTC">2026-10-25 02:00 (Europe/Berlin)</time>' in section
    assert 'title="2026-10-25 04:00 UTC">2026-10-25 05:00 (Europe/Berlin)</time>' in section


def test_another_reader_sees_the_same_deadline_in_their_own_zone(app, client, file_at, make_user, login):
    app.config["STAFF_TIMEZONE"] = "Asia/Shanghai"
    case = file_at(BEFORE_THE_CHANGE)
    login(make_user(Role.LEGAL))
    section = _clocks_section(client, case.reference)
    assert 'title="2026-10-25 00:00 UTC">2026-10-25 08:00 (Asia/Shanghai)</time>' in section


def test_the_queue_shows_the_nearest_sla_deadline_as_due_in_or_overdue_by(client, file_at, berliner):
    late = file_at(BEFORE_THE_CHANGE)
    fresh = file_at(datetime.now(UTC))
    page = client.get("/staff/cases?sort=deadline").get_data(as_text=True)
    rows = {reference: page[page.index(f">{reference}</a>"):] for reference in (late.reference, fresh.reference)}
    late_cell = re.search(r'<td class="sla-due">(.*?)</td>', rows[late.reference], re.S).group(1)
    assert 'class="clock-overdue">overdue by ' in late_cell
    assert 'title="2026-10-25 00:00 UTC">2026-10-25 02:00 (Europe/Berlin)</time>' in late_cell
    fresh_cell = re.search(r'<td class="sla-due">(.*?)</td>', rows[fresh.reference], re.S).group(1)
    assert re.search(r'class="clock-running">due in 3 h 5\d min</span>', fresh_cell)  # triage: four hours
    assert "(Europe/Berlin)</time>" in fresh_cell
    assert page.index(f">{late.reference}</a>") < page.index(f">{fresh.reference}</a>")  # nearest first


def test_a_case_without_a_running_clock_shows_no_deadline(client, file_at, berliner):
    case = file_at(BEFORE_THE_CHANGE)
    case.next_due_at = None  # as when every clock is paused, fulfilled or stopped
    db.session.commit()
    page = client.get("/staff/cases").get_data(as_text=True)
    row = page[page.index(f">{case.reference}</a>"):]
    assert re.search(r'<td class="sla-due">(.*?)</td>', row, re.S).group(1) == "—"
