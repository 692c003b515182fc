"""Member states (reference data)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import N_, NotFound
from storage.models import State


async def get(session: AsyncSession, code: str) -> State:
    state = await session.get(State, code.upper())
    if state is None:
        raise NotFound(N_("Unknown state code {code}."), code=code)
    return state


async def all_states(session: AsyncSession) -> list[State]:
    return list(await session.scalars(select(State).order_by(State.code)))
