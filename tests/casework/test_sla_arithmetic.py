"""SLA deadline arithmetic (casework.services.sla): around the clock, opening hours across both daylight-saving
changes, weekends, public holidays, China's make-up working Saturdays, custom closed dates, pauses (one spanning a
closed weekend, one still open) and a target changed mid-clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from casework.services.sla import Calendar, CalendarError, deadline, elapsed

BERLIN, SHANGHAI, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
BERLIN_OFFICE = Calendar.office("Europe/Berlin")
CHINA_OFFICE = Calendar.office("Asia/Shanghai", country="CN")
H = timedelta(hours=1)


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_around_the_clock_counts_nights_weekends_and_holidays():
    start = local(SHANGHAI, 2026, 2, 16, 23, 30)  # Chinese New Year's Eve, at night
    assert deadline(start, 4 * H, Calendar.always()) == start + 4 * H
    assert elapsed(start, start + 30 * H, Calendar.always()) == 30 * H


def test_a_deadline_over_the_spring_forward_weekend_keeps_local_opening_hours():
    # Friday 17:00 CET, two office hours: one on Friday, one on Monday (now CEST, UTC+2) from 09:00.
    start = local(BERLIN, 2026, 3, 27, 17, 0)
    due = deadline(start, 2 * H, BERLIN_OFFICE)
    assert due == local(BERLIN, 2026, 3, 30, 10, 0) == utc(2026, 3, 30, 8, 0)


def test_a_deadline_over_the_fall_back_weekend_keeps_local_opening_hours():
    start = local(BERLIN, 2026, 10, 23, 17, 0)  # CEST, UTC+2
    due = deadline(start, 2 * H, BERLIN_OFFICE)
    assert due == local(BERLIN, 2026, 10, 26, 10, 0) == utc(2026, 10, 26, 9, 0)


def test_new_york_changes_on_its_own_date():
    start = local(NEW_YORK, 2026, 3, 6, 17, 0)  # Friday, EST (UTC-5); clocks go forward on Sunday 8 March
    assert deadline(start, 2 * H, Calendar.office("America/New_York")) == utc(2026, 3, 9, 14, 0)


def test_each_boundary_is_converted_on_its_own_on_the_day_of_the_change():
    # Open 01:00-05:00 on the Sunday Berlin skips 02:00-03:00: three real hours, not four.
    night = Calendar.office("Europe/Berlin", hours=((time(1), time(5)),), days=(6,))
    sunday = local(BERLIN, 2026, 3, 29, 0, 0)
    assert elapsed(sunday, sunday + 24 * H, night) == 3 * H
    # On the Sunday clocks go back, 01:00-05:00 holds five real hours.
    autumn = local(BERLIN, 2026, 10, 25, 0, 0)
    assert elapsed(autumn, autumn + 26 * H, night) == 5 * H


def test_weekends_are_skipped_and_a_deadline_can_fall_exactly_at_closing():
    start = local(BERLIN, 2026, 6, 5, 9, 0)  # Friday
    assert deadline(start, 9 * H, BERLIN_OFFICE) == local(BERLIN, 2026, 6, 5, 18, 0)
    assert deadline(start, 10 * H, BERLIN_OFFICE) == local(BERLIN, 2026, 6, 8, 10, 0)
    assert elapsed(local(BERLIN, 2026, 6, 5, 17, 0), local(BERLIN, 2026, 6, 8, 10, 0), BERLIN_OFFICE) == 2 * H


def test_a_start_outside_opening_hours_counts_from_the_next_opening():
    start = local(BERLIN, 2026, 6, 6, 23, 0)  # Saturday night
    assert deadline(start, H, BERLIN_OFFICE) == local(BERLIN, 2026, 6, 8, 10, 0)


def test_chinese_new_year_holidays_are_closed():
    # Sunday 15 February 2026; 16-20 and 23 February are holidays or days off: the next working day is the 24th.
    start = local(SHANGHAI, 2026, 2, 15, 10, 0)
    assert deadline(start, H, CHINA_OFFICE) == local(SHANGHAI, 2026, 2, 24, 10, 0) == utc(2026, 2, 24, 2, 0)


def test_a_make_up_working_saturday_is_open():
    start = local(SHANGHAI, 2026, 2, 13, 17, 0)  # Friday; Saturday 14 February is a working day in China
    assert deadline(start, 3 * H, CHINA_OFFICE) == local(SHANGHAI, 2026, 2, 14, 11, 0)
    assert CHINA_OFFICE.hours_on(date(2026, 2, 28)) == ((time(9), time(18)),)
    assert BERLIN_OFFICE.hours_on(date(2026, 2, 28)) == ()


def test_subdivision_holidays_and_custom_closed_dates():
    bavaria = Calendar.office("Europe/Berlin", country="DE", subdivision="BY")
    berlin = Calendar.office("Europe/Berlin", country="DE", subdivision="BE", closed=[date(2026, 1, 7)])
    start = local(BERLIN, 2026, 1, 5, 17, 0)  # Monday; 6 January (Epiphany) is a holiday in Bavaria only
    assert deadline(start, 2 * H, bavaria) == local(BERLIN, 2026, 1, 7, 10, 0)
    assert deadline(start, 2 * H, berlin) == local(BERLIN, 2026, 1, 6, 10, 0)
    assert deadline(local(BERLIN, 2026, 1, 6, 17, 0), 2 * H, berlin) == local(BERLIN, 2026, 1, 8, 10, 0)


def test_a_pause_spanning_a_closed_weekend_adds_only_the_open_time_it_held():
    start = local(BERLIN, 2026, 6, 4, 16, 0)  # Thursday
    assert deadline(start, 4 * H, BERLIN_OFFICE) == local(BERLIN, 2026, 6, 5, 11, 0)
    pause = (local(BERLIN, 2026, 6, 4, 17, 0), local(BERLIN, 2026, 6, 8, 11, 0))  # awaiting the victim until Monday
    assert deadline(start, 4 * H, BERLIN_OFFICE, [pause]) == local(BERLIN, 2026, 6, 8, 14, 0)
    assert elapsed(start, local(BERLIN, 2026, 6, 8, 12, 0), BERLIN_OFFICE, [pause]) == 2 * H


def test_a_pause_that_has_not_ended_holds_the_clock():
    start = utc(2026, 6, 4, 8, 0)
    assert deadline(start, 4 * H, Calendar.always(), [(start + H, None)]) is None
    assert deadline(start, 30 * H, BERLIN_OFFICE, [(start + H, None)]) is None
    assert elapsed(start, start + 10 * H, Calendar.always(), [(start + H, None)]) == H


def test_a_changed_target_is_counted_from_the_original_start_with_the_same_pauses():
    start = local(BERLIN, 2026, 6, 1, 9, 0)  # Monday
    pause = (local(BERLIN, 2026, 6, 1, 12, 0), local(BERLIN, 2026, 6, 2, 9, 0))
    normal = deadline(start, 16 * H, BERLIN_OFFICE, [pause])
    raised = deadline(start, 8 * H, BERLIN_OFFICE, [pause])
    assert raised == local(BERLIN, 2026, 6, 2, 14, 0)  # 3 hours on Monday, then 5 on Tuesday
    assert normal == local(BERLIN, 2026, 6, 3, 13, 0)
    assert raised < normal


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 6, 1, 9, 0), H, BERLIN_OFFICE)
    with pytest.raises(ValueError, match="negative"):
        deadline(utc(2026, 6, 1), -H, BERLIN_OFFICE)
    assert deadline(utc(2026, 6, 1), timedelta(0), BERLIN_OFFICE) == utc(2026, 6, 1)
    with pytest.raises(CalendarError, match="no opening hours"):
        deadline(utc(2026, 6, 1), H, Calendar(timezone="Europe/Berlin"))
    with pytest.raises(CalendarError, match="before it opens"):
        Calendar.office("Europe/Berlin", hours=((time(18), time(9)),))
    with pytest.raises(ZoneInfoNotFoundError):
        Calendar.office("Mars/Olympus_Mons")


def test_a_day_open_until_midnight():
    late = Calendar.office("Asia/Shanghai", hours=((time(20), time(0)),), days=range(7))
    start = local(SHANGHAI, 2026, 6, 1, 23, 0)
    assert deadline(start, 2 * H, late) == local(SHANGHAI, 2026, 6, 2, 21, 0)
