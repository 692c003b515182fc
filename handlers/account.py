"""Your own account: /whoami, /language."""

from __future__ import annotations

from bot.commands import command
from bot.context import Context
from bot.i18n import LANGUAGES, language_name, parse_language, translator
from bot.transports.base import Incoming
from handlers.common import member_card
from storage import members
from storage.errors import N_, InvalidInput


@command("whoami", help=N_("Show your member record"))
async def whoami(msg: Incoming, ctx: Context) -> None:
    ctx.reply(member_card(ctx, ctx.me))


@command("language", help=N_("Show or change your language"), usage=N_("[en|es|pt|fr]"), aliases=("idioma", "langue"))
async def language(msg: Incoming, ctx: Context) -> None:
    choices = tuple((language_name(code), f"/language {code}") for code in LANGUAGES)
    if not ctx.args:
        ctx.reply(
            ctx._("Your language is {language}. Choose another:").format(
                language=language_name(ctx.language, capitalize=False)
            ),
            buttons=choices,
        )
        return
    code = parse_language(ctx.args)
    if code is None:
        raise InvalidInput(
            N_("I do not know the language “{given}”. Choose one of: {choices}."),
            given=ctx.args,
            choices=", ".join(LANGUAGES),
        )
    await members.update(ctx.session, ctx.as_actor, ctx.me, language=code)
    ctx.translator = translator(code)
    ctx.reply(
        ctx._("Done: I will write to you in {language}.").format(language=language_name(code, code, capitalize=False))
    )
