"""/round: the Secretariat opens, closes and moves the deadline of reporting rounds, or lists them.

    /round                                   every round: deadline, open or closed, states complete/partial/none
    /round open 2025 deadline 2026-03-31     every indicator of the catalogue, every member state
    /round open 2025 deadline 2026-03-31 indicators mla,extradition states MX,CO
    /round close 2025                        asks yes / no first
    /round deadline 2025 2026-04-30

Dates are ISO (2026-03-31), or day/month/year when that cannot be misread (31/03/2026). Every change is
audited by storage.figures.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.commands import command
from bot.context import Context
from bot.dialogs import on_confirm
from bot.transports.base import Incoming
from handlers.figure_common import catalogue_of, day_text, parse_day, round_line
from storage import figure_status, figures
from storage.access import Role
from storage.errors import N_, InvalidInput
from storage.text import fold

USAGE = N_(
    "Usage: /round · /round open <year> deadline <date> [indicators mla,jit] [states MX,CO] · "
    "/round close <year> · /round deadline <year> <date>"
)
# The action and keyword words in the four languages, folded.
OPEN = {"open", "abrir", "ouvrir"}
CLOSE = {"close", "cerrar", "fechar", "fermer"}
DEADLINE = {"deadline", "plazo", "prazo", "echeance", "date", "fecha", "data"}
INDICATORS = {"indicators", "indicadores", "indicateurs"}
STATES = {"states", "estados", "etats"}


def _codes(word: str) -> list[str]:
    return [w.strip() for w in word.split(",") if w.strip()]


@command(
    "round",
    help=N_("Open, close or list reporting rounds"),
    usage=N_("[open <year> deadline <date> | close <year> | deadline <year> <date>]"),
    roles={Role.SECRETARIAT},
    aliases=("ronda", "rodada", "cycle"),
)
async def round_(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split()
    if not words:
        await _list(ctx)
        return
    action = fold(words[0])
    if action in OPEN:
        await _open(ctx, words[1:])
    elif action in CLOSE and len(words) == 2:
        row = await figures.get_round(ctx.session, words[1])
        if not row.is_open:
            raise InvalidInput(N_("The round for {period} is closed."), period=row.period)
        owing = sum(1 for codes in (await figures.owed(ctx.session, row)).values() if codes)
        question = ctx._("Close the round for {period}? No figures can be reported in it afterwards.").format(
            period=row.period
        )
        if owing:
            question += " " + ctx.ngettext(
                "{count} state has not reported everything.", "{count} states have not reported everything.", owing
            ).format(count=owing)
        await ctx.confirm(question, "round.close", {"period": row.period})
    elif action in DEADLINE and len(words) == 3:
        row = await figures.get_round(ctx.session, words[1])
        await figures.move_deadline(ctx.session, ctx.as_actor, row, parse_day(words[2]))
        ctx.reply(
            ctx._("The deadline of the round for {period} is now {deadline}.").format(
                period=row.period, deadline=day_text(ctx, row.deadline)
            )
        )
    else:
        raise InvalidInput(USAGE)


async def _open(ctx: Context, words: list[str]) -> None:
    if not words:
        raise InvalidInput(USAGE)
    period, rest = words[0], words[1:]
    deadline: date | None = None
    indicators: list[str] | None = None
    states: list[str] | None = None
    while rest:
        word = fold(rest[0])
        if word in DEADLINE and len(rest) > 1:
            deadline, rest = parse_day(rest[1]), rest[2:]
        elif word in INDICATORS and len(rest) > 1:
            indicators, rest = _codes(rest[1].lower()), rest[2:]
        elif word in STATES and len(rest) > 1:
            states, rest = _codes(rest[1].upper()), rest[2:]
        elif deadline is None:
            deadline, rest = parse_day(rest[0]), rest[1:]
        else:
            raise InvalidInput(USAGE)
    if deadline is None:
        raise InvalidInput(N_("When is the deadline? For example: /round open {period} deadline 2026-03-31"),
                           period=period[:16])  # fmt: skip
    if deadline < ctx.now().date():
        raise InvalidInput(N_("The deadline {deadline} has already passed."), deadline=deadline.isoformat())
    row = await figures.open_round(
        ctx.session, ctx.as_actor, catalogue_of(ctx), period, deadline, indicators=indicators, states=states
    )
    asked = len(await figures.audience(ctx.session, row))
    ctx.reply(
        ctx._(
            "The round for {period} is open: {indicators} indicators, {states} states, deadline {deadline}. "
            "Members report with /report {period}; /status shows who has."
        ).format(period=row.period, indicators=len(row.indicators), states=asked, deadline=day_text(ctx, row.deadline))
    )


@on_confirm("round.close")
async def close_confirmed(msg: Incoming, ctx: Context, payload: dict[str, Any]) -> None:
    row = await figures.get_round(ctx.session, str(payload["period"]))
    await figures.close_round(ctx.session, ctx.as_actor, row)
    ctx.reply(ctx._("The round for {period} is closed.").format(period=row.period))


async def _list(ctx: Context) -> None:
    rows = await figures.all_rounds(ctx.session)
    if not rows:
        ctx.reply(ctx._("There are no reporting rounds yet. Open one with /round open 2025 deadline 2026-03-31."))
        return
    lines = [ctx._("Reporting rounds:")]
    for row in rows:
        lines.append(round_line(ctx, row, await figure_status.progress(ctx.session, ctx.as_actor, row)))
    ctx.reply("\n".join(lines))
