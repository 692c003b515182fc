"""Rounds, status, exports and the status chart, as members use them in chat (issue 15).

Figures are set up with storage.figures.record directly (the /report command is another piece); the
conversation then runs through the real router, handlers and delivery on the fake chat platform.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import gc
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from nio import RoomMessageImage
from PIL import Image
from sqlalchemy import select

from bot.transports.base import PNG_SIGNATURE, Outgoing, png_size
from bot.transports.telegram import is_photo
from storage import catalogue, figures, spreadsheet
from storage.access import Actor, Role
from storage.db import Database
from storage.figure_export import COLUMNS
from storage.models import AuditEvent, Member, Round
from storage.types import utcnow
from tests.e2e.matrix_helpers import MatrixUser, matrix_bot
from tests.e2e.telegram_helpers import telegram_bot
from tests.fakes.chat import ChatPlatform
from tests.servers.synapse import Synapse

SYSTEM = Actor.system("test")
CODES = catalogue.cached().codes  # mla, extradition, jit, … (14)
FORMULA = '=HYPERLINK("http://evil.example","click")'
NEXT_YEAR = utcnow().year + 1


async def contact_of(session, state: str) -> Actor:  # type: ignore[no-untyped-def]
    member = await session.scalar(select(Member).where(Member.state_code == state, Member.function == "npc"))
    assert member is not None
    return Actor.of(member)


async def setup_round(db: Database, period: str = "2025", *, close: bool = False) -> None:
    """A round for every member state: Mexico reports everything (one figure not available, one comment
    that looks like a formula), Colombia two figures, the others nothing."""
    async with db.transaction() as session:
        row = await figures.open_round(session, SYSTEM, catalogue.cached(), period, date(NEXT_YEAR, 3, 31))
        mexico = [figures.Entry(code, n) for n, code in enumerate(CODES)]
        mexico[1] = figures.Entry("extradition", None, comment=FORMULA)
        mexico[0] = figures.Entry("mla", 14, estimate=True, provisional=True)
        await figures.record(session, await contact_of(session, "MX"), row, "MX", mexico)
        await figures.record(session, SYSTEM, row, "CO", [figures.Entry("mla", 3), figures.Entry("jit", 0)])
        if close:
            await figures.close_round(session, SYSTEM, row)


def db_of(chat: ChatPlatform) -> Database:
    return chat.app.db  # type: ignore[attr-defined,no-any-return]


def attachment_of(chat: ChatPlatform, user: str) -> Outgoing:
    sent = next(s.message for s in reversed(chat.received(user)) if s.message.attachment is not None)
    return sent


# --- /status --------------------------------------------------------------------------------------------


async def test_secretariat_sees_who_reported_everything_part_or_nothing(chat: ChatPlatform) -> None:
    assert await chat.say("/status", user="secretariat") == "There is no open reporting round."
    await setup_round(db_of(chat))
    answer = await chat.say("/status", user="secretariat")
    lines = answer.splitlines()
    assert lines[0].startswith("2025 · deadline Mar 31, ") and "open · 1 complete, 1 partial, 33 nothing" in lines[0]
    assert lines[1] == "Complete (1): MX"
    assert lines[2] == "Partial (1): CO 2/14"
    assert lines[3].startswith("Nothing yet (33): AG, AR, BB,") and "CO" not in lines[3] and "MX" not in lines[3]
    assert await chat.say("/status 2025", user="secretariat") == answer
    assert await chat.say("/estado", user="secretariat") == answer
    assert await chat.say("/status 1999", user="secretariat") == "There is no reporting round for 1999."
    assert "Usage: /status" in await chat.say("/status 2025 2024", user="secretariat")


async def test_a_contact_sees_what_their_state_owes_as_a_report_line(chat: ChatPlatform) -> None:
    await setup_round(db_of(chat))
    owed = [c for c in CODES if c not in ("mla", "jit")]
    answer = await chat.say("/status", user="CO")
    assert answer.splitlines() == [
        f"Colombia still owes 12 of 14 figures for 2025 (deadline Mar 31, {NEXT_YEAR}):",
        "/report 2025 " + " ".join(f"{c}=" for c in owed),
        "Fill in each figure after its = and send the line.",
    ]
    assert await chat.say("/status", user="MX") == "Mexico has reported all 14 figures for 2025. Thank you."
    pe = await chat.say("/status", user="PE")
    assert pe.splitlines()[1] == "/report 2025 " + " ".join(f"{c}=" for c in CODES)
    await chat.say("/language es", user="PE")
    spanish = (await chat.say("/status", user="PE")).splitlines()
    assert spanish[0] == f"A Perú le faltan 14 de 14 cifras de 2025 (plazo 31 mar {NEXT_YEAR}):"
    assert spanish[2] == "Rellene cada cifra después de su = y envíe la línea."


async def test_a_round_for_some_states_only_says_so_to_the_others(chat: ChatPlatform) -> None:
    async with db_of(chat).transaction() as session:
        await figures.open_round(session, SYSTEM, catalogue.cached(), "2025", date(NEXT_YEAR, 3, 31),
                                 indicators=["mla", "jit"], states=["MX", "CO"])  # fmt: skip
    assert await chat.say("/status", user="PE") == "The round for 2025 does not ask figures of Peru."
    assert "/report 2025 mla= jit=" in await chat.say("/status", user="MX")
    assert "0 complete, 0 partial, 2 nothing" in await chat.say("/status", user="secretariat")


# --- /round ---------------------------------------------------------------------------------------------


async def test_the_secretariat_opens_moves_and_closes_a_round_in_chat(chat: ChatPlatform) -> None:
    db = db_of(chat)
    assert "There are no reporting rounds yet" in await chat.say("/round", user="secretariat")
    opened = await chat.say(f"/round open 2025 deadline {NEXT_YEAR}-03-31", user="secretariat")
    assert opened.startswith("The round for 2025 is open: 14 indicators, 35 states, deadline Mar 31, ")
    assert "There is already a round for 2025." in await chat.say(f"/round open 2025 {NEXT_YEAR}-03-31",
                                                                 user="secretariat")  # fmt: skip
    small = await chat.say(f"/round open 2024q4 deadline 31/03/{NEXT_YEAR} indicators mla,jit states mx,co",
                           user="secretariat")  # fmt: skip
    assert "2 indicators, 2 states" in small
    assert "Unknown indicator: bogus." in await chat.say(
        f"/round open 2023 deadline {NEXT_YEAR}-03-31 indicators bogus", user="secretariat"
    )
    assert "has already passed" in await chat.say("/round open 2023 deadline 2001-01-01", user="secretariat")
    assert "could be read two ways" in await chat.say("/round deadline 2025 03/04/2030", user="secretariat")
    assert "is not a date" in await chat.say("/round deadline 2025 2030-02-30", user="secretariat")
    moved = await chat.say("/round deadline 2025 30/04/2030", user="secretariat")
    assert moved == "The deadline of the round for 2025 is now Apr 30, 2030."
    question = await chat.say("/round close 2025", user="secretariat")
    assert "Close the round for 2025?" in question and "35 states have not reported everything." in question
    assert await chat.say("yes", user="secretariat") == "The round for 2025 is closed."
    listing = (await chat.say("/round", user="secretariat")).splitlines()
    assert listing[0] == "Reporting rounds:"
    assert listing[1] == "2024q4 · deadline Mar 31, " + f"{NEXT_YEAR} · open · 0 complete, 0 partial, 2 nothing"
    assert listing[2] == "2025 · deadline Apr 30, 2030 · closed · 0 complete, 0 partial, 35 nothing"
    async with db.transaction() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("round.%")).order_by(AuditEvent.id)
            )
        )
        assert actions == ["round.open", "round.open", "round.deadline", "round.close"]
        closed = await session.scalar(select(Round).where(Round.period == "2025"))
        assert closed is not None and closed.closed_at is not None and closed.deadline == date(2030, 4, 30)


async def test_a_contact_cannot_open_or_close_rounds(chat: ChatPlatform) -> None:
    refusal = "/round is not available to your role. Send /help to see your commands."
    assert await chat.say(f"/round open 2025 deadline {NEXT_YEAR}-03-31", user="MX") == refusal
    await setup_round(db_of(chat))
    assert await chat.say("/round close 2025", user="MX") == refusal
    assert await chat.say("/status chart", user="MX") == "You are not allowed to do that."
    assert (
        await chat.say("/export figures", user="MX")
        == "/export is not available to your role. Send /help to see your commands."
    )
    async with db_of(chat).transaction() as session:
        row = await figures.get_round(session, "2025")
        assert row.is_open


# --- /export figures ------------------------------------------------------------------------------------


async def test_export_figures_csv_is_spreadsheet_safe(chat: ChatPlatform) -> None:
    await setup_round(db_of(chat))
    answer = await chat.say("/export figures 2025 csv", user="secretariat")
    assert answer.startswith("The figures of 2025 as of ")
    sent = attachment_of(chat, "secretariat").attachment
    assert sent is not None and sent.mime_type == "text/csv" and sent.filename.endswith(".csv")
    assert sent.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(sent.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    table = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(table) == 35 * 14
    by = {(r["state"], r["indicator"]): r for r in table}
    mla = by[("MX", "mla")]
    assert (mla["value"], mla["estimate"], mla["provisional"], mla["version"]) == ("14", "yes", "yes", "1")
    assert mla["submitted_by"] == "Lucía Núñez" and mla["on_behalf"] == "" and mla["submitted_at"].endswith("Z")
    extradition = by[("MX", "extradition")]
    assert extradition["value"] == "n/a"
    assert extradition["comment"] == "'" + FORMULA and spreadsheet.read_cell(extradition["comment"]) == FORMULA
    assert by[("PE", "mla")]["value"] == "" and by[("PE", "mla")]["submitted_by"] == ""  # not reported
    assert by[("CO", "jit")]["value"] == "0" and by[("CO", "jit")]["on_behalf"] == "yes"  # 0 is not empty
    assert by[("CO", "jit")]["submitted_by"] == "test" and by[("MX", "mla")]["state_name"] == "Mexico"
    # the directory export is still the default
    await chat.say("/export", user="secretariat")
    directory = attachment_of(chat, "secretariat").attachment
    assert directory is not None and directory.filename.startswith("pocnet-directory-")
    async with db_of(chat).transaction() as session:
        assert await session.scalar(select(AuditEvent.note).where(AuditEvent.action == "figures.export")) == (
            "2025: 490 rows"
        )


async def test_export_figures_xlsx_has_one_sheet_per_round(chat: ChatPlatform) -> None:
    await setup_round(db_of(chat), "2024", close=True)
    await setup_round(db_of(chat), "2025")
    await chat.say("/export figures xlsx", user="secretariat")
    sent = attachment_of(chat, "secretariat").attachment
    assert sent is not None and sent.filename.endswith(".xlsx") and sent.mime_type.endswith(".sheet")
    book = openpyxl.load_workbook(io.BytesIO(sent.content))
    assert book.sheetnames == ["2024", "2025"]
    sheet = book["2025"]
    assert sheet.freeze_panes == "A2"
    assert tuple(c.value for c in sheet[1]) == COLUMNS
    rows = {(r[1], r[3]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 35 * 14 and sheet.max_row == 1 + 35 * 14
    column = {name: n for n, name in enumerate(COLUMNS)}
    assert rows[("MX", "mla")][column["value"]] == 14  # a number, ready to sum
    assert rows[("MX", "extradition")][column["value"]] == "n/a"
    assert rows[("PE", "mla")][column["value"]] is None  # not reported: an empty cell
    comment = next(c for c in sheet.iter_rows(min_row=2) if c[1].value == "MX" and c[3].value == "extradition")[
        column["comment"]
    ]
    assert comment.value == FORMULA and comment.data_type == "s"  # text, not a formula
    await chat.say("/export figures 2024 xlsx", user="secretariat")
    one = attachment_of(chat, "secretariat").attachment
    assert one is not None and openpyxl.load_workbook(io.BytesIO(one.content)).sheetnames == ["2024"]
    assert "Usage: /export figures" in await chat.say("/export figures 2024 2025", user="secretariat")
    assert "Usage: /export figures" in await chat.say("/export figures pdf", user="secretariat")
    assert "There is no reporting round for 2023." in await chat.say("/export figures 2023", user="secretariat")


# --- /status chart --------------------------------------------------------------------------------------


async def test_status_chart_is_a_png_of_every_state(chat: ChatPlatform) -> None:
    assert "There are no reporting rounds yet" in await chat.say("/status chart", user="secretariat")
    await setup_round(db_of(chat))
    answer = await chat.say("/status chart", user="secretariat")
    assert answer == "Reporting round 2025: figures by state"
    sent = attachment_of(chat, "secretariat").attachment
    assert sent is not None and sent.mime_type == "image/png" and sent.filename == "pocnet-status-2025.png"
    assert sent.content.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(sent.content))
    image.load()  # decodes every pixel: a truncated file fails here
    assert image.format == "PNG" and image.size == png_size(sent.content)
    width, height = image.size
    assert width == 850 and height > 900  # 35 bars, one per state
    assert is_photo(sent)  # Telegram shows it as a photo …
    assert not is_photo(dataclasses.replace(sent, picture=False))  # … but a PNG someone sent stays a document
    colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20) or []}
    assert {(0x2E, 0x7D, 0x32), (0xF9, 0xA8, 0x25), (0xC6, 0x28, 0x28)} <= colours  # complete, partial, nothing
    await chat.say("/language fr", user="secretariat")
    assert await chat.say("/status graphique 2025", user="secretariat") == "Cycle de rapport 2025 : chiffres par État"
    french = attachment_of(chat, "secretariat").attachment
    assert french is not None and french.content != sent.content  # the words on the picture are French too


async def test_drawing_a_chart_does_not_stop_the_event_loop(chat: ChatPlatform) -> None:
    """The chart is drawn in a worker thread: the loop keeps ticking (other members' messages go on)."""
    await setup_round(db_of(chat))
    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()

    # A full garbage collection in a test worker that has run hundreds of tests stops every thread for up to
    # half a second; that pause is not what this test measures, so collection waits until the chart is sent.
    gc.disable()
    try:
        task = asyncio.create_task(ticker())
        start = loop.time()
        await chat.say("/status chart", user="secretariat")
        took = loop.time() - start
        done.set()
        await task
    finally:
        gc.enable()
    assert attachment_of(chat, "secretariat").attachment is not None
    assert len(gaps) >= 10 and max(gaps) < took / 2, (max(gaps), took)


async def test_the_chart_arrives_on_telegram_as_a_photo(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        await bot.link_secretariat(7001)
        await setup_round(sqlite_db)
        await bot.say(7001, "/status chart")
        sent = bot.last(7001)
        assert sent.method == "sendPhoto" and sent.document is not None
        name, content = sent.document
        assert name == "pocnet-status-2025.png" and content.startswith(PNG_SIGNATURE)
        assert sent.text == "Reporting round 2025: figures by state"


async def test_the_chart_arrives_on_matrix_as_an_image(synapse: Synapse, sqlite_db: Database, tmp_path: Path) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "sec") as desk:
        room = await desk.dm(bot.user_id)
        code = await bot.invite_code(Role.SECRETARIAT, None)
        await desk.say(room, f"/start {code}")
        await setup_round(sqlite_db)
        images: list[RoomMessageImage] = []
        desk.client.add_event_callback(lambda r, e: images.append(e), RoomMessageImage)  # type: ignore[arg-type]
        assert await desk.say(room, "/status chart") == "Reporting round 2025: figures by state"
        await desk.wait(lambda: bool(images))
        image = images[0]
        info = image.source["content"]["info"]
        assert image.body == "pocnet-status-2025.png" and info["mimetype"] == "image/png"
        response = await desk.client.download(image.url)
        content = response.body  # type: ignore[union-attr]
        assert content.startswith(PNG_SIGNATURE) and (info["w"], info["h"]) == png_size(content)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-03-31", date(2026, 3, 31)), ("31/03/2026", date(2026, 3, 31)), ("31.3.2026", date(2026, 3, 31)),
     ("3/31/2026", date(2026, 3, 31)), ("5/5/2026", date(2026, 5, 5))],
)  # fmt: skip
def test_dates_are_iso_or_unambiguous(text: str, expected: date) -> None:
    from handlers.figure_common import parse_day

    assert parse_day(text) == expected
