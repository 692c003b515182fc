"""One-time onboarding codes.

A code is 8 characters from an alphabet without look-alikes (about 40 bits), shown as ``XXXX-XXXX``.
Only its SHA-256 is stored. Redeeming binds the sender's platform account to a new member, or — for a
code made with ``member_id`` — to an existing member who is adding a second platform.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, members
from storage.access import Actor, Role
from storage.errors import N_, InvalidInput, PocnetError
from storage.models import AuditEvent, Invite, Member
from storage.text import check_line, clean_line
from storage.types import utcnow

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=90)
NAME_LENGTH = 200  # storage.models: Member.display_name and Invite.display_name are String(200)


class InviteRefused(PocnetError):
    """A code that does not open the door; counts as a failed attempt."""


class InviteUnknown(InviteRefused):
    message = N_("This invitation code is not valid. Check it and try again.")


class InviteUsed(InviteRefused):
    message = N_("This invitation code has already been used. Ask for a new one.")


class InviteExpired(InviteRefused):
    message = N_("This invitation code has expired. Ask for a new one.")


def normalize(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


@dataclass(frozen=True)
class NewInvite:
    code: str
    invite: Invite


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    role: Role,
    state_code: str | None,
    ttl: timedelta = DEFAULT_TTL,
    display_name: str | None = None,
    member: Member | None = None,
    now: datetime | None = None,
) -> NewInvite:
    """Make a code. With ``member`` the code links another platform account to that member."""
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InvalidInput(N_("An invitation must last between 1 minute and 90 days."))
    if member is not None:
        if actor.member_id != member.id:
            actor.ensure_can_manage(Role(member.role), member.state_code)
        role, state_code = Role(member.role), member.state_code
    else:
        actor.ensure_can_grant(role, state_code)
        if role is not Role.SECRETARIAT and state_code is None:
            raise InvalidInput(N_("Members other than the Secretariat need a state."))
        if role is Role.SECRETARIAT:
            state_code = None
    if display_name is not None:  # checked now, as the name of the member the code will create
        display_name = check_line(display_name.strip(), NAME_LENGTH) or None
    now = now or utcnow()
    code = _new_code()
    invite = Invite(
        code_hash=_hash(code),
        role=role.value,
        state_code=state_code,
        display_name=display_name,
        member_id=member.id if member else None,
        created_by=actor.name,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await session.flush()
    audit.record(session, actor, "invite.create", invite, after=audit.snapshot(invite))
    return NewInvite(code=code, invite=invite)


async def revoke(session: AsyncSession, code: str, *, reason: str, now: datetime | None = None) -> bool:
    """Make an unused code unusable (e.g. it was posted where others could read it). True if it was live."""
    invite = await session.scalar(select(Invite).where(Invite.code_hash == _hash(code)))
    if invite is None or invite.used_at is not None:
        return False
    before = audit.snapshot(invite)
    invite.used_at = now or utcnow()
    await session.flush()
    audit.record(session, Actor.system("pocnet"), "invite.revoke", invite, before=before,
                 after=audit.snapshot(invite), note=reason)  # fmt: skip
    return True


_CODE_SHAPED = re.compile(rf"(?<![A-Z0-9])[{ALPHABET}]{{4}}-?[{ALPHABET}]{{4}}(?![A-Z0-9])")
MAX_SEEN = 5  # code-shaped words looked up per message


def code_shaped(text: str) -> list[str]:
    """Words of ``text`` that could be invitation codes (``ABCD-EFGH`` or ``ABCDEFGH``), at most MAX_SEEN."""
    found: list[str] = []
    for match in _CODE_SHAPED.finditer(text.upper()):
        if match.group() not in found:
            found.append(match.group())
            if len(found) == MAX_SEEN:
                break
    return found


def record_refusal(session: AsyncSession, *, platform: str, user_id: str, reason: str) -> None:
    """Audit a code that did not open the door (wrong, used, expired, or the sender locked out)."""
    session.add(AuditEvent(actor=f"{platform}:{user_id}"[:100], actor_member_id=None, action="invite.refused",
                           subject_type="invite", subject_id="?", note=reason))  # fmt: skip


async def revoke_open_codes(session: AsyncSession, member: Member, *, now: datetime | None = None) -> int:
    """Make unusable every unused code a member created or that would link to them (on deactivation)."""
    result = await session.execute(
        update(Invite)
        .where(Invite.used_at.is_(None), or_(Invite.created_by == f"member:{member.id}", Invite.member_id == member.id))
        .values(used_at=now or utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class AlreadyRegistered(InviteRefused):
    message = N_("This account is already registered with pocnet. Send /help to see what you can do.")


async def redeem(
    session: AsyncSession,
    code: str,
    *,
    platform: str,
    user_id: str,
    chat_id: str,
    sender_name: str | None,
    language: str | None,
    now: datetime | None = None,
) -> Member:
    """Use a code: returns the member now bound to (platform, user_id). Raises InviteRefused."""
    now = now or utcnow()
    invite = await session.scalar(select(Invite).where(Invite.code_hash == _hash(code)).with_for_update())
    if invite is None:
        raise InviteUnknown()
    if invite.used_at is not None:
        raise InviteUsed()
    if invite.expires_at <= now:
        raise InviteExpired()
    before = audit.snapshot(invite)
    claimed = await session.execute(  # atomic claim: of two simultaneous redemptions only one wins
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteUsed()
    actor = Actor(role=Role(invite.role), state_code=invite.state_code, label=f"invite:{invite.id}")
    if invite.member_id is not None:
        member = await members.get(session, invite.member_id)
    else:
        creator = Actor.system(f"invite:{invite.id}")
        member = await members.create(
            session,
            creator,
            # the platform's display name is whatever the person set there: kept as plain text only
            display_name=invite.display_name
            or clean_line(sender_name or "", NAME_LENGTH)
            or clean_line(user_id, NAME_LENGTH)
            or "?",
            role=Role(invite.role),
            state_code=invite.state_code,
            language=language,
        )
        actor = Actor(role=Role(member.role), state_code=member.state_code, member_id=member.id)
    try:  # the same account redeeming two codes at once: the second finds the account taken
        await members.link_identity(session, actor, member, platform=platform, user_id=user_id, chat_id=chat_id)
    except IntegrityError:
        raise AlreadyRegistered() from None
    invite.used_at = now
    invite.used_by = member.id
    audit.record(session, actor, "invite.redeem", invite, before=before, after=audit.snapshot(invite))
    return member
