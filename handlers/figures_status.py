"""/status: where reporting stands.

- The Secretariat: for each open round (or the one named), which states have reported everything, which
  part of it, which nothing yet; ``/status chart [year]`` sends the same as a picture.
- A contact or official: what their state still owes in the open rounds, as a ``/report`` line ready to
  fill in (``/report 2025 jit= conv_art5= …``).

Who sees what is decided in storage.figure_status (the network's view is the Secretariat's).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.charts import ChartTexts, status_png
from bot.commands import command
from bot.context import Context
from bot.i18n import Translator
from bot.transports.base import Attachment, Incoming
from handlers.figure_common import day_text, round_line
from storage import figure_status, figures, states
from storage.access import Actor
from storage.errors import N_, InvalidInput, NotFound
from storage.figure_status import RoundProgress, StateProgress
from storage.models import Round, State
from storage.text import fold

CHART_WORDS = {"chart", "grafico", "graphique", "grafique"}
USAGE = N_("Usage: /status [year], or /status chart [year]")


@command(
    "status", help=N_("Who has reported the figures of a round"), usage=N_("[chart] [year]"), aliases=("estado", "etat")
)
async def status(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split()
    if words and fold(words[0]) in CHART_WORDS:
        await _chart(ctx, words[1:])
        return
    if len(words) > 1:
        raise InvalidInput(USAGE)
    rows = [await figures.get_round(ctx.session, words[0])] if words else await figures.open_rounds(ctx.session)
    if not rows:
        raise NotFound(N_("There is no open reporting round."))
    if ctx.as_actor.is_secretariat:
        parts = [_network(ctx, row, await figure_status.progress(ctx.session, ctx.as_actor, row)) for row in rows]
    else:
        parts = [await _own(ctx, row) for row in rows]
    ctx.reply("\n\n".join(parts))


def _network(ctx: Context, row: Round, progress: RoundProgress) -> str:
    lines = [round_line(ctx, row, progress)]
    complete, partial, none = (progress.with_status(s) for s in figure_status.STATUSES)
    if complete:
        lines.append(ctx._("Complete ({count}): {states}").format(count=len(complete), states=_codes(complete)))
    if partial:
        listed = ", ".join(f"{s.state} {s.reported}/{s.total}" for s in partial)
        lines.append(ctx._("Partial ({count}): {states}").format(count=len(partial), states=listed))
    if none:
        lines.append(ctx._("Nothing yet ({count}): {states}").format(count=len(none), states=_codes(none)))
    return "\n".join(lines)


def _codes(states: list[StateProgress]) -> str:
    return ", ".join(s.state for s in states)


async def _own(ctx: Context, row: Round) -> str:
    code = ctx.who.state_code or ""
    progress = await figure_status.owed_by(ctx.session, ctx.as_actor, row, code)
    state = (await states.get(ctx.session, code)).name(ctx.language)
    if progress is None:
        return ctx._("The round for {period} does not ask figures of {state}.").format(period=row.period, state=state)
    if not progress.owed:
        return ctx._("{state} has reported all {total} figures for {period}. Thank you.").format(
            state=state, total=progress.total, period=row.period
        )
    head = ctx._("{state} still owes {count} of {total} figures for {period} (deadline {deadline}):").format(
        state=state,
        count=len(progress.owed),
        total=progress.total,
        period=row.period,
        deadline=day_text(ctx, row.deadline),
    )
    line = f"/report {row.period} " + " ".join(f"{code}=" for code in progress.owed)
    return "\n".join([head, line, ctx._("Fill in each figure after its = and send the line.")])


# --- the chart ------------------------------------------------------------------------------------------


async def chart_png(session: AsyncSession, actor: Actor, row: Round, tr: Translator, now: datetime) -> bytes:
    """The round's status chart in ``tr``'s language (rendered in a thread: it is CPU work)."""
    progress = await figure_status.progress(session, actor, row)
    language = tr.language
    names = {s.code: s.name(language) for s in await session.scalars(select(State))}
    counts = progress.counts()
    legend = {
        "complete": tr.gettext("Complete ({count})").format(count=counts["complete"]),
        "partial": tr.gettext("Partial ({count})").format(count=counts["partial"]),
        "none": tr.gettext("Nothing yet ({count})").format(count=counts["none"]),
    }
    deadline = format_date(row.deadline, "medium", locale=language)
    subtitle = (
        tr.gettext("Deadline {deadline} · open · as of {date}")
        if row.is_open
        else tr.gettext("Deadline {deadline} · closed · as of {date}")
    ).format(deadline=deadline, date=format_date(now.date(), "medium", locale=language))
    texts = ChartTexts(
        title=tr.gettext("Reporting round {period}: figures by state").format(period=row.period),
        subtitle=subtitle,
        axis=tr.gettext("Share of the round's indicators reported"),
        legend=legend,
    )
    return await asyncio.to_thread(status_png, progress, names, texts)


async def _chart(ctx: Context, words: list[str]) -> None:
    if len(words) > 1:
        raise InvalidInput(USAGE)
    if words:
        row = await figures.get_round(ctx.session, words[0])
    else:
        rows = await figures.open_rounds(ctx.session) or (await figures.all_rounds(ctx.session))[-1:]
        if not rows:
            raise NotFound(N_("There are no reporting rounds yet. Open one with /round open 2025 deadline 2026-03-31."))
        row = rows[0]
    png = await chart_png(ctx.session, ctx.as_actor, row, ctx.translator, ctx.now())
    ctx.reply(
        ctx._("Reporting round {period}: figures by state").format(period=row.period),
        attachment=Attachment(f"pocnet-status-{row.period}.png", png, "image/png", picture=True),
    )
