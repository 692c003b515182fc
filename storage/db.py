"""Engine, sessions and migrations.

SQLite (WAL mode) is the embedded default; PostgreSQL is the production backend. Alembic owns the schema:
``upgrade()`` brings a database to the newest revision and refreshes the reference data, ``pending()``
tells whether a database still needs that (``pocnet run`` refuses to start if so).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from storage.handled_faults import HandledFault

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("pocnet.db")

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class BadDatabaseURL(ValueError):
    pass


def normalize_url(raw: str) -> URL:
    """Accept ``sqlite:///file`` / ``postgresql://…`` and their async forms; refuse anything else."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise BadDatabaseURL(f"not a database URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise BadDatabaseURL(f"unsupported database {backend!r} (use sqlite or postgresql)")
    wanted = _ASYNC_DRIVERS[backend]
    if url.drivername not in (backend, wanted):
        raise BadDatabaseURL(f"unsupported driver {url.drivername!r} (use {wanted})")
    if backend == "sqlite" and not url.database:
        raise BadDatabaseURL("a SQLite URL needs a file path, e.g. sqlite:///pocnet.sqlite")
    return url.set(drivername=wanted)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def on_commit(flag: str, callback: Callable[[], None]) -> None:
    """Call ``callback`` after every commit of a transaction that set ``session.info[flag]`` (a change
    worth telling someone about); a rollback forgets the flag."""

    def committed(session: Session) -> None:
        if session.info.pop(flag, False):
            callback()

    def rolled_back(session: Session) -> None:
        session.info.pop(flag, None)

    event.listen(Session, "after_commit", committed)
    event.listen(Session, "after_rollback", rolled_back)


STATEMENT_TIMEOUT = 10.0  # seconds a statement may take before the database (or the driver) gives up
CONNECT_TIMEOUT = 5.0  # seconds to open a connection, or to wait for one from the pool


def create_engine(
    url: str | URL,
    *,
    schema: str | None = None,
    echo: bool = False,
    timeout: float = STATEMENT_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> AsyncEngine:
    """An async engine. ``schema`` (PostgreSQL only) puts everything in that schema via search_path.
    No statement waits longer than ``timeout`` seconds, and no connection longer than ``connect_timeout``:
    a database that accepts connections but never answers costs a command seconds, not minutes."""
    url = normalize_url(str(url) if isinstance(url, str) else url.render_as_string(hide_password=False))
    # hide_parameters: statement parameters (names, phones, codes) stay out of error text and logs
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        kwargs["pool_timeout"] = connect_timeout
        server_settings = {"statement_timeout": str(int(timeout * 1000))}  # the server cancels, in ms
        if schema:
            server_settings["search_path"] = schema
        kwargs["connect_args"] = {
            "server_settings": server_settings,
            "timeout": connect_timeout,  # asyncpg: opening a connection
            "command_timeout": timeout + 1,  # asyncpg: a server that does not answer at all
        }
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached or did not answer in time (an outage),
    rather than a fault in what was asked of it."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


DISPOSE_SECONDS = 3.0  # closing the pool's connections at shutdown; past that they are abandoned


# SQLAlchemy's pool logs a connection it could not close (the server stopped answering) as an ERROR
_CLOSE_FAULT = HandledFault(
    ("Exception closing connection", "Exception terminating connection"), "database connection not closed cleanly"
)


class Database:
    """The engine plus a session factory; one unit of work per handled message."""

    def __init__(self, engine: AsyncEngine, *, schema: str | None = None) -> None:
        self.engine = engine
        pool = type(engine.sync_engine.pool)  # SQLAlchemy's pool logs under its class's qualified name
        _CLOSE_FAULT.install(f"{pool.__module__}.{pool.__name__}")
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.schema = schema

    @property
    def namespace(self) -> str:
        """Tells databases sharing one server apart (advisory locks are per server database)."""
        url = self.engine.url
        return f"{url.host or ''}:{url.port or ''}/{url.database or ''}/{self.schema or ''}"

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        schema: str | None = None,
        echo: bool = False,
        timeout: float = STATEMENT_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> Database:
        engine = create_engine(url, schema=schema, echo=echo, timeout=timeout, connect_timeout=connect_timeout)
        return cls(engine, schema=schema)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def upgrade(self) -> None:
        """Migrate to the newest revision, then refresh the reference data (states)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)
        from storage.reference import sync_states

        async with self.transaction() as session:
            await sync_states(session)

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current)

    async def pending(self) -> bool:
        """True when the database is missing migrations (or was never migrated)."""
        return await self.current_revision() != head_revision()

    async def dispose(self, *, within: float = DISPOSE_SECONDS) -> None:
        """Close the pool's connections. A server that no longer answers would hold each close for the
        statement timeout; after ``within`` seconds the rest are abandoned (shutdown does not wait on an
        outage)."""
        try:
            async with asyncio.timeout(within):
                await self.engine.dispose()
        except TimeoutError:
            log.warning("database connections abandoned at close", extra={"seconds": within})
            await self.engine.dispose(close=False)


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
