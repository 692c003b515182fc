"""Guided-entry drafts and the checks that read stored figures, on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from storage import catalogue, figure_checks, figure_drafts, figures, sample
from storage.access import Actor
from storage.db import Database
from storage.figures import Entry
from storage.models import Member

CLI = Actor.system("cli:test")
CATALOGUE = """
[[indicator]]
code = "total"
name = { en = "Total", es = "Total", pt = "Total", fr = "Total" }
help = { en = "T.", es = "T.", pt = "T.", fr = "T." }

[[indicator]]
code = "part"
name = { en = "Part", es = "Parte", pt = "Parte", fr = "Partie" }
help = { en = "P.", es = "P.", pt = "P.", fr = "P." }

[[check]]
kind = "at_least_sum"
total = "total"
parts = ["part"]
"""


async def test_a_draft_keeps_answers_as_they_come(db: Database) -> None:
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        row = await figures.open_round(session, CLI, catalogue.cached(), "2025", date(2026, 3, 31))
        member = await session.scalar(select(Member.id).where(Member.state_code == "MX"))
        assert member is not None
        draft = await figure_drafts.start(session, member, row.id, "MX")
        figure_drafts.save(draft, code="mla", value=3, estimate=True, provisional=False)
    async with db.transaction() as session:
        draft = await figure_drafts.get(session, member, row.id)
        assert draft is not None
        figure_drafts.save(draft, position=4, code="conv_tip", value=2)
        figure_drafts.save(draft, code="conv_tip", sentences="3y")
        figure_drafts.save(draft, code="extradition", value=None)
    async with db.transaction() as session:
        draft = await figure_drafts.get(session, member, row.id)
        assert draft is not None and draft.data["position"] == 4
        assert figure_drafts.entries(draft, list(row.indicators)) == [
            Entry("mla", 3, estimate=True),
            Entry("extradition", None),
            Entry("conv_tip", 2, sentences="3y"),
        ]
        draft = await figure_drafts.start(session, member, row.id, "MX")  # start again: empty
        assert figure_drafts.values(draft) == {}
    async with db.transaction() as session:
        assert await figure_drafts.discard(session, member, row.id)
        assert not await figure_drafts.discard(session, member, row.id)


async def test_warnings_read_the_previous_round_and_the_stored_figures(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE, encoding="utf-8")
    cat = catalogue.cached(str(path))
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
        before = await figures.open_round(session, CLI, cat, "2024", date(2025, 3, 31))
        await figures.record(session, CLI, before, "MX", [Entry("total", 10), Entry("part", 0)])
        await figures.close_round(session, CLI, before)
        row = await figures.open_round(session, CLI, cat, "2025", date(2026, 3, 31))
        await figures.record(session, CLI, row, "MX", [Entry("part", 8)])
    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        found = await figure_checks.warnings(session, cat, row, "MX", [Entry("total", 31)], 3.0)
        assert [(p.message, p.code) for p in found] == [(figure_checks.CHANGED, "total")]
        found = await figure_checks.warnings(session, cat, row, "MX", [Entry("total", 7)], 3.0)
        assert [(p.message, dict(p.params)) for p in found] == [
            (figure_checks.BELOW_SUM, {"value": 7, "parts": "part", "total": 8})
        ]
        assert await figure_checks.warnings(session, cat, row, "MX", [Entry("total", 30)], 3.0) == []
        assert await figure_checks.warnings(session, cat, row, "MX", [Entry("total", None)], 3.0) == []
        assert await figure_checks.warnings(session, cat, row, "CO", [Entry("total", 1)], 3.0) == []
