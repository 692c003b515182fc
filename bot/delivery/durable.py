"""The durable lane: outbox rows → the platform senders, with the outcome written back to each row.

One instance at a time sends for each platform — Telegram's limits belong to the bot, not to a process.
On PostgreSQL that is an advisory lock held on a connection of its own: when the holder dies its
connection goes and the lock with it; the others try again every ``standby_seconds`` and the first to get
it puts the rows the dead one had claimed back in the queue and carries on. SQLite serves one process.

Rows written by this process wake the lane at commit; rows written by another process (the CLI) are
found within ``poll_seconds``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from functools import partial

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery.hooks import OUTCOME_HOOKS
from bot.delivery.render import render
from bot.delivery.sender import Outcome
from bot.delivery.service import DeliveryService
from bot.i18n import best_language
from bot.transports.base import Address
from storage import outbox
from storage.db import Database, on_commit

log = logging.getLogger("pocnet.delivery")

_lanes: weakref.WeakSet[DurableLane] = weakref.WeakSet()


def _wake_lanes() -> None:
    for lane in list(_lanes):
        lane.wake()


on_commit(outbox.WRITTEN, _wake_lanes)


class PlatformLock:
    """Held by at most one process per database (and schema) and platform."""

    def __init__(self, db: Database, platform: str) -> None:
        self.db = db
        self.platform = platform
        digest = hashlib.sha256(f"pocnet-sender:{db.namespace}:{platform}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: AsyncConnection | None = None
        self.held = False

    @property
    def shared(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    async def acquire(self) -> bool:
        if not self.shared:
            self.held = True
            return True
        conn = await self.db.engine.connect()
        try:
            got = bool(await conn.scalar(select(func.pg_try_advisory_lock(self.key))))
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn, self.held = conn, True
        else:
            await conn.close()
        return got

    async def alive(self) -> bool:
        """Whether the lock is still ours (its connection still answers)."""
        if not self.shared or self._conn is None:
            return self.held
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception as exc:  # the connection is gone, and the lock with it
            log.warning("sender lock lost", extra={"platform": self.platform, "reason": repr(exc)[:200]})
            await self._drop()
            return False

    async def _drop(self) -> None:
        conn, self._conn, self.held = self._conn, None, False
        if conn is not None:
            try:
                await conn.close()
            except Exception as exc:  # already broken
                log.info("closing the lock connection failed", extra={"reason": repr(exc)[:200]})

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.scalar(select(func.pg_advisory_unlock(self.key)))
            except Exception as exc:
                log.info("unlock failed", extra={"reason": repr(exc)[:200]})
        await self._drop()
        self.held = False


RECORD_RETRIES = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)  # seconds between attempts to record an outcome


class DurableLane:
    def __init__(
        self,
        db: Database,
        delivery: DeliveryService,
        *,
        default_language: str = "en",
        poll_seconds: float = 1.0,
        batch: int = 200,
        standby_seconds: float = 3.0,
    ) -> None:
        self.db = db
        self.delivery = delivery
        self.default_language = default_language
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.standby_seconds = standby_seconds
        self.locks = {platform: PlatformLock(db, platform) for platform in delivery.senders}
        self._outstanding = dict.fromkeys(delivery.senders, 0)
        self._wakes = {platform: asyncio.Event() for platform in delivery.senders}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        _lanes.add(self)

    def wake(self) -> None:
        for flag in self._wakes.values():
            flag.set()

    @property
    def outstanding(self) -> int:
        return sum(self._outstanding.values())

    def start(self) -> None:
        for platform in self.locks:
            self._tasks.append(asyncio.create_task(self._run(platform), name=f"outbox-{platform}"))

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop taking rows: each loop finishes the step it is in (never cancelled inside a transaction
        unless it overruns ``grace``)."""
        self._stopping = True
        self.wake()
        if self._tasks:
            _done, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for lock in self.locks.values():
            await lock.release()

    async def _wait(self, platform: str, seconds: float) -> None:
        flag = self._wakes[platform]
        try:
            await asyncio.wait_for(flag.wait(), seconds)
        except TimeoutError:
            pass
        flag.clear()

    async def _run(self, platform: str) -> None:
        lock = self.locks[platform]
        while not self._stopping:
            try:
                if not lock.held:
                    if not await lock.acquire():
                        await self._wait(platform, self.standby_seconds)
                        continue
                    async with self.db.transaction() as session:
                        released = await outbox.release_claimed(session, platform)
                    log.info("sending from the outbox", extra={"platform": platform, "requeued": released})
                elif not await lock.alive():
                    continue
                await self.fill(platform)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away for a moment: try again shortly
                log.warning("outbox unavailable", extra={"platform": platform, "reason": repr(exc)[:200]})
                await self._wait(platform, self.poll_seconds)
                continue
            await self._wait(platform, self.poll_seconds)

    async def fill(self, platform: str) -> int:
        """Claim what fits in the sender's queue and hand it over; return how many rows were taken."""
        room = self.batch - self._outstanding[platform]
        if room <= 0:
            return 0
        async with self.db.transaction() as session:
            rows = await outbox.claim(session, platform, room)
            languages = await outbox.languages(session, [r.member_id for r in rows if r.member_id is not None])
            files = await outbox.files(session, [r.file_id for r in rows if r.file_id is not None])
        for n, row in enumerate(rows, 1):
            if n % 50 == 0:  # rendering hundreds of rows at once would hold up sends already paced
                await asyncio.sleep(0)
            language = best_language(languages.get(row.member_id) if row.member_id else None, row.language,
                                     self.default_language)  # fmt: skip
            done = partial(self._done, platform, row.id, row.kind)
            try:
                message = render(row, language, files.get(row.file_id) if row.file_id else None)
            except (LookupError, ValueError, IndexError) as exc:
                log.warning("outbox row cannot be rendered", extra={"id": row.id, "reason": repr(exc)[:200]})
                self._outstanding[platform] += 1
                await done(Outcome(None, f"cannot render: {exc!r}"[:200], 0))
                continue
            self._outstanding[platform] += 1
            self.delivery.submit(
                Address(row.platform, row.chat_id, row.user_id),
                message,
                key=f"outbox-{row.id}",
                bulk=row.priority == outbox.BULK,
                on_done=done,
            )
        return len(rows)

    async def _record(self, row_id: int, outcome: Outcome) -> bool:
        """Write a send's outcome, retrying a busy or briefly unreachable database: an outcome lost would
        leave the row "sending" until another process takes over, and then send it a second time."""
        for pause in (*RECORD_RETRIES, None):
            try:
                async with self.db.transaction() as session:
                    await outbox.record(
                        session, row_id, message_id=outcome.message_id, error=outcome.error, attempts=outcome.attempts
                    )
                return True
            except (SQLAlchemyError, OSError) as exc:
                if pause is None or self._stopping:  # the row stays "sending"; the next takeover sends it again
                    log.warning("outcome not recorded", extra={"id": row_id, "reason": repr(exc)[:200]})
                    return False
                await asyncio.sleep(pause)
        return False  # pragma: no cover (the loop returns)

    async def _done(self, platform: str, row_id: int, kind: str, outcome: Outcome) -> None:
        recorded = False
        try:
            recorded = await self._record(row_id, outcome)
        finally:
            self._outstanding[platform] -= 1
            if self._outstanding[platform] <= self.batch // 2:
                self._wakes[platform].set()
        hook = OUTCOME_HOOKS.get(kind)
        if recorded and hook is not None:  # after the commit: the last outcome of a batch sees all the others
            try:
                async with self.db.transaction() as session:
                    await hook(session, row_id, outcome.error)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("outcome hook failed", extra={"id": row_id, "kind": kind, "reason": repr(exc)[:200]})
