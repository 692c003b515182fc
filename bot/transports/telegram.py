"""Telegram transport: python-telegram-bot's ``Application`` adapted to pocnet's transport interface.

Receiving: long polling by default, a webhook (with a secret token checked on every request) by
configuration. Text messages and inline-keyboard presses become ``Incoming`` values; a reply to a
message keeps its id in ``reply_to``. Updates are handled one at a time, in the order they came. On
start the command menu is registered in English, Spanish, Portuguese and French.

Sending: all text goes out as plain text — Telegram interprets no markup in it, so no name or other
content can break the formatting or inject any; long texts are split at Telegram's 4096-character limit
on line boundaries; files go as documents. Pacing and retries happen in one place, ``bot.transports.sending`` (PTB's own rate limiter is
not used, so the two never fight).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.commands import REGISTRY
from bot.config import TelegramSection
from bot.i18n import LANGUAGES, translator
from bot.transports.base import Address, Deliver, Incoming, Outgoing
from bot.transports.sending import DeliveryFailed, Pacer, Retry, deliver_with_retries
from storage.access import ALL_ROLES

log = logging.getLogger("pocnet.telegram")
PLATFORM = "telegram"
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut into pieces of at most ``limit`` characters on line boundaries (a single longer line is cut
    at a space where it can, where it must otherwise)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or ["…"]


def _classify(exc: Exception) -> Retry:
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 announces a type change; both types are handled
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        return Retry("rate limited by Telegram", wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
    if isinstance(exc, (TimedOut, NetworkError)) and not isinstance(exc, (BadRequest, Forbidden, InvalidToken)):
        return Retry(f"network: {exc.message if hasattr(exc, 'message') else exc}", 0)
    if isinstance(exc, Forbidden):
        return Retry(f"refused: {exc.message}", None)
    if isinstance(exc, (BadRequest, ChatMigrated, InvalidToken)):
        return Retry(f"rejected: {exc}", None)
    return Retry(f"unexpected: {exc!r}", None)


class TelegramTransport:
    platform = PLATFORM

    def __init__(self, settings: TelegramSection, *, base_file_url: str | None = None) -> None:
        if settings.token is None:
            raise ValueError("telegram.token is not set")
        self.settings = settings
        self.pacer = Pacer(settings.messages_per_second, settings.per_chat_interval, settings.group_messages_per_minute)
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            Application.builder()
            .token(settings.token.get_secret_value())
            .base_url(settings.base_url)
            # Updates are handled one at a time (PTB's default), which keeps each chat in order. Measured with
            # benchmarks/telegram_throughput.py, letting 8 run at once was slower (790 against 860 updates/s):
            # lookups take a fraction of a millisecond and PTB's concurrent machinery costs more than it saves.
            .connection_pool_size(64)
            .job_queue(None)  # reminders are ours (reminders/), not tied to Telegram
        )
        if base_file_url:
            builder = builder.base_file_url(base_file_url)
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self._deliver: Deliver | None = None
        self._long_callbacks: OrderedDict[str, str] = OrderedDict()  # token → full callback text
        self.username: str | None = None

    # --- receiving ----------------------------------------------------------------------------------

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        await self.app.initialize()
        self.username = self.app.bot.username
        await self._register_commands()
        await self.app.start()
        assert self.app.updater is not None
        allowed = ["message", "edited_message", "callback_query"]
        if self.settings.mode == "webhook":
            assert self.settings.webhook_url and self.settings.webhook_secret
            await self.app.updater.start_webhook(
                listen=self.settings.webhook_listen,
                port=self.settings.webhook_port,
                url_path="telegram",
                webhook_url=self.settings.webhook_url,
                secret_token=self.settings.webhook_secret.get_secret_value(),
                allowed_updates=allowed,
            )
        else:
            await self.app.updater.start_polling(
                timeout=self.settings.poll_timeout, allowed_updates=allowed, drop_pending_updates=False
            )
        log.info("telegram started", extra={"mode": self.settings.mode, "bot": self.username})

    async def _register_commands(self) -> None:
        everyone = {c.name: c for c in REGISTRY.values() if c.roles == ALL_ROLES}
        for language in (None, *LANGUAGES):
            tr = translator(language or "en")
            commands = [BotCommand(name, tr(cmd.help)[:256]) for name, cmd in everyone.items()]
            await deliver_with_retries(
                lambda commands=commands, language=language: self.app.bot.set_my_commands(
                    commands, language_code=language
                ),
                _classify,
                retries=self.settings.send_retries,
                what="setMyCommands",
            )

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = self._incoming(update)
        if incoming is None or self._deliver is None:
            return
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except Exception as exc:  # the button press is still handled
                log.info("callback answer failed", extra={"reason": str(exc)})
        await self._deliver(incoming)

    def _incoming(self, update: Update) -> Incoming | None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or user.is_bot:
            return None
        query = update.callback_query
        if query is not None:
            text = self._long_callbacks.get(query.data or "", query.data or "")
            message_id = f"cb:{query.id}"
            reply_to = str(query.message.message_id) if query.message else None
        else:
            message = update.message or update.edited_message
            if message is None or message.text is None:
                return None
            text, message_id = message.text, str(message.message_id)
            reply_to = str(message.reply_to_message.message_id) if message.reply_to_message else None
        return Incoming(
            address=Address(PLATFORM, chat_id=str(chat.id), user_id=str(user.id)),
            text=text,
            message_id=message_id,
            reply_to=reply_to,
            language_hint=user.language_code,
            sender_name=user.full_name,
            private=chat.type == "private",
        )

    # --- sending ------------------------------------------------------------------------------------

    def _callback_data(self, data: str) -> str:
        if len(data.encode()) <= CALLBACK_LIMIT:
            return data
        token = "cb:" + hashlib.sha256(data.encode()).hexdigest()[:32]
        self._long_callbacks[token] = data
        while len(self._long_callbacks) > 5000:
            self._long_callbacks.popitem(last=False)
        return token

    def _markup(self, message: Outgoing) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label[:64], callback_data=self._callback_data(data))]
                for label, data in message.buttons
            ]
        )

    async def _send(self, chat_id: str, call: Any, what: str) -> Any:
        async def attempt() -> Any:
            await self.pacer.wait(chat_id, is_group=chat_id.startswith("-"))
            return await call()

        return await deliver_with_retries(attempt, _classify, retries=self.settings.send_retries, what=what)

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        bot = self.app.bot
        chat_id = to.chat_id
        reply_to = int(message.reply_to) if message.reply_to and message.reply_to.isdigit() else None
        if message.attachment is not None:
            attachment = message.attachment
            caption = split_text(message.text, MessageLimit.CAPTION_LENGTH)[0]
            sent = await self._send(
                chat_id,
                lambda: bot.send_document(
                    chat_id,
                    InputFile(attachment.content, filename=attachment.filename),
                    caption=caption,
                ),
                "sendDocument",
            )
            return str(sent.message_id)
        pieces = split_text(message.text)
        # Quote the message answered only in groups, where several people talk; in a private chat the
        # quote is noise (and skipping it and needless preview options saves ≈ 5 % of the send cost).
        in_group = chat_id.startswith("-")
        sent = None
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            sent = await self._send(
                chat_id,
                lambda piece=piece, last=last, first=number == 0: bot.send_message(
                    chat_id,
                    piece,
                    reply_markup=self._markup(message) if last else None,
                    reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if first and reply_to and in_group
                    else None,
                    link_preview_options=NO_PREVIEW if "://" in piece else None,
                ),
                "sendMessage",
            )
        assert sent is not None
        return str(sent.message_id)

    async def stop(self) -> None:
        """Stop fetching, finish every update already fetched, then close."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


__all__ = ["DeliveryFailed", "TelegramTransport", "split_text"]
