"""The router: from an incoming message to a handler and back, as a pipeline of small steps.

    rate limit → length → parse → identity (member or stranger) → language → unit of work
        (snapshot for read-only commands, one transaction otherwise) → open dialog? → role check →
        handler → offered choices remembered → replies to the delivery service

Each step is a method below, in that order. Errors become a short translated message (unexpected ones
get a reference id that is also in the log). Every command's cost is bounded: a message longer than
``MAX_MESSAGE`` characters, or arguments longer than ``MAX_ARGUMENTS``, are refused before any parsing,
with a message that says the limit. State scope is enforced below this, in
``storage.access.Actor``, which every change goes through. The router never waits for a platform: the
replies are queued with the delivery service, which sends them.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import process
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import ARGUMENTS, MESSAGE_LIMIT, REGISTRY, Command
from bot.config import Settings
from bot.context import Context, Limits, Sender
from bot.delivery.service import DeliveryService
from bot.dialogs import CHOICE, DIALOGS, EXPIRED, REPLIES, STALE, WORDS, looks_like_button, resolve_answer
from bot.i18n import Translator, best_language, translator
from bot.messages import DEACTIVATED, ONBOARDING
from bot.metrics import Metrics
from bot.ratelimit import SlidingWindow
from bot.transports.base import Incoming, Outgoing
from storage import dialogs, invites, members, outbox
from storage.access import Role
from storage.db import Database, unavailable
from storage.errors import N_, PocnetError
from storage.readmodel import ReadModel
from storage.text import excerpt
from storage.types import utcnow

log = logging.getLogger("pocnet.router")

MAX_MESSAGE = MESSAGE_LIMIT  # characters: Telegram's own limit for one message
MAX_ARGUMENTS = ARGUMENTS  # characters after the command name, unless the command allows more
TOO_LONG = N_("That message is too long: I read at most {limit} characters.")
ARGUMENTS_TOO_LONG = N_("That is too long for /{name}: at most {limit} characters after the command.")
EDIT_NOT_READ = N_(
    "I only read edits of lookups, so nothing was done with this edit. To change what you sent, send the "
    "corrected message again."
)
SHOWN_IN_GROUP = N_(
    "For safety, invitation codes only work in a private chat with the bot. This code was shown in "
    "a group, so it no longer works: ask for a new one and send it to the bot privately."
)
_LISTS = {"fields", "choices"}  # error parameters that are our own lists, not what someone typed
UNAVAILABLE = N_("The service is temporarily unavailable. Please try again in a few minutes.")
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,64})(?:@(?P<bot>[A-Za-z0-9_]+))?(?:\s+(?P<args>.*))?$", re.S)


@dataclass(frozen=True)
class Parsed:
    name: str
    args: str


def parse(text: str, *names: str | None) -> Parsed | None:
    """``/cmd@bot args`` → Parsed; None when the text is not a command, or names another bot than
    ``names`` (the Telegram bot's username and ``[bot] name``)."""
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    target = match.group("bot")
    ours = {name.lower() for name in names if name}
    if target and ours and target.lower() not in ours:
        return None
    return Parsed(match.group("name").lower(), (match.group("args") or "").strip())


class Router:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        delivery: DeliveryService,
        *,
        bot_username: str | None = None,
        metrics: Metrics | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.delivery = delivery
        self.bot_username = bot_username
        self.now = now
        limits = settings.limits
        self.rate = SlidingWindow(limits.commands_per_minute, 60.0)
        self.limits = Limits(
            invite_failures=SlidingWindow(limits.invite_failures, limits.invite_lockout_minutes * 60.0),
            invite_failures_total=SlidingWindow(limits.invite_failures_total, limits.invite_lockout_minutes * 60.0),
        )
        self._warned: set[object] = set()
        self.read_model = ReadModel(db.sessions)

    async def handle(self, msg: Incoming) -> None:
        """Process one message completely (its replies queued for delivery); never raises."""
        try:
            with self.metrics.latency.time():
                await self._handle(msg)
        except Exception:  # last line of defence: log, and stay alive
            ref = secrets.token_hex(3)
            log.exception("unhandled error outside a handler", extra={"ref": ref})

    async def _handle(self, msg: Incoming) -> None:
        if not self._admit(msg) or not await self._short_enough(msg, MAX_MESSAGE, TOO_LONG):
            return
        parsed = parse(msg.text, self.bot_username, self.settings.bot.name)
        known = REGISTRY.get(parsed.name) if parsed else None
        limit = known.max_arguments if known is not None else MAX_ARGUMENTS  # a relay's text is longer
        if parsed is not None and not await self._short_enough(msg, limit, ARGUMENTS_TOO_LONG, parsed):
            return
        if not msg.private and (parsed is None or parsed.name != "start") and await self._burn_codes_seen(msg):
            return  # /start explains it itself; otherwise the notice below is the answer
        cmd = REGISTRY.get(parsed.name) if parsed else None
        if msg.edit is not None and (cmd is None or not cmd.readonly):
            await self._edit_not_read(msg, parsed)
            return
        self.metrics.commands.labels(cmd.name if cmd else "-", msg.address.platform).inc()
        ctx = Context(msg, self._language(msg), self.settings, self.limits, now=self.now())
        try:
            if cmd is not None and cmd.readonly and (snapshot := await self._snapshot_context(msg, cmd)):
                ctx = snapshot
                assert parsed is not None
                await self._command(msg, ctx, parsed, cmd)
                if any(o.buttons for _, o in ctx.replies):  # the choices offered are kept in the database
                    await self._remember_choices_if_possible(msg, ctx)
            else:
                async with self.db.transaction() as session:
                    ctx = await self._transaction_context(msg, session)
                    await self._converse_or_command(msg, ctx, parsed, cmd)
                    await self._remember_choices(ctx)
        except PocnetError as exc:
            self.metrics.errors.labels("input").inc()
            ctx.replies[:] = [(None, Outgoing(self._explain(ctx.translator, exc), reply_to=msg.message_id))]
        except Exception as exc:
            if unavailable(exc):  # an outage, not a fault: say so, and log one line without a traceback
                self.metrics.errors.labels("database").inc()
                log.warning("database unavailable", extra={"cmd": cmd.name if cmd else "-",
                                                           "platform": msg.address.platform,
                                                           "reason": type(exc).__name__})  # fmt: skip
                text = self._language(msg, self._known_language(msg))(UNAVAILABLE)
                ctx.replies[:] = [(None, Outgoing(text, reply_to=msg.message_id))]
                self.delivery.reply(msg, ctx.replies)
                return
            self.metrics.errors.labels("internal").inc()
            ref = secrets.token_hex(3).upper()
            # the command's name, never its text: arguments carry codes, phone numbers, names
            log.exception("handler failed", extra={"ref": ref, "cmd": cmd.name if cmd else "-",
                                                   "platform": msg.address.platform})  # fmt: skip
            apology = ctx._(
                N_("Sorry, something went wrong on our side. The team has been notified (reference {ref}).")
            )
            ctx.replies[:] = [(None, Outgoing(apology.format(ref=ref), reply_to=msg.message_id))]
        self.delivery.reply(msg, ctx.replies)

    # --- step: rate limit -----------------------------------------------------------------------------

    def _admit(self, msg: Incoming) -> bool:
        sender_key = (msg.address.platform, msg.address.user_id)
        if self.rate.allow(sender_key):
            self._warned.discard(sender_key)
            return True
        if sender_key not in self._warned:  # say it once, then drop quietly until the window clears
            self._warned.add(sender_key)
            text = self._language(msg)(N_("You are sending commands too fast. Please wait a minute."))
            self.delivery.reply(msg, [(None, Outgoing(text, reply_to=msg.message_id))])
        log.warning("rate limited", extra={"platform": msg.address.platform, "user": msg.address.user_id})
        self.metrics.rate_limited.inc()
        return False

    # --- step: edits ----------------------------------------------------------------------------------------

    async def _edit_not_read(self, msg: Incoming, parsed: Parsed | None) -> None:
        """An edited message is answered again only when it is a lookup: anything else (a relay, figures, a
        confirmation) was acted on as first sent, and acting on it twice would send or change things twice.
        The sender is told, unless it was chatter in a group, which is not for the bot at all."""
        log.info("edit not read", extra={"cmd": parsed.name if parsed else "-", "platform": msg.address.platform})
        if msg.private or parsed is not None:
            self.delivery.reply(
                msg, [(None, Outgoing(await self._own_language(msg, EDIT_NOT_READ), reply_to=msg.message_id))]
            )

    # --- step: length ------------------------------------------------------------------------------------

    async def _short_enough(self, msg: Incoming, limit: int, explanation: str, parsed: Parsed | None = None) -> bool:
        """Refuse (saying the limit) a message, or a command's arguments, longer than ``limit``: nothing
        after this step ever sees more than that, so no command's cost grows with what is sent."""
        length = len(parsed.args if parsed is not None else msg.text)
        if length <= limit:
            return True
        name = parsed.name if parsed is not None and parsed.name in REGISTRY else "-"
        log.warning("input too long", extra={"cmd": name, "length": length, "platform": msg.address.platform})
        text = (await self._own_language(msg, explanation)).format(limit=limit, name=parsed.name if parsed else "")
        self.delivery.reply(msg, [(None, Outgoing(text, reply_to=msg.message_id))])
        return False

    async def _own_language(self, msg: Incoming, message: str) -> str:
        """``message`` in the sender's own language, from the directory snapshot (no transaction)."""
        view = await self.read_model.current()
        entry = view.by_identity.get((msg.address.platform, msg.address.user_id))
        chosen = entry.language if entry is not None and entry.active else None
        return self._language(msg, chosen)(message)

    # --- step: invitation codes seen in a group -----------------------------------------------------------

    async def _burn_codes_seen(self, msg: Incoming) -> bool:
        """Anything in a group that is a live invitation code is revoked: everyone there has read it.
        True (and the sender told) when one was."""
        candidates = invites.code_shaped(msg.text)
        if not candidates:
            return False
        try:
            async with self.db.transaction() as session:
                burnt = [c for c in candidates if await invites.revoke(session, c, reason="seen in a group chat")]
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("codes seen in a group not checked: database unavailable", extra={"reason": type(exc).__name__})
            return False
        if not burnt:
            return False
        log.warning("invitation code seen in a group revoked", extra={"platform": msg.address.platform})
        text = self._language(msg, self._known_language(msg))(SHOWN_IN_GROUP)
        self.delivery.reply(msg, [(None, Outgoing(text, reply_to=msg.message_id))])
        return True

    # --- steps: identity, language, unit of work ----------------------------------------------------------

    def _language(self, msg: Incoming, chosen: str | None = None) -> Translator:
        """The reply language, chosen once: the member's choice, else the platform's hint, else the default."""
        return translator(best_language(chosen, msg.language_hint, self.settings.bot.default_language))

    def _known_language(self, msg: Incoming) -> str | None:
        """The sender's chosen language as the last directory snapshot has it (no database needed)."""
        view = self.read_model.last()
        entry = view.by_identity.get((msg.address.platform, msg.address.user_id)) if view is not None else None
        return entry.language if entry is not None and entry.active else None

    async def _snapshot_context(self, msg: Incoming, cmd: Command) -> Context | None:
        """A lookup by an active member who may run it: answered from the directory snapshot, without a
        transaction. None sends everyone else down the transaction path (which explains refusals)."""
        view = await self.read_model.current()
        account = (msg.address.platform, msg.address.user_id)
        entry = view.by_identity.get(account)
        if entry is None or not entry.active or not (cmd.public or Role(entry.role) in cmd.roles):
            return None
        if msg.private and view.chats.get(account, msg.address.chat_id) != msg.address.chat_id:
            return None  # written from another private chat: the transaction path records the move
        return Context(msg, self._language(msg, entry.language), self.settings, self.limits,
                       sender=Sender.of(entry), view=view, now=self.now())  # fmt: skip

    async def _transaction_context(self, msg: Incoming, session: AsyncSession) -> Context:
        member = await members.by_identity(session, msg.address.platform, msg.address.user_id)
        active = member if member is not None and member.active else None
        if active is not None and msg.private:  # what pocnet sends follows them to the chat they use now
            address = msg.address
            await members.follow_private_chat(session, active, address.platform, address.user_id, address.chat_id)
        ctx = Context(
            msg,
            self._language(msg, active.language if active else None),
            self.settings,
            self.limits,
            sender=Sender.of(active) if active else None,
            member=active,
            session=session,
            now=self.now(),
            read_model=self.read_model,
        )
        ctx.deactivated = member is not None and active is None
        return ctx

    # --- step: open dialog? -------------------------------------------------------------------------------

    async def _converse_or_command(
        self, msg: Incoming, ctx: Context, parsed: Parsed | None, cmd: Command | None
    ) -> None:
        if ctx.sender is None:  # strangers and deactivated members have no dialogs
            await self._stranger(msg, ctx, parsed, cmd)
            return
        dialog = await dialogs.get(ctx.session, *ctx.dialog_key)
        expired = dialog is not None and dialog.expires_at <= ctx.now()
        expired_kind = dialog.kind if dialog is not None else ""
        if dialog is not None and expired:
            await dialogs.close(ctx.session, ctx.dialog_key)
            dialog = None
        text = msg.text.strip()
        if parsed is None and text.startswith("/") and parse(text) is not None:
            return  # a command for another bot in the same group
        if dialog is not None and parsed is None:
            ctx.dialog = dialog
            await self._answer(msg, ctx, text)
            return
        if dialog is None and parsed is None and msg.reply_to and await self._reply(msg, ctx):
            return
        if dialog is not None and parsed is not None and parsed.name != "cancel":
            await dialogs.close(ctx.session, ctx.dialog_key)  # a new command abandons the open question
        elif dialog is not None:
            ctx.dialog = dialog  # /cancel closes it
        if parsed is None:
            if not msg.private and not looks_like_button(text):
                return  # conversation among the people of a group or room: not for the bot
            if expired:
                ctx.reply(ctx._(EXPIRED.get(expired_kind) or N_("That question has expired. Please start again.")))
            elif looks_like_button(text):
                ctx.reply(ctx._(N_("That choice is no longer open. Please start again.")))
            elif not text.startswith("/"):
                ctx.reply(ctx._(N_("I only understand commands for now. Send /help to see them.")))
            else:
                ctx.reply(ctx._(N_("That is not a command I can read. Commands look like /help.")))
            return
        await self._command(msg, ctx, parsed, cmd)

    async def _reply(self, msg: Incoming, ctx: Context) -> bool:
        """A reply to a message the bot delivered (a relay copy): its capability takes it, if it has a say."""
        assert msg.reply_to is not None
        a = msg.address
        item = await outbox.by_platform_message(ctx.session, a.platform, a.chat_id, msg.reply_to)
        handler = REPLIES.get(item.kind) if item is not None else None
        if item is None or handler is None or item.member_id != ctx.who.id:
            return False
        await handler(msg, ctx, item)
        return True

    async def _answer(self, msg: Incoming, ctx: Context, text: str) -> None:
        """Hand an answer to the open dialog (a number or button stands for the data it was offered with)."""
        assert ctx.dialog is not None
        answer = resolve_answer(ctx.dialog.data, text)
        if answer is STALE:
            ctx.reply(ctx._(N_("That choice is no longer open. Please start again.")))
            return
        assert isinstance(answer, str)
        if ctx.dialog.kind == CHOICE:  # the chosen option is a command: run it as if typed
            chosen = parse(answer)
            if chosen is None:  # the question stays open
                ctx.reply(ctx._(N_("Please answer with one of the numbers offered, or send /cancel.")))
                return
            await ctx.close_dialog()
            await self._command(dataclasses.replace(msg, text=answer), ctx, chosen, REGISTRY.get(chosen.name))
            return
        handler = DIALOGS.get(ctx.dialog.kind)
        if handler is None:  # a dialog of an older version of pocnet
            await ctx.close_dialog()
            ctx.reply(ctx._(N_("That question has expired. Please start again.")))
            return
        ctx.args = answer
        await handler(msg, ctx)

    # --- steps: role check, handler -------------------------------------------------------------------

    async def _stranger(self, msg: Incoming, ctx: Context, parsed: Parsed | None, cmd: Command | None) -> None:
        # A deactivated member is told so, whatever they send: a public command (/start with a fresh code)
        # must not run for them either.
        if parsed is not None and cmd is not None and cmd.public and not ctx.deactivated:
            ctx.args = parsed.args
            await cmd.handler(msg, ctx)
        elif parsed is None and not msg.private:
            return  # what others say in a group or room is not addressed to the bot
        else:
            ctx.reply(ctx._(DEACTIVATED if ctx.deactivated else ONBOARDING))

    async def _command(self, msg: Incoming, ctx: Context, parsed: Parsed, cmd: Command | None) -> None:
        role = ctx.who.role
        if cmd is None or not (cmd.public or role in cmd.roles):
            ctx.reply(self._unknown(ctx, role, parsed.name))
            return
        if cmd.readonly and not ctx.has_directory:
            ctx.attach_directory(await self.read_model.current())  # a lookup chosen from a numbered list
        ctx.args = parsed.args
        log.info("command", extra={"cmd": cmd.name, "member": ctx.who.id, "platform": msg.address.platform})
        await cmd.handler(msg, ctx)

    def _unknown(self, ctx: Context, role: Role, name: str) -> str:
        mine = sorted({c.name for c in REGISTRY.values() if role in c.roles})
        if name in REGISTRY:
            return ctx._(N_("/{name} is not available to your role. Send /help to see your commands.")).format(
                name=name
            )
        best = process.extractOne(name, mine, score_cutoff=60)
        if best:
            return ctx._(N_("Unknown command /{name}. Did you mean /{suggestion}? Send /help for the list.")).format(
                name=name, suggestion=best[0]
            )
        return ctx._(N_("Unknown command /{name}. Send /help for the list.")).format(name=name)

    async def _remember_choices_if_possible(self, msg: Incoming, ctx: Context) -> None:
        """A lookup answered from the snapshot still answers when the database is down: its choices are
        then listed as text (nothing could remember what a number or a button stands for)."""
        try:
            async with self.db.transaction() as session:
                ctx.attach_session(session)
                await self._remember_choices(ctx)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("choices not kept: database unavailable", extra={"platform": msg.address.platform,
                                                                         "reason": type(exc).__name__})  # fmt: skip
            ctx.replies[:] = [
                (to, dataclasses.replace(o, text="\n".join([o.text, *(f"• {b}" for b, _ in o.buttons)]), buttons=()))
                for to, o in ctx.replies
            ]

    # --- step: offered choices remembered -------------------------------------------------------------------

    async def _remember_choices(self, ctx: Context) -> None:
        """Buttons become numbered choices kept in the open dialog (or a new ``choice`` dialog), so that
        "2" typed on Matrix or a button pressed on Telegram means the same after a restart. Button data sent
        to the platform is short and names the choice, so a press on an old keyboard is recognised."""
        offered = [(n, o) for n, (_, o) in enumerate(ctx.replies) if o.buttons]
        if not offered or ctx.sender is None or (ctx.dialog is not None and ctx.dialog.data.get(WORDS)):
            return  # nothing offered, or an open dialog whose buttons stand for words it reads
        number, message = offered[-1]
        options = [data for _label, data in message.buttons]
        if ctx.dialog is None:
            await ctx.open_dialog(CHOICE)
        assert ctx.dialog is not None
        nonce = secrets.token_hex(3)
        ctx.dialog.data = {**ctx.dialog.data, "choices": options, "nonce": nonce}
        buttons = tuple((label, f"{nonce}.{n}") for n, (label, _data) in enumerate(message.buttons, 1))
        to = ctx.replies[number][0]
        ctx.replies[number] = (to, dataclasses.replace(message, buttons=buttons))

    @staticmethod
    def _explain(tr: Translator, exc: PocnetError) -> str:
        """The error in the reader's language; text it quotes (what was typed) is a short, clean excerpt."""
        text = tr(exc.message)
        params = {k: excerpt(v) if isinstance(v, str) and k not in _LISTS else v for k, v in exc.params.items()}
        return text.format(**params) if params else text
