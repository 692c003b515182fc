"""What the figure commands share: reading a date, showing one, the configured catalogue, a round's line."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date

from bot.context import Context
from storage import catalogue, figure_status
from storage.catalogue import Catalogue
from storage.errors import N_, InvalidInput
from storage.models import Round

DATE_LENGTH = 20
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def parse_day(text: str) -> date:
    """``2026-03-31``, or ``31/03/2026`` / ``31.03.2026`` when day and month cannot be confused."""
    text = text.strip()[:DATE_LENGTH]
    year = month = day = 0
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(text):
        first, second, year = (int(g) for g in match.groups())
        if first > 12 or first == second:
            day, month = first, second
        elif second > 12:
            month, day = first, second
        else:
            raise InvalidInput(
                N_("“{value}” could be read two ways: write the date as year-month-day, for example 2026-03-31."),
                value=text,
            )
    else:
        raise InvalidInput(N_("“{value}” is not a date: write it as 2026-03-31."), value=text)
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput(N_("“{value}” is not a date: write it as 2026-03-31."), value=text) from None


def day_text(ctx: Context, day: date | str) -> str:
    """A date in the reader's language, e.g. "31 mar 2026"."""
    return format_date(date.fromisoformat(day) if isinstance(day, str) else day, "medium", locale=ctx.language)


def catalogue_of(ctx: Context) -> Catalogue:
    return catalogue.cached(ctx.settings.figures.catalogue)


def round_line(ctx: Context, row: Round, progress: figure_status.RoundProgress) -> str:
    counts = progress.counts()
    state = ctx._("open") if row.is_open else ctx._("closed")
    return ctx._(
        "{period} · deadline {deadline} · {state} · {complete} complete, {partial} partial, {none} nothing"
    ).format(
        period=row.period,
        deadline=day_text(ctx, row.deadline),
        state=state,
        complete=counts["complete"],
        partial=counts["partial"],
        none=counts["none"],
    )
