"""Shared fixtures: real databases (SQLite files and PostgreSQL schemas), a running bot on a fake chat."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App
from bot.config import Settings
from storage import sample
from storage.db import Database
from tests.fakes.chat import ChatPlatform
from tests.servers.synapse import Synapse


def examples(default: int) -> int:
    """How many examples a property test tries: ``default`` in the everyday run; .ci/run's third stage
    sets POCNET_PROPERTY_EXAMPLES (1,500) to search deeper once."""
    return int(os.environ.get("POCNET_PROPERTY_EXAMPLES", default))


PG_URL = os.environ.get("POCNET_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test session; tests get copies (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"

    async def build() -> None:
        db = Database.from_url(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Path:
    """The migrated template with the sample directory (console identities) in it, built once: seeding
    goes through members.create person by person (about 0.4 s), a copy takes a millisecond."""
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    shutil.copy(migrated_template, path)

    async def build() -> None:
        db = Database.from_url(f"sqlite+aiosqlite:///{path}")
        async with db.transaction() as session:
            await sample.seed(session, platform="console")
        await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_template: Path) -> str:
    """A copy of the migrated template; already holding the sample directory when the test runs the chat
    fixture, which would seed it anyway."""
    source = request.getfixturevalue("sample_template") if "chat" in request.fixturenames else migrated_template
    target = tmp_path / "pocnet.sqlite"
    shutil.copy(source, target)
    return f"sqlite+aiosqlite:///{target}"


async def _pg_schema() -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await engine.dispose()
    return schema


_TEMPLATE = "pocnet_template_schema"  # stands for the schema's name in the dump below
_migrated_sql: str | None = None  # per test process: the migrated schema as SQL ("" when pg_dump is missing)


async def _dump_migrated_schema() -> str:
    """Migrate a schema once with Alembic and dump it (structure, reference data, alembic_version) as SQL;
    each PostgreSQL test then replays that script into its own schema in one round trip instead of
    running the eight migrations (0.5 s a test). Without pg_dump, tests migrate as before."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return ""
    schema = await _pg_schema()
    try:
        database = Database.from_url(PG_URL, schema=schema)
        await database.upgrade()
        await database.dispose()
        url = make_url(PG_URL)
        process = await asyncio.create_subprocess_exec(
            pg_dump, f"--schema={schema}", "--inserts", "--no-owner", "--no-privileges", "--no-comments",
            "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres",
            url.database or "postgres",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PGPASSWORD": url.password or ""},
        )  # fmt: skip
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {err.decode()[-500:]}")
        # psql meta-commands (newer pg_dump's "\\restrict" guard) are not SQL: the script runs without psql
        lines = [line for line in out.decode().splitlines() if not line.startswith("\\")]
        return "\n".join(lines).replace(schema, _TEMPLATE)
    finally:
        await _drop_pg_schema(schema)


async def migrated_pg_schema() -> str:
    """A new PostgreSQL schema holding a migrated pocnet database with its reference data."""
    global _migrated_sql
    if _migrated_sql is None:
        _migrated_sql = await _dump_migrated_schema()
    if not _migrated_sql:
        schema = await _pg_schema()
        database = Database.from_url(PG_URL, schema=schema)
        await database.upgrade()
        await database.dispose()
        return schema
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = make_url(PG_URL).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute(_migrated_sql.replace(_TEMPLATE, schema))  # many statements: simple protocol
    finally:
        await connection.close()
    return schema


async def _drop_pg_schema(schema: str) -> None:
    engine = create_async_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite'}")
        yield db
        await db.dispose()
    else:
        schema = await _pg_schema()
        db = Database.from_url(PG_URL, schema=schema)
        yield db
        await db.dispose()
        await _drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[Database]:
    """A migrated database with the reference data, on each backend."""
    if request.param == "sqlite":
        database = Database.from_url(sqlite_url)
        yield database
        await database.dispose()
    else:
        schema = await migrated_pg_schema()
        database = Database.from_url(PG_URL, schema=schema)
        yield database
        await database.dispose()
        await _drop_pg_schema(schema)


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests about behaviour rather than storage."""
    database = Database.from_url(sqlite_url)
    yield database
    await database.dispose()


def make_settings(url: str, **overrides: object) -> Settings:
    return Settings(database={"url": url}, **overrides)  # type: ignore[arg-type]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores. Many tests wait on real time (a homeserver, the
    Bot API server's pacing, database timeouts), so a spare worker keeps the cores busy meanwhile: on the
    2-core CI machine 3 workers took 256 s where 2 took 303 s, measured back to back."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is imported and collected by now lives for the whole run: gc.freeze() keeps it out of the garbage
    collector's full passes. Without it each full pass in a worker re-examined every module and test item
    (0.5–0.8 s a pass, about 20 passes, 8–10 s a worker), and stopped every thread meanwhile."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the homeserver share one worker (pyproject: --dist loadgroup), so one Synapse starts per
    run rather than one per worker: each costs seconds of CPU to start and keeps syncing."""
    for item in items:
        if "synapse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("synapse"))


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """A real Synapse homeserver on 127.0.0.1 for the whole session (about 2 s to start)."""
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def chat(sqlite_db: Database) -> AsyncIterator[ChatPlatform]:
    """A running bot with the sample directory, on a fake chat platform where the sample people are
    known as their state code (``MX``) or ``secretariat``."""
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    platform = ChatPlatform("console")
    app = App(make_settings(str(sqlite_db.engine.url)), sqlite_db, [platform])
    await app.start()
    platform.app = app  # type: ignore[attr-defined]
    platform.idle = app.idle
    yield platform
    await app.stop()
