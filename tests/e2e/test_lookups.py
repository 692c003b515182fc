"""Lookups as /topics and /states print names (issue 10): phrases of several words, in four languages."""

from __future__ import annotations

from tests.fakes.chat import ChatPlatform


def _people(answer: str) -> list[str]:
    return [line.split(" — ")[0] for line in answer.splitlines() if line[:1].isdigit()]


async def test_find_understands_topic_function_and_state_names_of_several_words(chat: ChatPlatform) -> None:
    laundering = _people(await chat.say("/find money laundering", user="BR"))
    assert "7. Rodrigo Salas (MX)" in laundering
    for phrase in ["lavado de activos", "lavagem de dinheiro", "blanchiment d'argent", "AML"]:
        assert _people(await chat.say(f"/find {phrase}", user="BR")) == laundering, phrase
    trafficking = _people(await chat.say("/find trafficking in persons", user="BR"))
    assert trafficking and "Paula Benítez (AR)" in trafficking[1]
    for phrase in ["human trafficking", "trata de personas", "tráfico de pessoas", "traite des personnes"]:
        assert _people(await chat.say(f"/find {phrase}", user="BR")) == trafficking, phrase
    drugs = await chat.say("/find drug trafficking / new psychoactive substances", user="BR")
    assert "Marisol Tapia (MX)" in drugs
    assert _people(await chat.say("/find trafic d'armes à feu mexique", user="BR")) == ["1. Marisol Tapia (MX)"]
    assert _people(await chat.say("/find estados unidos", user="BR")) == [
        "1. Charlene Francis (US)",
        "2. Dana Whitfield (US)",
    ]
    assert _people(await chat.say("/find mexico unidad de inteligencia financiera", user="BR")) == [
        "1. Rodrigo Salas (MX)"
    ]


async def test_competences_take_topic_names_in_four_languages(chat: ChatPlatform) -> None:
    saved = await chat.say("/myentry set competences money laundering, trata de personas", user="MX")
    assert "Competences: money laundering, trafficking in persons" in saved
    await chat.say("/language pt", user="MX")
    saved = await chat.say("/myentry set competences lavagem de dinheiro; traite des personnes; cyber", user="MX")
    assert "lavagem de dinheiro, tráfico de pessoas, crime cibernético" in saved


async def test_whois_says_plainly_when_nobody_handles_the_topic(chat: ChatPlatform) -> None:
    answer = await chat.say("/whois colombia trafficking in persons", user="MX")
    assert answer.startswith("Colombia (CO): nobody in the directory handles trafficking in persons. Its contacts:")
    assert len(_people(answer)) == 2
    await chat.say("/language fr", user="MX")
    french = await chat.say("/whois colombie traite", user="MX")
    assert french.startswith("Colombie (CO) : personne dans l’annuaire n’est chargé du sujet « traite des personnes »")
    found = await chat.say("/whois mexique traite", user="MX")
    assert "traite traite" not in found and "« traite des personnes »" in found
    await chat.say("/language es", user="MX")
    spanish = await chat.say("/whois colombia trata de personas", user="MX")
    assert spanish.startswith("Colombia (CO): nadie en el directorio se ocupa de «trata de personas».")


async def test_near_state_names_say_what_was_understood(chat: ChatPlatform) -> None:
    guinea = await chat.say("/whois guinea", user="MX")
    assert guinea.startswith("There is no state called “guinea”; showing Guyana.\nGuyana (GY): 1 contact.")
    exact = await chat.say("/whois guyana", user="MX")
    assert exact.startswith("Guyana (GY): 1 contact.")
    await chat.say("/language es", user="MX")
    assert (await chat.say("/whois mexcio", user="MX")).startswith(
        "No hay ningún Estado llamado «mexcio»; muestro México."
    )
    topic = await chat.say("/whois mexico frearms", user="MX")
    assert "Entiendo el tema «frearms» como tráfico de armas de fuego." in topic


async def test_state_names_of_several_words_and_short_prefixes(chat: ChatPlatform) -> None:
    answer = await chat.say("/whois Saint Vincent and the Grenadines mutual legal assistance", user="MX")
    assert (
        answer.startswith("St. Vincent & Grenadines (VC): its only contact handles")
        and "mutual legal assistance & extradition" in answer
    )
    await chat.say("/whois st", user="MX")
    names = [label for label, _command in chat.sent[-1].message.buttons]
    assert {"St. Kitts & Nevis", "St. Lucia", "St. Vincent & Grenadines"} <= set(names)
    added = await chat.say("/entry add Saint Vincent and the Grenadines police Kareem Joseph", user="secretariat")
    assert "Kareem Joseph" in added and "St. Vincent & Grenadines (VC)" in added
    await chat.say("/language es", user="secretariat")
    added = await chat.say("/entry add Estados Unidos punto de contacto alterno Jane Roe", user="secretariat")
    assert "Jane Roe" in added and "Estados Unidos (US)" in added and "punto de contacto alterno" in added
