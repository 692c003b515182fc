"""Urgent relays that nobody acknowledged in time go to the state's alternate contact, and the sender is
told. Each copy of an urgent relay carries the moment it is due (its recipient's working time, see
storage.hours.working_deadline); this service checks every ``relay.check_seconds`` for copies past it.

Copies are taken with ``FOR UPDATE SKIP LOCKED`` and marked in the same transaction, so with several
pocnet instances each copy escalates once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, outbox, relays
from storage.access import Actor
from storage.db import Database
from storage.errors import N_
from storage.models import RelayCopy

log = logging.getLogger("pocnet.escalation")

ESCALATED = N_(
    "Relay #{number} was not acknowledged in time by {name}; it went to {standin}, who covers {state}. "
    "/relay {number} shows every recipient."
)
NO_ONE = N_(
    "Relay #{number} was not acknowledged in time by {name}, and {state} has no other contact to escalate it to. "
    "/contact {id} shows their phone and e-mail."
)


class Escalator:
    def __init__(self, db: Database, *, every: float, now: Callable[[], datetime]) -> None:
        self.db = db
        self.every = every
        self.now = now
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> int:
        """One pass: escalate every copy that is due; return how many were handled."""
        now = self.now()
        async with self.db.transaction() as session:
            due = await relays.due(session, now)
            for copy in due:
                await self._escalate(session, copy, now)
        return len(due)

    async def _escalate(self, session: AsyncSession, copy: RelayCopy, now: datetime) -> None:
        relay = copy.relay
        missed = copy.member
        holders = await session.scalars(select(RelayCopy.member_id).where(RelayCopy.relay_id == relay.id))
        taken = set(holders) | {relay.sender_id}
        standin = await relays.alternate_for(session, missed, now, taken)
        state = missed.state_code or "OAS"
        params: dict[str, object] = {"number": relay.id, "name": missed.display_name, "state": state, "id": missed.id}
        if standin is not None:
            relays.queue_copy(session, relay, standin, reason=relays.ESCALATION, covers_for=missed)
            params["standin"] = standin.display_name
        for to in outbox.recipients_of(relay.sender)[:1]:
            outbox.enqueue(session, to, ESCALATED if standin else NO_ONE, params, priority=outbox.INTERACTIVE,
                           reference=relays.reference(relay.id))  # fmt: skip
        audit.record(
            session, Actor.system("escalation"), "relay.escalate", relay, directory=False,
            after={"copy": copy.id, "missed": missed.id, "to": standin.id if standin else None},
        )  # fmt: skip
        copy.escalated_at = now
        log.info("urgent relay escalated", extra={"relay": relay.id, "escalated": standin is not None})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="escalation")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.check()
            except Exception as exc:  # the database went away for a moment: the next pass tries again
                log.warning("escalation check failed", extra={"reason": repr(exc)[:200]})

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
