"""Specification of local time conversion and the incident/discovery time checks."""

from datetime import UTC, datetime, timedelta

import pytest

from forms.validators import (
    InvalidInput,
    check_discovered_after,
    check_reported_time,
    parse_time_zone,
    to_utc,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_local_time_is_converted_to_aware_utc() -> None:
    assert to_utc(datetime(2026, 3, 5, 21, 0), "Asia/Shanghai") == datetime(2026, 3, 5, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "localtime", "Factory", "../../etc/passwd", "Asia/Shanghai\0"]
)
def test_unknown_time_zone_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="Unknown time zone"):
        to_utc(datetime(2026, 1, 1), name)


def test_time_zone_name_may_carry_surrounding_spaces() -> None:
    assert parse_time_zone(" Europe/London ").key == "Europe/London"


def test_an_aware_time_is_a_programming_error_not_the_victims() -> None:
    with pytest.raises(ValueError, match="naive") as error:
        to_utc(datetime(2026, 1, 1, tzinfo=UTC), "UTC")
    assert not isinstance(error.value, InvalidInput)


def test_time_skipped_by_spring_forward_is_read_with_the_offset_before_the_change() -> None:
    # 02:30 never happened in New York on 2024-03-10; it is read as 02:30 EST, which is 03:30 EDT.
    assert to_utc(datetime(2024, 3, 10, 2, 30), "America/New_York") == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("fold", [0, 1])
def test_time_repeated_by_fall_back_is_read_as_its_first_occurrence(fold: int) -> None:
    # 01:30 happened twice in New York on 2024-11-03: first in EDT (05:30 UTC), then in EST (06:30 UTC).
    local = datetime(2024, 11, 3, 1, 30, fold=fold)
    assert to_utc(local, "America/New_York") == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)


def test_time_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidInput, match="in the future"):
        check_reported_time(NOW + timedelta(hours=1), now=NOW)


def test_time_slightly_ahead_of_the_clock_is_accepted() -> None:
    check_reported_time(NOW + timedelta(minutes=14), now=NOW)


def test_a_time_read_in_the_wrong_time_zone_shows_up_as_future() -> None:
    # A victim in Shanghai whose form was left on America/New_York reports "now" twelve hours ahead.
    now_in_shanghai = datetime(2026, 3, 10, 20, 0)
    with pytest.raises(InvalidInput, match="time zone"):
        check_reported_time(to_utc(now_in_shanghai, "America/New_York"), now=NOW)


def test_time_before_any_cryptocurrency_existed_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Check the year"):
        check_reported_time(datetime(2008, 12, 31, tzinfo=UTC), now=NOW)


def test_current_time_is_used_when_none_is_given() -> None:
    check_reported_time(datetime.now(UTC))
    with pytest.raises(InvalidInput):
        check_reported_time(datetime.now(UTC) + timedelta(days=1))


def test_discovery_before_the_incident_is_refused() -> None:
    with pytest.raises(InvalidInput, match="earlier than the time it happened"):
        check_discovered_after(NOW, NOW - timedelta(minutes=1))


def test_discovery_at_or_after_the_incident_is_accepted() -> None:
    check_discovered_after(NOW, NOW)
    check_discovered_after(NOW, NOW + timedelta(days=3))
