"""Hostile and broken input: every command, any text, any length — a clear answer, bounded cost, no crash."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import handlers
from bot.app import App
from bot.commands import REGISTRY
from bot.router import MAX_ARGUMENTS, MAX_MESSAGE
from storage import sample
from storage.db import Database
from storage.lookup import MAX_WORDS, Resolution, Vocabulary, split_state_and_topic
from storage.text import CACHE_SIZE, CACHED_LENGTH, _fold_cached, fold
from tests.conftest import examples, make_settings
from tests.fakes.chat import ChatPlatform

handlers.load()  # every command registered, as the app does
USERS = ("secretariat", "MX", "BR", "stranger")  # the Secretariat, two contacts, someone unknown
HUGE = 100_000


class Failures(logging.Handler):
    """Keeps the ERROR records of the pocnet loggers: a handler failure or an unhandled error."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def open_chat(sqlite_db: Database) -> AsyncIterator[tuple[ChatPlatform, Failures]]:
    """The sample directory on a fake chat, with the per-sender rate limit out of the way (hypothesis
    sends hundreds of messages) and a record of every error logged."""
    async with sqlite_db.transaction() as session:
        await sample.seed(session, platform="console")
    platform = ChatPlatform("console")
    app = App(
        make_settings(str(sqlite_db.engine.url), limits={"commands_per_minute": 1_000_000}), sqlite_db, [platform]
    )
    await app.start()
    platform.idle = app.delivery.idle
    failures = Failures()
    logging.getLogger("pocnet").addHandler(failures)
    yield platform, failures
    logging.getLogger("pocnet").removeHandler(failures)
    await app.stop()


def _repeated(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


# Text of every shape: short and unicode (control characters, bidi overrides, surrogates are all in
# st.text()), around the argument limit, and huge runs of one piece (words, "a.", spaces, digits).
ARGUMENTS = st.one_of(
    st.text(max_size=60),
    st.text(min_size=MAX_ARGUMENTS - 30, max_size=MAX_ARGUMENTS + 30),
    st.builds(
        _repeated,
        st.sampled_from(["mexico ", "a.", " ", "9", "x@", "saint ", "\u202e", "\x00", "mon-fri ", "ß"]),
        st.sampled_from([MAX_ARGUMENTS - 1, MAX_ARGUMENTS, MAX_MESSAGE, HUGE]),
    ),
    st.builds(_repeated, st.text(min_size=1, max_size=12), st.integers(1, HUGE)),
)


@settings(
    max_examples=examples(150),
    deadline=None,  # timed below, generously: the machine is shared
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@example(name="contact", args="²", user="MX", bare=False)  # digits that int() reads, but not ASCII
@example(name="deactivate", args="99999999999999999999", user="secretariat", bare=False)  # beyond INTEGER
@example(name="entry", args="١٢", user="secretariat", bare=False)
@example(name="verify", args="#2147483648", user="secretariat", bare=False)
@given(
    name=st.sampled_from(sorted(REGISTRY)),
    args=ARGUMENTS,
    user=st.sampled_from(USERS),
    bare=st.booleans(),
)
async def test_every_command_answers_any_text_quickly_and_without_failing(
    open_chat: tuple[ChatPlatform, Failures], name: str, args: str, user: str, bare: bool
) -> None:
    chat, failures = open_chat
    text = args if bare else f"/{name} {args}"  # bare: text that is not a command (or a dialog's answer)
    started = time.perf_counter()
    answer = await chat.say(text, user=user)
    elapsed = time.perf_counter() - started
    assert answer.strip(), f"no answer to {text[:80]!r}"
    assert "reference" not in answer and "Traceback" not in answer, answer[:300]
    assert not failures.records, [r.getMessage() for r in failures.records]
    # a runaway guard, not a speed measure (benchmarks/ measure): a quadratic path over 4,096 characters takes
    # tens of seconds, while a shared machine's pauses (a collection, the other tests' processes) take one
    assert elapsed < 5.0, f"{elapsed:.3f} s for {len(text)} characters of {text[:40]!r}"
    if len(text) > MAX_MESSAGE:
        assert f"at most {MAX_MESSAGE} characters" in answer
        assert len(answer) < 200  # the refusal does not quote the message


async def test_too_long_is_refused_saying_the_limit_in_the_senders_language(
    open_chat: tuple[ChatPlatform, Failures],
) -> None:
    chat, _ = open_chat
    assert "at most 4096 characters" in await chat.say("/whois " + "mexico " * 15_000, user="MX")
    assert "at most 1024 characters after the command" in await chat.say("/find " + "ab " * 400, user="MX")
    await chat.say("/language es", user="MX")
    assert "como máximo 4096 caracteres" in await chat.say("x" * HUGE, user="MX")
    # Just under the limits, the command runs as usual.
    assert "Mexico" in await chat.say("/whois mexico " + "firearms " * 100, user="BR")


def test_lookups_consider_a_bounded_number_of_words() -> None:
    states = Vocabulary({"TT": ("Trinidad and Tobago",), "KN": ("Saint Kitts and Nevis",), "MX": ("Mexico",)})
    assert states.max_words == 4
    split = split_state_and_topic(states, ["trinidad", "and", "tobago", *["cyber"] * 50_000])
    assert split.state.code == "TT"
    assert split.topic_text.split() == ["cyber"] * (MAX_WORDS - 3)  # the rest is not read
    assert states.resolve("mexico " * 10_000) == Resolution()  # longer than any name: not even scored


def test_the_fold_cache_keeps_only_short_text_and_a_bounded_number_of_it() -> None:
    for n in range(CACHE_SIZE + 100):
        fold(f"name {n}")
    assert _fold_cached.cache_info().currsize == CACHE_SIZE
    long = "Saint-Kitts " * 1000
    assert len(long) > CACHED_LENGTH
    misses = _fold_cached.cache_info().misses
    assert fold(long) == " ".join(["saint kitts"] * 1000)
    assert _fold_cached.cache_info().misses == misses  # a long text never reaches the cache


async def test_chat_edits_refuse_what_the_cli_and_import_refuse(open_chat: tuple[ChatPlatform, Failures]) -> None:
    chat, _ = open_chat
    assert "plain text" in await chat.say("/myentry set name Ana\u202eX", user="MX")
    assert "plain text" in await chat.say("/myentry set institution Fiscalía\x00 General", user="MX")
    assert "plain text" in await chat.say("/myentry set email ana\x1b@example.org", user="MX")
    assert "at most 200 characters" in await chat.say("/myentry set name " + "A" * 201, user="MX")
    assert "A" * 200 in await chat.say("/myentry set name " + "A" * 200, user="MX")


async def test_replies_quote_only_a_short_clean_excerpt_of_what_was_typed(
    open_chat: tuple[ChatPlatform, Failures],
) -> None:
    chat, _ = open_chat
    for text in ["/contact " + "\u202eevil\x1b[2J" + "x" * 900, "/whois atlantis" + "\x00" * 3 + "y" * 900,
                 "/language " + "k" * 1000, "/find " + "zq" * 300]:  # fmt: skip
        answer = await chat.say(text, user="MX")
        assert len(answer) < 300, answer
        assert not any(ch in answer for ch in "\u202e\x1b\x00"), answer
        assert "…" in answer


async def test_ids_are_ascii_digits_within_range_or_the_usage(open_chat: tuple[ChatPlatform, Failures]) -> None:
    chat, failures = open_chat
    assert "Usage: /deactivate" in await chat.say("/deactivate 99999999999999999999", user="secretariat")
    assert "Usage: /verify" in await chat.say("/verify ²", user="secretariat")
    assert "No one found" in await chat.say("/contact ١٢", user="MX")
    assert "No member with id 2147483647" in await chat.say("/entry 2147483647", user="secretariat")
    assert not failures.records


async def test_the_secretariat_cannot_give_itself_a_state(open_chat: tuple[ChatPlatform, Failures]) -> None:
    chat, _ = open_chat
    assert "does not belong to a state" in await chat.say("/myentry set state MX", user="secretariat")
    assert "Secretariat Desk" not in await chat.say("/whois mexico", user="secretariat")
