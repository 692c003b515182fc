"""The reminder scheduler: pocnet's ``reminder`` table says what is due; APScheduler only wakes us for it.

Why one APScheduler job and not one per reminder: the table is the source of truth (it survives restarts,
is shared by every instance, and is changed by the CLI and by other processes), so a copy of it in
APScheduler's job store would have to be kept in step with every change, and rebuilding 100,000 jobs at
start-up costs seconds and tens of megabytes. Instead the scheduler keeps a single ``date`` job armed at the
earliest planned ``due_at`` (one indexed query); when it fires, every row then due is claimed and sent, and
the job is re-armed at the next earliest. It is re-armed again after each plan change and, to notice the
changes other processes make (``pocnet reminders plan``, a deadline moved from the command line, a figure
reported on another instance), by a ``check`` job every ``check_seconds`` that re-plans whatever changed
and re-arms. No SQLAlchemyJobStore: it would be a second, weaker source of truth.

Several instances: only the one holding the PostgreSQL advisory lock schedules (the others retry every
``standby_seconds``); rows are still claimed ``FOR UPDATE SKIP LOCKED``. A reminder is marked sent in the
transaction that queues its outbox rows, so a crash never sends it twice. SQLite serves one process.

A whole network may come due in the same minute (09:00 in one zone): round reminders take a bulk path
(rounds.fire_due: plain rows, a few statements per batch of ``batch``), and the decisions of the next firing
are prepared up to PREPARE_SECONDS ahead, so that at the moment itself mostly the writes remain.

``now`` is the clock the reminders are decided by (tests pass a controllable one and call ``fire()``,
``replan()`` directly); APScheduler's own timer runs on the real clock, offset by the difference.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import reminders
from bot.delivery.durable import PlatformLock
from reminders import plan, rounds
from reminders.registry import FIRES, PLAN_CHANGED, PLANNERS
from storage.db import Database, on_commit
from storage.models import Figure, Member, Reminder, Round
from storage.types import utcnow

log = logging.getLogger("pocnet.reminders")

NEXT_JOB, CHECK_JOB, PREPARE_JOB = "reminders-next", "reminders-check", "reminders-prepare"
PREPARE_SECONDS = 30.0  # the next firing's decisions are computed this long before it
RETRY_SECONDS = 5.0

_schedulers: list[ReminderScheduler] = []


def _changed() -> None:
    for scheduler in list(_schedulers):
        scheduler.poke()


on_commit(PLAN_CHANGED, _changed)


class ReminderScheduler:
    def __init__(
        self,
        db: Database,
        *,
        now: Callable[[], datetime] = utcnow,
        batch: int = 2000,
        check_seconds: float = 60.0,
        standby_seconds: float = 5.0,
        catalogue_path: str | None = None,
    ) -> None:
        self.db = db
        self.now = now
        self.batch = batch
        self.check_seconds = check_seconds
        self.standby_seconds = standby_seconds
        self.lock = PlatformLock(db, "scheduler:reminders")
        self.scheduler: AsyncIOScheduler | None = None
        self.next_due: datetime | None = None
        self.fired = 0  # reminders decided (sent or skipped) by this instance
        self.timer = True  # False: nothing fires by itself (tests with a controllable clock call fire())
        self.after_batch: Callable[[list[datetime]], None] | None = None  # due times of each committed batch
        self._fingerprint: Any = None
        self._busy = asyncio.Lock()
        self._stopping = False
        self._prepared: rounds.Prepared | None = None
        self._standby: asyncio.Task[None] | None = None
        self._poked: asyncio.Task[None] | None = None
        rounds.CATALOGUE_PATH[0] = catalogue_path
        reminders.load()

    @property
    def running(self) -> bool:
        """This instance schedules: it holds the lock and its timer runs."""
        return self.scheduler is not None and self.scheduler.running and self.lock.held

    # --- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the schedule from the tables: take the lock (or stand by), re-plan, arm the next firing."""
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.start()
        _schedulers.append(self)
        try:
            if await self.lock.acquire():
                await self._lead()
                return
        except Exception as exc:  # the database may come later (as for the directory snapshot): keep trying
            log.warning("reminder scheduler waits for the database", extra={"reason": repr(exc)[:200]})
        self._standby = asyncio.create_task(self._wait_for_lock(), name="reminders-standby")

    async def _lead(self) -> None:
        log.info("reminder scheduler leads")
        assert self.scheduler is not None
        if self.timer:
            self.scheduler.add_job(self._check, "interval", seconds=self.check_seconds, id=CHECK_JOB,
                               replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=None)  # fmt: skip
        await self.replan()

    async def _wait_for_lock(self) -> None:
        while True:
            await asyncio.sleep(self.standby_seconds)
            try:
                if self.lock.held or await self.lock.acquire():
                    await self._lead()
                    return
            except Exception as exc:  # the database went away for a moment
                log.warning("reminder lock attempt failed", extra={"reason": repr(exc)[:200]})

    async def stop(self) -> None:
        self._stopping = True
        if self in _schedulers:
            _schedulers.remove(self)
        for task in (self._standby, self._poked):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        async with self._busy:  # let a firing in progress commit
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            await self.lock.release()

    def poke(self) -> None:
        """Re-plan soon (a change committed in this process)."""
        if self.lock.held and (self._poked is None or self._poked.done()):
            self._poked = asyncio.get_running_loop().create_task(self._replan_now(), name="reminders-replan")

    async def _replan_now(self) -> None:
        """A poke's re-plan. Nobody waits for it, so its failure is logged here (one line, as the periodic
        check's); that check re-plans again within a minute."""
        try:
            await self.replan(force=True)
        except Exception as exc:
            log.warning("reminders not re-planned after a change", extra={"reason": repr(exc)[:200]})

    # --- planning and arming ----------------------------------------------------------------------------

    async def _fingerprint_now(self, session: AsyncSession) -> Any:
        """What the round plans depend on; when it has not changed, re-planning would change nothing."""
        rounds_ = (await session.execute(
            select(Round.id, Round.deadline, Round.offsets, Round.overdue_every, Round.overdue_limit,
                   Round.remind_at, Round.closed_at, Round.states, Round.indicators).order_by(Round.id)
        )).all()  # fmt: skip
        figures_ = (await session.execute(select(func.count(Figure.id), func.max(Figure.id)))).one()
        members_ = (await session.execute(select(func.count(Member.id), func.max(Member.updated_at)))).one()
        snoozes = (await session.execute(
            select(func.count(Reminder.id), func.max(Reminder.due_at)).where(Reminder.kind == plan.SNOOZE)
        )).one()  # fmt: skip
        return repr((rounds_, tuple(figures_), tuple(members_), tuple(snoozes)))

    async def replan(self, *, force: bool = False) -> None:
        """Run every planner (when what they depend on changed, or ``force``), then re-arm."""
        async with self._busy:
            async with self.db.transaction() as session:
                fingerprint = await self._fingerprint_now(session)
                changed = force or fingerprint != self._fingerprint
                now = self.now()
                for planner in PLANNERS:  # the round planner only when what it reads changed; others decide
                    if changed or planner is not plan.plan_rounds:
                        await planner(session, now)
            self._fingerprint = fingerprint
            await self._arm()

    async def earliest(self) -> datetime | None:
        async with self.db.transaction() as session:
            return await session.scalar(
                select(func.min(Reminder.due_at)).where(
                    Reminder.status == plan.PLANNED, Reminder.kind.in_(sorted(FIRES))
                )
            )

    async def arm(self) -> datetime | None:
        """Point the one date job at the earliest planned reminder (now, if it is already due)."""
        async with self._busy:
            return await self._arm()

    async def _arm(self, *, at_least: float = 0.0) -> datetime | None:
        if self._stopping:
            return None
        due = await self.earliest()
        self.next_due = due
        if not self.timer or self.scheduler is None or not self.scheduler.running or not self.lock.held:
            return due
        if due is None:
            if self.scheduler.get_job(NEXT_JOB) is not None:
                self.scheduler.remove_job(NEXT_JOB)
            return None
        wait = max(at_least, (due - self.now()).total_seconds())
        run_at = datetime.now(UTC) + timedelta(seconds=wait)
        self.scheduler.add_job(self._due, "date", run_date=run_at, id=NEXT_JOB, replace_existing=True,
                               misfire_grace_time=None, coalesce=True)  # fmt: skip
        if wait > 1.0 and (self._prepared is None or self._prepared.at != due):
            prepare_at = datetime.now(UTC) + timedelta(seconds=max(0.0, wait - PREPARE_SECONDS))
            self.scheduler.add_job(self._prepare, "date", run_date=prepare_at, args=[due], id=PREPARE_JOB,
                                   replace_existing=True, misfire_grace_time=None, coalesce=True)  # fmt: skip
        return due

    async def _prepare(self, due: datetime) -> None:
        """Compute ahead what the firing at ``due`` will decide (reads only): at the moment itself only the
        writes remain."""
        try:
            async with self._busy:
                if self._stopping or self.next_due != due:
                    return
                async with self.db.transaction() as session:
                    rows = await session.execute(
                        select(Reminder.id, Reminder.kind, Reminder.round_id, Reminder.member_id, Reminder.step,
                               Reminder.due_at)
                        .where(Reminder.status == plan.PLANNED, Reminder.kind == plan.ROUND, Reminder.due_at <= due)
                    )  # fmt: skip
                    self._prepared = await rounds.prepare(session, [rounds.Due(*r) for r in rows.all()], due)
        except Exception as exc:  # preparing is an optimisation: the firing decides without it
            log.warning("preparing reminders failed", extra={"reason": repr(exc)[:200]})

    async def _due(self) -> None:
        try:
            async with self._busy:
                if self._stopping:
                    return
                fired = await self._fire()
                # rows due but not taken (locked by a transaction elsewhere): look again in a moment, not at once
                await self._arm(at_least=0.0 if fired else RETRY_SECONDS)
        except Exception as exc:  # the database went away: the check job re-arms
            log.warning("reminder firing failed", extra={"reason": repr(exc)[:200]})

    async def _check(self) -> None:
        try:
            if await self.lock.alive():
                await self.replan()
        except Exception as exc:
            log.warning("reminder check failed", extra={"reason": repr(exc)[:200]})

    # --- firing -----------------------------------------------------------------------------------------

    async def fire(self) -> int:
        """Decide every reminder due by now, batch by batch (one transaction each); return how many."""
        async with self._busy:
            return await self._fire()

    async def _fire(self) -> int:
        total = 0
        while True:
            done, full = await self._fire_batch()
            total += done
            if not full:
                break
        self.fired += total
        return total

    async def _fire_batch(self) -> tuple[int, bool]:
        now = self.now()
        async with self.db.transaction() as session:
            claimed = await claim(session, now, self.batch)
            full = len(claimed) >= self.batch
            if full and claimed[-1].kind == plan.ROUND:
                # keep one member's rows of one round together: the last group may continue past the batch
                last = (claimed[-1].kind, claimed[-1].member_id, claimed[-1].round_id)
                claimed = [r for r in claimed if (r.kind, r.member_id, r.round_id) != last] or claimed
            by_kind: dict[str, list[rounds.Due]] = {}
            for row in claimed:
                by_kind.setdefault(row.kind, []).append(row)
            dues: list[datetime] = []
            for kind, rows in by_kind.items():
                if kind == plan.ROUND:  # the bulk path: a whole network may be due in the same minute
                    dues += [r.due_at for r in await rounds.fire_due(session, rows, now, self._prepared)]
                    continue
                loaded = list(await session.scalars(select(Reminder).where(Reminder.id.in_([r.id for r in rows]))))
                await FIRES[kind](session, loaded, now)
                dues += [r.due_at for r in loaded if r.status == plan.SENT]
        if self.after_batch is not None:  # committed: the outbox rows are queued
            self.after_batch(dues)
        return len(claimed), full


async def claim(session: AsyncSession, now: datetime, limit: int) -> list[rounds.Due]:
    """Lock up to ``limit`` planned reminders due by ``now``, one member's rows of a round together
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: another instance never takes the same rows)."""
    query = (
        select(Reminder.id, Reminder.kind, Reminder.round_id, Reminder.member_id, Reminder.step, Reminder.due_at)
        .where(Reminder.status == plan.PLANNED, Reminder.due_at <= now, Reminder.kind.in_(sorted(FIRES)))
        .order_by(Reminder.kind, Reminder.member_id, Reminder.round_id, Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [rounds.Due(*row) for row in (await session.execute(query)).all()]
