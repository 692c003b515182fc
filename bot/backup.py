"""``pocnet backup FILE`` and ``pocnet restore FILE``: the database and the Matrix key store in one file.

A backup is a gzip'd tar archive:

    pocnet-backup.json    what it holds: format, backend, migration revision, time, contents
    database.sqlite       SQLite: a consistent copy made with SQLite's online backup API (the bot may run)
    database.dump         PostgreSQL: ``pg_dump --format=custom`` (the bot may run)
    matrix-store/…        the end-to-end key store (``matrix.store_path``), its SQLite files copied the same way

Restore goes into an empty database only (a SQLite file that does not exist or has no tables; a
PostgreSQL database without tables) and an absent or empty key store directory; it refuses anything else
before changing anything. The archive is written to ``FILE.partial`` and renamed when complete, readable by
its owner only (it holds the whole directory of people).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from bot.config import Settings
from storage.db import Database, head_revision, known_revisions
from storage.types import utcnow

MANIFEST = "pocnet-backup.json"
FORMAT = 1
STORE = "matrix-store"
SQLITE_FILE, PG_FILE = "database.sqlite", "database.dump"
PG_CLIENT_HINT = (
    "install the PostgreSQL client tools (Debian/Ubuntu: apt install postgresql-client; the same major version "
    "as the server or newer) so that pg_dump and pg_restore are on PATH"
)


class BackupError(Exception):
    """An operator-facing problem; nothing was changed."""


@dataclass(frozen=True)
class Target:
    url: URL
    backend: str

    @classmethod
    def of(cls, settings: Settings) -> Target:
        url = make_url(settings.database.url)
        return cls(url, url.get_backend_name())

    @property
    def shown(self) -> str:
        return self.url.render_as_string(hide_password=True)


# --- SQLite -------------------------------------------------------------------------------------------


def sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy with SQLite's online backup API, a few pages at a time so writers are not held
    up for long. Blocking: run it in a thread."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst, pages=256)
        finally:
            dst.close()
    finally:
        src.close()


def sqlite_tables(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    finally:
        conn.close()


def _copy_store(source: Path, destination: Path) -> int:
    """Copy the key store directory; its SQLite files through the backup API (nio may be writing)."""
    count = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        target = destination / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".db":
            sqlite_copy(path, target)
        elif path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # folded into the copy of their database
        else:
            shutil.copy2(path, target)
        count += 1
    return count


# --- PostgreSQL ---------------------------------------------------------------------------------------


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # the environment, never the command line (ps shows that)
    return args, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: {PG_CLIENT_HINT}")
    return found


async def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        reason = (err.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise BackupError(f"{what} failed: {reason}")


# --- backup -------------------------------------------------------------------------------------------


def _check_sources(target: Target, file: Path, store: Path | None) -> None:
    if file.exists():
        raise BackupError(f"{file} exists already: choose another name (e.g. pocnet-$(date +%F).tar.gz)")
    if target.backend == "postgresql":
        _pg_tool("pg_dump")
    if store is not None and not store.is_dir():
        raise BackupError(f"matrix.store_path {store} is not a directory: the Matrix keys would be missing")
    if target.backend == "sqlite" and not Path(target.url.database or "").exists():
        raise BackupError(f"no database file at {target.url.database}")
    file.parent.mkdir(parents=True, exist_ok=True)


async def backup(settings: Settings, file: Path) -> str:
    """Write the backup; returns a one-line summary."""
    target = Target.of(settings)
    store = Path(settings.matrix.store_path) if settings.matrix.enabled else None
    await asyncio.to_thread(_check_sources, target, file, store)
    db = Database.from_url(settings.database.url)
    try:
        revision = await db.current_revision()
    finally:
        await db.dispose()

    with tempfile.TemporaryDirectory(dir=file.parent, prefix=".pocnet-backup-") as tmp:
        work = Path(tmp)
        if target.backend == "sqlite":
            database_file = SQLITE_FILE
            await asyncio.to_thread(sqlite_copy, Path(target.url.database or ""), work / SQLITE_FILE)
        else:
            database_file = PG_FILE
            args, env = _pg_args(target.url)
            argv = [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(work / PG_FILE),
            ]
            await _run([*argv, *args], env, "pg_dump")
        store_files = await asyncio.to_thread(_copy_store, store, work / STORE) if store is not None else 0
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": utcnow().isoformat(),
            "backend": target.backend,
            "revision": revision,
            "database": database_file,
            "matrix_store": STORE if store is not None else None,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial = file.with_name(file.name + ".partial")
        await asyncio.to_thread(_write_archive, work, partial, [MANIFEST, database_file] + ([STORE] if store else []))
        partial.replace(file)
    size = await asyncio.to_thread(os.path.getsize, file)
    store_note = f"; Matrix key store: {store_files} file(s)" if store is not None else ""
    return (
        f"backup written to {file} ({target.backend}, revision {revision or 'none'}, {size / 1e6:.1f} MB{store_note})"
    )


def _write_archive(work: Path, archive: Path, names: list[str]) -> None:
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name in names:
            tar.add(work / name, arcname=name)


# --- restore ------------------------------------------------------------------------------------------


def _read_archive(file: Path, into: Path) -> dict[str, Any]:
    try:
        with tarfile.open(file, "r:*") as tar:
            tar.extractall(into, filter="data")  # refuses absolute paths, '..', devices and links out
    except tarfile.TarError:
        raise BackupError(f"{file} is not a pocnet backup (not a tar archive)") from None
    except OSError as exc:
        raise BackupError(f"{file} could not be unpacked: {exc.strerror or exc}") from None
    try:
        manifest: dict[str, Any] = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{file} is not a pocnet backup (no {MANIFEST})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{file}: backup format {manifest.get('format')!r} is not one this pocnet reads")
    if manifest.get("database") not in (SQLITE_FILE, PG_FILE) or not (into / manifest["database"]).is_file():
        raise BackupError(f"{file} is incomplete: the database is missing from it")
    return manifest


async def _pg_table_count(settings: Settings) -> int:
    db = Database.from_url(settings.database.url)
    try:
        async with db.engine.connect() as conn:
            query = text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            return int((await conn.execute(query)).scalar_one())
    finally:
        await db.dispose()


def _store_in_use(store: Path) -> bool:
    return store.exists() and (not store.is_dir() or any(store.iterdir()))


async def restore(settings: Settings, file: Path) -> list[str]:
    """Restore into an empty database (and key store directory). Returns lines to print."""
    if not await asyncio.to_thread(os.path.isfile, file):
        raise BackupError(f"no backup file at {file}")
    target = Target.of(settings)
    store = Path(settings.matrix.store_path)
    with tempfile.TemporaryDirectory(prefix="pocnet-restore-") as tmp:
        work = Path(tmp)
        manifest = await asyncio.to_thread(_read_archive, file, work)
        if manifest.get("backend") != target.backend:
            raise BackupError(
                f"this backup is of a {manifest.get('backend')} database; the configured one "
                f"({target.shown}) is {target.backend}: restore into the same kind"
            )
        # Check everything before changing anything.
        if target.backend == "sqlite":
            path = Path(target.url.database or "")
            tables = await asyncio.to_thread(sqlite_tables, path)
        else:
            _pg_tool("pg_restore")
            tables = await _pg_table_count(settings)
        if tables:
            raise BackupError(
                f"the database {target.shown} is not empty ({tables} tables): restore only into a new, empty "
                "database (SQLite: a file name that does not exist yet; PostgreSQL: createdb)"
            )
        has_store = bool(manifest.get("matrix_store")) and (work / STORE).is_dir()
        if has_store and _store_in_use(store):
            raise BackupError(
                f"matrix.store_path {store} exists and is not empty: move it away first (restore never overwrites keys)"
            )

        if target.backend == "sqlite":
            path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(sqlite_copy, work / SQLITE_FILE, path)
        else:
            args, env = _pg_args(target.url)
            argv = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
            await _run([*argv, *args, str(work / PG_FILE)], env, "pg_restore")
        lines = [f"database restored into {target.shown} (revision {manifest.get('revision') or 'none'})"]
        if has_store:
            await asyncio.to_thread(shutil.copytree, work / STORE, store, dirs_exist_ok=True)
            os.chmod(store, 0o700)
            lines.append(f"Matrix key store restored into {store}")
    revision = manifest.get("revision")
    if revision != head_revision():
        if revision in known_revisions():
            lines.append("the backup is from an older version: run `pocnet db upgrade` before `pocnet run`")
        else:
            lines.append(f"the backup is from a newer pocnet (revision {revision}): install that version to use it")
    return lines
