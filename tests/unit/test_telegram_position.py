"""The saved Telegram update position (bot/transports/telegram_position.py) on a real SQLite file."""

from __future__ import annotations

from bot.transports.telegram_position import REPLAY_SECONDS, UpdatePosition
from storage import transport_state
from storage.db import Database


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_handled_update_is_recognised_after_a_restart_for_a_day_only(sqlite_db: Database) -> None:
    clock = Clock()
    position = UpdatePosition(sqlite_db, clock=clock)
    await position.load()
    assert not position.handled_before(1)  # nothing saved: everything is new
    await position.handled(41)
    async with sqlite_db.transaction() as session:
        assert await transport_state.get(session, "telegram", "last_update_id") == "41@1800000000"

    restarted = UpdatePosition(sqlite_db, clock=clock)
    await restarted.load()
    assert restarted.handled_before(41) and restarted.handled_before(7) and not restarted.handled_before(42)
    clock.now += REPLAY_SECONDS  # Telegram no longer holds anything that old; a lower id is a new update
    assert not restarted.handled_before(7)


async def test_without_a_database_the_position_is_kept_in_memory() -> None:
    position = UpdatePosition(None)
    await position.load()
    await position.handled(5)
    assert position.handled_before(5) and not position.handled_before(6)
