"""/help: the commands your role may use, one line each, in your language; /cancel: end the open question."""

from __future__ import annotations

from bot.commands import command, commands_for
from bot.context import Context
from bot.dialogs import CANCELLED
from bot.transports.base import Incoming
from storage.errors import N_


@command("help", help=N_("List the commands you can use"), aliases=("ayuda", "ajuda", "aide"), readonly=True)
async def help_(msg: Incoming, ctx: Context) -> None:
    lines = [ctx._("Commands you can use:")]
    for cmd in commands_for(ctx.who.role):
        usage = f" {ctx._(cmd.usage)}" if cmd.usage else ""
        lines.append(f"/{cmd.name}{usage} — {ctx._(cmd.help)}")
    ctx.reply("\n".join(lines))


@command("cancel", help=N_("Cancel the question you are answering"), aliases=("cancelar", "annuler"))
async def cancel(msg: Incoming, ctx: Context) -> None:
    if ctx.dialog is None:
        ctx.reply(ctx._("There is nothing to cancel."))
        return
    kind, data = ctx.dialog.kind, dict(ctx.dialog.data)
    await ctx.close_dialog()
    if kind in CANCELLED:
        await CANCELLED[kind](msg, ctx, data)
        return
    ctx.reply(ctx._("Cancelled. Nothing was done."))
