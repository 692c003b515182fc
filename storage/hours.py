"""Office hours: ``"mon-fri 09:00-17:00"`` (day names in any of the four languages, from the CLDR).

Stored in the canonical English form; shown in the reader's language. Local time and "in office hours"
are computed in the person's own IANA time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
_ROUND_THE_CLOCK = {"24/7", "24x7", "24/7/365", "24h/7", "24h/7d"}  # blanks aside
ALWAYS = "24/7"

BAD_HOURS = N_("Office hours look like “Mon-Fri 09:00-17:00”, “Mon 9-17, Tue 10-12”, “Mon-Fri 17:00-09:00” or “24/7”.")
NO_TIMES = N_(
    "I cannot find the times in “{part}”. Office hours look like “Mon-Fri 09:00-17:00”, “Mon 9-17, Tue 10-12”, “Mon-Fri 17:00-09:00” or “24/7”."
)
NOT_A_DAY = N_(
    "“{day}” is not a day of the week. Office hours look like “Mon-Fri 09:00-17:00”, “Mon 9-17, Tue 10-12”, “Mon-Fri 17:00-09:00” or “24/7”."
)
NOT_A_TIME = N_("“{part}” has a time that does not exist: hours run from 00:00 to 24:00.")
NO_LENGTH = N_("“{part}” starts and ends at the same time. For round-the-clock service write “24/7”.")
MAX_LENGTH = 100  # "lundi,mardi,mercredi,jeudi,vendredi 09h00 - 17h00" is 50; checked before any pattern


def _bad(message: str, **params: str) -> InvalidInput:
    return InvalidInput(message, **params)


@dataclass(frozen=True)
class Span:
    """Open on ``days`` from ``start`` to ``end``; an ``end`` not after ``start`` is on the next day (a night
    shift: ``mon-fri 17:00-09:00`` is open from Monday 17:00 to Tuesday 09:00…)."""

    days: frozenset[int]  # 0 = Monday: the days the span starts on
    start: time
    end: time  # time(23, 59) stands for 24:00

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def text(self, names: list[str], dash: str) -> str:
        end = "24:00" if self.end == time(23, 59) else f"{self.end:%H:%M}"
        return f"{_days_text(self.days, names)} {self.start:%H:%M}{dash}{end}"

    def is_open(self, local: datetime) -> bool:
        now = local.time().replace(tzinfo=None)
        if not self.overnight:
            return local.weekday() in self.days and self.start <= now < self.end
        return (local.weekday() in self.days and now >= self.start) or (
            (local.weekday() - 1) % 7 in self.days and now < self.end
        )

    def intervals(self, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        if day.weekday() not in self.days:
            return []
        opens = datetime.combine(day, self.start, zone)
        closes = datetime.combine(day + timedelta(days=1) if self.overnight else day, self.end, zone)
        if self.end == time(23, 59):
            closes += timedelta(minutes=1)
        return [(opens, closes)]


@dataclass(frozen=True)
class OfficeHours:
    spans: tuple[Span, ...]  # empty: round the clock ("24/7")

    @property
    def always(self) -> bool:
        return not self.spans

    def canonical(self) -> str:
        return ALWAYS if self.always else ", ".join(s.text(list(_CANONICAL), "-") for s in self.spans)

    def shown(self, language: str) -> str:
        return ALWAYS if self.always else ", ".join(s.text(_short_days(language), "–") for s in self.spans)

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        return self.always or any(s.is_open(local) for s in self.spans)


@cache
def _short_days(language: str) -> list[str]:
    return [get_day_names("abbreviated", locale=language)[i].rstrip(".") for i in range(7)]


def _days_text(days: frozenset[int], names: list[str]) -> str:
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{names[ordered[0]]}-{names[ordered[-1]]}"
    return ",".join(names[d] for d in ordered)


def _day(token: str) -> int:
    folded = fold(token)
    for key in (folded, folded[:3]):
        if key in _DAYS:
            return _DAYS[key]
    raise _bad(NOT_A_DAY, day=token.strip()[:20])


def _parse_days(parts: list[str]) -> frozenset[int]:
    days: set[int] = set()
    for part in parts:
        if "-" in part:
            first, last = (_day(p) for p in part.split("-", 1))
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            days.update(span)
        elif part.strip():
            days.add(_day(part))
    return frozenset(days)


def parse(text: str) -> OfficeHours:
    """Parse what a person typed; Monday to Friday when no days are given. Several spans are separated by
    commas (``mon 9-17, tue 10-12``); a span without days has the days of the one before (``mon-fri 9-12,
    14-18``)."""
    if len(text) > MAX_LENGTH:
        raise InvalidInput(BAD_HOURS)
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse(text: str) -> OfficeHours:
    cleaned = text.strip().lower().replace("–", "-").replace("—", "-")
    if "".join(cleaned.split()) in _ROUND_THE_CLOCK:
        return OfficeHours(())
    if not cleaned:
        raise InvalidInput(BAD_HOURS)
    spans: list[Span] = []
    pending: list[str] = []  # day names before the part that has the times ("lun., mer., ven. 10-12")
    days = frozenset(range(5))
    for part in re.split(r"[,;]", cleaned):
        match = _RANGE.search(part)
        if not match:
            pending.append(part)
            continue
        h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
        if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60) or (h2 == 24 and m2):
            raise _bad(NOT_A_TIME, part=part.strip()[:40])
        start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
        if end == start:
            raise _bad(NO_LENGTH, part=part.strip()[:40])
        named = _parse_days([*pending, part[: match.start()]])
        if named:
            days = named
        pending = []
        spans.append(Span(days, start, end))
    if (pending and any(p.strip() for p in pending)) or not spans:
        raise _bad(NO_TIMES, part=(",".join(pending) or cleaned).strip()[:40])
    whole = Span(frozenset(range(7)), time(0, 0), time(23, 59))
    if spans == [whole]:  # "mon-sun 00:00-24:00"
        return OfficeHours(())
    return OfficeHours(tuple(spans))


def working_deadline(start: datetime, duration: timedelta, office_hours: str | None, zone: ZoneInfo) -> datetime:
    """When ``duration`` of working time after ``start`` has passed, counting only office hours in
    ``zone`` (every hour when the hours are not given or are round the clock, "24/7"). Night shifts count
    across midnight."""
    if not office_hours:
        return start + duration
    office = parse(office_hours)
    if office.always:
        return start + duration
    left = duration
    local = start.astimezone(zone)
    cursor = local
    day = local.date() - timedelta(days=1)  # a night shift begun yesterday may still be open
    for _ in range(400):  # at most about a year of days: a deadline is hours or days away
        for opens, closes in sorted(i for s in office.spans for i in s.intervals(day, zone)):
            begin = max(opens, cursor)
            if begin < closes:
                if closes - begin >= left:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
                cursor = closes
        day += timedelta(days=1)
    return start + duration
