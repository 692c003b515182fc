"""``pocnet round`` and ``pocnet figures`` as an operator uses them, the demo's open round, and a mistake in
the reporting catalogue stopping ``run`` and named by ``doctor``."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
from PIL import Image
from sqlalchemy import select

from bot import doctor
from bot.transports.base import PNG_SIGNATURE
from storage import catalogue, figures, sample
from storage.access import Actor
from storage.db import Database
from storage.figure_export import COLUMNS
from storage.models import AuditEvent
from storage.types import utcnow
from tests.conftest import make_settings
from tests.e2e.test_cli import config, pocnet

NEXT_YEAR = utcnow().year + 1


def test_round_open_list_deadline_close_and_exports(tmp_path: Path) -> None:
    db_file = tmp_path / "pocnet.sqlite"
    cfg = str(config(tmp_path, db_file))
    assert pocnet("--config", cfg, "round", "list").returncode == 2  # not migrated yet: one line, exit 2
    assert pocnet("--config", cfg, "db", "upgrade").returncode == 0
    listed = pocnet("--config", cfg, "round", "list")
    assert listed.returncode == 0 and "no reporting rounds yet" in listed.stdout

    opened = pocnet("--config", cfg, "round", "open", "2025", "--deadline", f"{NEXT_YEAR}-03-31")
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.strip() == f"round 2025 open: 14 indicators, 35 states, deadline {NEXT_YEAR}-03-31"
    small = pocnet("--config", cfg, "round", "open", "2024", "--deadline", f"31/03/{NEXT_YEAR}",
                   "--indicators", "mla,extradition", "--states", "MX,CO")  # fmt: skip
    assert small.returncode == 0 and "2 indicators, 2 states" in small.stdout, small.stderr
    again = pocnet("--config", cfg, "round", "open", "2025", "--deadline", f"{NEXT_YEAR}-03-31")
    assert again.returncode == 2 and "There is already a round for 2025." in again.stderr
    past = pocnet("--config", cfg, "round", "open", "2023", "--deadline", "2001-01-01")
    assert past.returncode == 2 and "--deadline: 2001-01-01 has already passed" in past.stderr
    bad = pocnet("--config", cfg, "round", "open", "2023", "--deadline", "03/04/2030")
    assert bad.returncode == 2 and "could be read two ways" in bad.stderr and "Traceback" not in bad.stderr

    # a state reports in the meantime (as the chat would record it)
    async def report() -> None:
        db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
        async with db.transaction() as session:
            row = await figures.get_round(session, "2024")
            system = Actor.system("test")
            await figures.record(
                session, system, row, "MX", [figures.Entry("mla", 5), figures.Entry("extradition", None)]
            )
            await figures.record(session, system, row, "CO", [figures.Entry("mla", 1, comment="=1+1")])
        await db.dispose()

    asyncio.run(report())
    moved = pocnet("--config", cfg, "round", "deadline", "2025", "2030-04-30")
    assert moved.returncode == 0 and moved.stdout.strip() == "round 2025: deadline 2030-04-30"
    closed = pocnet("--config", cfg, "round", "close", "2024")
    assert closed.returncode == 0 and closed.stdout.strip() == "round 2024 closed"
    assert "already closed" in pocnet("--config", cfg, "round", "close", "2024").stderr
    lines = pocnet("--config", cfg, "round", "list").stdout.splitlines()
    assert lines[0].split()[:4] == ["2024", "deadline", f"{NEXT_YEAR}-03-31", "closed"]
    assert lines[0].split()[-6:] == ["1", "complete", "1", "partial", "0", "none"]
    assert lines[1].split()[:4] == ["2025", "deadline", "2030-04-30", "open"]
    assert lines[1].split()[-6:] == ["0", "complete", "0", "partial", "35", "none"]

    exported = pocnet("--config", cfg, "figures", "export", "--round", "2024", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout.lstrip("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 1 + 2 * 2
    table = {(r[1], r[3]): dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert table[("MX", "mla")]["value"] == "5" and table[("MX", "extradition")]["value"] == "n/a"
    assert table[("CO", "extradition")]["value"] == "" and table[("CO", "mla")]["comment"] == "'=1+1"

    xlsx = tmp_path / "figures.xlsx"
    written = pocnet("--config", cfg, "figures", "export", "--format", "xlsx", "-o", str(xlsx))
    assert written.returncode == 0 and "wrote" in written.stderr
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["2024", "2025"] and all(book[n].freeze_panes == "A2" for n in book.sheetnames)
    assert book["2025"].max_row == 1 + 35 * 14

    png = tmp_path / "status.png"
    chart = pocnet("--config", cfg, "figures", "chart", "--round", "2024", "--language", "es", "-o", str(png))
    assert chart.returncode == 0, chart.stderr
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(png) as image:
        image.load()
        assert image.size[0] == 850 and 300 <= image.size[1] < 900  # two states: a short chart

    async def audited() -> list[str]:
        db = Database.from_url(f"sqlite+aiosqlite:///{db_file}")
        async with db.transaction() as session:
            found = list(await session.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("round.%"))))
        await db.dispose()
        return found

    actors = asyncio.run(audited())
    assert len(actors) == 4 and all(a.startswith("cli:") for a in actors)  # 2 opened, 1 moved, 1 closed


def test_demo_starts_with_last_years_round_open() -> None:
    result = pocnet("demo", "--as", "MX", stdin="/status\n/as secretariat\n/round\n")
    assert result.returncode == 0, result.stderr
    last_year = str(utcnow().year - 1)
    deadline = sample.demo_deadline(utcnow().date())
    assert deadline > utcnow().date()
    assert f"Mexico still owes 14 of 14 figures for {last_year}" in result.stdout
    assert f"/report {last_year} mla= extradition=" in result.stdout
    assert f"{last_year} · deadline" in result.stdout and "· open · 4 complete, 5 partial, 26 nothing" in result.stdout


def test_demo_deadline_is_ahead_all_year() -> None:
    assert sample.demo_deadline(date(2026, 1, 10)) == date(2026, 3, 31)
    assert sample.demo_deadline(date(2026, 3, 15)) == date(2026, 4, 14)
    assert sample.demo_deadline(date(2026, 11, 30)) == date(2026, 12, 30)


def test_a_catalogue_mistake_stops_run_and_doctor_names_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "indicators.toml"
    text = catalogue.DEFAULT.read_text(encoding="utf-8").replace("max = 100000", "max = -5", 1)
    broken.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("max = -5"))
    cfg = config(tmp_path, tmp_path / "pocnet.sqlite")
    cfg.write_text(cfg.read_text() + f'[figures]\ncatalogue = "{broken}"\n')
    assert pocnet("--config", str(cfg), "db", "upgrade").returncode == 0
    run = pocnet("--config", str(cfg), "run", stdin="")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().startswith(f"pocnet: error: reporting catalogue: {broken}:{line}: indicator 'mla': max")
    check = doctor.check_catalogue(
        make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}", figures={"catalogue": str(broken)})
    )
    assert check.status == "problem" and f"{broken}:{line}:" in check.line()
    good = doctor.check_catalogue(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}"))
    assert good.status == "ok" and good.detail.startswith("14 indicators")
