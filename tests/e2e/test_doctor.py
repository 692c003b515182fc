"""``pocnet doctor`` as an operator meets it: one line per check, what is wrong, what to do, exit code."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot import doctor
from bot.config import MatrixSection
from storage.db import Database
from storage.models import OutboxItem
from storage.types import utcnow
from tests.conftest import make_settings
from tests.e2e.matrix_helpers import matrix_bot
from tests.e2e.test_cli import config, pocnet
from tests.fakes.telegram_api import FakeBotAPI
from tests.servers.synapse import Synapse


def lines(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def test_demo_setup_is_all_well(tmp_path: Path) -> None:
    cfg = config(tmp_path, tmp_path / "pocnet.sqlite")
    before = pocnet("--config", str(cfg), "doctor")
    assert before.returncode == 1
    assert "PROBLEM  database: no database file" in before.stdout and "pocnet db upgrade" in before.stdout
    assert not (tmp_path / "pocnet.sqlite").exists()  # doctor creates nothing
    assert pocnet("--config", str(cfg), "db", "upgrade").returncode == 0
    result = pocnet("--config", str(cfg), "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.strip().splitlines()
    assert out[-1] == "all is well"
    names = [line.split(":")[0].split(maxsplit=1)[1] for line in out[:-1]]
    assert names == [
        "configuration",
        "reporting catalogue",
        "database",
        "migrations",
        "clock",
        "outbox",
        "outbox failures",
    ]
    assert all(line.startswith("ok ") for line in out[:-1]), out
    assert result.stderr == ""


def test_broken_config_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[bot]\ncolour = "blue"\n[database]\nurl = "sqlite+aiosqlite:///x.sqlite"\n')
    result = pocnet("--config", str(bad), "doctor")
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("PROBLEM  configuration:") and "unknown key bot.colour" in first
    assert "Traceback" not in result.stdout + result.stderr

    no_transport = tmp_path / "quiet.toml"
    no_transport.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "q.sqlite"}"\n')
    result = pocnet("--config", str(no_transport), "doctor")
    assert "PROBLEM  configuration: read" in result.stdout and "no transport is enabled" in result.stdout

    missing = pocnet("doctor", cwd=tmp_path)  # no --config, no $POCNET_CONFIG, no ./config.toml: as `run` sees it
    assert missing.returncode == 1
    assert missing.stdout.startswith("PROBLEM  configuration: config file not found: config.toml")


def test_unreachable_database_is_one_line_and_a_failure(tmp_path: Path) -> None:
    cfg = tmp_path / "pg.toml"
    cfg.write_text(
        '[database]\nurl = "postgresql+asyncpg://nobody:hunter2secret@127.0.0.1:1/none"\n[console]\nenabled = true\n'
    )
    cfg.chmod(0o600)
    result = pocnet("--config", str(cfg), "doctor")
    assert result.returncode == 1
    database = [line for line in result.stdout.splitlines() if line.split(":")[0].endswith(" database")]
    assert len(database) == 1, result.stdout
    assert database[0].startswith(
        "PROBLEM  database: cannot connect to postgresql+asyncpg://nobody:***@127.0.0.1:1/none"
    )
    assert "migrations" not in result.stdout and "outbox" not in result.stdout
    assert "hunter2secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


async def test_telegram_get_me_and_a_refused_token(tmp_path: Path, sqlite_url: str) -> None:
    server = FakeBotAPI(token="4242:REAL-TOKEN-abcdef")
    await server.start()
    try:
        good = make_settings(sqlite_url, telegram={"token": server.token, "base_url": server.base_url})
        found = lines(await doctor.diagnose(settings=good))
        assert found["telegram"].status == "ok" and "@pocnet_bot" in found["telegram"].detail
        assert server.calls.count("getMe") == 1

        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[database]\nurl = "{sqlite_url}"\n[telegram]\ntoken = "4242:WRONG-TOKEN-zyxwvu"\nbase_url = "{server.base_url}"\n'
        )
        printed: list[str] = []
        assert await doctor.run(str(cfg), printed.append) == 1
        text = "\n".join(printed)
        assert "PROBLEM  telegram: Telegram refused the token — set POCNET_TELEGRAM__TOKEN" in text
        assert f"PROBLEM  configuration file: {cfg} holds telegram.token and every user" in text  # mode 644
        assert "WRONG-TOKEN" not in text
        cfg.chmod(0o600)
        printed.clear()
        await doctor.run(str(cfg), printed.append)
        assert not any("configuration file" in line for line in printed)
    finally:
        await server.stop()
    found = lines(await doctor.diagnose(settings=good))  # the server is gone
    assert found["telegram"].status == "problem" and "cannot reach http://127.0.0.1:" in found["telegram"].detail


async def test_outbox_backlog_and_failures(sqlite_db: Database) -> None:
    now = utcnow()
    assert [c.status for c in await doctor.check_outbox(sqlite_db)] == ["ok", "ok"]
    async with sqlite_db.transaction() as session:
        for age, status, error in [(3, "queued", None), (2, "queued", None), (1, "failed", "refused: 403: blocked")]:
            session.add(
                OutboxItem(
                    platform="telegram",
                    chat_id="1",
                    user_id="1",
                    template="hi",
                    params={},
                    status=status,
                    error=error,
                    created_at=now - timedelta(hours=age),
                )
            )
    backlog, failures = await doctor.check_outbox(sqlite_db, now=now)
    assert backlog.status == "problem" and backlog.detail == "2 message(s) waiting, the oldest for 3 h"
    assert "pocnet run" in backlog.advice
    assert failures.status == "problem" and "1 message(s) failed in the last 24 h" in failures.detail
    assert "refused: 403: blocked" in failures.detail
    later = await doctor.check_outbox(sqlite_db, now=now + timedelta(days=2))
    assert later[1].status == "ok"  # an old failure no longer counts


async def test_postgres_clock_and_revision(db: Database) -> None:
    assert (await doctor.check_clock(db)).status == "ok"
    revision = await doctor.check_revision(db)
    assert revision.status == "ok" and "newest revision" in revision.detail


async def test_matrix_login_sync_and_key_store(synapse: Synapse, sqlite_db: Database, tmp_path: Path) -> None:
    store = tmp_path / "store"
    async with matrix_bot(synapse, sqlite_db, store) as bot:
        section = bot.section
    settings = make_settings(str(sqlite_db.engine.url))
    settings.matrix = section
    found = lines(await doctor.diagnose(settings=settings))
    assert found["matrix login"].status == "ok" and "throwaway device" in found["matrix login"].detail
    assert found["matrix sync"].status == "ok"
    assert found["matrix key store"].status == "ok", found["matrix key store"]
    assert "bot-password" not in "\n".join(c.line() for c in found.values())

    settings.matrix = MatrixSection(**{**section.model_dump(), "store_key": "another-key-entirely"})
    store_check = lines(await doctor.diagnose(settings=settings))["matrix key store"]
    assert store_check.status == "problem" and "does not open with matrix.store_key" in store_check.detail

    settings.matrix = MatrixSection(**{**section.model_dump(), "password": "wrong-password"})
    login = lines(await doctor.diagnose(settings=settings))["matrix login"]
    assert login.status == "problem" and "refused the login" in login.detail
