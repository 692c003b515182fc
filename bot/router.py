"""The router: from an incoming message to a handler and back.

Everything that is the same for every command happens here, once: parsing ``/command@bot args``,
the per-member rate limit, resolving the sender to a member (strangers only reach public commands),
the role check, choosing the language, one database transaction per message, and turning any error into
a short translated message (unexpected ones get a reference id that is also in the log).
State scope is enforced below this, in ``storage.access.Actor``, which every change goes through.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rapidfuzz import process

from bot.commands import REGISTRY, Command
from bot.config import Settings
from bot.context import NO_SESSION, Context, Limits
from bot.i18n import Translator, best_language, translator
from bot.messages import DEACTIVATED, ONBOARDING
from bot.metrics import Metrics
from bot.ratelimit import SlidingWindow
from bot.transports.base import Address, Incoming, Outgoing
from storage import members
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import N_, PocnetError
from storage.readmodel import ReadModel

log = logging.getLogger("pocnet.router")

Send = Callable[[Address, Outgoing], Awaitable[str]]

_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,64})(?:@(?P<bot>[A-Za-z0-9_]+))?(?:\s+(?P<args>.*))?$", re.S)


@dataclass(frozen=True)
class Parsed:
    name: str
    args: str


def parse(text: str, bot_username: str | None = None) -> Parsed | None:
    """``/cmd@bot args`` → Parsed; None when the text is not a command (or is for another bot)."""
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    target = match.group("bot")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return Parsed(match.group("name").lower(), (match.group("args") or "").strip())


class Router:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        send: Send,
        *,
        bot_username: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.send = send
        self.bot_username = bot_username
        limits = settings.limits
        self.rate = SlidingWindow(limits.commands_per_minute, 60.0)
        self.limits = Limits(
            invite_failures=SlidingWindow(limits.invite_failures, limits.invite_lockout_minutes * 60.0)
        )
        self._warned: set[object] = set()
        self.read_model = ReadModel(db.sessions)

    async def handle(self, msg: Incoming) -> None:
        """Process one message completely; never raises."""
        try:
            with self.metrics.latency.time():
                await self._handle(msg)
        except Exception:  # last line of defence: log, and stay alive
            ref = secrets.token_hex(3)
            log.exception("unhandled error outside a handler", extra={"ref": ref})

    async def _handle(self, msg: Incoming) -> None:
        address = msg.address
        sender_key = (address.platform, address.user_id)
        if not self.rate.allow(sender_key):
            if sender_key not in self._warned:  # say it once, then drop quietly until the window clears
                self._warned.add(sender_key)
                tr = translator(best_language(msg.language_hint, self.settings.bot.default_language))
                await self._deliver(
                    msg, [(None, Outgoing(tr(N_("You are sending commands too fast. Please wait a minute."))))]
                )
            log.warning("rate limited", extra={"platform": address.platform, "user": address.user_id})
            self.metrics.rate_limited.inc()
            return
        self._warned.discard(sender_key)

        outbox: list[tuple[Address | None, Outgoing]] = []
        hint = (msg.language_hint, self.settings.bot.default_language)
        tr = translator(best_language(*hint))
        try:
            parsed = parse(msg.text, self.bot_username)
            cmd = REGISTRY.get(parsed.name) if parsed else None
            self.metrics.commands.labels(cmd.name if cmd else "-", address.platform).inc()
            entry = None
            if parsed is not None and cmd is not None and cmd.readonly:
                view = await self.read_model.current()
                entry = view.by_identity.get(sender_key)
                if entry is None or not entry.active or not (cmd.public or Role(entry.role) in cmd.roles):
                    entry = None  # strangers and refusals take the ordinary path below
            if entry is not None and parsed is not None and cmd is not None:
                # A lookup by a member: answered from the directory snapshot, without a transaction.
                tr = translator(best_language(entry.language, *hint))
                ctx = Context(msg, NO_SESSION, tr, self.settings, self.limits, entry, Actor.of(entry),  # type: ignore[arg-type]
                              args=parsed.args, outbox=outbox, view=view)  # fmt: skip
                log.info("command", extra={"cmd": cmd.name, "member": entry.id, "platform": address.platform})
                await cmd.handler(msg, ctx)
            else:
                async with self.db.transaction() as session:
                    member = await members.by_identity(session, address.platform, address.user_id)
                    if member is not None and member.active:
                        tr = translator(best_language(member.language, *hint))
                    actor = Actor.of(member) if member is not None and member.active else None
                    ctx = Context(
                        msg, session, tr, self.settings, self.limits, member if actor else None, actor, outbox=outbox
                    )
                    await self._dispatch(msg, ctx, member, parsed, cmd)
        except PocnetError as exc:
            self.metrics.errors.labels("input").inc()
            outbox[:] = [(None, Outgoing(self._explain(tr, exc), reply_to=msg.message_id))]
        except Exception:
            self.metrics.errors.labels("internal").inc()
            ref = secrets.token_hex(3).upper()
            log.exception("handler failed", extra={"ref": ref, "platform": address.platform, "text": msg.text[:80]})
            apology = tr(N_("Sorry, something went wrong on our side. The team has been notified (reference {ref})."))
            outbox[:] = [(None, Outgoing(apology.format(ref=ref), reply_to=msg.message_id))]
        await self._deliver(msg, outbox)

    async def _dispatch(
        self, msg: Incoming, ctx: Context, member: object | None, parsed: Parsed | None, cmd: Command | None
    ) -> None:
        text = msg.text.strip()
        if ctx.member is None:  # a stranger, or a deactivated member: only public commands
            if parsed is not None and cmd is not None and cmd.public:
                ctx.args = parsed.args
                await cmd.handler(msg, ctx)
            else:
                ctx.reply(ctx._(DEACTIVATED if member is not None else ONBOARDING))
            return
        if parsed is None:
            if not text.startswith("/"):
                ctx.reply(ctx._(N_("I only understand commands for now. Send /help to see them.")))
            elif parse(text) is None:
                ctx.reply(ctx._(N_("That is not a command I can read. Commands look like /help.")))
            return  # otherwise: a command for another bot in the same group
        if cmd is None or not (cmd.public or Role(ctx.me.role) in cmd.roles):
            ctx.reply(self._unknown(ctx, parsed.name))
            return
        ctx.args = parsed.args
        log.info("command", extra={"cmd": cmd.name, "member": ctx.me.id, "platform": msg.address.platform})
        await cmd.handler(msg, ctx)

    def _unknown(self, ctx: Context, name: str) -> str:
        role = Role(ctx.me.role)
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

    @staticmethod
    def _explain(tr: Translator, exc: PocnetError) -> str:
        text = tr(exc.message)
        return text.format(**exc.params) if exc.params else text

    async def _deliver(self, msg: Incoming, outbox: list[tuple[Address | None, Outgoing]]) -> None:
        for to, outgoing in outbox:
            platform = (to or msg.address).platform
            try:
                await self.send(to or msg.address, outgoing)
                self.metrics.sent.labels(platform).inc()
            except Exception:
                self.metrics.failed.labels(platform).inc()
                log.exception("send failed", extra={"platform": platform})
