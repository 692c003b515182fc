"""Libraries that log a fault pocnet handles as an ERROR with a traceback; here it becomes one WARNING line.

pocnet's rule is that a handled fault is one WARNING line and a traceback means a bug. SQLAlchemy's pool (a
connection it cannot close once the server stops answering) and python-telegram-bot (a batch it cannot
confirm while Telegram is unreachable at stop) log such faults their own way; ``HandledFault`` rewrites
those records in place, on the library's own logger, whoever handles them afterwards.
"""

from __future__ import annotations

import logging


class HandledFault(logging.Filter):
    """Records whose message starts with one of ``starts`` become WARNING ``message``, the cause as ``reason``."""

    def __init__(self, starts: tuple[str, ...], message: str) -> None:
        super().__init__()
        self.starts = starts
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(self.starts):
            error = record.exc_info[1] if record.exc_info else None
            record.msg, record.args = self.message, ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
            record.reason = repr(error)[:200] if error is not None else "unknown"
        return True

    def install(self, logger: str) -> None:
        logging.getLogger(logger).addFilter(self)  # the same filter twice is kept once
