"""Field names and role words in the four languages; a required name cannot be cleared (issue 10)."""

from __future__ import annotations

from tests.fakes.chat import ChatPlatform


async def test_a_required_name_cannot_be_cleared(chat: ChatPlatform) -> None:
    refused = await chat.say("/myentry set name -", user="MX")
    assert "required" in refused and "Saved" not in refused
    await chat.say("/language es", user="MX")
    refused = await chat.say("/myentry set nombre ninguno", user="MX")
    assert "obligatorio" in refused
    assert "Lucía Núñez" in await chat.say("/whoami", user="MX")


async def test_field_names_in_four_languages_shown_in_the_members_language(chat: ChatPlatform) -> None:
    await chat.say("/language es", user="MX")
    saved = await chat.say("/myentry set horario lun-vie 08:00-16:00", user="MX")
    assert saved.startswith("Guardado.") and "08:00–16:00" in saved
    assert "Campos: nombre, institución, idiomas, zona, horario, competencias, correo, teléfono." in await chat.say(
        "/myentry", user="MX"
    )
    unknown = await chat.say("/myentry set colour blue", user="MX")
    assert "«colour»" in unknown and "horario" in unknown
    await chat.say("/language pt", user="BR")
    assert "+55 61 5555 0000" in await chat.say("/myentry set telefone +55 61 5555 0000", user="BR")
    await chat.say("/language fr", user="CO")
    assert "Ministère (fictif)" in await chat.say("/myentry set institution Ministère (fictif)", user="CO")
    assert "courriel, téléphone" in await chat.say("/myentry", user="CO")
    assert "unknown" not in (await chat.say("/myentry set courriel pv@example.org", user="CO")).lower()


async def test_role_words_in_four_languages(chat: ChatPlatform) -> None:
    for word in ["funcionario", "fonctionnaire", "oficial", "official"]:
        answer = await chat.say(f"/invite {word}", user="MX")
        assert "/start" in answer, word
    await chat.say("/language es", user="MX")
    assert "Rol: " in await chat.say("/whoami", user="MX")
    await chat.say("/language pt", user="BR")
    assert "Papel: " in await chat.say("/whoami", user="BR")
