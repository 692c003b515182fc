"""What people send never reaches the logs, and no secret does: not in a message, a field, an exception's
text, a database error, or a library's DEBUG output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from bot import logs
from bot.commands import REGISTRY, command
from bot.context import Context
from bot.logs import JsonFormatter, Redactor, TextFormatter
from bot.transports.base import Incoming
from storage import members
from storage.access import Actor, Role
from storage.db import Database
from tests.fakes.chat import ChatPlatform

TOKEN = "123456:CONFIGURED-SECRET"
RECEIVED = "syt_received_access_token_0001"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Every pocnet record, as the app writes it (text format, configured secrets redacted)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    handler.addFilter(Redactor([TOKEN]))
    logger = logging.getLogger("pocnet")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)
    if RECEIVED in logs._received:
        logs._received.remove(RECEIVED)


@pytest.fixture
def failing_command() -> Iterator[str]:
    """A command whose handler fails with a secret in the exception's text."""

    async def fail(msg: Incoming, ctx: Context) -> None:
        raise RuntimeError(f"upstream refused {TOKEN} and {RECEIVED}")

    command("failsoftly", help="fails")(fail)
    yield "failsoftly"
    del REGISTRY["failsoftly"]


async def test_a_failing_command_logs_its_name_never_its_text(
    chat: ChatPlatform, lines: io.StringIO, failing_command: str
) -> None:
    logs.redact(RECEIVED)
    answer = await chat.say(f"/{failing_command} +52 55 1234 5678 ABCD-EFGH", user="MX")
    assert "reference" in answer
    line = next(line for line in lines.getvalue().splitlines() if "handler failed" in line)
    assert f"cmd={failing_command}" in line and "RuntimeError" in line
    assert "1234 5678" not in line and "ABCD-EFGH" not in line
    assert TOKEN not in line and RECEIVED not in line and line.count("[REDACTED]") >= 2


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_secrets_in_exception_text_and_fields_are_redacted(formatter: logging.Formatter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(Redactor([TOKEN]))
    logger = logging.getLogger("test.redaction.exc")
    logger.addHandler(handler)
    logger.propagate = False
    logs.redact(RECEIVED)
    try:
        try:
            raise ValueError(f"bad token {TOKEN} / {RECEIVED}")
        except ValueError:
            logger.exception("login failed", extra={"reason": RECEIVED})
    finally:
        logger.removeHandler(handler)
        logs._received.remove(RECEIVED)
    text = stream.getvalue()
    assert "ValueError" in text and TOKEN not in text and RECEIVED not in text
    assert text.count("\n") == 1  # still one line


def test_library_debug_output_is_silenced_even_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup("DEBUG", "text", [TOKEN])
        for name in ("nio", "nio.client.async_client", "nio.responses", "httpx"):
            logging.getLogger(name).debug("response %s", {"access_token": RECEIVED})
        logging.getLogger("pocnet.test").debug("still on: %s", TOKEN)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name in ("nio", "httpx"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    err = capsys.readouterr().err
    assert RECEIVED not in err and "response" not in err
    assert "still on: [REDACTED]" in err  # pocnet's own DEBUG lines are kept, redacted


async def test_database_errors_do_not_carry_the_values(db: Database) -> None:
    async with db.transaction() as session:
        member = await members.create(
            session, Actor.system("cli:test"), display_name="Ana", role=Role.CONTACT, state_code="MX"
        )
        await members.link_identity(session, Actor.system("cli:test"), member, platform="matrix",
                                    user_id="@private-handle:example.org", chat_id="!room")  # fmt: skip
    with pytest.raises(IntegrityError) as failed:
        async with db.transaction() as session:
            await members.link_identity(session, Actor.system("cli:test"), await members.get(session, member.id),
                                        platform="matrix", user_id="@private-handle:example.org", chat_id="!r")  # fmt: skip
    assert "private-handle" not in str(failed.value)
