"""Drafts of the guided /report entry (storage.models.FigureDraft): what a member has answered so far in
a round, saved answer by answer, so a dialog that times out or is abandoned loses nothing.

``data``: ``{"state": "MX", "position": 3, "values": {code: {"value": 14 | None, "estimate": bool,
"provisional": bool, "sentences": str | None}}}``. One draft per member and round.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.figures import Entry
from storage.models import FigureDraft
from storage.types import utcnow


async def get(session: AsyncSession, member_id: int, round_id: int) -> FigureDraft | None:
    return await session.get(FigureDraft, (member_id, round_id))


async def start(session: AsyncSession, member_id: int, round_id: int, state_code: str) -> FigureDraft:
    """A new, empty draft (replacing any older one of that member in that round)."""
    draft = await get(session, member_id, round_id)
    if draft is None:
        draft = FigureDraft(member_id=member_id, round_id=round_id)
        session.add(draft)
    draft.data = {"state": state_code, "position": 0, "values": {}}
    draft.updated_at = utcnow()
    return draft


def save(draft: FigureDraft, *, position: int | None = None, code: str | None = None, **answer: Any) -> None:
    """Record an answer (``code`` with its fields, merged with what was there) and/or where the member is."""
    data = {**draft.data, "values": dict(draft.data.get("values") or {})}
    if position is not None:
        data["position"] = position
    if code is not None:
        data["values"][code] = {**data["values"].get(code, {}), **answer}
    draft.data = data  # a new dict: the JSON column notices the change
    draft.updated_at = utcnow()


async def discard(session: AsyncSession, member_id: int, round_id: int) -> bool:
    draft = await get(session, member_id, round_id)
    if draft is None:
        return False
    await session.delete(draft)
    await session.flush()  # gone for the rest of this unit of work too
    return True


def values(draft: FigureDraft) -> dict[str, dict[str, Any]]:
    return dict(draft.data.get("values") or {})


def entries(draft: FigureDraft, order: list[str]) -> list[Entry]:
    """The draft's answers as entries, in the round's order."""
    answered = values(draft)
    return [
        Entry(code, answered[code].get("value"), estimate=bool(answered[code].get("estimate")),
              provisional=bool(answered[code].get("provisional")), sentences=answered[code].get("sentences"))
        for code in order if code in answered
    ]  # fmt: skip
