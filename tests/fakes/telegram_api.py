"""A Telegram Bot API server on 127.0.0.1 for tests and benchmarks.

It speaks enough of the Bot API for an unmodified python-telegram-bot ``Application`` (pointed at it with
``base_url``) to poll, send and edit messages, answer callback queries, upload documents and register
commands. Tests enqueue updates as different users and read what the bot sent. It can enforce Telegram's
limits (30 messages/s overall, 1/s per private chat, 20/min per group — answering 429 with retry_after as
Telegram does) and inject faults: a fraction of 429s, 5xx answers, slow answers and connections dropped
before the request is handled (so a retry is always safe, as it is for a real client that never got
through).

    server = FakeBotAPI(token="123:ABC")
    await server.start()            # server.base_url → "http://127.0.0.1:PORT/bot"
    server.user_sends(42, "/help", first_name="Ana", language_code="es")
    reply = await server.wait_for_sent(chat_id=42)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "pocnet",
    "username": "pocnet_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Faults:
    """Fractions (0..1) of sending requests that fail in each way; the rest succeed."""

    rate_limited: float = 0.0  # 429 with retry_after
    server_error: float = 0.0  # 502 / 500
    slow: float = 0.0  # answered after ``slow_seconds``
    dropped: float = 0.0  # connection closed before the request is handled
    slow_seconds: float = 0.4
    retry_after: int = 1
    seed: int = 1234


@dataclass
class SentMessage:
    method: str
    chat_id: int
    message_id: int
    text: str
    params: dict[str, Any]
    document: tuple[str, bytes] | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


class FakeBotAPI:
    SENDING = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText"})

    def __init__(self, token: str = "123456:TEST-TOKEN", *, enforce_limits: bool = False, faults: Faults | None = None):
        self.token = token
        self.enforce_limits = enforce_limits
        self.faults = faults or Faults()
        self._random = random.Random(self.faults.seed)
        self.sent: list[SentMessage] = []
        self.calls: list[str] = []
        self.commands: dict[str, list[dict[str, str]]] = {}  # language_code ("" = default) → commands
        self.callback_answers: list[str] = []
        self.webhook: dict[str, Any] = {}
        self.rejected_429 = 0  # limit violations (only with enforce_limits)
        self.faults_injected: dict[str, int] = defaultdict(int)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self.user_messages: list[dict[str, Any]] = []  # text messages users sent, for user_edits
        self.pushed: dict[int, dict[str, Any]] = {}  # every update offered, by id, for redeliver
        self._new_update = asyncio.Event()
        self._new_sent = asyncio.Event()
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.files: dict[str, bytes] = {}  # file_id → content of files users sent
        self.bot_files: dict[str, tuple[str, bytes]] = {}  # file_id → (name, content) of files the bot uploaded
        self.uploads = 0  # documents the bot uploaded (a file sent again by its file_id does not count)

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("POST", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("GET", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._file)
        app.router.add_route("POST", "/control/enqueue", self._control_enqueue)
        app.router.add_route("GET", "/control/sent", self._control_sent)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what tests do ------------------------------------------------------------------------------

    def _user(self, user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def _push(self, update: dict[str, Any]) -> int:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self.pushed[update["update_id"]] = update
        self._new_update.set()
        return update["update_id"]

    def redeliver(self, update_id: int) -> None:
        """Offer an update again, as Telegram does with one whose receipt no getUpdates confirmed (a bot that
        crashed after handling it, or stopped while Telegram could not be reached)."""
        self._updates.insert(0, self.pushed[update_id])
        self._new_update.set()

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Test",
        language_code: str | None = "en",
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Enqueue a text message from a user (in their private chat unless ``chat_id`` is a group)."""
        chat_id = chat_id if chat_id is not None else user_id
        chat = {"id": chat_id, "type": "private", "first_name": first_name} if chat_id > 0 else {
            "id": chat_id, "type": "group", "title": "Network group"}  # fmt: skip
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(user_id, first_name, language_code),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            original = next((s for s in self.sent if s.message_id == reply_to), None)
            message["reply_to_message"] = {
                "message_id": reply_to, "date": int(time.time()), "chat": chat, "from": BOT_USER,
                "text": original.text if original else "",
            }  # fmt: skip
        self.user_messages.append(message)
        return self._push({"message": message})

    def user_edits(self, message_id: int, text: str) -> int:
        """Enqueue an edit of a text message a user sent (Telegram sends an ``edited_message`` update with the
        same ``message_id``, the new text and an ``edit_date``)."""
        original = next(m for m in self.user_messages if m["message_id"] == message_id)
        edited = {k: v for k, v in original.items() if k != "entities"} | {"text": text, "edit_date": int(time.time())}
        if text.startswith("/"):
            edited["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._push({"edited_message": edited})

    def user_sends_document(
        self, user_id: int, filename: str, content: bytes, *, caption: str = "", mime_type: str = "application/pdf"
    ) -> int:
        """Enqueue a document (with a caption, as Telegram apps send a file with a comment)."""
        file_id = f"doc{len(self.files) + 1}"
        self.files[file_id] = content
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Test"},
            "from": self._user(user_id, "Test", "en"),
            "document": {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": filename,
                         "mime_type": mime_type, "file_size": len(content)},
        }  # fmt: skip
        if caption:
            message["caption"] = caption
            if caption.startswith("/"):
                message["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]
        return self._push({"message": message})

    def user_presses(self, user_id: int, sent: SentMessage, data: str, *, language_code: str | None = "en") -> int:
        """Enqueue a press on an inline keyboard button of a message the bot sent."""
        return self._push(
            {
                "callback_query": {
                    "id": f"cq{next(self._update_ids)}",
                    "from": self._user(user_id, "Test", language_code),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": sent.message_id,
                        "date": int(time.time()),
                        "chat": {"id": sent.chat_id, "type": "private", "first_name": "Test"},
                        "from": BOT_USER,
                        "text": sent.text,
                    },
                }
            }
        )

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for_sent(
        self, count: int = 1, *, chat_id: int | None = None, within: float = 15.0
    ) -> list[SentMessage]:
        """Wait until ``count`` messages were sent (to ``chat_id``) in total; return them."""
        deadline = time.monotonic() + within
        while True:
            found = [s for s in self.sent if chat_id is None or s.chat_id == chat_id]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"only {len(found)} of {count} messages arrived: {[s.text[:60] for s in found]}")
            self._new_sent.clear()
            try:
                await asyncio.wait_for(self._new_sent.wait(), remaining)
            except TimeoutError:
                pass

    def pending_updates(self) -> int:
        return len(self._updates)

    # --- control, for a server in another process (benchmarks) ----------------------------------------

    async def _control_enqueue(self, request: web.Request) -> web.Response:
        """Body: [{"user_id": 1, "text": "/help"}, …] — enqueued as messages from those users."""
        for item in await request.json():
            self.user_sends(int(item["user_id"]), str(item["text"]), language_code=item.get("language_code", "en"))
        return web.json_response({"pending": self.pending_updates()})

    async def _control_sent(self, request: web.Request) -> web.Response:
        """``?detail=1`` adds every send: when it was recorded (``time.monotonic()`` here) and to which chat."""
        body: dict[str, Any] = {"sent": len(self.sent), "calls": len(self.calls), "rejected_429": self.rejected_429}
        if request.query.get("detail"):
            body["at"] = [s.at for s in self.sent]
            body["chat_ids"] = [s.chat_id for s in self.sent]
        return web.json_response(body)

    # --- the API -----------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
        params: dict[str, Any] = {}
        document = None
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    document = (part.filename, await part.read())
                    params[part.name] = f"attach://{part.filename}"
                else:
                    params[part.name] = await part.text()
        elif request.content_type == "application/json":
            params = await request.json()
        elif request.can_read_body:
            params = dict(await request.post())
        params.update(request.query)
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params, document

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        if method in self.SENDING:
            fault = await self._fault(request)
            if fault is not None:
                return fault
        params, document = await self._params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._error(400, f"Bad Request: method {method} is not supported by the test server")
        return await handler(params, document)

    async def _fault(self, request: web.Request) -> web.StreamResponse | None:
        f, roll = self.faults, self._random.random()
        for kind, share in (("dropped", f.dropped), ("rate_limited", f.rate_limited), ("server_error", f.server_error),
                            ("slow", f.slow)):  # fmt: skip
            if roll < share:
                self.faults_injected[kind] += 1
                if kind == "dropped":
                    assert request.transport is not None
                    request.transport.abort()
                    return web.Response()
                if kind == "rate_limited":
                    return self._error(429, f"Too Many Requests: retry after {f.retry_after}", f.retry_after)
                if kind == "server_error":
                    return self._error(502, "Bad Gateway")
                await asyncio.sleep(f.slow_seconds)
                return None
            roll -= share
        return None

    def _limited(self, chat_id: int) -> int | None:
        """Seconds to wait if sending to ``chat_id`` now breaks Telegram's limits; records the send if not."""
        if not self.enforce_limits:
            return None
        now = time.monotonic()
        overall, chat = self._overall, self._per_chat[chat_id]
        while overall and overall[0] <= now - 1:
            overall.popleft()
        window, allowed = (60.0, 20) if chat_id < 0 else (1.0, 1)
        while chat and chat[0] <= now - window:
            chat.popleft()
        if len(overall) >= 30 or len(chat) >= allowed:
            self.rejected_429 += 1
            oldest = chat[0] + window if len(chat) >= allowed else overall[0] + 1
            return max(1, round(oldest - now + 0.5))
        overall.append(now)
        chat.append(now)
        return None

    def _message(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        return {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            "text": text,
        }

    async def _record(self, method: str, params: dict[str, Any], text: str, document=None) -> web.Response:  # type: ignore[no-untyped-def]
        chat_id = int(params["chat_id"])
        wait = self._limited(chat_id)
        if wait is not None:
            return self._error(429, f"Too Many Requests: retry after {wait}", wait)
        message = self._message(chat_id, text)
        self.sent.append(SentMessage(method, chat_id, message["message_id"], text, params, document))
        self._new_sent.set()
        if document:
            file_id = next((i for i, known in self.bot_files.items() if known == document), f"f{message['message_id']}")
            self.bot_files[file_id] = document
            message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": document[0]}
            message.pop("text")
            message["caption"] = text
        return self._ok(message)

    async def _api_getFile(self, params, document):  # type: ignore[no-untyped-def]
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            return self._error(400, "Bad Request: invalid file_id")
        size = len(self.files[file_id])
        if size > 20 * 1024 * 1024:
            return self._error(400, "Bad Request: file is too big")
        return self._ok({"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size,
                         "file_path": f"documents/{file_id}"})  # fmt: skip

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _api_getMe(self, params, document):  # type: ignore[no-untyped-def]
        return self._ok(BOT_USER)

    async def _api_getUpdates(self, params, document):  # type: ignore[no-untyped-def]
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self._ok(self._updates[:limit])

    async def _api_sendMessage(self, params, document):  # type: ignore[no-untyped-def]
        if not str(params.get("text", "")).strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(str(params["text"])) > 4096:
            return self._error(400, "Bad Request: message is too long")
        return await self._record("sendMessage", params, str(params["text"]))

    async def _api_sendDocument(self, params, document):  # type: ignore[no-untyped-def]
        if document is None:  # a file sent before, by its file_id
            document = self.bot_files.get(str(params.get("document")))
            if document is None:
                return self._error(400, "Bad Request: there is no document in the request")
        else:
            self.uploads += 1
        return await self._record("sendDocument", params, str(params.get("caption", "")), document)

    async def _api_sendPhoto(self, params, document):  # type: ignore[no-untyped-def]
        if document is None:
            return self._error(400, "Bad Request: there is no photo in the request")
        self.uploads += 1
        return await self._record("sendPhoto", params, str(params.get("caption", "")), document)

    async def _api_editMessageText(self, params, document):  # type: ignore[no-untyped-def]
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                sent.text = str(params["text"])
                return self._ok(self._message(chat_id, sent.text, message_id))
        return self._error(400, "Bad Request: message to edit not found")

    async def _api_answerCallbackQuery(self, params, document):  # type: ignore[no-untyped-def]
        self.callback_answers.append(str(params["callback_query_id"]))
        return self._ok(True)

    async def _api_setMyCommands(self, params, document):  # type: ignore[no-untyped-def]
        self.commands[str(params.get("language_code", ""))] = list(params["commands"])
        return self._ok(True)

    async def _api_deleteMyCommands(self, params, document):  # type: ignore[no-untyped-def]
        self.commands.pop(str(params.get("language_code", "")), None)
        return self._ok(True)

    async def _api_setWebhook(self, params, document):  # type: ignore[no-untyped-def]
        self.webhook = dict(params)
        return self._ok(True)

    async def _api_deleteWebhook(self, params, document):  # type: ignore[no-untyped-def]
        self.webhook = {}
        return self._ok(True)

    async def _api_getWebhookInfo(self, params, document):  # type: ignore[no-untyped-def]
        return self._ok(
            {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}
        )

    async def _api_close(self, params, document):  # type: ignore[no-untyped-def]
        return self._ok(True)

    async def _api_logOut(self, params, document):  # type: ignore[no-untyped-def]
        return self._ok(True)


async def _serve(token: str) -> None:
    server = FakeBotAPI(token=token)
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # python -m tests.fakes.telegram_api TOKEN  → prints the port, serves until killed
    import sys

    asyncio.run(_serve(sys.argv[1] if len(sys.argv) > 1 else "123456:TEST-TOKEN"))
