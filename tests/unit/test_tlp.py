"""TLP 2.0 as pocnet enforces it: every label × audience × forward target, allowed or refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from storage import tlp
from storage.errors import InvalidInput


@dataclass(frozen=True)
class P:
    id: int
    state_code: str | None
    institution: str | None
    display_name: str = "someone"


ME = P(1, "CO", "Fiscalía General")
COLLEAGUE = P(2, "CO", "Fiscalía  general")  # the same institution, written slightly differently
COMPATRIOT = P(3, "CO", "Policía Nacional")
FOREIGNER = P(4, "PE", "Fiscalía General")

# label → (named people, state audience, topic audience) allowed at the first send
SEND = {
    tlp.CLEAR: (True, True, True),
    tlp.GREEN: (True, True, True),
    tlp.AMBER: (True, True, True),
    tlp.AMBER_STRICT: (True, True, True),
    tlp.RED: (True, False, False),
}
# label → forward allowed to (same institution, same state, other state)
FORWARD = {
    tlp.CLEAR: (True, True, True),
    tlp.GREEN: (True, True, True),
    tlp.AMBER: (True, True, False),
    tlp.AMBER_STRICT: (True, False, False),
    tlp.RED: (False, False, False),
}


@pytest.mark.parametrize("label", tlp.LABELS)
@pytest.mark.parametrize("audience", [0, 1, 2], ids=["person", "state", "topic"])
def test_first_send(label: str, audience: int) -> None:
    refusal = tlp.check_send(label, named_only=audience == 0, in_group=False)
    assert (refusal is None) is SEND[label][audience]
    if refusal is not None:
        assert "named individuals" in refusal.message


@pytest.mark.parametrize("label", tlp.LABELS)
@pytest.mark.parametrize("target", [0, 1, 2], ids=["same institution", "same state", "other state"])
def test_forward(label: str, target: int) -> None:
    to = [COLLEAGUE, COMPATRIOT, FOREIGNER][target]
    refusal = tlp.check_forward(label, ME, [to], in_group=False)
    assert (refusal is None) is FORWARD[label][target]
    if refusal is not None:
        assert "TLP:" in refusal.message and ("Ask the sender" in refusal.message)


def test_red_never_from_a_group_and_amber_not_forwarded_from_one() -> None:
    assert tlp.check_send(tlp.RED, named_only=True, in_group=True) is not None
    assert tlp.check_send(tlp.AMBER, named_only=False, in_group=True) is None
    assert tlp.check_forward(tlp.AMBER, ME, [COLLEAGUE], in_group=True) is not None
    assert tlp.check_forward(tlp.GREEN, ME, [FOREIGNER], in_group=True) is None


@pytest.mark.parametrize(
    ("typed", "label"),
    [("tlp:amber+strict", "AMBER+STRICT"), ("TLP:RED", "RED"), ("rojo", "RED"), ("verde", "GREEN"),
     ("white", "CLEAR"), ("ámbar", "AMBER"), ("tlp:clear", "CLEAR")],
)  # fmt: skip
def test_labels_are_read_in_any_language_and_shown_in_english(typed: str, label: str) -> None:
    assert tlp.parse(typed) == label
    assert tlp.tag(label) == f"TLP:{label}"


def test_an_unknown_label_names_the_five() -> None:
    with pytest.raises(InvalidInput) as raised:
        tlp.parse("tlp:purple")
    assert "CLEAR, GREEN, AMBER, AMBER+STRICT, RED" in raised.value.message
