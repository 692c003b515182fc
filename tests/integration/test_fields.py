"""Single-line fields (names, institutions, e-mails…) are plain text of bounded length, whoever writes them:
the same rule for chat, CLI and CSV import, enforced where members are stored, on both backends."""

from __future__ import annotations

import pytest

from storage import exchange, invites, members
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import InvalidInput
from storage.text import clean_line

CLI = Actor.system("cli:test")
HOSTILE = [
    "Ana\rPérez",
    "Ana\nPérez",
    "Ana\x00",
    "Ana\x1b[31m",
    "\u202eanA",
    "Ana\u2066x",
    "Ana\ud800",
    "Ana\u2028Pérez",
]


@pytest.mark.parametrize("name", [*HOSTILE, "A" * 201])
async def test_members_refuse_unsafe_or_long_names_and_institutions(db: Database, name: str) -> None:
    async with db.transaction() as session:
        with pytest.raises(InvalidInput):
            await members.create(session, CLI, display_name=name, role=Role.CONTACT, state_code="MX")
        member = await members.create(session, CLI, display_name="A" * 200, role=Role.CONTACT, state_code="MX")
        with pytest.raises(InvalidInput):
            await members.update(session, CLI, member, institution=name if len(name) < 200 else "I" * 301)
        with pytest.raises(InvalidInput):
            await invites.create(session, CLI, role=Role.CONTACT, state_code="MX", display_name=name)
        assert member.institution is None


async def test_import_refuses_the_same_names_row_by_row(db: Database) -> None:
    rows = "".join(f'"{name}",MX\r\n' for name in HOSTILE[:6])
    with pytest.raises(exchange.ImportRejected) as rejected:
        async with db.transaction() as session:
            await exchange.import_csv(session, CLI, f"name,state\r\n{rows}".encode())
    assert len({row for row, _ in rejected.value.problems}) == 6
    assert all("plain text" in reason for _, reason in rejected.value.problems)


async def test_a_platform_display_name_is_kept_as_plain_text_only(db: Database) -> None:
    async with db.transaction() as session:
        new = await invites.create(session, CLI, role=Role.CONTACT, state_code="MX")
        member = await invites.redeem(
            session, new.code, platform="telegram", user_id="42", chat_id="42",
            sender_name="Evil\r\nBEGIN:VCARD\u202e\x00 " + "x" * 500, language=None,
        )  # fmt: skip
        assert member.display_name.startswith("Evil BEGIN:VCARD") and len(member.display_name) == 200
        cards = (await exchange.export_vcards(session)).decode()
    lines = cards.split("\r\n")
    assert [line for line in lines if line.startswith("BEGIN:")] == ["BEGIN:VCARD"]  # no line was injected
    assert "\u202e" not in cards and "\x00" not in cards and "\r" not in cards.replace("\r\n", "")


def test_clean_line_drops_what_check_line_refuses() -> None:
    assert clean_line("  a\tb\u202ec\x00 ", 10) == "a b c"
    assert clean_line("\u2066\u2069", 10) == ""
