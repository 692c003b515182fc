"""What a handler gets besides the message: who is asking, a database session, the translator, and a
way to answer. Replies are collected and sent after the unit of work commits, so the bot never
announces a change that was rolled back."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, best_language, translator
from bot.ratelimit import SlidingWindow
from bot.transports.base import Address, Attachment, Incoming, Outgoing
from storage.access import Actor
from storage.models import Member
from storage.readmodel import DirectoryView

if TYPE_CHECKING:
    from bot.config import Settings


class NoSession:
    """Stands in for the session of read-only commands: any use is a programming error."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a read-only command used the database (session.{name})")


NO_SESSION: Any = NoSession()


@dataclass(frozen=True)
class Limits:
    """Throttles shared by all messages (kept by the router)."""

    invite_failures: SlidingWindow


@dataclass
class Context:
    incoming: Incoming
    session: AsyncSession
    translator: Translator
    settings: Settings
    limits: Limits
    member: Member | None  # an EntryView (same attributes) for read-only commands
    actor: Actor | None
    args: str = ""
    outbox: list[tuple[Address | None, Outgoing]] = field(default_factory=list)
    view: DirectoryView | None = None  # the directory snapshot, for read-only commands

    @property
    def directory(self) -> DirectoryView:
        assert self.view is not None, "only read-only commands get the directory snapshot"
        return self.view

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

    def reply(
        self, text: str, *, buttons: tuple[tuple[str, str], ...] = (), attachment: Attachment | None = None
    ) -> None:
        self.outbox.append(
            (None, Outgoing(text, buttons=buttons, reply_to=self.incoming.message_id, attachment=attachment))
        )

    def send(self, to: Address, text: str) -> None:
        self.outbox.append((to, Outgoing(text)))

    def use_member(self, member: Member) -> None:
        """The sender just became ``member`` (onboarding): answer as them, in their language."""
        self.member = member
        self.actor = Actor.of(member)
        self.translator = translator(best_language(member.language, self.settings.bot.default_language))

    @property
    def me(self) -> Member:
        """The sender's member record (commands that are not public always have one)."""
        assert self.member is not None
        return self.member

    @property
    def as_actor(self) -> Actor:
        assert self.actor is not None
        return self.actor
