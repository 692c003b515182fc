"""pocnet through the real python-telegram-bot stack against the test Bot API server, as a person would
use it in Telegram: onboarding, help, a directory lookup, an inline keyboard, a language switch."""

from __future__ import annotations

import itertools

import pytest
from aiohttp import ClientSession

from bot.config import TelegramSection
from bot.delivery.service import DeliveryService, Outcome
from bot.transports.base import Address, Outgoing
from bot.transports.telegram import TelegramTransport
from storage.db import Database
from tests.e2e.telegram_helpers import TelegramBot, telegram_bot
from tests.fakes.telegram_api import FakeBotAPI, Faults

ANA = 5001


async def conversation(bot: TelegramBot, user: int = ANA) -> None:
    """The walk-through every Telegram test repeats: each step must answer exactly once."""
    assert "invitation" in await bot.say(user, "/help")  # strangers see nothing
    code = await bot.invite()
    welcome = await bot.say(user, f"/start {code}", language="es")
    assert "Bienvenido/a a pocnet, User" in welcome and "punto de contacto nacional" in welcome
    assert "Comandos que puede usar:" in await bot.say(user, "/help", language="es")
    lookup = await bot.say(user, "/whois mexico firearms", language="es")
    assert lookup.startswith("México (MX)") and "1. Marisol Tapia — policía" in lookup
    await bot.say(user, "/language", language="es")
    assert [label for label, _ in bot.last(user).buttons] == ["English", "Español", "Português", "Français"]
    assert "vou escrever para você em português" in await bot.press(user, "Português", language="es")
    assert "Comandos que você pode usar:" in await bot.say(user, "/ajuda", language="es")


async def test_conversation_through_python_telegram_bot(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        await conversation(bot)
        server = bot.server
        assert len(server.sent_to(ANA)) == 7  # one answer per step, no more
        assert server.callback_answers  # the button press was acknowledged (no spinning clock)
        assert set(server.commands) == {"", "en", "es", "pt", "fr"}
        es = {c["command"]: c["description"] for c in server.commands["es"]}
        assert es["whois"].startswith("A quién contactar") and "invite" not in es  # everyone's commands only
        assert all("parse_mode" not in s.params for s in server.sent)  # plain text: no markup to break


async def test_ten_percent_faults_lose_nothing_and_duplicate_nothing(sqlite_db: Database) -> None:
    faults = Faults(rate_limited=0.03, server_error=0.03, dropped=0.02, slow=0.02, retry_after=1, seed=7)
    async with telegram_bot(sqlite_db, faults=faults) as bot:
        for user in (ANA, ANA + 1, ANA + 2):
            await conversation(bot, user)
        for user in (ANA, ANA + 1, ANA + 2):
            texts = [s.text for s in bot.server.sent_to(user)]
            assert len(texts) == 7, texts
        injected = bot.server.faults_injected
        assert sum(injected.values()) >= 2, injected  # the faults really happened


async def test_replies_respect_telegram_limits(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db, enforce_limits=True, per_chat_interval=1.0, messages_per_second=30) as bot:
        code = await bot.invite()
        await bot.say(ANA, f"/start {code}")
        for _ in range(3):
            bot.server.user_sends(ANA, "/whoami")
        sent = await bot.server.wait_for_sent(4, chat_id=ANA, within=20)
        assert bot.server.rejected_429 == 0
        gaps = [b.at - a.at for a, b in itertools.pairwise(sent)]
        assert min(gaps) >= 0.9  # one message per second in a private chat


async def test_without_pacing_the_server_answers_429_and_the_bot_retries(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db, enforce_limits=True) as bot:  # our pacing off: rely on retry_after
        code = await bot.invite()
        await bot.say(ANA, f"/start {code}")
        for _ in range(2):
            bot.server.user_sends(ANA, "/whoami")
        await bot.server.wait_for_sent(3, chat_id=ANA, within=20)
        assert bot.server.rejected_429 >= 1 and len(bot.server.sent_to(ANA)) == 3


async def test_names_cannot_break_the_markup_and_long_texts_are_split(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        tricky = "<b>Ana</b> & *Co* _x_ [link](http://x) <script>"
        ana = Address("telegram", str(ANA), str(ANA))
        bot.app.delivery.submit(ana, Outgoing(tricky), key="k1")
        await bot.app.delivery.idle()
        assert bot.last(ANA).text == tricky and "parse_mode" not in bot.last(ANA).params  # shown as typed
        long_text = "\n".join(f"line {n:05d} " + "x" * 60 for n in range(300))
        bot.app.delivery.submit(ana, Outgoing(long_text, buttons=(("OK", "ok"),)), key="k2")
        await bot.app.delivery.idle()
        pieces = bot.server.sent_to(ANA)[1:]
        assert [bool(p.buttons) for p in pieces] == [False] * 5 + [True]  # the buttons under the last piece
        assert len(pieces) == 6 and all(len(p.text) <= 4096 for p in pieces)
        assert "\n".join(p.text for p in pieces) == long_text  # split on line boundaries, nothing lost
        emoji = "\U0001f600" * 3000  # 3,000 characters, 6,000 UTF-16 code units
        bot.app.delivery.submit(ana, Outgoing(emoji), key="k3")
        await bot.app.delivery.idle()
        pieces = bot.server.sent_to(ANA)[7:]
        assert [len(p.text.encode("utf-16-le")) // 2 for p in pieces] == [4096, 1904] and "".join(
            p.text for p in pieces
        ) == emoji


async def test_export_arrives_as_a_document(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        await bot.link_secretariat(7001)
        await bot.say(7001, "/export csv")
        sent = bot.last(7001)
        assert sent.method == "sendDocument" and sent.document is not None
        name, content = sent.document
        assert name.startswith("pocnet-directory-") and name.endswith(".csv")
        assert content.startswith(b"\xef\xbb\xbfid,state,name")


async def test_long_button_data_still_works(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        code = await bot.invite()
        await bot.say(ANA, f"/start {code}")
        await bot.say(ANA, "/whois saint trafficking in persons")  # buttons carry the whole topic
        data = [d for _, d in bot.last(ANA).buttons]
        assert all(len(d.encode()) <= 64 for d in data)
        answer = await bot.press(ANA, "St. Lucia")
        assert answer.startswith("St. Lucia (LC)")


async def test_an_edited_lookup_is_answered_again_and_other_edits_change_nothing(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        await bot.say(ANA, f"/start {await bot.invite()}")
        assert (await bot.say(ANA, "/whois peru")).startswith("Peru (PE)")
        lookup = bot.server.user_messages[-1]["message_id"]
        before = len(bot.server.sent_to(ANA))
        bot.server.user_edits(lookup, "/whois mexico")  # a typo corrected: the lookup is answered again
        answer = (await bot.server.wait_for_sent(before + 1, chat_id=ANA))[-1]
        assert answer.text.startswith("Mexico (MX)")

        assert "español" in await bot.say(ANA, "/language es")
        change = bot.server.user_messages[-1]["message_id"]
        before = len(bot.server.sent_to(ANA))
        bot.server.user_edits(change, "/language fr")  # acted on as first sent: not acted on again
        notice = (await bot.server.wait_for_sent(before + 1, chat_id=ANA))[-1]
        assert notice.text.startswith("Solo leo las ediciones de las consultas")  # in the member's language
        assert "Idioma: Español" in await bot.say(ANA, "/whoami")  # still Spanish

        group = -100123
        bot.server.user_sends(ANA, "see you tomorrow", chat_id=group)
        bot.server.user_edits(bot.server.user_messages[-1]["message_id"], "see you on Monday")
        bot.server.user_sends(9999, "hello everyone", chat_id=group)  # someone pocnet does not know
        bot.server.user_sends(ANA, "/whoami@pocnet_bot", chat_id=group)
        sent = await bot.server.wait_for_sent(1, chat_id=group)
        await bot.app.idle()
        assert len(bot.server.sent_to(group)) == 1 and "México (MX)" in sent[0].text  # chatter and its edit: no answer


async def test_groups_ignore_commands_for_other_bots(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        code = await bot.invite()
        await bot.say(ANA, f"/start {code}")
        group = -100123
        bot.server.user_sends(ANA, "/help@some_other_bot", chat_id=group)
        bot.server.user_sends(ANA, "/whoami@pocnet_bot", chat_id=group)
        sent = await bot.server.wait_for_sent(1, chat_id=group)
        assert len(sent) == 1 and "Mexico (MX)" in sent[0].text


async def test_webhook_mode_checks_the_secret(sqlite_db: Database, unused_tcp_port: int) -> None:
    secret = "s3cret-s3cret-s3cret"
    async with telegram_bot(
        sqlite_db, mode="webhook", webhook_url="https://pocnet.example.org/telegram", webhook_secret=secret,
        webhook_port=unused_tcp_port,
    ) as bot:  # fmt: skip
        assert bot.server.webhook["url"] == "https://pocnet.example.org/telegram"
        assert bot.server.webhook["secret_token"] == secret
        code = await bot.invite()
        update = {
            "update_id": 1,
            "message": {"message_id": 1, "date": 0, "chat": {"id": ANA, "type": "private"},
                        "from": {"id": ANA, "is_bot": False, "first_name": "Ana"}, "text": f"/start {code}"},
        }  # fmt: skip
        url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
        async with ClientSession() as http:
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 403
            async with http.post(url, json=update) as r:
                assert r.status == 403
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
                assert r.status == 200
        sent = await bot.server.wait_for_sent(1, chat_id=ANA)
        assert len(sent) == 1 and "Welcome to pocnet" in sent[0].text


async def test_an_update_offered_again_after_a_restart_is_not_handled_twice(sqlite_db: Database) -> None:
    """Telegram offers again what no getUpdates confirmed (after a crash); the saved position skips it."""
    server = FakeBotAPI()
    await server.start()
    try:
        async with telegram_bot(sqlite_db) as first:  # seeds the directory; its own server is thrown away
            code = await first.invite()
        async with telegram_bot(sqlite_db, server=server) as bot:
            await bot.say(ANA, f"/start {code}")
            assert "Role:" in await bot.say(ANA, "/whoami")
            whoami = max(server.pushed)
        server.redeliver(whoami)  # the restart finds it again, as after a crash
        async with telegram_bot(sqlite_db, server=server) as bot:
            before = len(server.sent_to(ANA))
            assert "Commands you can use:" in await bot.say(ANA, "/help")  # handled after the replay …
            await bot.app.idle()
            assert len(server.sent_to(ANA)) == before + 1  # … which got no answer
    finally:
        await server.stop()


async def test_failed_delivery_is_reported_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    server = FakeBotAPI(faults=Faults(server_error=1.0))
    await server.start()
    transport = TelegramTransport(TelegramSection(token=server.token, base_url=server.base_url, send_retries=2,
                                                  messages_per_second=0, per_chat_interval=0))  # fmt: skip
    await transport.app.initialize()
    delivery = DeliveryService([transport])
    delivery.start()
    outcomes: list[Outcome] = []

    async def record(outcome: Outcome) -> None:
        outcomes.append(outcome)

    delivery.submit(Address("telegram", "1", "1"), Outgoing("hello"), key="k", on_done=record)
    await delivery.idle()
    assert len(outcomes) == 1 and not outcomes[0].sent
    assert outcomes[0].attempts == 3 and "Bad Gateway" in (outcomes[0].error or "")
    failed = [r for r in caplog.records if r.getMessage() == "delivery failed"]
    assert len(failed) == 1 and failed[0].levelname == "WARNING" and failed[0].exc_info is None  # one line
    await delivery.stop()
    await transport.app.shutdown()
    await server.stop()


async def test_start_in_a_group_does_not_onboard(sqlite_db: Database) -> None:
    async with telegram_bot(sqlite_db) as bot:
        code = await bot.invite()
        group = -100777
        bot.server.user_sends(ANA, f"/start {code}", chat_id=group)
        sent = await bot.server.wait_for_sent(1, chat_id=group)
        assert "only work in a private chat" in sent[0].text
        assert "already been used" in await bot.say(ANA, f"/start {code}")
