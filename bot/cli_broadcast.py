"""``pocnet broadcast …``: announcements from the command line (the running bot sends them).

    pocnet broadcast send --to all --text-file notice.txt [--file agenda.pdf] [--ack] [--author ID] [--no-wait]
    pocnet broadcast report NUMBER [--csv]

``--to`` takes the words /announce takes (``all``, ``CO,PE``, ``topic:tip``, ``role:contact``, combined).
The text file may hold the text in several languages (``en: … | es: …``). ``send`` queues the copies in the
database, then follows them with a progress bar until every copy is sent or failed; the author (by default
the first active Secretariat member) also gets the report in chat.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import mimetypes
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tqdm import tqdm

from handlers.relay_status import status_of
from storage import announcements, outbox, readmodel, relays, spreadsheet
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import PocnetError
from storage.models import Member, OutboxItem, Relay
from storage.types import utcnow

POLL_SECONDS = 0.5


class CliError(Exception):
    """Printed as one line; exit code 2."""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("broadcast", help="announcements: send one, report on one")
    cmds = parser.add_subparsers(dest="broadcast_command", required=True)
    send = cmds.add_parser("send", help="queue an announcement and follow it as it goes out")
    send.add_argument("--to", required=True, nargs="+", help="all | CO,PE | topic:tip | role:contact (combined)")
    send.add_argument("--text-file", required=True, type=Path, help="UTF-8 text; 'en: … | es: …' for languages")
    send.add_argument("--file", type=Path, help="a file to send with it (at most 20 MB)")
    send.add_argument("--ack", action="store_true", help="ask recipients to acknowledge")
    send.add_argument("--author", type=int, help="member id of the Secretariat author (default: the first)")
    send.add_argument("--no-wait", action="store_true", help="queue it and return at once")
    report = cmds.add_parser("report", help="each recipient of an announcement and what became of their copy")
    report.add_argument("number", type=int)
    report.add_argument("--csv", action="store_true", help="CSV on standard output")


async def run(args: argparse.Namespace, db: Database) -> int:
    try:
        if args.broadcast_command == "send":
            return await _send(args, db)
        return await _report(args, db)
    except PocnetError as exc:
        raise CliError(exc.message.format(**exc.params) if exc.params else exc.message) from None


def _read(path: Path, limit: int) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise CliError(f"{path}: larger than {limit // (1024 * 1024)} MB")
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from None


async def _send(args: argparse.Namespace, db: Database) -> int:
    text = _read(args.text_file, 64 * 1024).decode("utf-8", errors="replace")
    actor = Actor.system(f"cli:{getpass.getuser()}")
    async with db.transaction() as session:
        author = await _author(session, args.author)
        view = await readmodel.load(session)
        words = [w if ":" in w or w.lower() == "ack" else f"to:{w}" for w in " ".join(args.to).split()]
        audience, ack, used = announcements.parse_audience_words(view, words)
        if used < len(words):
            raise CliError(f"--to: cannot read {' '.join(words[used:])!r}")
        stored = None
        if args.file is not None:
            content = _read(args.file, 20 * 1024 * 1024)
            mime = mimetypes.guess_type(args.file.name)[0] or "application/octet-stream"
            stored = await relays.store_file(session, args.file.name, mime, content)
        draft = announcements.Draft(audience, announcements.split_texts(text), ack or args.ack)
        relay, plan = await announcements.send(
            session, actor, author, draft, view, now=utcnow(), default_language="en", file=stored
        )
        number = relay.id
    print(f"announcement #{number} queued for {len(plan.reachable)} members "
          f"({', '.join(f'{n} {p}' for p, n in plan.platforms.most_common())}); "
          f"{len(plan.unreachable)} without a chat account")  # fmt: skip
    if args.no_wait:
        return 0
    await _follow(db, number, len(plan.reachable))
    return 0


async def _author(session: Any, member_id: int | None) -> Member:
    query = select(Member).where(Member.role == Role.SECRETARIAT, Member.active.is_(True))
    if member_id is not None:
        query = query.where(Member.id == member_id)
    author = await session.scalar(query.order_by(Member.id).limit(1))
    if author is None:
        raise CliError("no active Secretariat member" + (f" with id {member_id}" if member_id else ""))
    return author


async def _follow(db: Database, number: int, total: int) -> None:
    """A progress bar (on a terminal) until no copy is queued or being sent; then the counts."""
    reference = relays.reference(number)
    query = (
        select(OutboxItem.status, func.count())
        .where(OutboxItem.reference == reference, OutboxItem.kind == announcements.KIND)
        .group_by(OutboxItem.status)
    )
    with tqdm(total=total, desc=f"#{number}", unit=" copies", file=sys.stderr, disable=None) as bar:
        while True:
            async with db.transaction() as session:
                counts = {status: int(n) for status, n in (await session.execute(query)).all()}
            settled = total - counts.get(outbox.QUEUED, 0) - counts.get(outbox.SENDING, 0)
            bar.update(settled - bar.n)
            if settled >= total:
                break
            await asyncio.sleep(POLL_SECONDS)
    sent = counts.get(outbox.SENT, 0) + counts.get(outbox.ACKNOWLEDGED, 0)
    print(f"announcement #{number}: {sent} sent, {counts.get(outbox.FAILED, 0)} failed")


async def _report(args: argparse.Namespace, db: Database) -> int:
    async with db.transaction() as session:
        relay = await session.get(Relay, args.number)
        if relay is None or relay.mode != "announce":
            raise CliError(f"there is no announcement #{args.number}")
        rows = [
            (c.member_id, c.member.display_name, c.member.state_code or "OAS",
             c.outbox.platform if c.outbox else "", status_of(c),
             c.outbox.sent_at.isoformat() if c.outbox and c.outbox.sent_at else "",
             c.acknowledged_at.isoformat() if c.acknowledged_at else "",
             (c.outbox.error or "") if c.outbox else "")
            for c in relay.copies
        ]  # fmt: skip
    header = ("member_id", "name", "state", "platform", "status", "sent_at", "acknowledged_at", "error")
    if args.csv:
        out = spreadsheet.writer(sys.stdout)  # formula-safe, as every CSV pocnet writes
        out.writerow(header)
        for row in rows:
            out.writerow(row)
        return 0
    print(f"announcement #{relay.id} · {relay.audience} · {len(rows)} recipients")
    for row in rows:
        print(f"{row[0]:>6}  {row[2]:<3}  {row[3]:<9}  {row[4]:<12}  {row[1]}" + (f"  ({row[7]})" if row[7] else ""))
    return 0
