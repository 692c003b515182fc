"""What a capability does when one of its outbox rows has been settled — sent or failed (a relay tells
its sender about a failure; an announcement reports to its author once every copy is settled). A hook
runs in a transaction of its own right after the outcome is committed, so the last outcome of a batch
sees all the others.

    @on_outcome("relay")
    async def tell_sender(session: AsyncSession, item_id: int, error: str | None) -> None: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

OutcomeHook = Callable[[AsyncSession, int, str | None], Awaitable[None]]
OUTCOME_HOOKS: dict[str, OutcomeHook] = {}


def on_outcome(kind: str) -> Callable[[OutcomeHook], OutcomeHook]:
    def register(func: OutcomeHook) -> OutcomeHook:
        OUTCOME_HOOKS[kind] = func
        return func

    return register
