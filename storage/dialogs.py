"""Open dialogs (design note §2c): at most one per person per chat, kept in the database so that a
restart loses nothing; each has an expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Dialog


async def get(session: AsyncSession, platform: str, chat_id: str, user_id: str) -> Dialog | None:
    return await session.get(Dialog, (platform, chat_id, user_id))


async def open_(
    session: AsyncSession,
    key: tuple[str, str, str],
    *,
    kind: str,
    expires_at: datetime,
    step: str = "",
    data: dict[str, Any] | None = None,
    member_id: int | None = None,
    language: str | None = None,
) -> Dialog:
    """Open a dialog, replacing whatever was open for that person in that chat."""
    dialog = await session.get(Dialog, key)
    if dialog is None:
        dialog = Dialog(platform=key[0], chat_id=key[1], user_id=key[2])
        session.add(dialog)
    dialog.kind = kind
    dialog.step = step
    dialog.data = dict(data or {})
    dialog.member_id = member_id
    dialog.language = language
    dialog.expires_at = expires_at
    return dialog


async def close(session: AsyncSession, key: tuple[str, str, str]) -> None:
    dialog = await session.get(Dialog, key)
    if dialog is not None:
        await session.delete(dialog)
