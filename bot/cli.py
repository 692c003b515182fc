"""The ``pocnet`` command.

    pocnet run                       serve on the transports enabled in the config
    pocnet demo [--as MX]            the whole bot on this terminal, SQLite, sample directory
    pocnet db upgrade | current      migrate the database / show its revision
    pocnet doctor                    check configuration, database, outbox and transports (exit 0: all well)
    pocnet audit export [--since 2026-11-01] [-o FILE]   the audit trail as CSV
    pocnet backup FILE | restore FILE   database + Matrix key store in one archive / back into an empty database
    pocnet invite create --role contact --state MX [--expires 7d] [--name "Ana Pérez"]
    pocnet directory import FILE.csv | export [--format csv|vcf] | add | set | verify | deactivate
    pocnet broadcast send --to all --text-file F [--file F] [--ack] | report N [--csv]
    pocnet round open 2025 --deadline 2026-03-31 | close 2025 | deadline 2025 2026-04-30 | list
    pocnet figures export [--round 2025] [--format csv|xlsx] [-o FILE] | chart [--round 2025] -o status.png

Problems with configuration or the database end with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError, OperationalError

from bot import cli_broadcast, cli_directory, cli_figures, cli_reminders, logs
from bot.config import ConfigError, Settings, load
from storage.db import Database, head_revision

EXIT_USAGE = 2


DEMO_COMMANDS_PER_MINUTE = 100_000  # one person at this terminal, often a script: no rate limit to speak of


class Fatal(Exception):
    """An operator-facing error: printed as one line, exit code 2."""


def _check_catalogue(settings: Settings) -> None:
    """The reporting catalogue is read and checked before anything starts; a mistake names its line."""
    from storage.catalogue import CatalogueError, cached

    try:
        cached(settings.figures.catalogue)
    except CatalogueError as exc:
        raise Fatal(f"reporting catalogue: {exc}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pocnet", description="OAS points-of-contact network bot")
    parser.add_argument("--config", help="TOML file (default: $POCNET_CONFIG or ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="serve on the transports enabled in the configuration")
    sub.add_parser("doctor", help="check the configuration, database and transports; exit 0 when all is well")
    backup = sub.add_parser("backup", help="write the database and the Matrix key store to one file")
    backup.add_argument("file", type=Path, help="the archive to write, e.g. pocnet-2026-11-30.tar.gz")
    restore = sub.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file", type=Path, help="an archive written by `pocnet backup`")

    demo = sub.add_parser("demo", help="run on this terminal with a sample directory (no tokens needed)")
    demo.add_argument(
        "--as",
        dest="who",
        default="secretariat",
        help="who you are: the Secretariat (the default), or a state's contact by code or name (MX, Mexico, México)",
    )
    demo.add_argument("--db", help="keep the demo database in this SQLite file (default: a temporary one)")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations and refresh reference data")
    db_sub.add_parser("current", help="show the database's migration revision")

    invite = sub.add_parser("invite", help="onboarding codes")
    invite_sub = invite.add_subparsers(dest="invite_command", required=True)
    create = invite_sub.add_parser("create", help="print a one-time invitation code")
    create.add_argument("--role", required=True, choices=["secretariat", "contact", "official"])
    create.add_argument("--state", help="ISO code of the state (not for secretariat)")
    create.add_argument("--expires", default="7d", help="validity such as 7d or 12h (default 7d)")
    create.add_argument("--name", help="the person's name as it will appear in the directory")

    audit = sub.add_parser("audit", help="read the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_export = audit_sub.add_parser("export", help="every audit event as CSV (UTF-8, spreadsheet-safe)")
    audit_export.add_argument("--since", help="only events from this day or moment on (2026-11-01, ISO 8601; UTC)")
    audit_export.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")

    cli_directory.add_parser(sub)
    cli_broadcast.add_parser(sub)
    cli_figures.add_parser(sub)
    cli_reminders.add_parser(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load(args.config)
    except ConfigError as exc:
        raise Fatal(str(exc)) from None


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    db = Database.from_url(
        settings.database.url, echo=settings.database.echo, timeout=settings.database.statement_timeout
    )
    try:
        return await work(db)
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Fatal(f"database {db.engine.url.render_as_string(hide_password=True)}: {reason}") from None
    finally:
        await db.dispose()


async def _require_migrated(db: Database) -> None:
    url = db.engine.url
    file = url.database if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None
    if file is not None and not await asyncio.to_thread(Path(file).exists):
        raise Fatal(f"no database at {file}: run `pocnet db upgrade` first (it creates it)")
    current = await db.current_revision()
    if current != head_revision():
        raise Fatal(
            f"the database is not migrated (at {current or 'nothing'}, need {head_revision()}): "
            "run `pocnet db upgrade` first"
        )


async def cmd_db(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def work(db: Database) -> int:
        if args.db_command == "upgrade":
            await db.upgrade()
            print(f"database at revision {await db.current_revision()}")
        else:
            current = await db.current_revision()
            state = "up to date" if current == head_revision() else f"behind (head is {head_revision()})"
            print(f"{current or 'not migrated'} — {state}")
        return 0

    return await _with_db(settings, work)


async def cmd_invite(args: argparse.Namespace) -> int:
    from handlers.admin import parse_duration
    from storage import invites, states
    from storage.access import Actor, Role
    from storage.errors import PocnetError

    settings = _settings(args)
    try:
        ttl = parse_duration(args.expires)
    except PocnetError as exc:
        raise Fatal(f"--expires: {exc}") from None
    if ttl is None:
        raise Fatal(f"--expires: {args.expires!r} is not a duration such as 7d or 12h")
    role = Role(args.role)
    if role is not Role.SECRETARIAT and not args.state:
        raise Fatal(f"--state is required for a {role.value}")

    async def work(db: Database) -> int:
        await _require_migrated(db)
        try:
            async with db.transaction() as session:
                state = (await states.get(session, args.state)).code if args.state else None
                actor = Actor.system(f"cli:{cli_directory.operator()}")
                new = await invites.create(session, actor, role=role, state_code=state, ttl=ttl, display_name=args.name)
        except PocnetError as exc:
            raise Fatal(str(exc)) from None
        print(new.code)
        print(f"valid until {new.invite.expires_at:%Y-%m-%d %H:%M} UTC, once", file=sys.stderr)
        return 0

    return await _with_db(settings, work)


async def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import App, StartFailed
    from bot.transports.base import Transport
    from bot.transports.console import ConsoleTransport

    settings = _settings(args)
    _check_catalogue(settings)
    logs.setup(settings.logging.level, settings.logging.format, settings.secrets())
    transports: list[Transport] = []
    if settings.console.enabled:
        journal = Path(settings.console.journal) if settings.console.journal else None
        transports.append(
            ConsoleTransport(settings.console.user, language=settings.bot.default_language, journal=journal)
        )

    async def work(db: Database) -> int:
        await _require_migrated(db)  # the database first: it is the first thing to set up
        if settings.telegram.token is not None:
            from bot.transports.telegram import TelegramTransport

            transports.append(TelegramTransport(settings.telegram, db=db))  # keeps its update position there
        if not transports and not settings.matrix.enabled:
            raise Fatal(
                "no transport is enabled: set [telegram] token (POCNET_TELEGRAM__TOKEN), [matrix] homeserver and "
                "user_id, or [console] enabled"
            )
        if settings.matrix.enabled:
            from bot.transports.matrix import MatrixTransport

            transports.append(MatrixTransport(settings.matrix, db))
        try:
            console = transports[0] if len(transports) == 1 and isinstance(transports[0], ConsoleTransport) else None
            # the console alone ends with its input (a script); beside a chat platform it never stops the bot
            await App(settings, db, transports).run(until=console.finished if console is not None else None)
        except StartFailed as exc:  # one line, not the library's traceback; secrets never printed
            message = str(exc)
            for secret in settings.secrets():
                message = message.replace(secret, "[REDACTED]")
            raise Fatal(message) from None
        return 0

    return await _with_db(settings, work)


async def cmd_demo(args: argparse.Namespace) -> int:
    from bot.app import App
    from bot.transports.console import ConsoleTransport
    from storage import sample, vocabularies
    from storage.catalogue import cached

    with tempfile.TemporaryDirectory(prefix="pocnet-demo-") as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "demo.sqlite"
        settings = Settings(
            database={"url": f"sqlite+aiosqlite:///{path}"},
            console={"enabled": True},
            limits={"commands_per_minute": DEMO_COMMANDS_PER_MINUTE},  # a scripted demo sends many at once
        )
        logs.setup("WARNING", "text", settings.secrets())
        _check_catalogue(settings)

        async def work(db: Database) -> int:
            await db.upgrade()
            async with db.transaction() as session:
                await sample.seed(session)
                await sample.demo_round(session, cached(settings.figures.catalogue), datetime.now(UTC).date())
                who = "secretariat" if args.who.strip().lower() in ("secretariat", "oas", "") else None
                if who is None:
                    found = (await vocabularies.states(session)).exact(args.who)
                    if found is None or found.code is None:
                        raise Fatal(f"--as: no state called {args.who!r}; give a code such as MX or a name")
                    who = found.code
            console = ConsoleTransport(who, language=settings.bot.default_language)
            if console._interactive:
                print(f"pocnet demo — you are {who}. Type /help; /as XX to switch; Ctrl-D to quit.", file=sys.stderr)
            await App(settings, db, [console]).run(until=console.finished)
            return 0

        return await _with_db(settings, work)


async def cmd_doctor(args: argparse.Namespace) -> int:
    from bot import doctor

    logs.setup("ERROR", "text", [])  # libraries' warnings would repeat what the checks say
    return await doctor.run(args.config)


async def cmd_backup(args: argparse.Namespace) -> int:
    from bot import backup

    settings = _settings(args)

    async def work(db: Database) -> int:
        try:
            if args.command == "backup":
                print(await backup.backup(settings, args.file))
            else:
                for line in await backup.restore(settings, args.file):
                    print(line)
        except backup.BackupError as exc:
            raise Fatal(str(exc)) from None
        return 0

    return await _with_db(settings, work)


def parse_since(text: str) -> datetime:
    """``2026-11-01`` or an ISO 8601 moment; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Fatal(f"--since: {text!r} is not a date such as 2026-11-01 (or 2026-11-01T08:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def cmd_audit(args: argparse.Namespace) -> int:
    from storage import audit_query

    settings = _settings(args)
    since = parse_since(args.since) if args.since else None

    async def work(db: Database) -> int:
        await _require_migrated(db)
        async with db.sessions() as session:
            export = audit_query.to_csv(await audit_query.events(session, since=since))
        if args.output:
            args.output.write_bytes(export.data)
            print(f"wrote {args.output} ({export.rows} events)", file=sys.stderr)
        else:
            sys.stdout.buffer.write(export.data)
            sys.stdout.flush()
        return 0

    return await _with_db(settings, work)


async def _on_migrated(
    args: argparse.Namespace, run: Callable[[argparse.Namespace, Database], Awaitable[int]], errors: type[Exception]
) -> int:
    """A subcommand module's ``run`` on a migrated database; its own errors become one line (exit 2)."""
    settings = _settings(args)

    async def work(db: Database) -> int:
        await _require_migrated(db)
        try:
            return await run(args, db)
        except errors as exc:
            raise Fatal(str(exc)) from None

    return await _with_db(settings, work)


async def cmd_directory(args: argparse.Namespace) -> int:
    return await _on_migrated(args, cli_directory.run, cli_directory.CliError)


async def cmd_broadcast(args: argparse.Namespace) -> int:
    return await _on_migrated(args, cli_broadcast.run, cli_broadcast.CliError)


async def cmd_figures(args: argparse.Namespace) -> int:
    """``round`` and ``figures``: rounds and their figures (the catalogue is checked first)."""
    return await _on_migrated(args, cli_figures.runner(_settings(args)), cli_figures.CliError)


async def cmd_reminders(args: argparse.Namespace) -> int:
    return await _on_migrated(args, cli_reminders.run, cli_reminders.CliError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {
        "run": cmd_run,
        "demo": cmd_demo,
        "db": cmd_db,
        "invite": cmd_invite,
        "directory": cmd_directory,
        "doctor": cmd_doctor,
        "backup": cmd_backup,
        "restore": cmd_backup,
        "audit": cmd_audit,
        "broadcast": cmd_broadcast,
        "round": cmd_figures,
        "figures": cmd_figures,
        "reminders": cmd_reminders,
    }[args.command]
    try:
        return asyncio.run(handler(args))
    except Fatal as exc:
        print(f"pocnet: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig()
    sys.exit(main())
