"""People on Matrix in tests: real matrix-nio clients talking to pocnet through a real Synapse."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, RoomCreateError, RoomMemberEvent, RoomMessageNotice, RoomMessageText

from bot.app import App
from bot.config import MatrixSection
from bot.transports.matrix import MatrixTransport
from storage import invites, sample
from storage.access import Actor, Role
from storage.db import Database
from tests.conftest import make_settings
from tests.servers.synapse import Synapse

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


def unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:8]}"


class MatrixUser:
    """A person with their own matrix-nio client (and key store), syncing in the background."""

    def __init__(self, synapse: Synapse, store: Path, name: str = "person") -> None:
        self.synapse = synapse
        self.username = unique(name)
        self.user_id = synapse.register(self.username)
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            synapse.url, self.user_id, store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )  # fmt: skip
        self.notices: defaultdict[str, list[RoomMessageNotice]] = defaultdict(list)
        self.texts: defaultdict[str, list[RoomMessageText]] = defaultdict(list)
        self.memberships: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)  # (user, membership)
        self._new = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> MatrixUser:
        await self.client.login("password", device_name="test")
        self.client.add_event_callback(self._on_event, (RoomMessageNotice, RoomMessageText, RoomMemberEvent))  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        self.resume()
        return self

    async def pause(self) -> None:
        """Stop syncing (e.g. while the homeserver is down)."""
        if self._task:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def resume(self) -> None:
        self._task = asyncio.create_task(self.client.sync_forever(timeout=500))

    async def __aexit__(self, *exc: object) -> None:
        await self.pause()
        await self.client.close()

    async def _on_event(self, room, event) -> None:  # type: ignore[no-untyped-def]
        if isinstance(event, RoomMemberEvent):
            self.memberships[room.room_id].append((event.state_key, event.membership))
        elif isinstance(event, RoomMessageNotice):
            self.notices[room.room_id].append(event)
        else:
            self.texts[room.room_id].append(event)
        self._new.set()

    async def wait(self, predicate, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        async with asyncio.timeout(within):
            while not predicate():
                self._new.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), 0.2)

    async def dm(self, bot_id: str, *, encrypted: bool = False) -> str:
        """Open a direct chat with the bot and wait until it has joined."""
        response = await self.client.room_create(
            is_direct=True, invite=[bot_id], initial_state=[ENCRYPTION] if encrypted else []
        )
        assert not isinstance(response, RoomCreateError), response
        room_id = response.room_id
        await self.wait(
            lambda: bot_id in self.client.rooms.get(room_id, None).users if room_id in self.client.rooms else False
        )  # type: ignore[union-attr]
        return room_id

    async def send(self, room_id: str, text: str, *, reply_to: str | None = None) -> str:
        content: dict[str, object] = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        return str(response.event_id)  # type: ignore[union-attr]

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        """Edit a message as Element does: a new event replacing ``event_id``, "* " before the fallback body."""
        content = {"msgtype": "m.text", "body": f"* {text}", "m.new_content": {"msgtype": "m.text", "body": text},
                   "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}}  # fmt: skip
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        return str(response.event_id)  # type: ignore[union-attr]

    async def say(self, room_id: str, text: str, *, expect: int = 1, within: float = 30.0) -> str:
        before = len(self.notices[room_id])
        await self.send(room_id, text)
        await self.wait(lambda: len(self.notices[room_id]) >= before + expect, within)
        return "\n".join(n.body for n in self.notices[room_id][before:])


@dataclass
class MatrixBot:
    synapse: Synapse
    db: Database
    section: MatrixSection
    settings: dict[str, object]
    app: App | None = None

    @property
    def user_id(self) -> str:
        return str(self.section.user_id)

    @property
    def transport(self) -> MatrixTransport:
        assert self.app is not None
        return self.app.transports["matrix"]  # type: ignore[return-value]

    async def start(self) -> None:
        settings = make_settings(str(self.db.engine.url), **self.settings)
        self.app = App(settings, self.db, [MatrixTransport(self.section, self.db)])
        await self.app.start()

    async def stop(self) -> None:
        assert self.app is not None
        await self.app.stop()  # every service, in reverse (the database engine reconnects when reused)
        self.app = None

    async def invite_code(self, role: Role = Role.CONTACT, state: str | None = "MX") -> str:
        async with self.db.transaction() as session:
            return (await invites.create(session, Actor.system("cli:test"), role=role, state_code=state)).code


@asynccontextmanager
async def matrix_bot(synapse: Synapse, db: Database, store: Path, **settings: object) -> AsyncIterator[MatrixBot]:
    async with db.transaction() as session:
        await sample.seed(session)
    name = unique("pocnet")
    user_id = synapse.register(name, "bot-password")
    section = MatrixSection(homeserver=synapse.url, user_id=user_id, password="bot-password",  # type: ignore[arg-type]
                            store_path=str(store), sync_timeout_ms=1000, send_retries=8)  # fmt: skip
    bot = MatrixBot(synapse, db, section, settings)
    await bot.start()
    try:
        yield bot
    finally:
        if bot.app is not None:
            await bot.stop()
