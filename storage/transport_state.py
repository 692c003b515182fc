"""Small key/value memory of the transports (sync tokens, device ids), kept with the rest of the data."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TransportState


async def get(session: AsyncSession, platform: str, key: str) -> str | None:
    row = await session.get(TransportState, (platform, key))
    return row.value if row is not None else None


async def put(session: AsyncSession, platform: str, key: str, value: str) -> None:
    row = await session.get(TransportState, (platform, key))
    if row is None:
        session.add(TransportState(platform=platform, key=key, value=value))
    else:
        row.value = value
