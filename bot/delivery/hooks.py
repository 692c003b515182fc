"""What a capability does when one of its outbox rows could not be delivered (e.g. a relay tells its
sender). A hook runs in the transaction that records the failure, so its own messages are queued with it.

    @on_failure("relay")
    async def tell_sender(session: AsyncSession, item_id: int, error: str) -> None: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

FailureHook = Callable[[AsyncSession, int, str], Awaitable[None]]
FAILURE_HOOKS: dict[str, FailureHook] = {}


def on_failure(kind: str) -> Callable[[FailureHook], FailureHook]:
    def register(func: FailureHook) -> FailureHook:
        FAILURE_HOOKS[kind] = func
        return func

    return register
