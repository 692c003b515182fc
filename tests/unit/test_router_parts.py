"""Pieces of the router and its helpers that need no database."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import JsonFormatter, Redactor, TextFormatter
from bot.ratelimit import SlidingWindow
from bot.router import parse
from storage.access import Actor, Role
from storage.errors import AccessDenied


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/help", "help", ""),
        ("/HELP", "help", ""),
        ("  /whois mexico firearms ", "whois", "mexico firearms"),
        ("/start@pocnet_bot ABCD-EFGH", "start", "ABCD-EFGH"),
        ("/note line one\nline two", "note", "line one\nline two"),
    ],
)
def test_parse_commands(text: str, name: str, args: str) -> None:
    parsed = parse(text, "pocnet_bot")
    assert parsed is not None and (parsed.name, parsed.args) == (name, args)


@pytest.mark.parametrize("text", ["hello", "/", "/ help", "/???", "/help@other_bot", ""])
def test_parse_rejects_non_commands_and_other_bots(text: str) -> None:
    assert parse(text, "pocnet_bot") is None


def test_parse_knows_the_configured_name_beside_the_telegram_username() -> None:
    """``[bot] name`` is how people address the bot on Matrix and the console ("/help@pocnet")."""
    assert parse("/help@PocNet", "pocnet_bot", "pocnet") == parse("/help@pocnet_bot", "pocnet_bot", "pocnet")
    assert parse("/help@pocnet", None, "pocnet") is not None
    assert parse("/help@other", None, "pocnet") is None


def test_sliding_window_limits_and_recovers() -> None:
    now = [0.0]
    window = SlidingWindow(3, 60.0, clock=lambda: now[0])
    assert [window.allow("a") for _ in range(4)] == [True, True, True, False]
    assert window.allow("b")
    assert window.retry_after("a") == pytest.approx(60.0)
    now[0] = 61.0
    assert window.allow("a") and window.count("a") == 1


def test_actor_scope_rules() -> None:
    secretariat = Actor.system("cli")
    contact = Actor(Role.CONTACT, "MX", 1)
    official = Actor(Role.OFFICIAL, "MX", 2)
    secretariat.ensure_state("AR")
    secretariat.ensure_can_grant(Role.SECRETARIAT, None)
    contact.ensure_state("MX")
    contact.ensure_can_grant(Role.OFFICIAL, "MX")
    for call in (
        lambda: contact.ensure_state("AR"),
        lambda: contact.ensure_state(None),
        lambda: contact.ensure_can_grant(Role.CONTACT, "MX"),
        lambda: contact.ensure_can_grant(Role.OFFICIAL, "AR"),
        lambda: official.ensure_can_grant(Role.OFFICIAL, "MX"),
        lambda: official.ensure_can_manage(Role.OFFICIAL, "MX"),
    ):
        with pytest.raises(AccessDenied):
            call()


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_logs_are_one_line_and_never_show_secrets(formatter: logging.Formatter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(Redactor(["123456:SECRET-TOKEN"]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("calling https://api/bot%s/getMe", "123456:SECRET-TOKEN", extra={"url": "x/123456:SECRET-TOKEN"})
    logger.removeHandler(handler)
    line = stream.getvalue()
    assert "SECRET" not in line and "[REDACTED]" in line
    assert line.count("\n") == 1
