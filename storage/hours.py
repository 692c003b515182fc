"""Office hours: ``"mon-fri 09:00-17:00"`` (day names in any of the four languages, from the CLDR).

Stored in the canonical English form; shown in the reader's language. Local time and "in office hours"
are computed in the person's own IANA time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from storage.errors import N_, InvalidInput
from storage.text import fold

_CANONICAL = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS: dict[str, int] = {}
for _lang in ("en", "es", "pt", "fr"):
    for _width in ("abbreviated", "wide"):
        for _index, _name in get_day_names(_width, locale=_lang).items():
            _DAYS[fold(_name)] = _index
            _DAYS[fold(_name)[:3]] = _index
_RANGE = re.compile(r"(\d{1,2})(?:[:h.](\d{2}))?\s*h?\s*-\s*(\d{1,2})(?:[:h.](\d{2}))?\s*h?\s*$")

BAD_HOURS = N_("Office hours look like “Mon-Fri 09:00-17:00”.")
MAX_LENGTH = 100  # "lundi,mardi,mercredi,jeudi,vendredi 09h00 - 17h00" is 50; checked before any pattern


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    def canonical(self) -> str:
        return f"{_days_text(self.days, list(_CANONICAL))} {self.start:%H:%M}-{self.end:%H:%M}"

    def shown(self, language: str) -> str:
        return f"{_days_text(self.days, _short_days(language))} {self.start:%H:%M}–{self.end:%H:%M}"

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        return local.weekday() in self.days and self.start <= local.time().replace(tzinfo=None) < self.end


@cache
def _short_days(language: str) -> list[str]:
    return [get_day_names("abbreviated", locale=language)[i].rstrip(".") for i in range(7)]


def _days_text(days: frozenset[int], names: list[str]) -> str:
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{names[ordered[0]]}-{names[ordered[-1]]}"
    return ",".join(names[d] for d in ordered)


def _day(token: str) -> int:
    token = fold(token)
    for key in (token, token[:3]):
        if key in _DAYS:
            return _DAYS[key]
    raise InvalidInput(BAD_HOURS)


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            first, last = (_day(p) for p in part.split("-", 1))
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            days.update(span)
        elif part.strip():
            days.add(_day(part))
    if not days:
        raise InvalidInput(BAD_HOURS)
    return frozenset(days)


def parse(text: str) -> OfficeHours:
    """Parse what a person typed; Monday to Friday when no days are given."""
    if len(text) > MAX_LENGTH:
        raise InvalidInput(BAD_HOURS)
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse(text: str) -> OfficeHours:
    cleaned = text.strip().lower().replace("–", "-").replace("—", "-")
    match = _RANGE.search(cleaned)
    if not match:
        raise InvalidInput(BAD_HOURS)
    h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
    if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60):
        raise InvalidInput(BAD_HOURS)
    start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise InvalidInput(BAD_HOURS)
    day_text = cleaned[: match.start()].strip()
    days = _parse_days(day_text) if day_text else frozenset(range(5))
    return OfficeHours(days, start, end)


def working_deadline(start: datetime, duration: timedelta, office_hours: str | None, zone: ZoneInfo) -> datetime:
    """When ``duration`` of working time after ``start`` has passed, counting only office hours in
    ``zone`` (every hour when the hours are not given or cover the whole week, "24/7")."""
    if not office_hours:
        return start + duration
    office = parse(office_hours)
    if len(office.days) == 7 and office.start == time(0, 0) and office.end >= time(23, 59):
        return start + duration
    left = duration
    local = start.astimezone(zone)
    day = local.date()
    for _ in range(400):  # at most about a year of days: a deadline is hours or days away
        if day.weekday() in office.days:
            opens = datetime.combine(day, office.start, zone)
            closes = datetime.combine(day, office.end, zone)
            if office.end == time(23, 59):
                closes += timedelta(minutes=1)
            begin = max(opens, local)
            if begin < closes:
                if closes - begin >= left:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
        day += timedelta(days=1)
    return start + duration
