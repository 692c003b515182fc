"""The durable lane on SQLite and PostgreSQL: rows written with the business change leave after commit,
outcomes are recorded per recipient, a crash loses nothing, two senders never take the same row, and
only one instance sends for a platform at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.delivery.clock import SystemClock
from bot.delivery.durable import DurableLane, PlatformLock
from bot.delivery.service import DeliveryService
from bot.transports.base import Address, Outgoing
from storage import outbox, sample
from storage.db import Database
from storage.models import Member, OutboxItem
from tests.conftest import PG_URL, _drop_pg_schema, make_settings, migrated_pg_schema
from tests.fakes.platform import PlatformError, RecordingPlatform, eventually

TO = outbox.Recipient("telegram", "501", "501")


async def queue(db: Database, n: int, *, recipient: outbox.Recipient = TO, **params: object) -> list[int]:
    async with db.transaction() as session:
        items = [outbox.enqueue(session, recipient, "Reminder: {what}", {"what": f"item {k}", **params})
                 for k in range(n)]  # fmt: skip
        await session.flush()
        return [i.id for i in items]


async def rows(db: Database) -> list[OutboxItem]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def test_rows_are_sent_in_the_recipients_language_and_recorded(db: Database) -> None:
    async with db.transaction() as session:
        await sample.seed(session, platform="telegram")
        mx = await session.scalar(select(Member).where(Member.state_code == "MX"))
        assert mx is not None
        mx.language = "es"
        recipient = outbox.recipients_of(mx)[0]
        outbox.enqueue(session, recipient, "Cancelled. Nothing was done.", {}, reference="test:1")
    platform = RecordingPlatform(SystemClock())
    delivery = DeliveryService([platform])
    lane = DurableLane(db, delivery, poll_seconds=0.05)
    delivery.start()
    lane.start()
    try:
        await eventually(lambda: bool(platform.sent) and not lane.outstanding)
    finally:
        await lane.stop()
        await delivery.stop()
    assert platform.sent[0].text == "Cancelado. No se hizo nada."  # rendered in Spanish when sent
    (row,) = await rows(db)
    assert row.status == "sent" and row.platform_message_id == "m1" and row.sent_at is not None
    assert platform.sent[0].key == f"outbox-{row.id}"  # the idempotency key: a retry is recognisable
    async with db.transaction() as session:
        assert await outbox.counts(session, "test:1") == {"sent": 1}
        found = await outbox.by_platform_message(session, "telegram", recipient.chat_id, "m1")
        assert found is not None and found.id == row.id  # a reply to the copy traces back to its row
        assert await outbox.acknowledge(session, row.id)


async def test_failures_are_recorded_with_their_reason(db: Database) -> None:
    await queue(db, 2)
    platform = RecordingPlatform(SystemClock(), fail=lambda to, m, n: PlatformError("Forbidden: bot was blocked", None))
    delivery = DeliveryService([platform])
    lane = DurableLane(db, delivery)
    delivery.start()
    await lane.fill("telegram")
    await delivery.idle()
    await delivery.stop()
    assert [(r.status, r.error, r.attempts) for r in await rows(db)] == [
        ("failed", "Forbidden: bot was blocked", 1)
    ] * 2


async def test_rows_claimed_by_a_dead_sender_are_delivered_after_restart(db: Database) -> None:
    ids = await queue(db, 3)
    async with db.transaction() as session:  # a sender claimed them, then the process was killed
        assert [r.id for r in await outbox.claim(session, "telegram", 10)] == ids
    assert {r.status for r in await rows(db)} == {"sending"}
    settings = make_settings(str(db.engine.url) if db.schema is None else PG_URL)
    platform = RecordingPlatform(SystemClock())
    app = App(settings, db, [platform])
    app.outbox.poll_seconds = 0.05
    await app.start()
    try:
        await eventually(lambda: len(platform.sent) == 3 and not app.outbox.outstanding)
    finally:
        for service in reversed(app._started):
            await service.stop()
    assert sorted(r.key for r in platform.sent) == sorted(f"outbox-{i}" for i in ids)
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_a_rolled_back_change_queues_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            outbox.enqueue(session, TO, "hello")
            raise RuntimeError("the business change failed")
    assert await rows(db) == []


@pytest.fixture
async def two_instances() -> AsyncIterator[tuple[Database, Database]]:
    """Two pocnet processes' views of one migrated PostgreSQL database (each its own engine)."""
    schema = await migrated_pg_schema()
    first, second = Database.from_url(PG_URL, schema=schema), Database.from_url(PG_URL, schema=schema)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()
        await _drop_pg_schema(schema)


@pytest.mark.postgres
async def test_two_senders_never_claim_the_same_row(two_instances: tuple[Database, Database]) -> None:
    first, second = two_instances
    await queue(first, 500)
    taken: list[list[int]] = [[], []]

    async def sender(db: Database, into: list[int]) -> None:
        while True:
            async with db.transaction() as session:
                claimed = await outbox.claim(session, "telegram", 7)
                await asyncio.sleep(0.001)  # hold the row locks a moment, as a real sender does
            if not claimed:
                return
            into.extend(r.id for r in claimed)

    await asyncio.gather(sender(first, taken[0]), sender(second, taken[1]))
    assert taken[0] and taken[1]  # both worked …
    assert not set(taken[0]) & set(taken[1])  # … on different rows
    assert len(taken[0]) + len(taken[1]) == 500


@pytest.mark.postgres
async def test_one_instance_sends_per_platform_and_another_takes_over(two_instances: tuple[Database, Database]) -> None:
    first, second = two_instances
    one, two = PlatformLock(first, "telegram"), PlatformLock(second, "telegram")
    assert await one.acquire()
    assert not await two.acquire()  # the second instance stands by
    matrix = PlatformLock(second, "matrix")
    assert await matrix.acquire()  # another platform is another lock
    await matrix.release()
    elsewhere = Database.from_url(PG_URL, schema=f"{second.schema}x")
    assert PlatformLock(elsewhere, "telegram").key != one.key  # databases sharing a server: other locks
    await elsewhere.dispose()

    await queue(first, 2)
    platform = RecordingPlatform(SystemClock())
    delivery = DeliveryService([platform])
    standby = DurableLane(second, delivery, poll_seconds=0.05, standby_seconds=0.2)
    delivery.start()
    standby.start()
    await asyncio.sleep(0.6)
    assert platform.sent == []  # the first instance holds the lock: the standby sends nothing
    await one.release()  # the first instance dies (its connection closes; the lock goes with it)
    await eventually(lambda: len(platform.sent) == 2)
    await standby.stop()
    await delivery.stop()


async def test_stop_finishes_queued_replies(sqlite_db: Database) -> None:
    platform = RecordingPlatform(SystemClock())
    delivery = DeliveryService([platform])
    delivery.start()
    for n in range(20):
        delivery.submit(Address("telegram", str(n), str(n)), Outgoing("bye"), key=f"k{n}")
    await delivery.stop(drain=5)
    assert len(platform.sent) == 20


@pytest.mark.postgres
async def test_an_outcome_is_recorded_even_when_the_row_is_locked_for_a_while() -> None:
    """A send's outcome that cannot be written at once (here: another transaction holds the row longer than
    the statement timeout) is retried, not dropped: a dropped one leaves the row "sending" for ever."""
    schema = await migrated_pg_schema()
    lane_db = Database.from_url(PG_URL, schema=schema, timeout=0.3)
    other = Database.from_url(PG_URL, schema=schema)
    try:
        (row_id,) = await queue(lane_db, 1)
        platform = RecordingPlatform(SystemClock(), delay=lambda to: 0.5)
        delivery = DeliveryService([platform])
        lane = DurableLane(lane_db, delivery)
        delivery.start()
        await lane.fill("telegram")
        await eventually(lambda: bool(platform.attempts))  # the send is under way: hold its row
        async with other.transaction() as session:
            await session.execute(select(OutboxItem).where(OutboxItem.id == row_id).with_for_update())
            await asyncio.sleep(1.5)
        await eventually(lambda: not lane.outstanding, within=20)
        await delivery.stop()
        assert [(r.status, r.platform_message_id) for r in await rows(lane_db)] == [("sent", "m1")]
        assert len(platform.sent) == 1
    finally:
        await lane_db.dispose()
        await other.dispose()
        await _drop_pg_schema(schema)
