"""Rounds and figures on both backends: versions, scope, what each state still owes, the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from storage import catalogue, figures
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import AccessDenied, InvalidInput
from storage.figures import Entry
from storage.models import AuditEvent, Figure

CLI = Actor.system("cli:test")
MX = Actor(Role.CONTACT, "MX", None, "member:mx")
CO_OFFICIAL = Actor(Role.OFFICIAL, "CO", None, "member:co")


async def test_round_versions_scope_and_owed(db: Database) -> None:
    cat = catalogue.cached()
    async with db.transaction() as session:
        row = await figures.open_round(session, CLI, cat, "2025", date(2026, 3, 31), states=["MX", "CO", "pe"])
        assert row.states == ["CO", "MX", "PE"] and row.indicators == list(cat.codes)
        with pytest.raises(InvalidInput):
            await figures.open_round(session, CLI, cat, "2025", date(2026, 3, 31))
        with pytest.raises(AccessDenied):
            await figures.open_round(session, MX, cat, "2026", date(2027, 3, 31))

    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        await figures.record(session, MX, row, "MX", [Entry("mla", 14), Entry("extradition", None)])
        with pytest.raises(AccessDenied):  # an official of CO cannot submit for MX
            await figures.record(session, CO_OFFICIAL, row, "MX", [Entry("mla", 1)])
        with pytest.raises(InvalidInput):  # nor for a state outside the round
            await figures.record(session, CLI, row, "BR", [Entry("mla", 1)])

    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        await figures.record(session, MX, row, "MX", [Entry("mla", 15, estimate=True, comment="revised")])
        await figures.record(session, CLI, row, "CO", [Entry(code, 0) for code in row.indicators])

    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        now = await figures.current(session, row.id, "MX")
        assert (now["mla"].value, now["mla"].version, now["mla"].estimate) == (15, 2, True)
        assert now["extradition"].value is None and now["extradition"].not_available
        versions = [(f.indicator, f.version, f.value, f.current) for f in await figures.history(session, row.id, "MX")]
        assert versions == [("extradition", 1, None, True), ("mla", 1, 14, False), ("mla", 2, 15, True)]
        owed = await figures.owed(session, row)
        assert owed["CO"] == [] and owed["PE"] == list(row.indicators)
        assert owed["MX"] == [c for c in row.indicators if c not in {"mla", "extradition"}]
        behalf = await figures.current(session, row.id, "CO")
        assert all(f.on_behalf for f in behalf.values())
        assert not any(f.on_behalf for f in now.values())
        actions = dict(
            (await session.execute(
                select(AuditEvent.action, func.count()).where(AuditEvent.action.like("figure.%"))
                .group_by(AuditEvent.action)
            )).all()
        )  # fmt: skip
        assert actions == {"figure.report": 2 + len(row.indicators), "figure.amend": 1}
        assert await session.scalar(select(func.count()).select_from(Figure)) == 3 + len(row.indicators)

    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        await figures.move_deadline(session, CLI, row, date(2026, 4, 30))
        await figures.close_round(session, CLI, row)
    async with db.transaction() as session:
        row = await figures.get_round(session, "2025")
        assert row.deadline == date(2026, 4, 30) and not row.is_open
        assert await figures.open_rounds(session) == []
        with pytest.raises(InvalidInput):
            await figures.record(session, MX, row, "MX", [Entry("mla", 1)])
