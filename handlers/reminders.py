"""/reminders and /snooze: what reminders are coming for you, and postponing them.

/reminders                the reminders planned for you (times in your own zone)
/reminders all            the Secretariat: every planned reminder, per round and state
/snooze 2025 7            no reminder of round 2025 for a week
"""

from __future__ import annotations

from babel.dates import format_date

from bot.commands import command
from bot.context import Context
from bot.transports.base import Incoming
from handlers.common import when
from reminders import listing
from reminders.registry import plan_changed
from storage import figures
from storage.access import Role
from storage.errors import N_, InvalidInput
from storage.models import Round
from storage.text import whole_number

SHOWN_PER_ROUND = 8
ALL_WORDS = {"all", "todos", "todas", "tous", "toutes"}
SNOOZE_USAGE = N_("Usage: /snooze <round> <days>, e.g. /snooze 2025 7")


def _date(ctx: Context, row: Round) -> str:
    return format_date(row.deadline, "long", locale=ctx.language)


@command("reminders", help=N_("The reminders coming for you"), usage=N_("[all]"),
         aliases=("recordatorios", "lembretes", "rappels"))  # fmt: skip
async def reminders_cmd(msg: Incoming, ctx: Context) -> None:
    args = ctx.args.strip()[:40].lower()
    if args in ALL_WORDS:
        await _all(ctx)
        return
    if args:
        raise InvalidInput(N_("Usage: /reminders, or /reminders all for the Secretariat."))
    found = await listing.coming(ctx.session, ctx.me)
    if not found:
        ctx.reply(ctx._(N_("No reminders are planned for you.")))
        return
    lines = [ctx._(N_("Reminders coming for you:"))]
    for item in found:
        lines.append("")
        lines.append(
            ctx._(N_("{period}: figures due {deadline}; missing {codes}")).format(
                period=item.row.period, deadline=_date(ctx, item.row), codes=", ".join(item.missing)
            )
        )
        lines += [f"· {when(ctx, due)}" for due in item.due[:SHOWN_PER_ROUND]]
        if len(item.due) > SHOWN_PER_ROUND:
            lines.append(ctx._(N_("… and {n} more")).format(n=len(item.due) - SHOWN_PER_ROUND))
    lines.append("")
    lines.append(ctx._(N_("/snooze <round> <days> postpones them.")))
    ctx.reply("\n".join(lines))


async def _all(ctx: Context) -> None:
    found = await listing.summary(ctx.session, ctx.as_actor)
    if not found:
        ctx.reply(ctx._(N_("No reporting round is open.")))
        return
    lines: list[str] = []
    for item in found:
        if lines:
            lines.append("")
        lines.append(
            ctx._(N_("{period} (due {deadline}): {planned} reminders planned for {members} members; {sent} sent, "
                     "{skipped} skipped")).format(
                period=item.row.period, deadline=_date(ctx, item.row), planned=item.planned, members=item.members,
                sent=item.sent, skipped=item.skipped,
            )
        )  # fmt: skip
        if item.next_due is not None:
            lines.append(ctx._(N_("Next: {when}")).format(when=when(ctx, item.next_due)))
        if item.by_state:  # at most one entry per member state: bounded
            lines.append(" · ".join(f"{code} {n}" for code, n in item.by_state.items()))
    ctx.reply("\n".join(lines))


@command("snooze", help=N_("Postpone your reminders of a reporting round"), usage=N_("<round> <days>"),
         roles={Role.CONTACT, Role.OFFICIAL}, aliases=("posponer", "adiar"))  # fmt: skip
async def snooze_cmd(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.strip()[:60].split()
    if len(words) != 2:
        raise InvalidInput(SNOOZE_USAGE)
    days = whole_number(words[1])
    if days is None:
        raise InvalidInput(SNOOZE_USAGE)
    row = await figures.get_round(ctx.session, words[0])
    until = await listing.snooze(ctx.session, ctx.as_actor, ctx.me, row, days, ctx.now())
    plan_changed(ctx.session)
    ctx.reply(
        ctx._(N_("No reminder of round {period} until {until}; /reminders shows when the next one comes.")).format(
            period=row.period, until=when(ctx, until)
        )
    )
