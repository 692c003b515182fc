"""``/export figures [year] [csv|xlsx]``: the Secretariat takes the figures of a round (or of every round)
as a file. /export itself lives in handlers/entries.py and hands its ``figures`` form over to here."""

from __future__ import annotations

import asyncio

from bot.context import Context
from bot.transports.base import Attachment
from handlers.common import when
from handlers.figure_common import catalogue_of
from storage import figure_export, figures
from storage.errors import N_, InvalidInput, NotFound
from storage.types import utcnow

FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
USAGE = N_("Usage: /export figures [year] [csv|xlsx]")


async def export_figures(ctx: Context, words: list[str]) -> None:
    kind = "csv"
    period: str | None = None
    for word in words:
        if word.lower().lstrip(".") in FORMATS:
            kind = word.lower().lstrip(".")
        elif period is None and any(ch.isdigit() for ch in word):  # a period names a year: 2025, 2025-s1
            period = word
        else:
            raise InvalidInput(USAGE)
    rows = [await figures.get_round(ctx.session, period)] if period else await figures.all_rounds(ctx.session)
    if not rows:
        raise NotFound(N_("There are no reporting rounds yet. Open one with /round open 2025 deadline 2026-03-31."))
    found = await figure_export.sheets(ctx.session, ctx.as_actor, catalogue_of(ctx), rows)
    # a workbook is CPU work (about 0.3 s a round): built in a worker thread, off the event loop
    data = figure_export.to_csv(found) if kind == "csv" else await asyncio.to_thread(figure_export.to_xlsx, found)
    name = f"pocnet-figures-{period or 'all'}-{utcnow():%Y-%m-%d}.{kind}"
    ctx.reply(
        ctx._("The figures of {rounds} as of {date}.").format(
            rounds=", ".join(r.period for r in rows), date=when(ctx, utcnow())
        ),
        attachment=Attachment(name, data, FORMATS[kind]),
    )
