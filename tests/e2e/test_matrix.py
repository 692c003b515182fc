"""pocnet on Matrix, with real matrix-nio clients and a real Synapse homeserver."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from nio import RoomMessageFile
from sqlalchemy import select

from bot.transports.base import Address, Incoming, Outgoing
from bot.transports.matrix import MatrixError
from storage import members, outbox, transport_state
from storage.access import Role
from storage.db import Database
from storage.models import AuditEvent
from tests.e2e.matrix_helpers import MatrixUser, matrix_bot, unique
from tests.fakes.platform import eventually
from tests.servers.synapse import Synapse


async def test_conversation_in_a_direct_chat(synapse: Synapse, sqlite_db: Database, tmp_path: Path) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        room = await ana.dm(bot.user_id)
        assert "invitation" in await ana.say(room, "/help")  # a stranger sees only the onboarding text
        code = await bot.invite_code()
        assert "Welcome to pocnet" in await ana.say(room, f"/start {code}")
        assert "Commands you can use:" in await ana.say(room, "/help")
        lookup = await ana.say(room, "/whois mexico firearms")
        assert lookup.startswith("Mexico (MX)") and "1. Marisol Tapia — police" in lookup
        choices = await ana.say(room, "/language")
        assert "3) Português" in choices
        assert "vou escrever para você em português" in await ana.say(room, "3")
        assert "Comandos que você pode usar:" in await ana.say(room, "/ajuda")
        notice = ana.notices[room][-1]
        assert notice.source["content"]["msgtype"] == "m.notice"
        assert notice.source["content"]["format"] == "org.matrix.custom.html"
        assert notice.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"].startswith("$")
        assert len(ana.notices[room]) == 7  # one answer per message


async def test_encrypted_room_and_a_bot_restart_in_the_middle(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        room = await ana.dm(bot.user_id, encrypted=True)
        code = await bot.invite_code()
        assert "Welcome to pocnet" in await ana.say(room, f"/start {code}")
        assert ana.notices[room][-1].decrypted  # the bot answered encrypted
        device = bot.transport.client.device_id

        await bot.stop()  # restart mid-conversation: messages sent meanwhile are answered once
        await ana.send(room, "/whoami")
        await ana.send(room, "/whois peru")
        await bot.start()
        await ana.wait(lambda: len(ana.notices[room]) >= 3)
        texts = [n.body for n in ana.notices[room]]
        assert bot.transport.client.device_id == device  # same device, same keys
        assert "State: Mexico (MX)" in texts[1] and texts[2].startswith("Peru (PE)")
        assert "Commands you can use:" in await ana.say(room, "/help")
        assert len(ana.notices[room]) == 4  # nothing answered twice


async def test_invites_from_strangers_to_group_rooms_are_declined(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "eve") as eve:
        response = await eve.client.room_create(name="not a dm", invite=[bot.user_id])
        room_id = response.room_id  # type: ignore[union-attr]

        await eve.wait(lambda: (bot.user_id, "leave") in eve.memberships[room_id])
        assert (bot.user_id, "join") not in eve.memberships[room_id]
        assert room_id not in bot.transport.client.rooms


async def test_replies_keep_the_event_they_answer_and_sends_are_idempotent(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        room = await ana.dm(bot.user_id)
        seen: list[Incoming] = []
        original = bot.transport._deliver
        assert original is not None

        async def spy(incoming: Incoming) -> None:
            seen.append(incoming)
            await original(incoming)

        bot.transport._deliver = spy
        await ana.say(room, "/help")
        answer = ana.notices[room][-1]
        await ana.send(room, "thanks", reply_to=answer.event_id)
        await ana.wait(lambda: len(ana.notices[room]) >= 2)
        assert seen[-1].reply_to == answer.event_id and seen[-1].text == "thanks"
        assert seen[-1].address == Address("matrix", chat_id=room, user_id=ana.user_id)

        target = Address("matrix", chat_id=room, user_id=ana.user_id)
        first = await bot.transport.send(target, Outgoing("only once"), idempotency_key="outbox-42")
        second = await bot.transport.send(target, Outgoing("only once"), idempotency_key="outbox-42")
        assert first == second  # the homeserver recognised the retried transaction
        await ana.say(room, "/whoami")  # by now the notice would have arrived twice
        assert [n.body for n in ana.notices[room]].count("only once") == 1


async def test_export_arrives_as_a_file(synapse: Synapse, sqlite_db: Database, tmp_path: Path) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "sec") as desk:
        room = await desk.dm(bot.user_id)
        code = await bot.invite_code(Role.SECRETARIAT, None)
        await desk.say(room, f"/start {code}")
        files: list[RoomMessageFile] = []
        desk.client.add_event_callback(lambda r, e: files.append(e), RoomMessageFile)  # type: ignore[arg-type]
        await desk.say(room, "/export csv")
        await desk.wait(lambda: bool(files))
        assert files[0].body.startswith("pocnet-directory-") and files[0].url.startswith("mxc://")
        response = await desk.client.download(files[0].url)
        assert response.body.startswith(b"\xef\xbb\xbfid,state,name")  # type: ignore[union-attr]


async def test_synapse_restart_mid_conversation(sqlite_db: Database, tmp_path: Path) -> None:
    server = Synapse(tmp_path / "own-synapse")
    server.start()
    try:
        async with matrix_bot(server, sqlite_db, tmp_path / "bot") as bot, MatrixUser(server, tmp_path / "a") as ana:
            room = await ana.dm(bot.user_id)
            code = await bot.invite_code()
            assert "Welcome to pocnet" in await ana.say(room, f"/start {code}")
            await ana.pause()
            assert bot.transport.health().connected
            server.stop()  # the homeserver goes away while the bot is syncing …
            bot.transport.sync_grace = 1.0
            # … the bot's syncs fail and back off, which /healthz reports once the grace is over …
            await eventually(lambda: not bot.transport.health().connected, within=15)
            health = bot.transport.health()
            assert not health.connected and health.detail.startswith("no sync answered for"), health
            server.start()  # … and it comes back
            ana.resume()
            assert "State: Mexico (MX)" in await ana.say(room, "/whoami", within=60)
            assert bot.transport.health().connected
            assert "Commands you can use:" in await ana.say(room, "/help", within=60)
            bodies = [n.body for n in ana.notices[room]]
            assert len(bodies) == 3 and sum("Welcome to pocnet" in b for b in bodies) == 1  # nothing replayed
    finally:
        server.stop()


async def test_members_can_bring_the_bot_into_group_rooms(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        dm = await ana.dm(bot.user_id)
        await ana.say(dm, f"/start {await bot.invite_code()}")
        response = await ana.client.room_create(name="MX working group", invite=[bot.user_id])
        group = response.room_id  # type: ignore[union-attr]
        await ana.wait(lambda: (bot.user_id, "join") in ana.memberships[group])
        assert "State: Mexico (MX)" in await ana.say(group, "/whoami")


async def test_edits_and_group_conversation(synapse: Synapse, sqlite_db: Database, tmp_path: Path) -> None:
    """An edited lookup is answered again (quoting the message it edits); an edit of anything else changes
    nothing and says so; what people say to each other in a group room gets no answer."""
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        room = await ana.dm(bot.user_id)
        await ana.say(room, f"/start {await bot.invite_code()}")
        lookup = await ana.send(room, "/whois peru")
        await ana.wait(lambda: ana.notices[room][-1].body.startswith("Peru (PE)"))
        before = len(ana.notices[room])
        await ana.edit(room, lookup, "/whois mexico")
        await ana.wait(lambda: len(ana.notices[room]) > before)
        answer = ana.notices[room][-1]
        assert answer.body.startswith("Mexico (MX)")
        assert answer.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == lookup

        change = await ana.send(room, "/language pt")
        await ana.wait(lambda: "português" in ana.notices[room][-1].body)
        before = len(ana.notices[room])
        await ana.edit(room, change, "/language fr")
        await ana.wait(lambda: len(ana.notices[room]) > before)
        assert ana.notices[room][-1].body.startswith("Só leio edições de consultas")
        assert "Idioma: Português" in await ana.say(room, "/whoami")

        colleague = synapse.register(unique("colleague"))  # three in the room: a group, not a direct chat
        response = await ana.client.room_create(name="MX working group", invite=[bot.user_id, colleague])
        group = response.room_id  # type: ignore[union-attr]
        await ana.wait(lambda: (bot.user_id, "join") in ana.memberships[group])
        chatter = await ana.send(group, "see you tomorrow")
        await ana.edit(group, chatter, "see you on Monday")
        assert "México (MX)" in await ana.say(group, "/whoami")
        assert len(ana.notices[group]) == 1  # only the command was answered


async def test_messages_follow_a_member_to_a_new_direct_room(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    """A member leaves the direct room they joined from and opens another: once they write from it (a lookup
    is enough), what pocnet sends them goes there, and the move is audited."""
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        first = await ana.dm(bot.user_id)
        await ana.say(first, f"/start {await bot.invite_code()}")
        await ana.client.room_leave(first)
        second = await ana.dm(bot.user_id)
        assert (await ana.say(second, "/whois mexico")).startswith("Mexico (MX)")
        async with sqlite_db.transaction() as session:
            member = await members.by_identity(session, "matrix", ana.user_id)
            assert member is not None and member.identities[0].chat_id == second
            outbox.enqueue(session, outbox.recipients_of(member)[0], "Relay #7 for you")
            moved = await session.scalar(select(AuditEvent).where(AuditEvent.action == "identity.chat"))
            assert moved is not None and moved.before and moved.before["chat_id"] == first
        await ana.wait(lambda: any(n.body == "Relay #7 for you" for n in ana.notices[second]))
        assert (await ana.say(second, "/whois peru")).startswith("Peru (PE)")  # from the snapshot again
        async with sqlite_db.transaction() as session:
            assert (
                len((await session.scalars(select(AuditEvent).where(AuditEvent.action == "identity.chat"))).all()) == 1
            )


def test_homeserver_errors_are_classified_for_retry() -> None:
    from types import SimpleNamespace

    from bot.transports.matrix import _classify

    limited = MatrixError(SimpleNamespace(status_code="M_LIMIT_EXCEEDED", retry_after_ms=1500, message="slow"))
    assert _classify(limited).after == 1.5
    assert _classify(MatrixError(SimpleNamespace(status_code="M_FORBIDDEN", message="no"))).after is None
    assert _classify(MatrixError(SimpleNamespace(status_code="M_UNKNOWN", message="?"))).after == 0
    assert _classify(TimeoutError()).after == 0


async def test_a_reply_sent_again_after_a_crash_is_shown_once(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "a") as ana:
        room = await ana.dm(bot.user_id)
        await ana.say(room, f"/start {await bot.invite_code()}")
        bot.transport.synced.clear()  # the answer can arrive before its batch's position is saved: wait for it
        await asyncio.wait_for(bot.transport.synced.wait(), 30)
        async with sqlite_db.transaction() as session:
            position = await transport_state.get(session, "matrix", "next_batch")
        assert "State: Mexico (MX)" in await ana.say(room, "/whoami")
        await bot.stop()
        async with sqlite_db.transaction() as session:  # the crash: the answer left, the new position was lost
            await transport_state.put(session, "matrix", "next_batch", position or "")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="pocnet.router"):
            await bot.start()
            await ana.say(room, "/help")  # by now a second answer to /whoami would have arrived
        handled = [getattr(r, "cmd", None) for r in caplog.records if r.getMessage() == "command"]
        assert handled == ["whoami", "help"]  # the restart read /whoami again and answered it again …
        bodies = [n.body for n in ana.notices[room]]
        assert sum("State: Mexico (MX)" in b for b in bodies) == 1  # same transaction id: shown once


async def test_a_text_larger_than_an_event_arrives_in_parts(
    synapse: Synapse, sqlite_db: Database, tmp_path: Path
) -> None:
    """Synapse refuses an event over 64 KiB; encrypted, a text costs several times its length (body and HTML,
    JSON-escaped, in base64). Sent whole it is refused; through the delivery service it arrives in parts."""
    async with matrix_bot(synapse, sqlite_db, tmp_path / "bot") as bot, MatrixUser(synapse, tmp_path / "ana") as ana:
        room = await ana.dm(bot.user_id, encrypted=True)
        assert "Welcome to pocnet" in await ana.say(room, f"/start {await bot.invite_code()}")
        heavy = "\n".join(f"{n:03d} Envío confidencial & <ruta> 😀 " + "ñ" * 200 for n in range(40))
        target = Address("matrix", chat_id=room, user_id=ana.user_id)
        with pytest.raises(MatrixError, match="M_TOO_LARGE"):
            await bot.transport.send(target, Outgoing(heavy), idempotency_key="whole")
        assert bot.app is not None
        bot.app.delivery.submit(target, Outgoing(heavy, buttons=(("OK", "ok"),)), key="parts")
        await bot.app.delivery.idle()
        await ana.wait(lambda: ana.notices[room][-1].body.endswith("\nOK: ok"))  # a button, as text
        parts = ana.notices[room][1:]  # after the welcome
        assert len(parts) == 3 and all(p.decrypted for p in parts)
        assert "\n".join(p.body for p in parts).removesuffix("\nOK: ok") == heavy  # cut between lines
