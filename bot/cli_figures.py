"""``pocnet round …`` and ``pocnet figures …``: reporting rounds and their figures from the command line.

    pocnet round open 2025 --deadline 2026-03-31 [--indicators mla,extradition] [--states MX,CO]
    pocnet round close 2025
    pocnet round deadline 2025 2026-04-30
    pocnet round list
    pocnet figures export [--round 2025] [--format csv|xlsx] [-o FILE]
    pocnet figures chart [--round 2025] [--language es] -o status.png

Changes are audited under ``cli:<operator>``, as the chat's are under the member.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.cli_directory import operator
from bot.config import Settings
from bot.i18n import LANGUAGES, translator
from storage import catalogue, figure_export, figure_status, figures
from storage.access import Actor
from storage.catalogue import CatalogueError
from storage.db import Database
from storage.errors import PocnetError
from storage.models import Round
from storage.types import utcnow


class CliError(Exception):
    """Printed as one line; exit code 2."""


def add_parser(sub: Any) -> None:
    rounds = sub.add_parser("round", help="reporting rounds: open, close, move the deadline, list")
    cmds = rounds.add_subparsers(dest="round_command", required=True)
    opened = cmds.add_parser("open", help="open a round for a period (every indicator and member state by default)")
    opened.add_argument("period", help="the period reported on, e.g. 2025")
    opened.add_argument("--deadline", required=True, help="the last day to report, e.g. 2026-03-31")
    opened.add_argument("--indicators", help="only these indicator codes, comma-separated (default: the catalogue)")
    opened.add_argument("--states", help="only these states, ISO codes comma-separated (default: every member)")
    closed = cmds.add_parser("close", help="close a round: no figures can be reported in it afterwards")
    closed.add_argument("period")
    moved = cmds.add_parser("deadline", help="move a round's deadline")
    moved.add_argument("period")
    moved.add_argument("deadline", help="the new last day, e.g. 2026-04-30")
    cmds.add_parser("list", help="every round: deadline, open or closed, states complete / partial / none")

    figs = sub.add_parser("figures", help="the figures reported in rounds: export, status chart")
    fcmds = figs.add_subparsers(dest="figures_command", required=True)
    export = fcmds.add_parser("export", help="one row per state and indicator (CSV or XLSX, spreadsheet-safe)")
    export.add_argument("--round", dest="period", help="the round's period (default: every round)")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    chart = fcmds.add_parser("chart", help="a PNG of submission status by state")
    chart.add_argument("--round", dest="period", help="the round's period (default: the first open round)")
    chart.add_argument("--language", choices=list(LANGUAGES), default="en", help="language of the chart's words")
    chart.add_argument("--output", "-o", type=Path, required=True, help="the PNG file to write")


def _catalogue(settings: Settings) -> catalogue.Catalogue:
    try:
        return catalogue.cached(settings.figures.catalogue)
    except CatalogueError as exc:
        raise CliError(str(exc)) from None


def _day(text: str) -> date:
    from handlers.figure_common import parse_day

    return parse_day(text)


def _split(text: str | None) -> list[str] | None:
    return [w.strip() for w in (text or "").split(",") if w.strip()] or None


def runner(settings: Settings) -> Any:
    async def run(args: argparse.Namespace, db: Database) -> int:
        try:
            if args.command == "round":
                return await _round(args, db, settings)
            return await _figures(args, db, settings)
        except PocnetError as exc:
            raise CliError(exc.message.format(**exc.params) if exc.params else exc.message) from None

    return run


async def _round(args: argparse.Namespace, db: Database, settings: Settings) -> int:
    actor = Actor.system(f"cli:{operator()}")
    command = args.round_command
    async with db.transaction() as session:
        if command == "list":
            rows = await figures.all_rounds(session)
            if not rows:
                print("no reporting rounds yet: open one with `pocnet round open 2025 --deadline 2026-03-31`")
            for row in rows:
                counts = (await figure_status.progress(session, actor, row)).counts()
                state = "open" if row.is_open else f"closed {row.closed_at:%Y-%m-%d}"
                print(f"{row.period:<8} deadline {row.deadline.isoformat()}  {state:<17} "
                      f"{counts['complete']:>3} complete  {counts['partial']:>3} partial  {counts['none']:>3} none")  # fmt: skip
            return 0
        if command == "open":
            if _day(args.deadline) < utcnow().date():
                raise CliError(f"--deadline: {args.deadline} has already passed")
            row = await figures.open_round(
                session, actor, _catalogue(settings), args.period, _day(args.deadline),
                indicators=_split(args.indicators), states=_split(args.states),
            )  # fmt: skip
            asked = len(await figures.audience(session, row))
            print(f"round {row.period} open: {len(row.indicators)} indicators, {asked} states, "
                  f"deadline {row.deadline.isoformat()}")  # fmt: skip
            return 0
        row = await figures.get_round(session, args.period)
        if command == "close":
            if not row.is_open:
                raise CliError(f"the round for {row.period} is already closed")
            await figures.close_round(session, actor, row)
            print(f"round {row.period} closed")
        else:
            await figures.move_deadline(session, actor, row, _day(args.deadline))
            print(f"round {row.period}: deadline {row.deadline.isoformat()}")
    return 0


async def _figures(args: argparse.Namespace, db: Database, settings: Settings) -> int:
    actor = Actor.system(f"cli:{operator()}")
    async with db.transaction() as session:
        if args.figures_command == "export":
            rows = [await figures.get_round(session, args.period)] if args.period else await figures.all_rounds(session)
            if not rows:
                raise CliError("no reporting rounds yet")
            found = await figure_export.sheets(session, actor, _catalogue(settings), rows)
            data = figure_export.to_csv(found) if args.format == "csv" else figure_export.to_xlsx(found)
            _write(args.output, data, f"{sum(len(s.rows) for s in found)} rows, {len(found)} round(s)")
            return 0
        from handlers.figures_status import chart_png

        row = await _chart_round(session, args.period)
        png = await chart_png(session, actor, row, translator(args.language), utcnow())
    _write(args.output, png, f"round {row.period}")
    return 0


async def _chart_round(session: Any, period: str | None) -> Round:
    if period:
        return await figures.get_round(session, period)
    rows = await figures.open_rounds(session) or (await figures.all_rounds(session))[-1:]
    if not rows:
        raise CliError("no reporting rounds yet")
    return rows[0]


def _write(path: Path | None, data: bytes, what: str) -> None:
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from None
    print(f"wrote {path} ({what})", file=sys.stderr)
