"""An announcement to 5,000 members survives the bot being killed (SIGKILL) halfway: after a restart
every member has their copy — on Matrix exactly one (the transaction id is the outbox row's), on the
console exactly one (its journal), on Telegram at most one extra per send that was in flight when the
process died."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from storage import announcements, exchange, invites, members, outbox, readmodel
from storage.access import Actor, Role
from storage.announcements import Audience, Draft
from storage.db import Database
from storage.models import Identity, Member, OutboxItem
from storage.sample import synthetic_csv
from storage.types import utcnow
from tests.e2e.matrix_helpers import MatrixUser, unique
from tests.e2e.test_cli import ROOT
from tests.fakes.telegram_api import FakeBotAPI
from tests.servers.synapse import Synapse

MEMBERS = 5000
BASE = 7_000_000  # Telegram member n is user and chat BASE + n
IN_FLIGHT = 32  # TelegramTransport's most sends at once
CONSOLE = [f"C{n}" for n in range(1, 4)]  # members who read the console
pytestmark = pytest.mark.slow  # 5,000 members, a SIGKILL and a restart: 1–2 minutes


def write_config(path: Path, db_file: Path, server: FakeBotAPI, synapse: Synapse, bot_id: str, store: Path) -> Path:
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{db_file}"\n'
        "[delivery]\npoll_seconds = 0.2\n"
        f'[telegram]\ntoken = "{server.token}"\nbase_url = "{server.base_url}"\npoll_timeout = 1\n'
        "messages_per_second = 0\nper_chat_interval = 0\nsend_retries = 8\n"
        f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot_id}"\npassword = "bot-password"\n'
        f'store_path = "{store}"\nsync_timeout_ms = 1000\n'
        f'[console]\nenabled = true\njournal = "{path.parent / "console-journal.txt"}"\n'
    )
    return path


async def start_bot(config: Path) -> asyncio.subprocess.Process:
    """``pocnet run``; what the console shows is appended to ``console.txt`` next to the configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCNET_")} | {"PYTHONPATH": str(ROOT)}
    with (config.parent / "console.txt").open("ab") as out, (config.parent / "log.txt").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(config), "run",
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=log,
        )  # fmt: skip


def warnings(folder: Path) -> str:
    """The bot's WARNING lines, to say why copies are stuck if they are."""
    lines = (folder / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join([line for line in lines if "WARNING" in line or "ERROR" in line][-20:])


async def pending(db: Database) -> int:
    async with db.transaction() as session:
        return await outbox.pending(session, ["telegram", "matrix", "console"])


async def test_an_announcement_killed_midway_reaches_everyone_once_after_restart(
    synapse: Synapse, tmp_path: Path
) -> None:
    db_file = tmp_path / "pocnet.sqlite"
    db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
    await db.upgrade()
    actor = Actor.system("test")
    async with db.transaction() as session:
        await exchange.import_csv(session, actor, synthetic_csv(MEMBERS + 600))
        everyone = list(await session.scalars(select(Member.id).where(Member.active.is_(True)).order_by(Member.id)))
        ids = everyone[:MEMBERS]
        telegram = [{"platform": "telegram", "user_id": str(BASE + n), "chat_id": str(BASE + n), "member_id": m}
                    for n, m in enumerate(ids)]  # fmt: skip
        console = [{"platform": "console", "user_id": user, "chat_id": f"console:{user}", "member_id": m}
                   for user, m in zip(CONSOLE, everyone[MEMBERS:], strict=False)]  # fmt: skip
        await session.execute(insert(Identity), telegram + console)
        assert len(ids) == MEMBERS
        desk = await members.create(session, actor, display_name="Desk", role=Role.SECRETARIAT, state_code=None)
        codes = [(await invites.create(session, actor, role=Role.CONTACT, state_code="PE")).code for _ in range(2)]
    server = FakeBotAPI()
    await server.start()
    bot_id = synapse.register(unique("pocnet"), "bot-password")
    config = write_config(tmp_path / "config.toml", db_file, server, synapse, bot_id, tmp_path / "store")
    bot = await start_bot(config)
    try:
        async with (
            MatrixUser(synapse, tmp_path / "m1", "mara") as mara,
            MatrixUser(synapse, tmp_path / "m2", "milo") as milo,
        ):
            rooms = {}
            for person, code in ((mara, codes[0]), (milo, codes[1])):
                rooms[person.user_id] = await person.dm(bot_id)
                assert "Welcome" in await person.say(rooms[person.user_id], f"/start {code}")

            async with db.transaction() as session:
                author = await session.get(Member, desk.id)
                assert author is not None
                view = await readmodel.load(session)
                draft = Draft(Audience(everyone=True), {"": "Meeting of national authorities: agenda attached"})
                relay, plan = await announcements.send(session, actor, author, draft, view, now=utcnow(),
                                                       default_language="en")  # fmt: skip
            assert len(plan.reachable) == MEMBERS + 2 + len(CONSOLE)

            await server.wait_for_sent(MEMBERS // 3, within=300)  # a third has gone out: kill it
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            sent_before = len(server.sent)
            assert sent_before < MEMBERS
            bot = await start_bot(config)
            left, stalled = await pending(db), 0.0
            while left:  # another process sends; the database tells. Fail only if nothing moves for 60 s
                await asyncio.sleep(0.5)
                now_left = await pending(db)
                stalled = 0.0 if now_left < left else stalled + 0.5
                assert stalled < 60, f"{now_left} copies stuck; the bot said:\n{warnings(tmp_path)}"
                left = now_left

            copies = Counter(s.chat_id for s in server.sent if s.text.startswith("Announcement #"))
            assert set(copies) == {BASE + n for n in range(MEMBERS)}  # every Telegram member has theirs
            extra = sum(copies.values()) - MEMBERS
            assert extra <= IN_FLIGHT, f"{extra} duplicates"  # at most one per send in flight at the kill
            for person in (mara, milo):
                room = rooms[person.user_id]
                await person.wait(lambda p=person, r=room: any("Announcement #" in n.body for n in p.notices[r]))
                await asyncio.sleep(2)  # a duplicate would have arrived by now
                assert sum("Announcement #" in n.body for n in person.notices[room]) == 1
            async with db.transaction() as session:
                statuses = dict((await session.execute(
                    select(OutboxItem.status, func.count()).where(OutboxItem.reference == f"relay:{relay.id}")
                    .group_by(OutboxItem.status))).all())  # fmt: skip
            assert statuses == {outbox.SENT: MEMBERS + 2 + len(CONSOLE)}
            shown = (tmp_path / "console.txt").read_text(encoding="utf-8")
            for user in CONSOLE:
                assert shown.count(f"[→ {user}]\nAnnouncement #") == 1, user
    finally:
        if bot.returncode is None:
            bot.terminate()
            await bot.wait()
        await server.stop()
        await db.dispose()
