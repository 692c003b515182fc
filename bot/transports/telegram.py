"""Telegram transport: python-telegram-bot's ``Application`` adapted to pocnet's transport interface.

Receiving: long polling by default, a webhook (with a secret token checked on every request) by
configuration. Text messages and inline-keyboard presses become ``Incoming`` values; a reply to a
message keeps its id in ``reply_to``. Updates are handled one at a time, in the order they came. On
start the command menu is registered in English, Spanish, Portuguese and French.

Sending: all text goes out as plain text — Telegram interprets no markup in it, so no name or other
content can break the formatting or inject any; long texts are split at Telegram's 4096-character limit
on line boundaries, counted in UTF-16 code units (``bot.transports.split``; each piece is its own paced
message); files go as documents. ``send`` makes one attempt: pacing, retries and recording happen in the
delivery service (``bot.delivery``), which reads ``limits`` and ``classify`` from here. PTB's own rate
limiter is not used, so the two never fight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
import warnings
from collections import OrderedDict
from datetime import timedelta

from telegram import (
    BotCommand,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    PhotoSize,
    ReplyParameters,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.commands import REGISTRY
from bot.config import TelegramSection
from bot.delivery.retry import Retry, call_with_retries
from bot.delivery.windows import PlatformLimits
from bot.i18n import LANGUAGES, translator
from bot.transports.base import (
    MAX_FILE_BYTES,
    Address,
    Attachment,
    Deliver,
    Health,
    Incoming,
    Outgoing,
    png_size,
)
from bot.transports.split import measure, split_message
from bot.transports.telegram_position import UNCONFIRMED_AT_STOP, UpdatePosition
from storage.access import ALL_ROLES
from storage.db import Database

log = logging.getLogger("pocnet.telegram")
PLATFORM = "telegram"
POLL_ERROR_FRESH = 60.0  # seconds a failed getUpdates counts as "not connected" (PTB retries within 30 s)
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
UPLOADS_KEPT = 64  # files whose Telegram file_id is remembered
PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto's limits: 10 MB, width + height ≤ 10000, sides at most 1:20


def utf16_units(char: str) -> int:
    """A character's length as Telegram's limits may count it: UTF-16 code units. Telegram's own count has
    been seen to be code points, and some Bot API implementations count units; this is never smaller than
    either, so a piece is accepted by both (an emoji counts twice)."""
    return 2 if ord(char) > 0xFFFF else 1


def is_photo(attachment: Attachment) -> bool:
    """A picture pocnet drew, as a PNG Telegram accepts as a photo (anything else goes as a document)."""
    size = png_size(attachment.content) if attachment.picture and attachment.mime_type == "image/png" else None
    if size is None or len(attachment.content) > PHOTO_BYTES:
        return False
    width, height = size
    return 0 < width and 0 < height and width + height <= 10000 and max(width, height) <= 20 * min(width, height)


def _classify(exc: Exception) -> Retry:
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 announces a type change; both types are handled
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return Retry("rate limited by Telegram", max(seconds, 0.1))
    if isinstance(exc, (TimedOut, NetworkError)) and not isinstance(exc, (BadRequest, Forbidden, InvalidToken)):
        return Retry(f"network: {exc.message if hasattr(exc, 'message') else exc}", 0)
    if isinstance(exc, Forbidden):
        return Retry(f"refused: {exc.message}", None)
    if isinstance(exc, (BadRequest, ChatMigrated, InvalidToken)):
        return Retry(f"rejected: {exc}", None)
    return Retry(f"unexpected: {exc!r}", None)


class TelegramTransport:
    platform = PLATFORM

    def __init__(
        self, settings: TelegramSection, *, base_file_url: str | None = None, db: Database | None = None
    ) -> None:
        if settings.token is None:
            raise ValueError("telegram.token is not set")
        self.settings = settings
        self.limits = PlatformLimits(
            per_second=settings.messages_per_second,
            per_chat_interval=settings.per_chat_interval,
            group_per_minute=settings.group_messages_per_minute,
            retries=settings.send_retries,
            margin=settings.limit_margin,
            max_in_flight=32,
        )
        builder: ApplicationBuilder = (
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
        self.username: str | None = None
        self._uploaded: OrderedDict[str, str] = OrderedDict()  # file digest → Telegram file_id, to send again
        self._upload_locks: dict[str, asyncio.Lock] = {}
        self._poll_error: tuple[float, str] | None = None  # (monotonic time, reason) of the last failed poll
        self.position = UpdatePosition(db)  # without a database (benchmarks), a restart may handle one again
        UNCONFIRMED_AT_STOP.install("telegram.ext.Updater")

    # --- receiving ----------------------------------------------------------------------------------

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        await self.position.load()
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
                timeout=self.settings.poll_timeout,
                allowed_updates=allowed,
                drop_pending_updates=False,
                error_callback=self._polling_failed,
            )
        log.info("telegram started", extra={"mode": self.settings.mode, "bot": self.username})

    async def _register_commands(self) -> None:
        everyone = {c.name: c for c in REGISTRY.values() if c.roles == ALL_ROLES}
        for language in (None, *LANGUAGES):
            tr = translator(language or "en")
            commands = [BotCommand(name, tr(cmd.help)[:256]) for name, cmd in everyone.items()]
            await call_with_retries(
                functools.partial(self.app.bot.set_my_commands, commands, language_code=language),
                _classify,
                retries=self.settings.send_retries,
                what="setMyCommands",
            )

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.position.handled_before(update.update_id):
            log.info("update already handled", extra={"update": update.update_id})
            return
        try:
            await self._handle_update(update)
        finally:
            await self.position.handled(update.update_id)

    async def _handle_update(self, update: Update) -> None:
        incoming = self._incoming(update)
        if incoming is None or self._deliver is None:
            return
        message = update.message or update.edited_message
        if message is not None and (message.document or message.photo):
            incoming = dataclasses.replace(incoming, attachment=await self._attachment(message))
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
        edit: str | None = None
        if query is not None:
            text = query.data or ""
            message_id = f"cb:{query.id}"
            reply_to = str(query.message.message_id) if query.message else None
        else:
            message = update.message or update.edited_message
            if message is None or (message.text is None and not message.document and not message.photo):
                return None
            text, message_id = message.text or message.caption or "", str(message.message_id)
            reply_to = str(message.reply_to_message.message_id) if message.reply_to_message else None
            if update.edited_message is not None:
                edit = str(int(message.edit_date.timestamp())) if message.edit_date else "edited"
        return Incoming(
            address=Address(PLATFORM, chat_id=str(chat.id), user_id=str(user.id)),
            text=text,
            message_id=message_id,
            reply_to=reply_to,
            language_hint=user.language_code,
            sender_name=user.full_name,
            private=chat.type == "private",
            edit=edit,
        )

    async def _attachment(self, message: Message) -> Attachment | None:
        """The file sent with a message (a document, or a photo's largest size), fetched from Telegram."""
        if message.document is not None:
            item: Document | PhotoSize = message.document
            name = message.document.file_name or "document"
            mime = message.document.mime_type or "application/octet-stream"
        else:
            item = max(message.photo, key=lambda p: p.width * p.height)
            name, mime = "photo.jpg", "image/jpeg"
        if (item.file_size or 0) > MAX_FILE_BYTES:
            return Attachment(name, b"", mime, oversize=True)
        try:
            file = await item.get_file()
            content = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("file not fetched", extra={"reason": str(exc)[:200]})
            return Attachment(name, b"", mime, oversize=True) if "too big" in str(exc).lower() else None
        return Attachment(name, content, mime)

    # --- sending ------------------------------------------------------------------------------------

    def classify(self, exc: Exception) -> Retry:
        return _classify(exc)

    def is_group(self, to: Address) -> bool:
        return to.chat_id.startswith("-")  # Telegram: groups, supergroups and channels have negative ids

    def parts(self, message: Outgoing) -> list[Outgoing]:
        if message.attachment is not None:
            if measure(message.text, utf16_units) <= MessageLimit.CAPTION_LENGTH:
                return [message]
            text = self.parts(dataclasses.replace(message, attachment=None, buttons=()))
            return [*text, Outgoing("", buttons=message.buttons, attachment=message.attachment)]  # the file last
        return split_message(message, MessageLimit.MAX_TEXT_LENGTH, utf16_units)

    @staticmethod
    def _markup(message: Outgoing) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label[:64], callback_data=data[:CALLBACK_LIMIT])] for label, data in message.buttons]
        )

    async def send(self, to: Address, message: Outgoing, *, idempotency_key: str) -> str:
        """One attempt at one part (see ``parts``); the delivery service paces and retries."""
        bot = self.app.bot
        chat_id = to.chat_id
        if message.attachment is not None:
            attachment = message.attachment
            if is_photo(attachment):  # a chart: shown in the chat rather than as a file to open
                sent = await bot.send_photo(
                    chat_id,
                    InputFile(attachment.content, filename=attachment.filename),
                    caption=message.text or None,
                    reply_markup=self._markup(message),
                )
                return str(sent.message_id)
            known = self._uploaded.get(attachment.digest) if attachment.digest else None
            if attachment.digest and known is None:  # the first copy uploads; the others wait, then reuse it
                async with self._upload_locks.setdefault(attachment.digest, asyncio.Lock()):
                    known = self._uploaded.get(attachment.digest)
                    if known is None:
                        sent = await self._send_document(chat_id, message, None)
                        if sent.document is not None:
                            self._remember_upload(attachment.digest, sent.document.file_id)
                        return str(sent.message_id)
            sent = await self._send_document(chat_id, message, known)
            return str(sent.message_id)
        reply_to = int(message.reply_to) if message.reply_to and message.reply_to.isdigit() else None
        # Quote the message answered only in groups, where several people talk; in a private chat the
        # quote is noise (and skipping it and needless preview options saves ≈ 5 % of the send cost).
        quote = reply_to is not None and self.is_group(to)
        sent = await bot.send_message(
            chat_id,
            message.text,
            reply_markup=self._markup(message),
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if quote and reply_to
            else None,
            link_preview_options=NO_PREVIEW if "://" in message.text else None,
        )
        return str(sent.message_id)

    def _remember_upload(self, digest: str, file_id: str) -> None:
        self._uploaded[digest] = file_id
        while len(self._uploaded) > UPLOADS_KEPT:
            self._upload_locks.pop(self._uploaded.popitem(last=False)[0], None)

    async def _send_document(self, chat_id: str, message: Outgoing, file_id: str | None) -> Message:
        assert message.attachment is not None
        return await self.app.bot.send_document(
            chat_id,
            file_id or InputFile(message.attachment.content, filename=message.attachment.filename),
            caption=message.text or None,
            reply_markup=self._markup(message),
        )

    def _polling_failed(self, error: TelegramError) -> None:
        """PTB retries a failed getUpdates with backoff; remember the failure for /healthz."""
        self._poll_error = (time.monotonic(), str(error)[:200])
        log.warning("getUpdates failed", extra={"reason": str(error)[:200]})

    def health(self) -> Health:
        updater = self.app.updater
        if not self.app.running or updater is None or not updater.running:
            return Health(False, "not running")
        if self._poll_error is not None and time.monotonic() - self._poll_error[0] < POLL_ERROR_FRESH:
            return Health(False, f"getUpdates failing: {self._poll_error[1]}")
        return Health(True, f"{self.settings.mode} as @{self.username}")

    async def stop_receiving(self) -> None:
        """Stop fetching and finish every update already fetched (their replies are queued, not sent)."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()

    async def stop(self) -> None:
        """Close the connection to Telegram (after the delivery service has sent what it had)."""
        await self.stop_receiving()
        await self.app.shutdown()


__all__ = ["TelegramTransport"]
