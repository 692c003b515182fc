"""``pocnet reminders`` as an operator uses it: change a round's plan, then list what is planned."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from reminders import plan
from storage import sample
from storage.db import Database
from storage.models import AuditEvent, Member, Reminder, Round
from tests.e2e.test_cli import config
from tests.e2e.test_cli_broadcast import pocnet_async


async def test_reminders_plan_changes_a_rounds_plan_and_list_shows_it(tmp_path: Path) -> None:
    db_file = tmp_path / "pocnet.sqlite"
    cfg = str(config(tmp_path, db_file))
    db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
    await db.upgrade()
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        session.add(Round(period="2031", deadline=date(2031, 3, 18), indicators=["mla"], states=["MX", "CO"],
                          opened_by="test", opened_at=datetime(2030, 12, 1, tzinfo=UTC)))  # fmt: skip
    try:
        code, out, err = await pocnet_async("--config", cfg, "reminders", "plan", "2031", "--offsets", "14,3",
                                            "--overdue-every", "10", "--overdue-limit", "1", "--at", "10:30")  # fmt: skip
        assert code == 0, err
        assert "round 2031: offsets 14,3, overdue every 10 days up to 1 times, at 10:30 local time" in out
        assert "18 added, 0 moved, 0 cancelled" in out  # MX: contact and 3 officials; CO: 2; three steps each
        async with db.transaction() as session:
            mexico = await session.scalar(select(Member).where(Member.state_code == "MX", Member.role == "contact"))
            assert mexico is not None
            steps = dict((await session.execute(
                select(Reminder.step, Reminder.due_at).where(Reminder.member_id == mexico.id,
                                                             Reminder.kind == plan.ROUND)
            )).all())  # fmt: skip
            assert steps == {
                "d-14": datetime(2031, 3, 4, 16, 30, tzinfo=UTC),  # Tuesday 10:30 in Mexico City (UTC−6)
                "d-3": datetime(2031, 3, 14, 16, 30, tzinfo=UTC),  # Saturday 15 → Friday 14
                "overdue-1": datetime(2031, 3, 28, 16, 30, tzinfo=UTC),
            }
            assert await session.scalar(select(AuditEvent.id).where(AuditEvent.action == "round.plan"))

        code, out, err = await pocnet_async("--config", cfg, "reminders", "list", "--state", "MX", "--limit", "2")
        assert code == 0, err
        assert "round 2031 (deadline 2031-03-18): 18 planned for 6 members, 0 sent, 0 skipped" in out
        assert "\n  MX 12\n" in out and " CO " not in out
        assert "next 2:" in out and "2031-03-04 16:30 UTC  Tue 04 Mar 10:30 America/Mexico_City" in out

        code, out, err = await pocnet_async("--config", cfg, "reminders", "plan", "2031", "--at", "25:00")
        assert code == 2 and "--at: a local hour as HH:MM" in err
        code, out, err = await pocnet_async("--config", cfg, "reminders", "plan", "1999")
        assert code == 2 and "There is no reporting round for 1999." in err
    finally:
        await db.dispose()
