"""Where a reporting round stands: for each state of its audience, how many of the round's indicators it
has reported (n/a counts as reported), and so whether it is complete, partial or has sent nothing.

The whole network's view is the Secretariat's (``/status``, ``/round``, the chart, ``pocnet round list``);
a member sees what their own state owes. :class:`storage.access.Actor` decides, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from storage import figures
from storage.access import Actor
from storage.errors import AccessDenied
from storage.models import Round

Status = Literal["complete", "partial", "none"]
STATUSES: tuple[Status, ...] = ("complete", "partial", "none")


@dataclass(frozen=True)
class StateProgress:
    state: str
    owed: tuple[str, ...]  # indicator codes not reported yet, in catalogue order
    total: int

    @property
    def reported(self) -> int:
        return self.total - len(self.owed)

    @property
    def share(self) -> float:
        return self.reported / self.total if self.total else 1.0

    @property
    def status(self) -> Status:
        if not self.owed:
            return "complete"
        return "none" if self.reported == 0 else "partial"


@dataclass(frozen=True)
class RoundProgress:
    period: str
    deadline_iso: str
    is_open: bool
    states: tuple[StateProgress, ...]  # by state code

    def with_status(self, status: Status) -> list[StateProgress]:
        return [s for s in self.states if s.status == status]

    def counts(self) -> dict[Status, int]:
        return {status: len(self.with_status(status)) for status in STATUSES}


async def progress(session: AsyncSession, actor: Actor, row: Round) -> RoundProgress:
    """Every state of the round's audience and what it has reported: the Secretariat's view."""
    if not actor.is_secretariat:
        raise AccessDenied()
    owed = await figures.owed(session, row)
    total = len(row.indicators)
    states = tuple(StateProgress(code, tuple(codes), total) for code, codes in sorted(owed.items()))
    return RoundProgress(row.period, row.deadline.isoformat(), row.is_open, states)


async def owed_by(session: AsyncSession, actor: Actor, row: Round, state_code: str) -> StateProgress | None:
    """What one state still owes in a round (None: the round does not ask figures of that state)."""
    actor.ensure_state(state_code)
    if state_code not in await figures.audience(session, row):
        return None
    done = (await figures.reported(session, row)).get(state_code, set())
    return StateProgress(state_code, tuple(c for c in row.indicators if c not in done), len(row.indicators))
