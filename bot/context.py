"""What a handler gets besides the message: who is asking, the unit of work, the translator, and a way
to answer. One type for both paths the router takes:

- read-only commands run on a *snapshot* of the directory (``ctx.directory``) and have no session;
- everything else runs in one *transaction* (``ctx.session``), and ``ctx.member`` is the sender's row.

Replies are collected and handed to the delivery service after the unit of work commits, so the bot never
announces a change that was rolled back. Messages to other people go through the outbox table
(``ctx.notify``), in the same transaction as the change that caused them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_, Translator, best_language, translator
from bot.ratelimit import SlidingWindow
from bot.transports.base import Address, Attachment, Incoming, Outgoing
from storage import dialogs, outbox
from storage.access import Actor, Role
from storage.models import Dialog, Member
from storage.readmodel import DirectoryView, EntryView, ReadModel
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.config import Settings

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Limits:
    """Throttles shared by all messages (kept by the router)."""

    invite_failures: SlidingWindow  # per account
    invite_failures_total: SlidingWindow  # all accounts together (key ALL)


@dataclass(frozen=True)
class Sender:
    """The member who sent the message, as both paths know them."""

    id: int
    display_name: str
    role: Role
    state_code: str | None
    language: str | None
    timezone: str  # their own zone, else their state's capital's, else UTC

    @classmethod
    def of(cls, member: Member | EntryView) -> Sender:
        zone = member.timezone or (member.state.default_timezone if member.state is not None else None) or "UTC"
        return cls(member.id, member.display_name, Role(member.role), member.state_code, member.language, zone)


class Context:
    def __init__(
        self,
        incoming: Incoming,
        translator: Translator,
        settings: Settings,
        limits: Limits,
        *,
        sender: Sender | None = None,
        member: Member | None = None,
        session: AsyncSession | None = None,
        view: DirectoryView | None = None,
        now: datetime | None = None,
        read_model: ReadModel | None = None,
    ) -> None:
        self.incoming = incoming
        self.translator = translator
        self.settings = settings
        self.limits = limits
        self.sender = sender
        self.member = member  # the sender's row: transaction path only
        self.actor = Actor.of(sender) if sender is not None else None
        self.args = ""
        self.replies: list[tuple[Address | None, Outgoing]] = []
        self.dialog: Dialog | None = None  # the open dialog of this person in this chat, if any
        self.deactivated = False  # the sender is a known member whose access was withdrawn
        self._session = session
        self._view = view
        self._now = now
        self._read_model = read_model

    # --- the unit of work ---------------------------------------------------------------------------

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("a read-only command used the database")
        return self._session

    @property
    def directory(self) -> DirectoryView:
        if self._view is None:
            raise RuntimeError("only read-only commands get the directory snapshot")
        return self._view

    @property
    def has_directory(self) -> bool:
        return self._view is not None

    async def snapshot(self) -> DirectoryView:
        """The directory snapshot, on either path (a command that changes data may still look people up)."""
        if self._view is None:
            if self._read_model is None:
                raise RuntimeError("no directory snapshot available")
            self._view = await self._read_model.current()
        return self._view

    def attach_directory(self, view: DirectoryView) -> None:
        self._view = view

    def attach_session(self, session: AsyncSession) -> None:
        """A lookup that offered choices: they are kept in the database, in this session."""
        self._session = session

    # --- language -----------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.translator.language

    def _(self, message: str) -> str:
        return self.translator.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translator.ngettext(singular, plural, n)

    @property
    def argv(self) -> list[str]:
        """Arguments split like a shell would (quotes group words); falls back to spaces."""
        try:
            return shlex.split(self.args)
        except ValueError:
            return self.args.split()

    # --- answering ----------------------------------------------------------------------------------

    def reply(
        self, text: str, *, buttons: tuple[tuple[str, str], ...] = (), attachment: Attachment | None = None
    ) -> None:
        self.replies.append(
            (None, Outgoing(text, buttons=buttons, reply_to=self.incoming.message_id, attachment=attachment))
        )

    def notify(self, member: Member, template: str, params: dict[str, Any] | None = None, **options: Any) -> int:
        """Queue a message to another member on the durable lane (rendered in their language when sent);
        returns how many copies were queued (0 when they have no linked account)."""
        queued = 0
        for recipient in outbox.recipients_of(member):
            outbox.enqueue(self.session, recipient, template, params, **options)
            queued += 1
        return queued

    # --- dialogs ------------------------------------------------------------------------------------

    @property
    def dialog_key(self) -> tuple[str, str, str]:
        a = self.incoming.address
        return (a.platform, a.chat_id, a.user_id)

    def now(self) -> datetime:
        return self._now or utcnow()

    async def open_dialog(self, kind: str, *, step: str = "", data: dict[str, Any] | None = None) -> Dialog:
        """Open (or replace) this person's dialog in this chat; the next plain answer goes to it."""
        timeout = timedelta(minutes=self.settings.dialogs.timeout_minutes)
        self.dialog = await dialogs.open_(
            self.session, self.dialog_key, kind=kind, step=step, data=data,
            member_id=self.sender.id if self.sender else None, language=self.language,
            expires_at=self.now() + timeout,
        )  # fmt: skip
        return self.dialog

    async def close_dialog(self) -> None:
        if self.dialog is not None:
            await dialogs.close(self.session, self.dialog_key)
            self.dialog = None

    async def confirm(self, question: str, action: str, payload: dict[str, Any] | None = None) -> None:
        """Ask yes / no; on yes the handler registered with ``@on_confirm(action)`` runs with ``payload``."""
        await self.open_dialog("confirm", data={"action": action, "payload": payload or {}})
        self.reply(question, buttons=((self._(N_("Yes")), YES), (self._(N_("No")), NO)))

    # --- who is asking ------------------------------------------------------------------------------

    def use_member(self, member: Member) -> None:
        """The sender just became ``member`` (onboarding): answer as them, in their language."""
        self.member = member
        self.sender = Sender.of(member)
        self.actor = Actor.of(member)
        self.translator = translator(best_language(member.language, self.settings.bot.default_language))

    @property
    def me(self) -> Member:
        """The sender's member row (commands that are not public and not read-only always have one)."""
        assert self.member is not None
        return self.member

    @property
    def who(self) -> Sender:
        """The sender (every command that is not public has one, on both paths)."""
        assert self.sender is not None
        return self.sender

    @property
    def as_actor(self) -> Actor:
        assert self.actor is not None
        return self.actor
