"""``pocnet backup`` / ``pocnet restore`` round trips, compared table by table and row by row."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql import quoted_name

from storage import invites, outbox, sample
from storage.access import Actor, Role
from storage.db import Database, head_revision
from tests.conftest import PG_URL
from tests.e2e.test_cli import pocnet


async def tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table of the database and its rows, in a stable order."""
    db = Database.from_url(url)
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            found = {}
            for name in names:
                rows = (await conn.execute(text(f'SELECT * FROM "{quoted_name(name, True)}"'))).all()
                found[name] = sorted((tuple(row) for row in rows), key=repr)
            return found
    finally:
        await db.dispose()


async def fill(url: str) -> None:
    """A database at head with something in every table that matters."""
    db = Database.from_url(url)
    await db.upgrade()
    async with db.transaction() as session:
        await sample.seed(session)
        await invites.create(session, Actor.system("cli:test"), role=Role.CONTACT, state_code="MX")
        outbox.enqueue(session, outbox.Recipient("console", "MX", "MX", None), "Hello {name}", {"name": "Ana ñ"})
    await db.dispose()


def write_config(path: Path, url: str, store: Path | None = None) -> Path:
    matrix = (
        f'[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\nstore_path = "{store}"\n'
        if store
        else ""
    )
    path.write_text(f'[database]\nurl = "{url}"\n[console]\nenabled = true\n{matrix}')
    return path


def key_store(path: Path) -> None:
    """Something shaped like matrix-nio's store: a SQLite file and a plain one."""
    path.mkdir()
    conn = sqlite3.connect(path / "@bot:localhost_DEVICE.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, pickle BLOB)")
    conn.execute("INSERT INTO accounts (pickle) VALUES (?)", (os.urandom(64),))
    conn.commit()
    conn.close()
    (path / "notes.txt").write_text("device keys")


def store_rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path / "@bot:localhost_DEVICE.db")
    try:
        return conn.execute("SELECT * FROM accounts").fetchall()
    finally:
        conn.close()


async def test_sqlite_round_trip_with_the_key_store(tmp_path: Path) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite'}"
    await fill(source_url)
    key_store(tmp_path / "store")
    env = {"POCNET_MATRIX__PASSWORD": "pw-never-printed"}
    live = write_config(tmp_path / "live.toml", source_url, tmp_path / "store")
    archive = tmp_path / "backups" / "pocnet.tar.gz"

    made = pocnet("--config", str(live), "backup", str(archive), env=env)
    assert made.returncode == 0, made.stderr
    assert (
        made.stdout.startswith(f"backup written to {archive} (sqlite, revision {head_revision()}")
        and "2 file(s)" in made.stdout
    )
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"pocnet-backup.json", "database.sqlite", "matrix-store/notes.txt"} <= names
    again = pocnet("--config", str(live), "backup", str(archive), env=env)
    assert again.returncode == 2 and "exists already" in again.stderr

    target_url = f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'pocnet.sqlite'}"
    fresh = write_config(tmp_path / "fresh.toml", target_url, tmp_path / "restored-store")
    restored = pocnet("--config", str(fresh), "restore", str(archive), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "database restored" in restored.stdout and "Matrix key store restored" in restored.stdout

    before, after = await tables(source_url), await tables(target_url)
    assert set(before) >= {"member", "identity", "invite", "audit_event", "outbox", "state", "alembic_version"}
    assert all(before[name] for name in ("member", "identity", "invite", "audit_event", "outbox", "state"))
    assert after == before
    assert store_rows(tmp_path / "restored-store") == store_rows(tmp_path / "store")
    assert (tmp_path / "restored-store" / "notes.txt").read_text() == "device keys"

    # A second restore meets a database that is no longer empty: refused, nothing touched.
    shutil.rmtree(tmp_path / "restored-store")
    refused = pocnet("--config", str(fresh), "restore", str(archive), env=env)
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    assert not (tmp_path / "restored-store").exists()
    # Nor does it overwrite a key store.
    other = write_config(
        tmp_path / "other.toml", f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite'}", tmp_path / "store"
    )
    refused = pocnet("--config", str(other), "restore", str(archive), env=env)
    assert refused.returncode == 2 and "move it away first" in refused.stderr
    assert not (tmp_path / "other.sqlite").exists()
    assert "pw-never-printed" not in made.stdout + made.stderr + restored.stdout + refused.stderr


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    cfg = write_config(tmp_path / "c.toml", f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}")
    result = pocnet("--config", str(cfg), "restore", str(junk))
    assert result.returncode == 2 and "is not a pocnet backup" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    manifest = tmp_path / "pocnet-backup.json"
    manifest.write_text(json.dumps({"format": 1, "backend": "sqlite", "database": "database.sqlite"}))
    partial = tmp_path / "partial.tar.gz"
    with tarfile.open(partial, "w:gz") as tar:
        tar.add(manifest, arcname="pocnet-backup.json")
    result = pocnet("--config", str(cfg), "restore", str(partial))
    assert result.returncode == 2 and "is incomplete: the database is missing" in result.stderr
    assert not (tmp_path / "x.sqlite").exists()


@pytest.fixture
async def pg_databases() -> AsyncIterator[tuple[str, str]]:
    """Two new PostgreSQL databases (pg_dump works per database, not per schema)."""
    names = [f"pocnet_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        for name in names:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        async with admin.connect() as conn:
            for name in names:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
async def test_postgres_round_trip(tmp_path: Path, pg_databases: tuple[str, str]) -> None:
    source_url, target_url = pg_databases
    await fill(source_url)
    archive = tmp_path / "pg.tar.gz"
    made = pocnet("--config", str(write_config(tmp_path / "live.toml", source_url)), "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert f"(postgresql, revision {head_revision()}" in made.stdout

    fresh = write_config(tmp_path / "fresh.toml", target_url)
    restored = pocnet("--config", str(fresh), "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    before, after = await tables(source_url), await tables(target_url)
    assert before["member"] and before["audit_event"] and before["outbox"]
    assert after == before
    refused = pocnet("--config", str(fresh), "restore", str(archive))
    assert refused.returncode == 2 and "is not empty" in refused.stderr

    # Without the PostgreSQL client tools it says how to get them.
    no_tools = pocnet("--config", str(fresh), "backup", str(tmp_path / "b.tar.gz"), env={"PATH": str(tmp_path)})
    assert no_tools.returncode == 2 and "pg_dump is not on PATH" in no_tools.stderr
    assert "postgresql-client" in no_tools.stderr
