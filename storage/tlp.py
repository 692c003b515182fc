"""The Traffic Light Protocol 2.0 (FIRST), as pocnet enforces it on relays.

Labels are shown in their English form everywhere (TLP 2.0: labels are not translated); the line that
says what a label allows is translated. The rules, at the first send and at every forward:

- ``RED``: only to named individuals — never to a state or topic audience, never into a group chat,
  never forwarded;
- ``AMBER+STRICT``: forwarded only within the recipient's own institution;
- ``AMBER``: forwarded only within the recipient's own state;
- ``GREEN``: within the network (every pocnet member is in it);
- ``CLEAR``: no limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from storage.errors import N_, InvalidInput
from storage.text import fold

CLEAR, GREEN, AMBER, AMBER_STRICT, RED = "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"
LABELS = (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
DEFAULT = AMBER

MEANING = {  # shown after the label, which stays in English: "TLP:AMBER — may be shared …"
    CLEAR: N_("may be shared without limit."),
    GREEN: N_("may be shared within the network of national contacts, not publicly."),
    AMBER: N_("may be shared only with people of your own state who need to know."),
    AMBER_STRICT: N_("may be shared only within your own institution."),
    RED: N_("for you alone: do not share or forward it."),
}

_ALIASES = {
    "clear": CLEAR, "white": CLEAR, "green": GREEN, "verde": GREEN, "vert": GREEN, "amber": AMBER,
    "ambar": AMBER, "ambre": AMBER, "amberstrict": AMBER_STRICT, "ambarstrict": AMBER_STRICT,
    "ambrestrict": AMBER_STRICT, "strict": AMBER_STRICT, "red": RED, "rojo": RED, "vermelho": RED, "rouge": RED,
}  # fmt: skip


def parse(text: str) -> str:
    """``tlp:amber+strict``, ``AMBER``, ``rojo`` … → the label; InvalidInput names the five."""
    key = fold(text).replace(" ", "").removeprefix("tlp")
    label = _ALIASES.get(key)
    if label is None:
        raise InvalidInput(
            N_("Unknown TLP label “{label}”. Use one of: CLEAR, GREEN, AMBER, AMBER+STRICT, RED."),
            label=text[:40],
        )
    return label


def is_label(token: str) -> bool:
    return token[:4].lower() == "tlp:"


def tag(label: str) -> str:
    return f"TLP:{label}"


def line(label: str, translate: Callable[[str], str]) -> str:
    """``TLP:AMBER — <what it allows, in the reader's language>``."""
    return f"{tag(label)} — {translate(MEANING[label])}"


class Person(Protocol):
    id: int
    state_code: str | None
    institution: str | None


@dataclass(frozen=True)
class Refusal:
    message: str  # N_ text: the rule, and what the sender can do instead
    params: dict[str, str]


def check_send(label: str, *, named_only: bool, in_group: bool) -> Refusal | None:
    """A first send: ``named_only`` when every audience item names a person (no state, no topic)."""
    if label == RED and not named_only:
        return Refusal(
            N_(
                "TLP:RED goes only to named individuals, never to a state or a topic. "
                "Name the people (@id or “name”), or choose AMBER."
            ),
            {},
        )
    if label == RED and in_group:
        return Refusal(N_("TLP:RED is never sent from a group chat. Send it to me in a private chat."), {})
    return None


def check_forward(label: str, forwarder: Person, recipients: Iterable[Person], *, in_group: bool) -> Refusal | None:
    """A forward by ``forwarder`` (who received the relay) to ``recipients``."""
    if label == RED:
        return Refusal(N_("TLP:RED is never forwarded. Ask the sender to send it to the people who need it."), {})
    if in_group and label in (AMBER, AMBER_STRICT):
        return Refusal(
            N_("A TLP:{label} relay is not forwarded from a group chat. Use a private chat."), {"label": label}
        )
    people = list(recipients)
    if label == AMBER_STRICT:
        mine = fold(forwarder.institution or "")
        outside = [
            p for p in people if not mine or fold(p.institution or "") != mine or p.state_code != forwarder.state_code
        ]
        if outside:
            return Refusal(
                N_(
                    "TLP:AMBER+STRICT is shared only within your own institution; {names} is outside it. "
                    "Ask the sender to send it to them."
                ),
                {"names": _names(outside)},
            )
    if label == AMBER:
        outside = [p for p in people if forwarder.state_code is None or p.state_code != forwarder.state_code]
        if outside:
            return Refusal(
                N_(
                    "TLP:AMBER is shared only within your own state; {names} is outside it. "
                    "Ask the sender to send it to them."
                ),
                {"names": _names(outside)},
            )
    return None


def _names(people: list[Person]) -> str:
    shown = [str(getattr(p, "display_name", p.id)) for p in people[:3]]
    return ", ".join(shown) + (" …" if len(people) > 3 else "")
