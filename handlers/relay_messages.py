"""How a relay copy reads for its recipient, rendered in their language when it is sent.

Who sent it (name, function, state), the TLP label in its English form with one line on what it allows,
the relay's number, the text as sent (plain text), and how to answer and acknowledge.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from bot.delivery.render import renderer
from bot.i18n import Translator
from bot.transports.base import Outgoing
from handlers.common import ROLE_LABELS
from storage import tlp
from storage.access import Role
from storage.errors import N_
from storage.models import OutboxItem
from storage.relays import AWAY, ESCALATION, KIND
from storage.taxonomy import FUNCTION_BY_CODE

ACK = N_("Acknowledge")


@cache
def state_name(code: str | None, language: str) -> str:
    if not code:
        return "OAS"
    name = Locale.parse(language).territories.get(code)
    return str(name) if name else code


def _who(p: dict[str, object], tr: Translator) -> str:
    term = FUNCTION_BY_CODE.get(str(p.get("function")))
    if term is not None and term.code != "other":
        function = term.name(tr.language)
    else:  # no directory function given: what their access role says
        function = tr(ROLE_LABELS.get(Role(str(p.get("role") or Role.CONTACT)), ROLE_LABELS[Role.CONTACT]))
    state = str(p["state"]) if p.get("state") else None
    return f"{p['sender']} ({function}, {state_name(state, tr.language)})"


@renderer(KIND)
def relay_copy(item: OutboxItem, tr: Translator) -> Outgoing:
    p = item.params
    who = _who(p, tr)
    lines: list[str] = []
    if p.get("urgent"):
        lines.append(tr(N_("URGENT")))
    if p["mode"] == "answer":
        lines.append(
            tr(N_("Answer #{number} to relay #{parent}, from {who}")).format(
                number=p["number"], parent=p["parent"], who=who
            )
        )
    elif p["mode"] == "forward":
        lines.append(
            tr(N_("Relay #{number}: {who} forwards relay #{origin} of {origin_sender}")).format(
                number=p["number"], who=who, origin=p.get("origin_number"), origin_sender=p.get("origin_sender")
            )
        )
    else:
        lines.append(tr(N_("Relay #{number} from {who}")).format(number=p["number"], who=who))
    if p.get("reason") == AWAY and p.get("covers_for"):
        lines.append(
            tr(N_("You receive it because {name} is away and you cover for them.")).format(name=p["covers_for"])
        )
    elif p.get("reason") == ESCALATION and p.get("covers_for"):
        lines.append(
            tr(N_("Escalated to you: {name} did not acknowledge this urgent relay in time.")).format(
                name=p["covers_for"]
            )
        )
    lines.append(tlp.line(str(p["tlp"]), tr))
    lines += ["", str(p["body"]), ""]
    lines.append(
        tr(N_("Answer: reply to this message, or send /answer {number} followed by your text.")).format(
            number=p["number"]
        )
    )
    return Outgoing("\n".join(lines), buttons=((tr(ACK), f"/ack {p['number']}"),))
