"""``pocnet directory …``: the Secretariat's directory upkeep from the command line.

    pocnet directory import FILE.csv              validate every row, then import all (or nothing)
    pocnet directory export [--format csv|vcf] [--output FILE]
    pocnet directory add --state MX --function fiu --name "Ana Pérez"
    pocnet directory set ID FIELD VALUE           same fields as /myentry set, plus function and state
    pocnet directory verify ID | deactivate ID | reactivate ID

Every change is audited under ``cli:<user>``. Large imports and exports show a progress bar on a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from storage import directory, exchange, members
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import PocnetError
from storage.vocabularies import FUNCTION_NAMES
from storage.vocabularies import states as state_names


def operator() -> str:
    """Who runs the command, for the audit trail: the login name of the process's user where the system
    has one (not ``$USER``, which anyone can set), else what ``getpass`` finds in the environment."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return getpass.getuser()


class CliError(Exception):
    """Printed as one line; exit code 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("directory", help="directory upkeep: import, export, add, set, verify")
    cmds = parser.add_subparsers(dest="directory_command", required=True)
    imp = cmds.add_parser("import", help="import a CSV file (all rows or none)")
    imp.add_argument("file", type=Path)
    exp = cmds.add_parser("export", help="export the directory")
    exp.add_argument("--format", choices=["csv", "vcf"], default="csv")
    exp.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    add = cmds.add_parser("add", help="add an entry")
    add.add_argument("--state", required=True)
    add.add_argument("--function", required=True, help="npc, alternate, fiu, police, … (see /functions)")
    add.add_argument("--name", required=True)
    set_ = cmds.add_parser("set", help="change one field of an entry")
    set_.add_argument("id", type=int)
    set_.add_argument("field")
    set_.add_argument("value", nargs="+")
    for name in ("verify", "deactivate", "reactivate"):
        cmds.add_parser(name, help=f"{name} an entry").add_argument("id", type=int)


@contextmanager
def _bar(total: int, label: str) -> Any:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    with tqdm(total=total, desc=label, unit=" rows", file=sys.stderr, disable=None, leave=False) as bar:
        yield bar.update


def _english(exc: PocnetError) -> str:
    return exc.message.format(**exc.params) if exc.params else exc.message


async def run(args: argparse.Namespace, db: Database) -> int:
    actor = Actor.system(f"cli:{operator()}")
    command: Callable[..., Any] = {
        "import": _import,
        "export": _export,
        "add": _add,
        "set": _set,
        "verify": _verify,
        "deactivate": _activation,
        "reactivate": _activation,
    }[args.directory_command]
    try:
        return int(await command(args, db, actor))
    except exchange.ImportRejected as exc:
        print(exc.report(), file=sys.stderr)
        raise CliError(
            f"{args.file}: not imported, {_count(len(exc.problems), 'problem')} (nothing was changed)"
        ) from None
    except PocnetError as exc:
        raise CliError(_english(exc)) from None


async def _import(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"{args.file}: {exc.strerror}") from None
    rows = max(0, data.count(b"\n") - 1)
    async with db.transaction() as session:
        with _bar(rows, "importing") as progress:
            report = await exchange.import_csv(session, actor, data, progress)
    print(f"imported {args.file}: {report.created} added, {report.updated} updated, {report.unchanged} unchanged")
    return 0


async def _export(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    async with db.transaction() as session:
        with _bar(await exchange.count(session), "exporting") as progress:
            if args.format == "csv":
                data = await exchange.export_csv(session, progress, actor=actor)
            else:
                data = await exchange.export_vcards(session, progress, actor=actor)
    if args.output:
        args.output.write_bytes(data)
        print(f"wrote {args.output} ({len(data)} bytes)", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


async def _add(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    async with db.transaction() as session:
        state = (await state_names(session)).exact(args.state)
        function = FUNCTION_NAMES.exact(args.function)
        if state is None or state.code is None:
            raise CliError(f"--state: unknown state {args.state!r}")
        if function is None or function.code is None:
            raise CliError(f"--function: unknown function {args.function!r}")
        role = Role.CONTACT if function.code in ("npc", "alternate") else Role.OFFICIAL
        member = await members.create(
            session, actor, display_name=args.name, role=role, state_code=state.code, function=function.code
        )
    print(member.id)
    return 0


async def _set(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    async with db.transaction() as session:
        member = await members.get(session, args.id)
        await directory.set_field(session, actor, member, args.field, " ".join(args.value))
    print(f"#{args.id} {args.field} updated")
    return 0


async def _verify(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    async with db.transaction() as session:
        await directory.verify(session, actor, await members.get(session, args.id))
    print(f"#{args.id} verified")
    return 0


async def _activation(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    active = args.directory_command == "reactivate"
    async with db.transaction() as session:
        await members.set_active(session, actor, await members.get(session, args.id), active)
    print(f"#{args.id} {'reactivated' if active else 'deactivated'}")
    return 0


def _count(number: int, noun: str) -> str:
    """``1 problem``, ``2 problems``: the command line speaks English."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
