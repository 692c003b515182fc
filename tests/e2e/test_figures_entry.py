"""Figures by message: /report in one line (every form, in four languages), its checks, the read-back and
confirmation, the guided entry with its draft (cancel, timeout, back, restart), amendments and /myreport,
and state scope. Real bot, real SQLite file, fake chat; a controllable clock for the timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.transports.base import buttons_as_text
from storage import catalogue, figures, sample
from storage.access import Actor
from storage.db import Database
from storage.figures import Entry
from storage.models import AuditEvent, Figure, FigureDraft, Round
from storage.types import utcnow
from tests.conftest import make_settings
from tests.e2e.telegram_helpers import telegram_bot
from tests.fakes.chat import ChatPlatform

SYSTEM = Actor.system("test")


class Clock:
    def __init__(self) -> None:
        self.moment = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.moment


@dataclass
class Bot:
    app: App
    chat: ChatPlatform
    clock: Clock
    db: Database

    async def say(self, text: str, user: str = "MX") -> str:
        return await self.chat.say(text, user=user)


async def start_bot(db: Database, **settings: object) -> Bot:
    async with db.transaction() as session:
        await sample.seed(session, platform="console")
    clock = Clock()
    chat = ChatPlatform("console")
    app = App(make_settings(db.engine.url.render_as_string(hide_password=False), **settings), db, [chat], now=clock)
    await app.start()
    chat.idle = app.idle
    return Bot(app, chat, clock, db)


@pytest.fixture
async def bot(sqlite_db: Database) -> AsyncIterator[Bot]:
    running = await start_bot(sqlite_db, dialogs={"timeout_minutes": 10})
    await open_round(sqlite_db, "2025")
    yield running
    await running.app.stop()


@pytest.fixture
async def any_bot(db: Database) -> AsyncIterator[Bot]:
    """The same, on SQLite and on PostgreSQL."""
    running = await start_bot(db, dialogs={"timeout_minutes": 10})
    await open_round(db, "2025")
    yield running
    await running.app.stop()


async def open_round(db: Database, period: str, path: str | None = None, **options: object) -> Round:
    async with db.transaction() as session:
        return await figures.open_round(session, SYSTEM, catalogue.cached(path), period, date(2026, 3, 31),
                                        **options)  # type: ignore[arg-type]  # fmt: skip


async def current(db: Database, state: str = "MX", period: str = "2025") -> dict[str, Figure]:
    async with db.transaction() as session:
        row = await figures.get_round(session, period)
        return await figures.current(session, row.id, state)


async def count_figures(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Figure)) or 0)


async def draft_of(db: Database) -> FigureDraft | None:
    async with db.transaction() as session:
        return await session.scalar(select(FigureDraft))


async def previous_round(db: Database, values: dict[str, int], state: str = "MX") -> None:
    """A closed 2024 round in which ``state`` reported ``values``."""
    row = await open_round(db, "2024")
    async with db.transaction() as session:
        row = await figures.get_round(session, "2024")
        await figures.record(session, SYSTEM, row, state, [Entry(c, v) for c, v in values.items()])
        await figures.close_round(session, SYSTEM, row)


# --- one line, every form, four languages ---------------------------------------------------------------


async def test_a_line_in_english_is_read_back_and_stored_on_yes(any_bot: Bot) -> None:
    bot = any_bot
    answer = await bot.say('/report 2025 mla=14 extradition=3 conv_tip=12 sentences:"3-15y"')
    assert "Figures of Mexico (MX) for 2025, as I read them:" in answer
    assert "• Mutual legal assistance: 14" in answer
    assert "• Extradition: 3" in answer
    assert "trafficking in persons (TIP protocol art. 5): 12; sentences: 3-15y" in answer
    assert "Store these figures?" in answer
    assert await count_figures(bot.db) == 0  # nothing before "yes"
    assert "Stored 3 figures of Mexico (MX) for 2025. /myreport 2025 shows them." in await bot.say("yes")
    stored = await current(bot.db)
    assert {c: f.value for c, f in stored.items()} == {"mla": 14, "extradition": 3, "conv_tip": 12}
    assert stored["conv_tip"].sentences == "3-15y"
    assert not stored["mla"].on_behalf
    async with bot.db.transaction() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("figure.%")).order_by(AuditEvent.id)
            )
        )
    assert actions == ["figure.report"] * 3


async def test_no_stores_nothing(bot: Bot) -> None:
    await bot.say("/report mla=14")
    assert "Nothing was done" in await bot.say("no")
    assert await count_figures(bot.db) == 0


async def test_spanish_names_separators_na_and_estimates(bot: Bot) -> None:
    await bot.say("/language es")
    answer = await bot.say('/informe extradiciones=3, "trata de personas"=4 est; jit n/d, Asistencia Judicial: ~7')
    assert "Cifras de México (MX) para 2025, tal como las leí:" in answer
    assert "• Asistencia judicial recíproca: 7 (estimación)" in answer
    assert "• Extradición: 3" in answer
    assert "• Investigaciones conjuntas: no disponible" in answer
    assert "trata de personas (art. 5 del Protocolo sobre trata): 4 (estimación)" in answer
    assert "¿Guardar estas cifras?" in answer
    assert "Se guardaron 4 cifras" in await bot.say("sí")
    stored = await current(bot.db)
    assert stored["jit"].value is None and stored["jit"].not_available  # n/d is not 0
    assert stored["mla"].value == 7 and stored["mla"].estimate and not stored["mla"].provisional
    assert stored["conv_tip"].estimate


async def test_portuguese_words_prov_and_penas(bot: Bot) -> None:
    await bot.say("/language pt")
    answer = await bot.say(
        '/relatorio 2025 "auxilio juridico mutuo" = 7 prov; extradicoes = nao disponivel; '
        '"trafico de pessoas"=2 penas:"2-8 anos"'
    )
    assert "Números de México (MX) para 2025, tal como os li:" in answer
    assert "• Auxílio jurídico mútuo: 7 (provisório)" in answer
    assert "• Extradição: não disponível" in answer
    assert "tráfico de pessoas (art. 5 do Protocolo sobre tráfico): 2; penas: 2-8 anos" in answer
    assert "Foram guardados 3 números" in await bot.say("sim")
    stored = await current(bot.db)
    assert stored["mla"].provisional and stored["extradition"].not_available
    assert stored["conv_tip"].sentences == "2-8 anos"


async def test_french_quotes_and_peines(bot: Bot) -> None:
    await bot.say("/language fr")
    answer = await bot.say('/rapport entraide=5 ; « traite des personnes »=~2 peines:"3-10 ans" extraditions 4 est')
    assert "Chiffres de Mexique (MX) pour 2025" in answer
    assert "• Entraide judiciaire: 5" in answer
    assert "• Extradition: 4 (estimation)" in answer
    assert "traite des personnes" in answer.lower() and "2 (estimation); peines : 3-10 ans" in answer
    assert "enregistrés" in await bot.say("oui")
    stored = await current(bot.db)
    assert stored["conv_tip"].value == 2 and stored["conv_tip"].sentences == "3-10 ans"
    assert stored["extradition"].estimate


# --- the checks -----------------------------------------------------------------------------------------


async def test_values_that_are_not_whole_numbers_in_bounds_are_all_refused_at_once(bot: Bot) -> None:
    answer = await bot.say("/report mla=1.5 jit=-3 other=1e3 lp_civil=99999999999999 extradition=100001 lp_admin=١٢")
    assert "Nothing was stored; please correct these figures" in answer
    assert "Mutual legal assistance: “1.5” is not a whole number" in answer
    assert "Joint investigations: “-3” is not a whole number" in answer
    assert "Other formal cooperation: “1e3” is not a whole number" in answer
    assert "Legal persons held civilly liable: 999999999999… is outside the accepted range (0 to 100000)" in answer
    assert "Extradition: 100001 is outside the accepted range (0 to 100000)." in answer
    assert "Legal persons held administratively liable: “١٢” is not a whole number" in answer
    assert "only understand commands" in await bot.say("yes")  # no question was asked
    assert await count_figures(bot.db) == 0


async def test_an_unknown_word_suggests_the_closest_indicator_in_the_readers_language(bot: Bot) -> None:
    assert "I do not know the indicator “extradtion”. Did you mean extradition (Extradition)?" in await bot.say(
        "/report extradtion=3"
    )
    await bot.say("/language es")
    answer = await bot.say("/report lavdo=3")
    assert "No conozco el indicador «lavdo». ¿Quiso decir conv_art6" in answer
    assert "blanqueo del producto del delito" in answer
    assert "No conozco el indicador «zzzz». /report solo" in await bot.say("/report zzzz=3")


async def test_syntax_mistakes_get_clear_messages(bot: Bot) -> None:
    assert "“mla” is given twice" in await bot.say(
        "/report mla=3 extradition=1 Asistencia=4".replace("Asistencia", "mla")
    )
    assert "is given twice" in await bot.say("/report mla=3 asistencia=4")  # the same indicator by two names
    assert "The value for “mla” is missing" in await bot.say("/report mla= extradition=3")
    assert "The value for “jit” is missing" in await bot.say("/report mla=3 jit")
    assert "A quotation mark is not closed" in await bot.say('/report "trata de personas=4')
    assert "where an indicator's name should be" in await bot.say("/report 2025 1,234")
    assert "Sentences belong to a conviction figure" in await bot.say('/report sentences:"3y" conv_tip=2')
    assert "does not take sentences" in await bot.say('/report mla=3 sentences:"3y"')
    assert "There is no reporting round for 2023." in await bot.say("/report 2023 mla=3")
    assert await count_figures(bot.db) == 0


async def test_an_indicator_outside_the_round_is_refused(sqlite_db: Database) -> None:
    bot = await start_bot(sqlite_db)
    await open_round(sqlite_db, "2025", indicators=["mla", "extradition"])
    assert "Joint investigations is not asked in the 2025 round." in await bot.say("/report mla=3 jit=2")
    await bot.app.stop()


async def test_a_big_change_since_the_last_round_needs_a_comment(bot: Bot) -> None:
    await previous_round(bot.db, {"mla": 10, "extradition": 6})
    answer = await bot.say("/report mla=40 extradition=2 jit=3")
    assert "Mutual legal assistance: 40 is more than 3 times different from 10 reported for 2024." in answer
    assert "Extradition" not in answer  # 6 → 2 is a change of 3 times, not more
    assert "send a comment that explains them" in answer
    assert await count_figures(bot.db) == 2  # the 2024 figures only
    answer = await bot.say("A new treaty with Spain came into force in March")
    assert "• Mutual legal assistance: 40\n  comment: A new treaty with Spain came into force in March" in answer
    assert "Store these figures?" in answer
    await bot.say("yes")
    stored = await current(bot.db)
    assert stored["mla"].comment == "A new treaty with Spain came into force in March"
    assert stored["extradition"].comment is None
    # asked again, answered with /cancel: nothing stored
    assert "send a comment" in await bot.say("/report mla=1")
    assert "Cancelled. Nothing was stored." in await bot.say("/cancel")
    assert "send a comment" in await bot.say("/report mla=1")
    assert "Cancelled. Nothing was stored." in await bot.say("annuler")  # the word, in any language
    assert (await current(bot.db))["mla"].value == 40
    # a comment given in the line is the explanation
    answer = await bot.say('/report mla=2 comment:"counting changed: requests, not cases"')
    assert "Store this figure?" in answer and "comment: counting changed" in answer


async def test_the_change_factor_is_a_setting(sqlite_db: Database) -> None:
    bot = await start_bot(sqlite_db, figures={"change_factor": 5})
    await open_round(sqlite_db, "2025")
    await previous_round(sqlite_db, {"mla": 10})
    assert "Store this figure?" in await bot.say("/report mla=40")  # 4 times: under 5
    assert "more than 5 times different" in await bot.say("/report mla=51")
    await bot.app.stop()


CATALOGUE = """
[[indicator]]
code = "total"
name = { en = "All requests", es = "Todas las solicitudes", pt = "Todos os pedidos", fr = "Toutes les demandes" }
help = { en = "All.", es = "Todas.", pt = "Todos.", fr = "Toutes." }

[[indicator]]
code = "sent"
max = 50
name = { en = "Requests sent", es = "Solicitudes enviadas", pt = "Pedidos enviados", fr = "Demandes envoyées" }
help = { en = "Sent.", es = "Enviadas.", pt = "Enviados.", fr = "Envoyées." }

[[indicator]]
code = "received"
name = { en = "Requests received", es = "Solicitudes recibidas", pt = "Pedidos recebidos", fr = "Demandes reçues" }
help = { en = "Received.", es = "Recibidas.", pt = "Recebidos.", fr = "Reçues." }

[[check]]
kind = "at_least_sum"
total = "total"
parts = ["sent", "received"]
"""


async def test_a_catalogue_cross_check_counts_stored_and_new_figures(sqlite_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "indicators.toml"
    path.write_text(CATALOGUE, encoding="utf-8")
    bot = await start_bot(sqlite_db, figures={"catalogue": str(path)})
    await open_round(sqlite_db, "2025", str(path))
    assert "Requests sent: 51 is outside the accepted range (0 to 50)" in await bot.say("/report sent=51")
    await bot.say("/report sent=5")
    assert "Stored 1 figure" in await bot.say("yes")
    answer = await bot.say("/report total=7 received=4")  # 5 stored + 4 new > 7
    assert "All requests: 7 is below the sum of its parts (sent, received: 9 together)." in answer
    assert "Stored" in (await bot.say("Received includes requests forwarded twice")) + await bot.say("yes")
    assert (await current(sqlite_db))["total"].comment == "Received includes requests forwarded twice"
    assert "Store these figures?" in await bot.say("/report total=9 received=n/a")  # n/a parts are unknown
    await bot.app.stop()


# --- amendments, history, state scope -------------------------------------------------------------------


async def test_amendments_keep_their_history(any_bot: Bot) -> None:
    bot = any_bot
    await bot.say("/report mla=3")
    await bot.say("yes")
    answer = await bot.say("/report mla=5 prov")
    assert "• Mutual legal assistance: 5 (provisional) (was 3)" in answer
    await bot.say("yes")
    shown = await bot.say("/myreport")
    assert "Mexico (MX): figures for 2025 (deadline 2026-03-31, open)" in shown
    assert "• Mutual legal assistance: 5 (provisional)" in shown
    assert shown.index("v2: 5 (provisional) — Lucía Núñez") < shown.index("v1: 3 — Lucía Núñez")
    assert "Not reported yet: 13 of 14" in shown
    async with bot.db.transaction() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("figure.%")).order_by(AuditEvent.id)
            )
        )
    assert actions == ["figure.report", "figure.amend"]


async def test_members_report_for_their_own_state_and_the_secretariat_on_behalf(bot: Bot) -> None:
    refusal = await bot.say("/report CO 2025 mla=3")
    assert refusal == (
        "You are not allowed to do that. Members report and see the figures of their own state (MX) only."
    )
    assert (await bot.say("/myreport CO")).startswith("You are not allowed to do that.")
    assert "Name the state first" in await bot.say("/report mla=3", user="secretariat")
    answer = await bot.say("/report Colombia 2025 mla=3", user="secretariat")
    assert "Figures of Colombia (CO) for 2025" in answer
    assert "You enter them on behalf of Colombia (CO); they will be marked so." in answer
    assert "/myreport CO 2025 shows it." in await bot.say("yes", user="secretariat")
    stored = await current(bot.db, "CO")
    assert stored["mla"].on_behalf and stored["mla"].submitted_by_label.startswith("member:")
    assert "Secretariat Desk (on behalf of the state)" in await bot.say("/myreport", user="CO")
    assert await current(bot.db, "MX") == {}


async def test_reports_need_an_open_round(sqlite_db: Database) -> None:
    bot = await start_bot(sqlite_db)
    assert "No reporting round is open at the moment." in await bot.say("/report mla=3")
    await open_round(sqlite_db, "2024")
    await open_round(sqlite_db, "2025")
    assert "Several rounds are open (2024, 2025)" in await bot.say("/report mla=3")
    async with sqlite_db.transaction() as session:
        await figures.close_round(session, SYSTEM, await figures.get_round(session, "2024"))
    assert "The round for 2024 is closed." in await bot.say("/report 2024 mla=3")
    assert "Store this figure?" in await bot.say("/report mla=3")  # the only open one
    await bot.app.stop()


async def test_long_and_hostile_lines_cost_little_and_store_nothing(bot: Bot) -> None:
    assert "at most 4096 characters" in await bot.say("/report " + "mla=1 " * 800)
    assert "is given twice" in await bot.say("/report " + "mla=1 " * 100)
    assert "too many figures" in await bot.say("/report " + "= " * 700)
    assert "I do not know the indicator" in await bot.say("/report " + "x" * 3000 + "=1")
    refused = await bot.say('/report mla="\u202e12"')
    assert "“12” is not a whole number" in refused and "\u202e" not in refused  # quoted back as plain text
    assert "The comment must be one line of plain text" in await bot.say('/report mla=3 comment:"a\x00b"')
    assert await count_figures(bot.db) == 0


# --- the guided entry -------------------------------------------------------------------------------------


async def test_guided_entry_walks_the_indicators_and_reads_back(any_bot: Bot) -> None:
    bot = any_bot
    first = await bot.say("/report")
    assert first.startswith("(1/14) Mutual legal assistance [mla]\nNumber of cases of mutual legal assistance")
    labels = [label for label, _ in bot.chat.sent[-1].message.buttons]
    assert labels == ["Skip", "Not available", "Cancel"]  # no "Back" on the first
    assert "(2/14) Extradition" in await bot.say("2")  # typed: the value 2, not the second button
    assert [data for _, data in bot.chat.sent[-1].message.buttons] == ["skip", "n/a", "back", "/cancel"]
    assert "(3/14) Joint investigations" in await bot.say("n/a")  # the button's data, as a press sends it
    assert "(4/14)" in await bot.say("~4 prov")
    assert "“x” is not a whole number" in await bot.say("x")  # asked again
    assert "(5/14) Convictions: participation in an organized criminal group" in await bot.say("skip")
    assert "The sentences imposed in these cases" in await bot.say("3")
    assert "(6/14)" in await bot.say("2 x 5y, 1 x 12y")
    assert "The sentences imposed" in await bot.say("1")  # conv_art6 has sentences too
    assert "(7/14)" in await bot.say("skip")  # … which may be skipped
    assert "Your answer so far: 1" in await bot.say("back")  # (6/14) again
    draft = await draft_of(bot.db)
    assert draft is not None and set(draft.data["values"]) == {"mla", "extradition", "jit", "conv_art5", "conv_art6"}
    for _ in range(9):
        answer = await bot.say("skip")
    assert "Figures of Mexico (MX) for 2025, as I read them:" in answer
    assert "• Mutual legal assistance: 2" in answer
    assert "• Joint investigations: 4 (estimate, provisional)" in answer
    assert "organized criminal group (UNTOC art. 5): 3; sentences: 2 x 5y, 1 x 12y" in answer
    assert "If you answer no, your draft is kept" in answer
    assert "Stored 5 figures" in await bot.say("yes")
    assert await draft_of(bot.db) is None
    assert (await current(bot.db))["extradition"].not_available


async def test_buttons_of_the_guided_entry_are_words_where_there_are_no_buttons(bot: Bot) -> None:
    await bot.say("/report")
    await bot.say("5")
    shown = buttons_as_text(bot.chat.sent[-1].message.buttons)
    assert shown == ["Skip: skip", "Not available: n/a", "Back: back", "Cancel: /cancel"]
    await bot.say("/language es")
    await bot.say("/report")  # the draft is offered: continue (its buttons are commands, numbered)
    assert buttons_as_text(bot.chat.sent[-1].message.buttons)[0].startswith("1) Continuar")
    answer = await bot.say("1")
    assert "(2/14) Extradición" in answer and "Su respuesta" not in answer
    assert buttons_as_text(bot.chat.sent[-1].message.buttons)[0] == "Omitir: omitir"
    assert "(3/14)" in await bot.say("omitir")
    assert "(2/14)" in await bot.say("atrás")


async def test_cancel_keeps_the_draft_and_report_offers_it(bot: Bot) -> None:
    await bot.say("/report")
    await bot.say("7")
    await bot.say("8")
    assert "Cancelled. Your draft with 2 figures is kept: /report continues it, /report discard deletes it." in (
        await bot.say("/cancel")
    )
    offer = await bot.say("/report")
    assert "You have a draft for MX, 2025 with 2 figures. Continue it, or start again?" in offer
    assert "(3/14) Joint investigations" in await bot.say("1")  # continue: where they stopped
    assert "Cancelled. Your draft with 2 figures" in await bot.say("cancelar")  # the word works too
    assert "Your draft for 2025 is deleted." in await bot.say("/report discard")
    assert await draft_of(bot.db) is None
    assert "You have no draft for 2025." in await bot.say("/report discard")
    assert await count_figures(bot.db) == 0


async def test_a_timed_out_guided_entry_keeps_its_draft(bot: Bot) -> None:
    await bot.say("/report")
    await bot.say("7")
    await bot.say("back")
    await bot.say("9")  # mla again: 9
    bot.clock.moment += timedelta(minutes=11)
    assert "That question has expired. Your answers so far are kept as a draft: send /report to continue" in (
        await bot.say("3")
    )
    draft = await draft_of(bot.db)
    assert draft is not None and draft.data["values"]["mla"]["value"] == 9 and draft.data["position"] == 1
    assert "with 1 figure. Continue it" in await bot.say("/report")
    answer = await bot.say("/report MX 2025 continue")  # the button's command, typed
    assert "(2/14) Extradition" in answer
    for _ in range(13):
        answer = await bot.say("skip")
    assert "• Mutual legal assistance: 9" in answer and "Store this figure?" in answer
    assert "Nothing was done" in await bot.say("no")
    assert await draft_of(bot.db) is not None  # "no" keeps the draft


async def test_restart_in_the_middle_starts_from_the_first_indicator_with_an_empty_draft(bot: Bot) -> None:
    await bot.say("/report")
    await bot.say("7")
    await bot.say("8")
    offer = await bot.say("/report")  # in the middle: the open question is abandoned, the draft offered
    assert "with 2 figures" in offer
    answer = await bot.say("2")  # start again
    assert answer.startswith("(1/14) Mutual legal assistance") and "Your answer so far" not in answer
    draft = await draft_of(bot.db)
    assert draft is not None and draft.data["values"] == {}
    assert "This is the first figure" in await bot.say("back")
    assert "(2/14)" in await bot.say("1")


async def test_a_guided_entry_with_a_big_change_asks_for_a_comment(bot: Bot) -> None:
    await previous_round(bot.db, {"mla": 100})
    await bot.say("/report")
    answer = await bot.say("5")
    for _ in range(13):
        answer = await bot.say("skip")
    assert "Mutual legal assistance: 5 is more than 3 times different from 100 reported for 2024." in answer
    assert "Cancelled. Your draft with 1 figure is kept" in await bot.say("/cancel")
    assert await draft_of(bot.db) is not None


async def test_the_secretariat_guides_an_entry_for_a_state(bot: Bot) -> None:
    assert "Name the state first" in await bot.say("/report", user="secretariat")
    assert "(1/14)" in await bot.say("/report CO", user="secretariat")
    await bot.say("12", user="secretariat")
    for _ in range(13):
        answer = await bot.say("skip", user="secretariat")
    assert "Figures of Colombia (CO) for 2025" in answer and "on behalf of Colombia" in answer
    await bot.say("yes", user="secretariat")
    assert (await current(bot.db, "CO"))["mla"].on_behalf


async def test_guided_entry_through_telegram_buttons(sqlite_db: Database) -> None:
    """On the real python-telegram-bot stack: the buttons are pressed, and a typed 1 is one case."""
    user = 7001
    async with telegram_bot(sqlite_db) as tg:
        await open_round(sqlite_db, "2025", indicators=["mla", "extradition", "jit"])
        await tg.say(user, f"/start {await tg.invite()}")
        assert "(1/3) Mutual legal assistance" in await tg.say(user, "/report")
        assert [label for label, _ in tg.last(user).buttons] == ["Skip", "Not available", "Cancel"]
        assert "(2/3) Extradition" in await tg.press(user, "Not available")
        assert "(3/3) Joint investigations" in await tg.say(user, "1")
        assert "(2/3) Extradition" in await tg.press(user, "Back")
        assert "Your answer so far: 1" in tg.last(user).text
        answer = await tg.press(user, "Skip")
        assert "(3/3)" in answer
        answer = await tg.press(user, "Skip")
        assert "• Mutual legal assistance: not available" in answer and "• Extradition: 1" in answer
        assert "Stored 2 figures" in await tg.press(user, "Yes")
    stored = await current(sqlite_db)
    assert stored["mla"].not_available and stored["extradition"].value == 1
