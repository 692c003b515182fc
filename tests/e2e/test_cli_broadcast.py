"""``pocnet broadcast`` as an operator uses it, while a bot (in this process) sends what it queues."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from bot.app import App
from storage import sample
from storage.db import Database
from tests.conftest import make_settings
from tests.e2e.test_cli import config, pocnet
from tests.fakes.chat import ChatPlatform


async def pocnet_async(*args: str) -> tuple[int, str, str]:
    """``pocnet ARGS`` in its own process (test_cli.pocnet), awaited while this test's bot goes on."""
    result = await asyncio.to_thread(pocnet, *args)
    return result.returncode, result.stdout, result.stderr


async def test_broadcast_send_follows_the_copies_and_report_lists_them(tmp_path: Path) -> None:
    db_file = tmp_path / "pocnet.sqlite"
    cfg = str(config(tmp_path, db_file))
    db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
    await db.upgrade()
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
    chat = ChatPlatform("console")
    chat.refusing.add("PE")
    app = App(make_settings(f"sqlite+aiosqlite:///{db_file}", delivery={"poll_seconds": 0.1}), db, [chat])
    await app.start()
    try:
        text = tmp_path / "notice.txt"
        text.write_text("en: The questionnaire is due on 31 March | es: El cuestionario vence el 31 de marzo")
        agenda = tmp_path / "agenda.pdf"
        agenda.write_bytes(b"%PDF-1.4 agenda")
        code, out, err = await pocnet_async("--config", cfg, "broadcast", "send", "--to", "CO,PE,MX", "role:contact",
                                            "--text-file", str(text), "--file", str(agenda), "--ack")  # fmt: skip
        assert code == 0, err
        assert "announcement #1 queued for 3 members (3 console)" in out
        assert "announcement #1: 2 sent, 1 failed" in out
        copies = [s for s in chat.sent if s.message.attachment is not None]
        assert sorted(s.to.user_id for s in copies) == ["CO", "MX"]
        assert copies[0].message.attachment is not None and copies[0].message.attachment.content == b"%PDF-1.4 agenda"
        assert "The questionnaire is due on 31 March" in copies[0].message.text
        await app.idle()
        assert "Announcement #1 has gone out: 2 sent, 1 failed" in chat.last("secretariat")

        code, out, err = await pocnet_async("--config", cfg, "broadcast", "report", "1", "--csv")
        assert code == 0, err
        rows = {row["state"]: row for row in csv.DictReader(io.StringIO(out))}
        assert set(rows) == {"CO", "PE", "MX"}
        assert rows["PE"]["status"] == "failed" and "blocked" in rows["PE"]["error"]
        assert rows["CO"]["status"] == "delivered" and rows["CO"]["platform"] == "console"

        code, out, err = await pocnet_async("--config", cfg, "broadcast", "send", "--to", "Atlantis", "--text-file",
                                            str(text))  # fmt: skip
        assert code == 2 and "There is no state called “Atlantis”" in err and "Traceback" not in err
        code, out, err = await pocnet_async("--config", cfg, "broadcast", "report", "7")
        assert code == 2 and "there is no announcement #7" in err
    finally:
        await app.stop()
