"""A relay across platforms, with both real stacks in one bot: python-telegram-bot against the test Bot
API server, and matrix-nio against a real Synapse. The sender is on Telegram, the recipient on Matrix."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from nio import RoomMessageFile
from sqlalchemy import delete, select

from bot.app import App
from bot.config import MatrixSection, TelegramSection
from bot.transports.matrix import MatrixTransport
from bot.transports.telegram import TelegramTransport
from storage import invites, sample
from storage.access import Actor, Role
from storage.db import Database
from storage.models import Identity
from tests.conftest import make_settings
from tests.e2e.matrix_helpers import MatrixUser, unique
from tests.fakes.telegram_api import FakeBotAPI
from tests.servers.synapse import Synapse

ANA = 5001  # a Telegram user, national contact of Colombia
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF"


@dataclass
class Network:
    app: App
    telegram: FakeBotAPI
    matrix_bot_id: str

    async def code(self, state: str) -> str:
        async with self.app.db.transaction() as session:
            return (await invites.create(session, Actor.system("cli:test"), role=Role.CONTACT, state_code=state)).code

    async def member_id(self, platform: str, user_id: str) -> int:
        async with self.app.db.transaction() as session:
            found = await session.scalar(
                select(Identity.member_id).where(Identity.platform == platform, Identity.user_id == user_id)
            )
            assert found is not None
            return found

    async def telegram_says(self, text: str, *, expect: int = 1, reply_to: int | None = None) -> str:
        before = len(self.telegram.sent_to(ANA))
        self.telegram.user_sends(ANA, text, first_name="Ana", reply_to=reply_to)
        sent = await self.telegram.wait_for_sent(before + expect, chat_id=ANA)
        return "\n".join(s.text for s in sent[before:])


@asynccontextmanager
async def network(synapse: Synapse, db: Database, store: Path) -> AsyncIterator[Network]:
    async with db.transaction() as session:
        await sample.seed(session)
    server = FakeBotAPI()
    await server.start()
    telegram = TelegramTransport(
        TelegramSection(
            token=server.token,
            base_url=server.base_url,
            poll_timeout=1,
            per_chat_interval=0.0,  # type: ignore[arg-type]
            messages_per_second=0,
            send_retries=8,
        ),
        base_file_url=server.base_file_url,
    )
    bot_id = synapse.register(unique("pocnet"), "bot-password")
    matrix = MatrixTransport(
        MatrixSection(
            homeserver=synapse.url,
            user_id=bot_id,
            password="bot-password",
            store_path=str(store),  # type: ignore[arg-type]
            sync_timeout_ms=1000,
            send_retries=8,
        ),
        db,
    )
    app = App(make_settings(str(db.engine.url)), db, [telegram, matrix])
    await app.start()
    try:
        yield Network(app, server, bot_id)
    finally:
        await app.stop()
        await server.stop()


async def test_a_relay_from_telegram_reaches_matrix_and_the_answer_comes_back(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        network(synapse, sqlite_db, tmp_path / "bot") as net,
        MatrixUser(synapse, tmp_path / "bea", "bea") as bea,
    ):
        assert "Welcome" in await net.telegram_says(f"/start {await net.code('CO')}")
        room = await bea.dm(net.matrix_bot_id)
        assert "Welcome" in await bea.say(room, f"/start {await net.code('PE')}")
        bea_id = await net.member_id("matrix", bea.user_id)

        receipt = await net.telegram_says(f"/relay @{bea_id} tlp:amber urgent Boat LIMA-7 leaves Callao at 22:00")
        assert "Relay #1 (TLP:AMBER, urgent) is on its way to 1 person" in receipt
        await bea.wait(lambda: any("LIMA-7" in n.body for n in bea.notices[room]))
        copy = next(n for n in bea.notices[room] if "LIMA-7" in n.body)
        assert copy.body.startswith("URGENT\nRelay #1 from Ana")
        assert "(national point of contact, Colombia)" in copy.body
        assert "TLP:AMBER — may be shared only with people of your own state" in copy.body
        assert "Acknowledge: /ack 1" in copy.body  # the button, where Matrix has none

        # Bea answers with a Matrix reply (with the quoted fallback older clients add) …
        before = len(net.telegram.sent_to(ANA))
        await bea.send(room, f"> <{net.matrix_bot_id}> URGENT\n\nWe are waiting at the pier", reply_to=copy.event_id)
        answer = (await net.telegram.wait_for_sent(before + 1, chat_id=ANA))[-1]
        assert answer.text.startswith("Answer #2 to relay #1, from bea")
        assert "TLP:AMBER" in answer.text and answer.text.count("We are waiting at the pier") == 1
        assert "> <" not in answer.text  # the quoted fallback was not taken as the answer
        assert answer.buttons == [("Acknowledge", "/ack 2")]

        # … Ana answers on Telegram by replying to that message; the thread goes on.
        await net.telegram_says("Thank you, our liaison is on the way", reply_to=answer.message_id)
        await bea.wait(lambda: any("liaison is on the way" in n.body for n in bea.notices[room]))
        assert "Relay #3 acknowledged" in await bea.say(room, "/ack 3")

        status = await net.telegram_says("/relay 1")
        assert "bea" in status and ": acknowledged" in status
        assert "1 delivered, 1 acknowledged" in await net.telegram_says("/relays")


async def test_a_file_relay_arrives_on_both_platforms_with_the_same_bytes(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        network(synapse, sqlite_db, tmp_path / "bot") as net,
        MatrixUser(synapse, tmp_path / "bea", "bea") as bea,
    ):
        await net.telegram_says(f"/start {await net.code('CO')}")
        room = await bea.dm(net.matrix_bot_id)
        await bea.say(room, f"/start {await net.code('PE')}")
        ana_id = await net.member_id("telegram", str(ANA))
        bea_id = await net.member_id("matrix", bea.user_id)
        files: list[RoomMessageFile] = []
        bea.client.add_event_callback(lambda r, e: files.append(e), RoomMessageFile)  # type: ignore[arg-type]

        # Telegram → Matrix: a document with the command as its caption.
        before = len(net.telegram.sent_to(ANA))
        net.telegram.user_sends_document(ANA, "agenda.pdf", PDF, caption=f"/relay @{bea_id} tlp:green Agenda attached")
        assert "is on its way" in (await net.telegram.wait_for_sent(before + 1, chat_id=ANA))[-1].text
        await bea.wait(lambda: bool(files))
        assert files[0].body == "agenda.pdf"
        download = await bea.client.download(files[0].url)
        assert hashlib.sha256(download.body).digest() == hashlib.sha256(PDF).digest()  # type: ignore[union-attr]

        # Matrix → Telegram: a file whose caption is the command (MSC2530).
        upload, _keys = await bea.client.upload(lambda *_: __import__("io").BytesIO(PDF[::-1]),
                                                content_type="application/pdf", filename="scan.pdf", filesize=len(PDF))  # fmt: skip
        before = len(net.telegram.sent_to(ANA))
        await bea.client.room_send(room, "m.room.message", {
            "msgtype": "m.file", "body": f"/relay @{ana_id} tlp:green Scan of the manifest", "filename": "scan.pdf",
            "url": upload.content_uri, "info": {"mimetype": "application/pdf", "size": len(PDF)},  # type: ignore[union-attr]
        })  # fmt: skip
        sent = await net.telegram.wait_for_sent(before + 1, chat_id=ANA)
        document = next(s for s in sent[before:] if s.method == "sendDocument")
        assert document.document is not None and document.document[0] == "scan.pdf"
        assert document.document[1] == PDF[::-1]
        assert "Scan of the manifest" in document.text


async def test_an_announcement_file_is_uploaded_once_per_platform(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        network(synapse, sqlite_db, tmp_path / "bot") as net,
        MatrixUser(synapse, tmp_path / "bea", "bea") as bea,
    ):
        async with net.app.db.transaction() as session:  # only the people of this test have chat accounts
            await session.execute(delete(Identity).where(Identity.platform == "console"))
        await net.telegram_says(f"/start {await net.code('CO')}")
        net.telegram.user_sends(5002, f"/start {await net.code('BR')}", first_name="Bruno")
        await net.telegram.wait_for_sent(1, chat_id=5002)
        async with net.app.db.transaction() as session:
            desk = (
                await invites.create(session, Actor.system("cli:test"), role=Role.SECRETARIAT, state_code=None)
            ).code
        net.telegram.user_sends(5003, f"/start {desk}", first_name="Desk")
        await net.telegram.wait_for_sent(1, chat_id=5003)
        room = await bea.dm(net.matrix_bot_id)
        await bea.say(room, f"/start {await net.code('PE')}")
        files: list[RoomMessageFile] = []
        bea.client.add_event_callback(lambda r, e: files.append(e), RoomMessageFile)  # type: ignore[arg-type]

        net.telegram.user_sends_document(
            5003, "agenda.pdf", PDF, caption="/announce to:CO,PE,BR ack Agenda of the meeting"
        )
        question = (await net.telegram.wait_for_sent(2, chat_id=5003))[-1]
        assert "Send announcement to 3 members (2 Telegram, 1 Matrix)?" in question.text
        net.telegram.user_presses(5003, question, question.buttons[0][1])
        await net.telegram.wait_for_sent(4, chat_id=5003)  # "going out", then the report
        report = net.telegram.sent_to(5003)[-1].text
        assert "Announcement #1 has gone out: 3 sent, 0 failed; 0 acknowledged so far" in report
        documents = [s for s in net.telegram.sent if s.method == "sendDocument"]
        assert sorted(s.chat_id for s in documents) == [ANA, 5002]
        assert all(s.document == ("agenda.pdf", PDF) for s in documents)
        assert net.telegram.uploads == 1  # the second copy reused the first upload's file_id
        await bea.wait(lambda: bool(files))
        download = await bea.client.download(files[0].url)
        assert download.body == PDF  # type: ignore[union-attr]
