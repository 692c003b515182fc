"""Structured logging: one line per event (``key=value`` text or JSON), secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


_received: list[str] = []  # secrets pocnet was given while running (e.g. a Matrix access token from login)


def redact(secret: str | None) -> None:
    """Never log ``secret`` from now on, in any logger (for secrets that are not in the configuration)."""
    if secret and len(secret) >= 6 and secret not in _received:
        _received.append(secret)


class Redactor(logging.Filter):
    """Replaces every secret (configured tokens and passwords, and those passed to ``redact``) wherever it
    appears in a record: the message, its fields, and the text of an exception and its traceback."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def _clean(self, text: str) -> str:
        for secret in (*self.secrets, *_received):
            text = text.replace(secret, "[REDACTED]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets or _received:
            record.msg = self._clean(record.getMessage())
            record.args = None
            for key, value in list(record.__dict__.items()):
                if key not in _STANDARD and isinstance(value, str):
                    setattr(record, key, self._clean(value))
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._clean(record.exc_text)
            if record.stack_info:
                record.stack_info = self._clean(record.stack_info)
        return True


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The traceback as the Redactor left it (``exc_text``), else formatted now."""
    if record.exc_text:
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else None


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), record.levelname, record.name, record.getMessage()]
        parts += [f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if (exc := _exception(self, record)) is not None:
            line += " exc=" + json.dumps(exc)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if (exc := _exception(self, record)) is not None:
            data["exc"] = exc
        return json.dumps(data, default=str, ensure_ascii=False)


def setup(level: str = "INFO", fmt: str = "text", secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redactor(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that log what passes through them at DEBUG or INFO (statement parameters and event contents —
    # relay bodies among them; nio logs the login response with its access token; httpx logs Telegram URLs
    # with the bot token): warnings and errors only, even when pocnet itself logs at DEBUG.
    for noisy in ("httpx", "httpcore", "aiosqlite", "alembic.runtime.migration", "sqlalchemy.engine", "asyncpg",
                  "nio", "peewee", "aiohttp", "telegram", "apscheduler"):  # fmt: skip
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
