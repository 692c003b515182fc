"""Figures by message: /report and /myreport.

    /report 2025 mla=14 extradition=3 conv_tip=12 sentences:"3-15y"   (storage/figure_entry.py reads it)
    /report extradiciones=3, "trata de personas"=4 est                 (the only open round)
    /report MX 2025 mla=3                                              (the Secretariat, for Mexico)
    /report  |  /report 2025                                           (guided, one indicator at a time)
    /report discard                                                    (the guided entry's draft)
    /myreport [state] [period]                                         (current figures and their history)

Every report is checked (storage/figure_checks.py), read back in the member's language and stored only
on "yes"; a figure that changed a lot since the previous round, or breaks a catalogue relation, is kept
only with a comment that explains it. Members report for their own state; the Secretariat for any
(marked "on behalf"): storage.access.Actor decides.
"""

from __future__ import annotations

from bot.commands import MESSAGE_LIMIT, command
from bot.context import Context
from bot.transports.base import Incoming
from handlers.common import when
from handlers.figures_guided import begin, offer, resume
from handlers.figures_readback import (
    catalogue_of,
    check_and_read_back,
    ensure_reportable,
    figure_text,
    refuse,
    state_name,
)
from storage import figure_checks, figure_drafts, figures
from storage.errors import N_, AccessDenied, InvalidInput
from storage.figure_entry import Report, parse
from storage.models import Figure, Member, Round

OWN_STATE = N_("You are not allowed to do that. Members report and see the figures of their own state ({state}) only.")
HISTORY_SHOWN = 5  # versions of one figure listed by /myreport (the newest)


async def read_line(ctx: Context, text: str) -> Report:
    view = await ctx.snapshot()

    def state_named(word: str) -> str | None:
        if len(word) == 2 and word.upper() in view.states:
            return word.upper()
        return view.state_names.named(word)

    periods = [r.period for r in await figures.all_rounds(ctx.session)]
    return parse(text, catalogue_of(ctx), language=ctx.language, state_named=state_named, periods=periods)


def state_of(ctx: Context, report: Report) -> str:
    state = report.state or ctx.who.state_code
    if state is None:
        raise InvalidInput(N_("Name the state first, e.g. /report MX 2025 mla=3 (or /myreport MX 2025)."))
    try:
        ctx.as_actor.ensure_state(state)
    except AccessDenied:
        raise AccessDenied(OWN_STATE, state=ctx.who.state_code or "") from None
    return state


async def round_for(ctx: Context, period: str | None, *, reading: bool = False) -> Round:
    """The named round; else the only open one (for reading: else the latest)."""
    if period is not None:
        return await figures.get_round(ctx.session, period)
    rounds = await figures.open_rounds(ctx.session)
    if len(rounds) == 1:
        return rounds[0]
    if rounds:
        raise InvalidInput(N_("Several rounds are open ({periods}): name one, e.g. /report {period} …"),
                           periods=", ".join(r.period for r in rounds), period=rounds[0].period)  # fmt: skip
    everything = await figures.all_rounds(ctx.session)
    if reading and everything:
        return everything[-1]
    raise InvalidInput(N_("No reporting round is open at the moment."))


@command(
    "report",
    help=N_("Report your state's figures for a reporting round"),
    usage=N_("[period] <indicator>=<value> …"),
    aliases=("informe", "informar", "relatorio", "rapport"),
    max_arguments=MESSAGE_LIMIT,
)
async def report(msg: Incoming, ctx: Context) -> None:
    parsed = await read_line(ctx, ctx.args)
    state_code = state_of(ctx, parsed)
    row = await round_for(ctx, parsed.period)
    draft = await figure_drafts.get(ctx.session, ctx.who.id, row.id)
    if parsed.action == "discard":
        await figure_drafts.discard(ctx.session, ctx.who.id, row.id)
        ctx.reply(
            ctx._(N_("Your draft for {period} is deleted.")).format(period=row.period)
            if draft is not None
            else ctx._(N_("You have no draft for {period}.")).format(period=row.period)
        )
        return
    if parsed.action == "continue" and draft is not None:
        await ensure_reportable(ctx, row, str(draft.data["state"]))
        await resume(ctx, row, draft)
        return
    await ensure_reportable(ctx, row, state_code)
    if not parsed.items:
        if draft is not None and parsed.action is None:
            await offer(ctx, row, draft)
        else:
            await begin(ctx, row, state_code)
        return
    entries, problems = figure_checks.validate(catalogue_of(ctx), row, parsed.items, parsed.comment)
    if problems:
        refuse(ctx, problems)
        return
    await check_and_read_back(ctx, row, state_code, entries, draft=False)


@command(
    "myreport",
    help=N_("Show your state's figures in a round and how they were amended"),
    usage=N_("[period]"),
    aliases=("misinformes", "meusrelatorios", "mesrapports"),
)
async def myreport(msg: Incoming, ctx: Context) -> None:
    parsed = await read_line(ctx, ctx.args)
    if parsed.items or parsed.action:
        raise InvalidInput(N_("Usage: /myreport [period], e.g. /myreport 2025."))
    state_code = state_of(ctx, parsed)
    row = await round_for(ctx, parsed.period, reading=True)
    catalogue = catalogue_of(ctx)
    versions = await figures.history(ctx.session, row.id, state_code)
    by_code: dict[str, list[Figure]] = {}
    for figure in versions:
        by_code.setdefault(figure.indicator, []).append(figure)
    ids = {f.submitted_by for f in versions if f.submitted_by is not None}
    people = {m.id: m.display_name for m in [await ctx.session.get(Member, i) for i in ids] if m is not None}
    status = ctx._(N_("open")) if row.is_open else ctx._(N_("closed"))
    lines = [ctx._(N_("{state}: figures for {period} (deadline {deadline}, {status})")).format(
        state=await state_name(ctx, state_code), period=row.period, deadline=row.deadline.isoformat(),
        status=status)]  # fmt: skip
    for code in row.indicators:
        if code not in by_code:
            continue
        indicator = catalogue.get(code)
        name = indicator.name.get(ctx.language) if indicator is not None else code
        current = next(f for f in reversed(by_code[code]) if f.current)
        lines.append(f"• {name}: {figure_text(ctx, current)}" + (f"; {current.sentences}" if current.sentences else ""))
        for figure in list(reversed(by_code[code]))[:HISTORY_SHOWN]:
            who = people.get(figure.submitted_by or 0, figure.submitted_by_label)
            mark = " " + ctx._(N_("(on behalf of the state)")) if figure.on_behalf else ""
            line = f"   v{figure.version}: {figure_text(ctx, figure)} — {who}{mark}, {when(ctx, figure.submitted_at)}"
            if figure.comment:
                line += "\n      " + ctx._(N_("comment: {text}")).format(text=figure.comment)
            lines.append(line)
    missing = [c for c in row.indicators if c not in by_code]
    if not by_code:
        lines.append(ctx._(N_("No figures reported yet.")))
    if missing:
        lines.append(ctx._(N_("Not reported yet: {n} of {total} ({codes}).")).format(
            n=len(missing), total=len(row.indicators), codes=", ".join(missing)))  # fmt: skip
    ctx.reply("\n".join(lines))
