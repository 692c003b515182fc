"""The directory as officials use it, on the sample directory (see storage/sample.py)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import AuditEvent, Member
from tests.fakes.chat import ChatPlatform


def _listing(answer: str) -> list[str]:
    """The people lines of a /whois answer ("1. Name — function …")."""
    return [line for line in answer.splitlines() if line[:1].isdigit()]


async def _id(chat: ChatPlatform, name: str) -> int:
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        member = await session.scalar(select(Member).where(Member.display_name == name))
    assert member is not None
    return member.id


async def test_whois_is_insensitive_to_accents_case_and_language(chat: ChatPlatform) -> None:
    reference = await chat.say("/whois mexico firearms", user="AR")
    assert _listing(reference)[0].startswith("1. Marisol Tapia — police")  # the firearms specialist first
    assert "Mexico (MX): 1 of 4 contacts handles firearms trafficking; listed first." in reference
    for variant in ["/whois MÉXICO firearms", "/whois Mexique armas", "/whois méxico armas de fuego",
                    "/whois Méjico firearms", "/whois MX FIREARMS", "/whois mex armes", "/whois Mexcio firearms",
                    "/quien mexico armas"]:  # fmt: skip
        assert _listing(await chat.say(variant, user="AR")) == _listing(reference), variant


async def test_whois_lists_role_institution_languages_and_local_time(chat: ChatPlatform) -> None:
    answer = await chat.say("/whois mexico", user="AR")
    assert answer.startswith("Mexico (MX): 4 contacts.")
    assert "1. Lucía Núñez — national point of contact · Ministerio de Justicia (ficticio)" in answer
    assert "Spanish, English" in answer
    now = datetime.now(ZoneInfo("America/Mexico_City"))
    assert f"Local time {now:%H:}" in answer
    office = "within office hours" if now.weekday() < 5 and 9 <= now.hour < 17 else "outside office hours"
    npc_block = answer.split("1. Lucía Núñez")[1].split("2. ")[0]
    assert office in npc_block and "/contact" in npc_block


async def test_whois_unknown_ambiguous_and_misspelt(chat: ChatPlatform) -> None:
    atlantis = await chat.say("/whois atlantis", user="MX")
    assert "no state called “atlantis”" in atlantis and "Did you mean" not in atlantis
    await chat.say("/whois saint tip", user="MX")
    assert len(chat.sent[-1].message.buttons) == 3
    assert (await chat.say("2", user="MX")).startswith("St. Lucia (LC)")  # the second choice, as typed
    assert "Did you mean: Colombia" in await chat.say("/whois Kolumbien", user="MX")
    await chat.say("/whois mexico trafficking", user="MX")
    assert "Which topic" in chat.last("MX") and len(chat.sent[-1].message.buttons) == 3
    unknown = await chat.say("/whois mexico astrology", user="MX")
    assert "I do not know the topic “astrology”" in unknown and "Mexico (MX): 4 contacts." in unknown
    assert "Usage: /whois" in await chat.say("/whois", user="MX")


async def test_whois_in_spanish_names_states_topics_and_functions_in_spanish(chat: ChatPlatform) -> None:
    await chat.say("/language es", user="CO")
    answer = await chat.say("/whois brasil armas", user="CO")
    assert answer.startswith("Brasil (BR)") and "tráfico de armas de fuego" in answer and "policía" in answer
    assert "Hora local" in answer


async def test_find_by_name_institution_topic_and_function(chat: ChatPlatform) -> None:
    assert "Rodrigo Salas (MX)" in await chat.say("/find salas", user="BR")
    assert "Rodrigo Salas (MX)" in await chat.say("/find UIF", user="BR")  # function abbreviation
    assert "Thiago Moreira (BR)" in await chat.say("/find policia federal", user="MX")  # accent-insensitive
    cyber = await chat.say("/find cyber police", user="MX")  # every word must match
    assert "Thiago Moreira (BR)" in cyber and "Paula Benítez" not in cyber
    missing = await chat.say("/find Rodrgo Sals", user="BR")
    assert "No one found" in missing and "Rodrigo Salas (/contact" in missing
    assert "No one found for “zzzz”." == await chat.say("/find zzzz", user="BR")


async def test_contact_card_by_id_name_and_ambiguity(chat: ChatPlatform) -> None:
    hector = await _id(chat, "Héctor Ugalde")
    card = await chat.say(f"/contact {hector}", user="US")
    for expected in ["Héctor Ugalde (#", "Function: central authority", "State: Mexico (MX)",
                     "Competences: mutual legal assistance & extradition", "[America/Mexico_City]",
                     "Last confirmed: never"]:  # fmt: skip
        assert expected in card
    assert card == await chat.say("/contact hector", user="US")
    desk_card = await chat.say("/contact npc.mx", user="US")  # not a name: nobody
    assert "No one found" in desk_card
    await chat.say("/contact ma", user="US")  # several people have "ma" in their name
    assert (
        "Several people match" in chat.last("US")
        and "(#" in (await chat.say("1", user="US"))
        and all(label for label, _ in chat.sent[-2].message.buttons)
    )
    assert "No one found for “99999”." == await chat.say("/contact 99999", user="US")


async def test_states_shows_counts_and_confirmation(chat: ChatPlatform) -> None:
    await chat.say("/confirm", user="AR")
    listing = await chat.say("/states", user="CL")
    lines = listing.splitlines()
    assert len(lines) == 36
    mx = next(line for line in lines if line.startswith("MX "))
    assert mx == "MX Mexico · 4 · —"
    ar = next(line for line in lines if line.startswith("AR "))
    assert ar.startswith("AR Argentina · 2 · ") and not ar.endswith("—")


async def test_myentry_edits_with_validation_and_audit(chat: ChatPlatform) -> None:
    assert "Change a field with /myentry set" in await chat.say("/myentry", user="PE")
    for command, shown in [
        ("/myentry set hours lun-vie 8:00-16:00", "(Mon-Fri 08:00–16:00)"),
        ("/myentry set competences TIP, lavado de activos", "Competences: money laundering, trafficking in persons"),
        ("/myentry set languages español, quechua", "Languages spoken: Spanish, Quechua"),
        ("/myentry set timezone america/lima", "[America/Lima]"),
        ("/myentry set email npc@example.pe", "E-mail: npc@example.pe"),
        ("/myentry set phone +51 1 555 0100", "Phone: +51 1 555 0100"),
        ("/myentry set institution Procuraduría Pública", "Institution: Procuraduría Pública"),
    ]:
        answer = await chat.say(command, user="PE")
        assert answer.startswith("Saved.") and shown in answer, (command, answer)
    for command, problem in [
        ("/myentry set hours whenever", "Office hours look like"),
        ("/myentry set email nope", "is not an e-mail address"),
        ("/myentry set timezone Mars/Olympus", "Unknown time zone"),
        ("/myentry set languages klingon", "Unknown language"),
        ("/myentry set competences astrology", "Unknown topic"),
        ("/myentry set phone call me", "is not a phone number"),
        ("/myentry set colour blue", "Unknown field “colour”"),
        ("/myentry set function fiu", "Only the Secretariat"),
        ("/myentry set state AR", "Only the Secretariat"),
        ("/myentry set name", "Usage: /myentry set"),
        ("/myentry delete", "Usage: /myentry"),
    ]:
        assert problem in await chat.say(command, user="PE"), command
    card = await chat.say("/myentry", user="PE")
    assert "Function: national point of contact" in card and "State: Peru (PE)" in card  # unchanged
    member_id = await _id(chat, card.splitlines()[0].split(" (#")[0])
    async with chat.app.db.transaction() as session:  # type: ignore[attr-defined]
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(member_id))))
    competence_change = next(e for e in events if e.before and e.before["competences"] != e.after["competences"])
    assert competence_change.after["competences"] == ["aml", "tip"]
    assert competence_change.actor == f"member:{member_id}"


async def test_confirm_records_the_date(chat: ChatPlatform) -> None:
    assert "your entry is confirmed as current" in await chat.say("/confirm", user="JM")
    assert "Last confirmed: never" not in await chat.say("/myentry", user="JM")


async def test_secretariat_adds_edits_verifies_invites_and_exports(chat: ChatPlatform) -> None:
    added = await chat.say("/entry add Guatemala aduanas Rosa María Chen", user="secretariat")
    assert "Entry #" in added and "Function: customs" in added and "State: Guatemala (GT)" in added
    entry_id = int(added.split("Entry #")[1].split()[0])
    assert "Function: financial intelligence unit" in await chat.say(
        f"/entry {entry_id} set function UIF", user="secretariat"
    )
    assert "State: Honduras (HN)" in await chat.say(f"/entry {entry_id} set state honduras", user="secretariat")
    assert "is verified" in await chat.say(f"/verify {entry_id}", user="secretariat")
    assert "Verified by the Secretariat" in await chat.say(f"/entry {entry_id}", user="secretariat")
    invite = await chat.say(f"/entry {entry_id} invite", user="secretariat")
    code = invite.split("join: ")[1].split()[0]
    assert "Welcome to pocnet, Rosa María Chen" in await chat.say(f"/start {code}", user="rosa")
    assert "Honduras (HN)" in await chat.say("/myentry", user="rosa")

    await chat.say("/export", user="secretariat")
    attachment = chat.sent[-1].message.attachment
    assert attachment is not None and attachment.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    rosa = next(r for r in rows if r["name"] == "Rosa María Chen")
    assert (rosa["state"], rosa["function"], rosa["verified_at"] != "") == ("HN", "fiu", True)
    await chat.say("/export vcf", user="secretariat")
    vcf = chat.sent[-1].message.attachment
    assert vcf is not None and vcf.content.count(b"BEGIN:VCARD") == len([r for r in rows if r["active"] == "true"])
    assert "Usage: /export" in await chat.say("/export pdf", user="secretariat")


async def test_contacts_cannot_use_secretariat_directory_commands(chat: ChatPlatform) -> None:
    for command in ["/entry 1", "/verify 1", "/export"]:
        assert "not available to your role" in await chat.say(command, user="MX")
    help_text = await chat.say("/help", user="MX")
    assert "/whois" in help_text and "/myentry" in help_text and "/export" not in help_text


async def test_deactivated_people_disappear_from_every_lookup(chat: ChatPlatform) -> None:
    salas = await _id(chat, "Rodrigo Salas")
    await chat.say(f"/deactivate {salas}", user="secretariat")
    await chat.say("yes", user="secretariat")
    assert "Rodrigo Salas" not in await chat.say("/whois mexico aml", user="AR")
    assert "Rodrigo Salas" not in await chat.say("/find salas", user="AR")
    assert "No one found" in await chat.say(f"/contact {salas}", user="AR")
    assert "MX Mexico · 3 ·" in await chat.say("/states", user="AR")
    assert "Status: deactivated" in await chat.say(
        f"/entry {salas}", user="secretariat"
    )  # the Secretariat still sees it


async def test_strangers_cannot_look_anything_up(chat: ChatPlatform) -> None:
    for command in ["/whois mexico", "/find salas", "/contact 1", "/states", "/myentry", "/export"]:
        answer = await chat.say(command, user="nobody")
        assert "invitation" in answer and "Mexico" not in answer and "Salas" not in answer
