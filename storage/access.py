"""Who may change what: the one place where roles and state scope are enforced.

The router turns the sender into an :class:`Actor`; every repository function that changes data takes
that actor and asks it before writing. Handlers never check roles or states themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from storage.errors import N_, AccessDenied
from storage.text import fold


class Role(StrEnum):
    SECRETARIAT = "secretariat"  # OAS General Secretariat: administers the network, all states
    CONTACT = "contact"  # national point of contact: own state
    OFFICIAL = "official"  # delegated by a contact: own state, may submit figures


ALL_ROLES: frozenset[Role] = frozenset(Role)

GRANT_ROLE = N_(
    "You are not allowed to do that. A national point of contact invites and manages delegated officials only; "
    "the OAS Secretariat handles the other roles."
)
GRANT_STATE = N_(
    "You are not allowed to do that. A national point of contact invites and manages members of their own state "
    "({state}) only."
)

# Role words in the four languages, folded (accents and case aside).
ROLE_WORDS: dict[str, Role] = {
    **dict.fromkeys(("contact", "contacts", "contacto", "contactos", "contato", "contatos"), Role.CONTACT),
    **dict.fromkeys(
        ("official", "officials", "funcionario", "funcionarios", "oficial", "officiel", "fonctionnaire"), Role.OFFICIAL
    ),
    **dict.fromkeys(("secretariat", "secretaria", "secretariado"), Role.SECRETARIAT),
}


def role_named(word: str) -> Role | None:
    """The role ``word`` names in English, Spanish, Portuguese or French (``funcionario`` → official)."""
    return ROLE_WORDS.get(fold(word))


# Which roles each role may invite (create) — always within its own state unless Secretariat.
_MAY_GRANT: dict[Role, frozenset[Role]] = {
    Role.SECRETARIAT: ALL_ROLES,
    Role.CONTACT: frozenset({Role.OFFICIAL}),
    Role.OFFICIAL: frozenset(),
}


@dataclass(frozen=True)
class Actor:
    """The person (or operator console) on whose behalf a change is made."""

    role: Role
    state_code: str | None
    member_id: int | None = None
    label: str = ""

    @property
    def name(self) -> str:
        """How the audit trail names this actor."""
        return self.label or f"member:{self.member_id}"

    @property
    def is_secretariat(self) -> bool:
        return self.role is Role.SECRETARIAT

    def ensure_state(self, state_code: str | None) -> None:
        """Refuse changes outside the actor's own state (the Secretariat acts on every state)."""
        if self.is_secretariat:
            return
        if state_code is None or state_code != self.state_code:
            raise AccessDenied()

    def ensure_can_grant(self, role: Role, state_code: str | None) -> None:
        if role not in _MAY_GRANT[self.role]:
            raise AccessDenied(GRANT_ROLE)
        if role is not Role.SECRETARIAT and not self.is_secretariat and state_code != self.state_code:
            raise AccessDenied(GRANT_STATE, state=self.state_code or "")

    def ensure_can_manage(self, target_role: Role, target_state: str | None) -> None:
        """Deactivate/reactivate/edit another member: Secretariat anyone; contacts their own officials."""
        self.ensure_can_grant(target_role, target_state)

    def ensure_can_cover(self, member_state: str | None, delegate_state: str | None) -> None:
        """Who may receive a member's relays while they are away: someone of the member's own state (for
        the Secretariat's staff: anyone). Otherwise a state's copies, TLP:AMBER ones included, would leave
        the state through a delegation when forwarding them there is refused."""
        if member_state is not None and delegate_state != member_state:
            raise AccessDenied()

    @classmethod
    def of(cls, member: Any) -> Actor:
        """The actor for a member (a ``Member`` row or a directory snapshot entry)."""
        return cls(
            role=Role(member.role), state_code=member.state_code, member_id=member.id, label=f"member:{member.id}"
        )

    @classmethod
    def system(cls, label: str) -> Actor:
        """The operator at the command line: acts with Secretariat rights, recorded under ``label``."""
        return cls(role=Role.SECRETARIAT, state_code=None, member_id=None, label=label)
