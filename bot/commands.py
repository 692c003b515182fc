"""The command registry. A handler module declares its commands with ``@command``::

    @command("whoami", help=N_("Show your member record"))
    async def whoami(msg: Incoming, ctx: Context) -> None:
        ctx.reply(...)

``roles`` limits who may run it (the router enforces it and ``/help`` lists only what you may use);
``public=True`` lets strangers run it too (only ``/start`` is). ``readonly=True`` commands only read the
directory: they get ``ctx.directory`` (storage.readmodel) and no database session, which keeps them fast.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.access import ALL_ROLES, Role

if TYPE_CHECKING:
    from bot.context import Context
    from bot.transports.base import Incoming

Handler = Callable[["Incoming", "Context"], Awaitable[None]]
ARGUMENTS = 1024  # characters after a command's name, by default: the longest field (an institution) is 300
MESSAGE_LIMIT = 4096  # characters in one message (Telegram's limit): commands that carry a text take this many


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help: str  # untranslated, marked with N_
    usage: str = ""  # untranslated argument synopsis, e.g. N_("<code>")
    roles: frozenset[Role] = ALL_ROLES
    public: bool = False
    aliases: tuple[str, ...] = field(default=())
    readonly: bool = False  # answered from the directory snapshot, without a database transaction
    max_arguments: int = ARGUMENTS  # longer arguments are refused before any parsing (relays carry text)


REGISTRY: dict[str, Command] = {}


def command(
    name: str,
    *,
    help: str,
    usage: str = "",
    roles: frozenset[Role] | set[Role] = ALL_ROLES,
    public: bool = False,
    aliases: tuple[str, ...] = (),
    readonly: bool = False,
    max_arguments: int = ARGUMENTS,
) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        cmd = Command(name, func, help, usage, frozenset(roles), public, aliases, readonly, max_arguments)
        for key in (name, *aliases):
            if key in REGISTRY:
                raise RuntimeError(f"command /{key} registered twice")
            REGISTRY[key] = cmd
        return func

    return register


def commands_for(role: Role | None) -> list[Command]:
    """Distinct commands a role may run (None: a stranger), in registration order."""
    seen: list[Command] = []
    for cmd in REGISTRY.values():
        allowed = cmd.public if role is None else role in cmd.roles
        if allowed and cmd not in seen:
            seen.append(cmd)
    return seen
