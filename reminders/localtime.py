"""A member's own clock: their zone, and "09:00 on that day where they are", kept off weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import Member

SATURDAY = 5


@cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_of(member: Member) -> ZoneInfo:
    """Their own zone, else their state's capital's, else UTC."""
    if member.timezone:
        return zone(member.timezone)
    if member.state is not None:
        return zone(member.state.default_timezone)
    return zone("UTC")


def weekday_before(day: date) -> date:
    """The day itself, or the Friday before when it is a Saturday or a Sunday."""
    return day - timedelta(days=max(0, day.weekday() - SATURDAY + 1)) if day.weekday() >= SATURDAY else day


def at_local(day: date, hour: int, where: ZoneInfo) -> datetime:
    """``hour``:00 on ``day`` in ``where``, in UTC (a non-existent local hour moves forward with the clock)."""
    return datetime.combine(day, time(hour), tzinfo=where).astimezone(UTC)


def next_weekday_hour(after: datetime, hour: int, where: ZoneInfo, weekday: int | None = None) -> datetime:
    """The first ``hour``:00 local after ``after``: on a weekday (Monday–Friday), or on ``weekday`` if given."""
    day = after.astimezone(where).date()
    for _ in range(15):
        ok = day.weekday() == weekday if weekday is not None else day.weekday() < SATURDAY
        moment = at_local(day, hour, where)
        if ok and moment > after:
            return moment
        day += timedelta(days=1)
    raise AssertionError("no such day within two weeks")  # pragma: no cover - unreachable
