"""Time zones for staff: the zones one may choose, the zone a staff member reads times in (their own, else the
configured STAFF_TIMEZONE), and a moment written in a zone with the zone named. The database and the code keep
UTC; converting is for display only."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime

from flask import current_app

# In the system's zone database but not places: nobody lives in them.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@functools.cache
def available() -> frozenset[str]:
    """The IANA zones a staff member may choose."""
    return frozenset(zoneinfo.available_timezones() - _NOT_PLACES)


def is_known(name: str) -> bool:
    return name in available()


def zone_of(user: object | None) -> str:
    """The zone user reads times in: their own, else the configured default (also when theirs left the system's
    zone database). user may be None or anonymous."""
    name = getattr(user, "time_zone", None)
    return name if name and is_known(name) else current_app.config["STAFF_TIMEZONE"]


def in_zone(moment: datetime, zone: str) -> str:
    """An aware moment as local time with the zone written out: 2026-12-08 09:00 (Asia/Shanghai)."""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def written_in(moment: datetime, zone: str | None) -> str:
    """in_zone for a zone that may be missing or unknown (a victim's, as they chose it): UTC then."""
    return in_zone(moment, zone if zone and is_known(zone) else "UTC")
