"""Reading the audit trail: ``pocnet audit export`` (CSV a spreadsheet cannot be tricked by) and ``/audit``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from storage import sample
from storage.audit_query import COLUMNS, neutralise
from storage.db import Database
from storage.models import AuditEvent, Member
from tests.e2e.test_cli import config, pocnet
from tests.fakes.chat import ChatPlatform

HOSTILE = {
    "actor": '=HYPERLINK("http://evil.example","click")',
    "action": "+member.update",
    "subject_type": "@member",
    "subject_id": "-42",
    "note": "\tcmd|' /C calc'!A0",
}


def test_neutralise_every_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    for harmless in ("", "Ana", "1+1", " =x", "'=x", '{"a": 1}'):
        assert neutralise(harmless) == harmless


async def test_export_csv_is_complete_filtered_and_spreadsheet_safe(tmp_path: Path) -> None:
    db_file = tmp_path / "pocnet.sqlite"
    cfg = config(tmp_path, db_file)
    assert pocnet("--config", str(cfg), "db", "upgrade").returncode == 0
    db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
    async with db.transaction() as session:
        await sample.seed(session)
        session.add(AuditEvent(at=datetime(2026, 11, 2, 9, tzinfo=UTC), **HOSTILE))
        session.add(AuditEvent(at=datetime(2025, 1, 1, tzinfo=UTC), actor="cli:old", action="member.update",
                               subject_type="member", subject_id="1", note="last year"))  # fmt: skip
    async with db.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(AuditEvent))
    await db.dispose()

    everything = pocnet("--config", str(cfg), "audit", "export")
    assert everything.returncode == 0, everything.stderr
    rows = list(csv.reader(io.StringIO(everything.stdout.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 1 + total
    assert any(row[COLUMNS.index("note")] == "last year" for row in rows)
    hostile = next(row for row in rows if row[COLUMNS.index("actor")].startswith("'="))
    for column, value in HOSTILE.items():
        assert hostile[COLUMNS.index(column)] == "'" + value, column
    created = next(row for row in rows if row[COLUMNS.index("action")] == "member.create")
    assert created[COLUMNS.index("after")].startswith("{") and '"display_name"' in created[COLUMNS.index("after")]

    out = tmp_path / "audit.csv"
    recent = pocnet("--config", str(cfg), "audit", "export", "--since", "2026-01-01", "-o", str(out))
    assert recent.returncode == 0 and f"({total - 1} events)" in recent.stderr
    data = out.read_bytes()
    assert data.startswith("\ufeff".encode()) and b"last year" not in data and b"'=HYPERLINK" in data

    bad = pocnet("--config", str(cfg), "audit", "export", "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr and "2026-11-01" in bad.stderr


async def test_audit_command_for_the_secretariat(chat: ChatPlatform) -> None:
    app = chat.app  # type: ignore[attr-defined]
    async with app.db.sessions() as session:
        created = await session.scalar(select(func.count()).select_from(AuditEvent))
        ana = await session.scalar(select(Member).where(Member.state_code == "MX").order_by(Member.id).limit(1))
        mexicans = await session.scalar(select(func.count()).select_from(Member).where(Member.state_code == "MX"))
    assert ana is not None

    everything = await chat.say("/audit", user="secretariat")
    assert everything.splitlines()[0] == f"Audit trail, last 7 days (America/New_York): {created} events"
    assert "earlier events not shown: `pocnet audit export --since" in everything
    assert len(everything.splitlines()) == 2 + 40

    mexico = await chat.say("/audit mx 30", user="secretariat")
    head, *lines = mexico.splitlines()
    assert head.startswith("Audit trail of Mexico (MX), last 30 days (America/New_York):")
    assert len(lines) >= mexicans and all(" · " in line for line in lines)
    assert all("member.create" in line or "identity.link" in line for line in lines)

    await chat.say(f"/deactivate {ana.id}", user="secretariat")
    await chat.say("yes", user="secretariat")
    person = await chat.say(f"/audit #{ana.id}", user="secretariat")
    assert person.splitlines()[0].startswith(f"Audit trail of {ana.display_name} (#{ana.id}), last 7 days")
    assert person.splitlines()[-1].endswith(f"member.update · member #{ana.id} {ana.display_name}")

    assert "Usage: /audit" in await chat.say("/audit MX 400", user="secretariat")
    assert "Usage: /audit" in await chat.say("/audit mexico city", user="secretariat")
    assert "not available to your role" in await chat.say("/audit", user="AR")

    await chat.say("/language es", user="secretariat")
    spanish = await chat.say("/audit BR", user="secretariat")
    assert spanish.startswith("Registro de auditoría de Brasil (BR), últimos 7 días (America/New_York):")


async def test_audit_queries_on_each_backend(db: Database) -> None:
    from datetime import timedelta

    from storage import audit_query
    from storage.types import utcnow

    async with db.transaction() as session:
        await sample.seed(session)
    async with db.sessions() as session:
        member = await session.scalar(select(Member).where(Member.state_code == "PE").order_by(Member.id).limit(1))
        assert member is not None
        own = await audit_query.events(session, member_id=member.id)
        peru = await audit_query.events(session, state_code="pe")
        later = await audit_query.events(session, since=utcnow() + timedelta(minutes=1))
    assert own and {(e.subject_type, e.subject_id) for e in own if e.subject_type == "member"} == {
        ("member", str(member.id))
    }
    assert {"member.create", "identity.link"} <= {e.action for e in own}
    assert peru and all("PE" in {(e.after or {}).get("state_code"), (e.before or {}).get("state_code")} for e in peru)
    assert later == []
