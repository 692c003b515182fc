"""``pocnet doctor``: is this installation healthy? One line per check, in plain words, with what to do.

    ok       database: reachable (sqlite+aiosqlite:///pocnet.sqlite)
    PROBLEM  telegram: Telegram refused the token — set POCNET_TELEGRAM__TOKEN to the token @BotFather gave

Checks, in order: the configuration; the database (reachable, migrated to head, its clock against this
machine's); the outbox (backlog, oldest waiting message, recent failures); each configured transport
(Telegram ``getMe``; Matrix login or ``whoami`` plus one sync; the end-to-end key store opened with its
key). A check that cannot run because an earlier one failed is left out rather than reported twice.
Doctor changes nothing: it never creates a database file, never migrates, and on Matrix with a password
it logs in on a throwaway device that it logs out (deleting it) at the end. Secrets are never printed.
"""

from __future__ import annotations

import asyncio
import os
import stat
import tomllib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import DEFAULT_CONFIG, ConfigError, Settings, load
from storage import outbox
from storage.db import Database, head_revision, known_revisions
from storage.types import utcnow

Status = Literal["ok", "problem", "skipped"]

TIMEOUT = 15.0  # seconds any one check may take
CLOCK_TOLERANCE = 2.0  # seconds between the database server's clock and ours
BACKLOG_AGE = timedelta(minutes=15)  # a message waiting longer than this means sending is stalled
FAILURE_WINDOW = timedelta(hours=24)
SECRET_KEYS = {"token", "webhook_secret", "password", "access_token", "store_key"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    advice: str = ""

    def line(self) -> str:
        label = {"ok": "ok", "problem": "PROBLEM", "skipped": "-"}[self.status]
        advice = f" — {self.advice}" if self.advice else ""
        return f"{label:<8} {self.name}: {self.detail}{advice}"


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def problem(name: str, detail: str, advice: str) -> Check:
    return Check(name, "problem", detail, advice)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT:.0f} s"
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [""])[0]
    return first or type(inner).__name__


def _config_file(path: str | None) -> Path:
    return Path(path or os.environ.get("POCNET_CONFIG") or DEFAULT_CONFIG)


def check_config(path: str | None) -> tuple[Settings | None, list[Check]]:
    file = _config_file(path)
    try:
        settings = load(path)  # as `pocnet run` reads it: a missing file is a problem
    except ConfigError as exc:
        return None, [problem("configuration", str(exc), "fix that key in the file or in its POCNET_* variable")]
    source = str(file)
    transports = [name for name, on in _transports(settings) if on]
    checks = []
    if transports:
        checks.append(ok("configuration", f"read ({source}); transports: {', '.join(transports)}"))
    else:
        checks.append(
            problem(
                "configuration",
                f"read ({source}) but no transport is enabled",
                "set [telegram] token, [matrix] homeserver and user_id, or [console] enabled",
            )
        )
    if file.exists():
        checks.extend(_file_permissions(file))
    return settings, checks


def check_catalogue(settings: Settings) -> Check:
    """The reporting catalogue (``[figures] catalogue`` or the built-in one) reads and validates."""
    from storage.catalogue import CatalogueError, load

    try:
        found = load(Path(settings.figures.catalogue) if settings.figures.catalogue else None)
    except CatalogueError as exc:  # names the file and the line: "indicators.toml:41: …"
        return problem("reporting catalogue", str(exc), "fix that line of the file, or remove [figures] catalogue")
    return ok("reporting catalogue", f"{len(found.indicators)} indicators ({found.source})")


def _transports(settings: Settings) -> list[tuple[str, bool]]:
    return [
        ("telegram", settings.telegram.token is not None),
        ("matrix", settings.matrix.enabled),
        ("console", settings.console.enabled),
    ]


def _file_permissions(file: Path) -> list[Check]:
    """A file holding a secret must not be readable by every user of the machine."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    held = sorted(
        f"{section}.{key}"
        for section, values in data.items()
        if isinstance(values, dict)
        for key in values
        if key in SECRET_KEYS
    )
    if held and file.stat().st_mode & stat.S_IROTH:
        return [
            problem(
                "configuration file",
                f"{file} holds {', '.join(held)} and every user of this machine can read it",
                f"chmod 600 {file}, or move the secrets to POCNET_* environment variables",
            )
        ]
    return []


def _exists(path: str) -> bool:
    return os.path.exists(path)


def _absolute(path: Path) -> str:
    return os.path.abspath(path)


async def _timed(work: Awaitable[Any]) -> Any:
    async with asyncio.timeout(TIMEOUT):
        return await work


async def check_database(settings: Settings) -> tuple[Database | None, list[Check]]:
    """Reachable? Then migrated, and its clock. Returns the open database when reachable."""
    url = make_url(settings.database.url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not _exists(url.database or ""):
        return None, [
            problem("database", f"no database file at {url.database}", "run `pocnet db upgrade` to create it")
        ]
    db = Database.from_url(settings.database.url)
    try:

        async def probe() -> None:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await _timed(probe())
    except Exception as exc:
        await db.dispose()
        return None, [
            problem(
                "database",
                f"cannot connect to {shown}: {_reason(exc)} (the other database checks were skipped)",
                "check that the database server runs and that database.url (POCNET_DATABASE__URL) is right",
            )
        ]
    checks = [ok("database", f"reachable ({shown})")]
    checks.append(await check_revision(db))
    checks.append(await check_clock(db))
    return db, checks


async def check_revision(db: Database) -> Check:
    current, head = await _timed(db.current_revision()), head_revision()
    if current == head:
        return ok("migrations", f"at the newest revision ({head})")
    if current is None:
        return problem("migrations", "the database is not migrated", "run `pocnet db upgrade`")
    if current not in known_revisions():
        return problem(
            "migrations",
            f"the database is at revision {current}, which this version of pocnet does not know",
            "the database was upgraded by a newer pocnet: install that version",
        )
    return problem(
        "migrations",
        f"the database is at revision {current}; this version needs {head}",
        "back up, then run `pocnet db upgrade`",
    )


async def check_clock(db: Database) -> Check:
    if db.engine.url.get_backend_name() == "sqlite":
        return ok("clock", f"SQLite uses this machine's clock (now {utcnow():%Y-%m-%d %H:%M:%S} UTC)")

    async def server_now() -> datetime:
        async with db.engine.connect() as conn:
            before = utcnow()
            value = (await conn.execute(text("SELECT now()"))).scalar_one()
            after = utcnow()
        return value - (after - before) / 2

    started = utcnow()
    theirs = await _timed(server_now())
    skew = (theirs - started).total_seconds()
    if abs(skew) > CLOCK_TOLERANCE:
        return problem(
            "clock",
            f"the database server's clock is {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} this machine's",
            "synchronise both machines with NTP (timedatectl set-ntp true, or chrony)",
        )
    return ok("clock", f"the database server and this machine agree within {CLOCK_TOLERANCE:.0f} s")


async def check_outbox(db: Database, *, now: datetime | None = None) -> list[Check]:
    now = now or utcnow()
    async with db.sessions() as session:
        found = await outbox.backlog(session, failed_since=now - FAILURE_WINDOW)
    checks = []
    waiting, oldest, failed, last_error = found.waiting, found.oldest, found.failed, found.last_error
    if waiting and oldest is not None and now - oldest > BACKLOG_AGE:
        checks.append(
            problem(
                "outbox",
                f"{waiting} message(s) waiting, the oldest for {_age(now - oldest)}",
                "is `pocnet run` running? Its log says why sending stalls (look for `delivery failed`)",
            )
        )
    else:
        checks.append(
            ok("outbox", f"{waiting} message(s) waiting" + (f", oldest {_age(now - oldest)}" if oldest else ""))
        )
    if failed:
        checks.append(
            problem(
                "outbox failures",
                f"{failed} message(s) failed in the last 24 h (latest: {((last_error or '').splitlines() or [''])[0][:120]})",
                "see `SELECT id, platform, chat_id, error FROM outbox WHERE status = 'failed'`",
            )
        )
    else:
        checks.append(ok("outbox failures", "none in the last 24 h"))
    return checks


def _first_line(text: str | None) -> str:
    return ((text or "").strip().splitlines() or [""])[0]


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


async def check_telegram(settings: Settings) -> Check:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError

    t = settings.telegram
    assert t.token is not None
    bot = Bot(t.token.get_secret_value(), base_url=t.base_url)
    try:
        await _timed(bot.initialize())  # calls getMe
        username = bot.username
    except InvalidToken:
        return problem(
            "telegram",
            "Telegram refused the token",
            "set POCNET_TELEGRAM__TOKEN to the token @BotFather gave (/mybots → API Token)",
        )
    except (NetworkError, TimeoutError, OSError) as exc:
        return problem(
            "telegram",
            f"cannot reach {t.base_url}: {_reason(exc)}",
            "check this machine's network, proxy and firewall (outbound HTTPS to api.telegram.org)",
        )
    except TelegramError as exc:
        return problem("telegram", f"getMe failed: {_reason(exc)}", "check telegram.base_url and the token")
    finally:
        try:
            await bot.shutdown()
        except Exception:  # pragma: no cover - nothing to clean up after a failed start
            pass
    detail = f"getMe answered: @{username}"
    if t.mode == "webhook":
        detail += f"; webhook mode at {t.webhook_url}"
    return ok("telegram", detail)


async def check_matrix(settings: Settings, db: Database | None) -> list[Check]:
    from nio import AsyncClient, AsyncClientConfig, LoginError, SyncError, WhoamiError

    m = settings.matrix
    assert m.homeserver and m.user_id
    client = AsyncClient(
        m.homeserver, m.user_id, config=AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
    )
    checks: list[Check] = []
    throwaway = False
    try:
        if m.access_token is not None:
            client.access_token = m.access_token.get_secret_value()
            response = await _timed(client.whoami())
            if isinstance(response, WhoamiError):
                checks.append(
                    problem(
                        "matrix login",
                        f"the homeserver refused the access token ({response.message})",
                        "set POCNET_MATRIX__ACCESS_TOKEN (and matrix.device_id) to a valid token of the bot's account",
                    )
                )
                return checks
            checks.append(ok("matrix login", f"the access token is valid for {response.user_id}"))
        else:
            assert m.password is not None
            response = await _timed(client.login(m.password.get_secret_value(), device_name="pocnet doctor"))
            if isinstance(response, LoginError):
                checks.append(
                    problem(
                        "matrix login",
                        f"{m.homeserver} refused the login of {m.user_id} ({response.message})",
                        "check matrix.user_id and POCNET_MATRIX__PASSWORD",
                    )
                )
                return checks
            throwaway = True
            checks.append(ok("matrix login", f"logged in as {m.user_id} (a throwaway device, logged out after)"))
        sync_filter = {"room": {"timeline": {"limit": 1}, "state": {"lazy_load_members": True}}}
        synced = await _timed(client.sync(timeout=0, sync_filter=sync_filter))
        if isinstance(synced, SyncError):
            checks.append(
                problem("matrix sync", f"the homeserver refused a sync ({synced.message})", "see the homeserver's log")
            )
        else:
            checks.append(ok("matrix sync", f"one sync answered; the bot is in {len(synced.rooms.join)} room(s)"))
    except Exception as exc:  # network: aiohttp errors, timeouts, refused connections
        checks.append(
            problem(
                "matrix",
                f"cannot reach {m.homeserver}: {_reason(exc)}",
                "check matrix.homeserver, this machine's network and the homeserver",
            )
        )
    finally:
        if throwaway:
            try:
                await _timed(client.logout())
            except Exception:  # best effort: the throwaway device shows in the account's device list
                pass
        await client.close()
    checks.append(await check_key_store(settings, db))
    return checks


async def check_key_store(settings: Settings, db: Database | None) -> Check:
    """The end-to-end key store opens with ``matrix.store_key`` (without it encrypted rooms are unreadable)."""
    from nio.store import DefaultStore

    m = settings.matrix
    device_id = m.device_id
    if device_id is None and db is not None:
        from storage import transport_state

        try:
            async with db.sessions() as session:
                device_id = await transport_state.get(session, "matrix", "device_id")
        except Exception:  # not migrated: reported by the migrations check
            device_id = None
    store = Path(m.store_path)
    if device_id is None:
        return Check(
            "matrix key store", "skipped", "the bot has not logged in yet; the store is made at its first start"
        )
    file = store / f"{m.user_id}_{device_id}.db"
    if not file.exists():
        return problem(
            "matrix key store",
            f"no key store for device {device_id} in {_absolute(store)}",
            "restore matrix.store_path from the backup; without it the bot cannot read encrypted rooms",
        )
    if not os.access(file, os.R_OK | os.W_OK):
        return problem("matrix key store", f"{file} is not readable and writable", "give the pocnet user access to it")

    def open_store() -> bool:
        assert m.user_id is not None and device_id is not None
        return DefaultStore(m.user_id, device_id, str(store), m.store_key.get_secret_value()).load_account() is not None

    try:
        has_account = await asyncio.to_thread(open_store)
    except Exception:
        return problem(
            "matrix key store",
            f"{file} does not open with matrix.store_key",
            "set POCNET_MATRIX__STORE_KEY to the key the store was made with",
        )
    if not has_account:
        return problem("matrix key store", f"{file} holds no account keys", "restore it from the backup")
    return ok("matrix key store", f"opens with its key (device {device_id})")


async def diagnose(path: str | None = None, *, settings: Settings | None = None) -> list[Check]:
    """Every check, in order. ``settings`` (tests) skips reading the configuration."""
    checks: list[Check] = []
    if settings is None:
        settings, found = check_config(path)
        checks.extend(found)
        if settings is None:
            return checks
    checks.append(check_catalogue(settings))
    db, found = await check_database(settings)
    checks.extend(found)
    try:
        if db is not None and all(c.status == "ok" for c in found):
            checks.extend(await check_outbox(db))
        if settings.telegram.token is not None:
            checks.append(await check_telegram(settings))
        if settings.matrix.enabled:
            checks.extend(await check_matrix(settings, db))
    finally:
        if db is not None:
            await db.dispose()
    return checks


def redact(line: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            line = line.replace(secret, "[REDACTED]")
    return line


async def run(path: str | None, write: Callable[[str], None] = print) -> int:
    """Print one line per check; 0 when every check passed, 1 otherwise."""
    checks = await diagnose(path)
    try:
        secrets = load(path, required=False).secrets()
    except ConfigError:
        secrets = []
    for check in checks:
        write(redact(check.line(), secrets))
    problems = sum(c.status == "problem" for c in checks)
    write(f"{problems} problem{'' if problems == 1 else 's'} found" if problems else "all is well")
    return 1 if problems else 0
