"""CSV and vCard exchange on both backends: round trips, all-or-nothing validation, updates, audit."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from storage import exchange, members
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import AccessDenied
from storage.models import AuditEvent, Member
from storage.sample import synthetic_csv

CLI = Actor.system("cli:test")


async def _import(db: Database, data: bytes) -> exchange.ImportReport:
    async with db.transaction() as session:
        return await exchange.import_csv(session, CLI, data)


async def _export(db: Database) -> bytes:
    async with db.transaction() as session:
        return await exchange.export_csv(session)


async def _count(db: Database) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count(Member.id))) or 0


@pytest.mark.slow
@pytest.mark.parametrize("db", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)  # once
async def test_round_trip_of_10000_contacts_is_byte_identical(db: Database, sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    generated = synthetic_csv(10_000)
    ticks: list[int] = []
    async with db.transaction() as session:
        report = await exchange.import_csv(session, CLI, generated, ticks.append)
    assert (report.created, report.updated) == (10_000, 0) and sum(ticks) == 10_000
    first = await _export(db)

    empty = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite'}")
    await empty.upgrade()
    await _import(empty, first)
    second = await _export(empty)
    await empty.dispose()

    assert second == first
    assert first == generated  # nothing was lost or reshaped on the way in
    assert first.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheet programs
    assert len(first.decode("utf-8-sig").splitlines()) == 10_001
    again = await _import(db, first)  # re-importing the same file changes nothing
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10_000)


async def test_one_bad_row_rejects_the_file_and_changes_nothing(db: Database) -> None:
    before = await _count(db)
    data = (
        b"name,state,function,hours,email,languages,competences,active,last_confirmed_at,id,verified_by\r\n"
        b"Good Person,MX,fiu,mon-fri 09:00-17:00,good@example.org,es,aml,true,,,\r\n"
        b"Bad Person,Atlantis,wizard,whenever,not-an-email,klingon,astrology,maybe,yesterday,-3,999999\r\n"
        b",CO,police,,,,,,,,\r\n"
    )
    with pytest.raises(exchange.ImportRejected) as info:
        await _import(db, data)
    report = info.value.report()
    for expected in ["row 3: state", "row 3: function", "row 3: hours", "row 3: email", "row 3: languages",
                     "row 3: competences", "row 3: active", "row 3: last_confirmed_at", "row 3: id",
                     "row 3: verified_by", "row 4: name"]:  # fmt: skip
        assert expected in report, (expected, report)
    assert "row 2" not in report
    assert await _count(db) == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"name,colour\r\nA,blue\r\n", "unknown columns: colour"),
        (b"state\r\nMX\r\n", "missing columns: name"),
        (b"\xff\xfe\x00garbage", "not a UTF-8 CSV"),
        (b"name,state\r\nA,MX,extra\r\n", "more cells than columns"),
        (b"id,name,state\r\n5,A,MX\r\n5,B,MX\r\n", "also on row 2"),
    ],
)
async def test_malformed_files_are_explained(db: Database, data: bytes, expected: str) -> None:
    with pytest.raises(exchange.ImportRejected) as info:
        await _import(db, data)
    assert expected in info.value.report()


async def test_import_updates_existing_rows_and_audits_before_after(db: Database) -> None:
    await _import(db, b"id,name,state,function,institution\r\n700,Ana Ruiz,PE,npc,Ministerio\r\n")
    report = await _import(db, "id,name,state,function,institution\r\n700,Ana Ruiz,PE,npc,Fiscalía\r\n".encode())
    assert (report.created, report.updated) == (0, 1)
    async with db.transaction() as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.subject_id == "700")))
        member = await members.get(session, 700)
        assert member.role == "contact" and member.search_key == "ana ruiz fiscalia"
        new = await members.create(session, CLI, display_name="Next", role=Role.CONTACT, state_code="PE")
    assert new.id > 700  # explicit ids do not break the id sequence (PostgreSQL)
    assert [e.action for e in events] == ["member.import", "member.import"]
    assert events[1].before["institution"] == "Ministerio" and events[1].after["institution"] == "Fiscalía"


async def test_only_the_secretariat_imports(db: Database) -> None:
    with pytest.raises(AccessDenied):
        async with db.transaction() as session:
            await exchange.import_csv(session, Actor(Role.CONTACT, "MX", 1), b"name,state\r\nA,MX\r\n")


async def test_vcards_are_valid_vcard4_for_active_people(db: Database) -> None:
    data = (
        "id,name,state,function,institution,email,phone,languages,competences,hours,active\r\n"
        '1,"Pérez, Ana; \\\\ Jr",MX,fiu,Unidad de Inteligencia Financiera de los Estados Unidos Mexicanos (UIF),'
        "ana@example.org,+52 55 1234 5678,es;en,aml;assets,mon-fri 09:00-17:00,true\r\n"
        "2,Gone Person,CO,police,,,,,,,false\r\n"
    ).encode()
    await _import(db, data)
    async with db.transaction() as session:
        cards = (await exchange.export_vcards(session)).decode()
    assert cards.count("BEGIN:VCARD") == 1 and "Gone Person" not in cards
    assert "VERSION:4.0\r\n" in cards and "FN:Pérez\\, Ana\\; \\\\\\\\ Jr\r\n" in cards
    assert "TEL;VALUE=uri;TYPE=work:tel:+52-55-1234-5678" in cards
    assert "LANG;PREF=1:es\r\nLANG;PREF=2:en" in cards
    assert "CATEGORIES:money laundering,asset forfeiture" in cards
    assert all(len(line.encode()) <= 75 for line in cards.split("\r\n"))
    unfolded = cards.replace("\r\n ", "")
    assert "ORG:Unidad de Inteligencia Financiera de los Estados Unidos Mexicanos (UIF)" in unfolded


def test_synthetic_data_is_deterministic_and_complete() -> None:
    rows = list(csv.DictReader(io.StringIO(synthetic_csv(300).decode("utf-8-sig"))))
    assert synthetic_csv(300) == synthetic_csv(300)
    assert len(rows) == 300 and len({r["state"] for r in rows}) > 30
    assert any("," in r["name"] for r in rows) and any(r["active"] == "false" for r in rows)


async def test_no_exported_cell_can_run_as_a_spreadsheet_formula(db: Database) -> None:
    hostile = (
        b"id,name,state,function,institution,email,phone\r\n"
        b'1,"=HYPERLINK(""http://evil"",""x"")",MX,npc,+SUM(1),-x@example.org,+52 55 1234 5678\r\n'
        b"2,@Ana,CO,police,''quoted,ana@example.org,\r\n"  # a leading apostrophe is the text marker
    )
    await _import(db, hostile)
    exported = await _export(db)
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    for cell in (c for row in rows for c in row):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id["1"]["name"] == '\'=HYPERLINK("http://evil","x")' and by_id["1"]["email"] == "'-x@example.org"
    assert by_id["1"]["institution"] == "'+SUM(1)" and by_id["1"]["phone"] == "'+52 55 1234 5678"
    assert by_id["2"]["name"] == "'@Ana" and by_id["2"]["institution"] == "''quoted"
    async with db.transaction() as session:  # the stored values are what was sent, and a re-import keeps them
        assert (await members.get(session, 1)).display_name == '=HYPERLINK("http://evil","x")'
    again = await _import(db, exported)
    assert (again.updated, again.unchanged) == (0, 2)
    async with db.transaction() as session:
        assert (await members.get(session, 2)).institution == "'quoted"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"name,state\r\n" + b"x" * 140_000 + b",MX\r\n", "not a valid CSV file"),  # over csv's field limit
        (b'name,state\r\nAna,MX\r\n"Unterminated,MX\r\n', "not a valid CSV file"),  # was imported silently
        (b"id,name,state\r\n\xc2\xb2,Ana,MX\r\n", "is not a positive whole number"),  # "²"
        (b"id,name,state\r\n99999999999999999999,Ana,MX\r\n", "is not a positive whole number"),
        (b"name,state\r\nAna\x00Ruiz,MX\r\n", "plain text"),
        (b"name,state,role\r\nDesk,MX,secretariat\r\n", "must be empty for the Secretariat"),
    ],
)
async def test_hostile_files_are_refused_with_a_reason(db: Database, data: bytes, expected: str) -> None:
    with pytest.raises(exchange.ImportRejected) as rejected:
        await _import(db, data)
    assert expected in rejected.value.report() and len(rejected.value.report()) < 500
    assert await _count(db) == 0


async def test_every_export_is_audited(db: Database) -> None:
    await _import(db, b"name,state\r\nAna,MX\r\nBeto,CO\r\n")
    async with db.transaction() as session:
        await exchange.export_csv(session, actor=CLI)
        await exchange.export_vcards(session, actor=Actor(Role.SECRETARIAT, None, 7))
    async with db.transaction() as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "directory.export")))
    assert [(e.actor, e.note) for e in events] == [("cli:test", "csv, 2 entries"), ("member:7", "vcf, 2 entries")]
