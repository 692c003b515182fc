"""Members and their platform identities. Every change goes through here and is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from storage import audit
from storage.access import Actor, Role
from storage.errors import N_, InvalidInput, NotFound, PocnetError
from storage.models import Identity, Member, MemberCompetence
from storage.text import check_line, fold
from storage.types import utcnow


def snapshot(member: Member) -> dict[str, Any]:
    """The audited view of a member: its columns plus its competences, without derived data."""
    values = audit.snapshot(member)
    for bookkeeping in ("search_key", "version", "updated_at"):  # derived, or changed by every update
        values.pop(bookkeeping, None)
    values["competences"] = member.competences
    return values


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """Text values of a member as they will be stored: single-line plain text no longer than its column
    (the schema is the one place the limits live; chat, CLI and CSV import all arrive here)."""
    for key, value in values.items():
        column = Member.__table__.columns.get(key)
        if isinstance(value, str) and column is not None and isinstance(column.type, String) and column.type.length:
            values[key] = check_line(value.strip(), column.type.length)
    return values


NO_STATE = N_("The OAS Secretariat does not belong to a state.")


class Conflict(PocnetError):
    message = N_("Someone else changed this entry at the same moment. Please look at it again and redo your change.")


async def claim(session: AsyncSession, member: Member) -> None:
    """Take the member's row for this transaction before changing it: its version goes up by one, on
    condition that it is still the version this transaction read. Another process's edit in between
    (or at the same moment: the row lock makes it wait) raises Conflict rather than being undone."""
    member.version = member.version + 1
    member.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict() from None


def derive(member: Member) -> None:
    member.search_key = fold(f"{member.display_name} {member.institution or ''}")


def set_competences(member: Member, codes: list[str]) -> None:
    wanted = set(codes)
    member.competence_rows = [row for row in member.competence_rows if row.competence in wanted]
    have = {row.competence for row in member.competence_rows}
    member.competence_rows.extend(MemberCompetence(competence=code) for code in sorted(wanted - have))


async def by_identity(session: AsyncSession, platform: str, user_id: str) -> Member | None:
    """The member behind a platform account (active or not), or None for a stranger."""
    # One query with joins rather than the default select-in loads: this runs for every message.
    result = await session.scalars(
        select(Member)
        .join(Identity)
        .where(Identity.platform == platform, Identity.user_id == user_id)
        .options(joinedload(Member.identities), joinedload(Member.competence_rows))
    )
    return result.unique().one_or_none()


async def get(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound(N_("No member with id {id}."), id=member_id)
    return member


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    display_name: str,
    role: Role,
    state_code: str | None,
    **fields: Any,
) -> Member:
    actor.ensure_can_grant(role, state_code)
    if role is not Role.SECRETARIAT and state_code is None:
        raise InvalidInput(N_("Members other than the Secretariat need a state."))
    competences = fields.pop("competences", [])
    fields = _checked({**fields, "display_name": display_name})
    if not fields["display_name"]:
        raise InvalidInput(N_("This field cannot be empty."))
    member = Member(
        role=role.value,
        state_code=None if role is Role.SECRETARIAT else state_code,
        competence_rows=[],
        identities=[],
        **fields,
    )
    set_competences(member, competences)
    derive(member)
    session.add(member)
    await session.flush()
    await session.refresh(member, ["state"])
    audit.record(session, actor, "member.create", member, after=snapshot(member))
    return member


async def update(session: AsyncSession, actor: Actor, member: Member, **changes: Any) -> Member:
    """Change fields of a member. Members may edit themselves; others need management rights."""
    if actor.member_id != member.id:
        actor.ensure_can_manage(Role(member.role), member.state_code)
    changes = _checked(changes)
    role, state = Role(changes.get("role", member.role)), changes.get("state_code", member.state_code)
    if role is Role.SECRETARIAT and state is not None:  # it would then show in that state's /whois
        raise InvalidInput(NO_STATE)
    if changes.get("away_delegate_id") is not None:
        delegate = await get(session, changes["away_delegate_id"])
        actor.ensure_can_cover(changes.get("state_code", member.state_code), delegate.state_code)
    before = snapshot(member)
    await claim(session, member)
    for key, value in changes.items():
        if key == "competences":
            set_competences(member, value)
        else:
            setattr(member, key, value)
    derive(member)
    await session.flush()
    if "state_code" in changes:
        await session.refresh(member, ["state"])
    after = snapshot(member)
    if after != before:
        audit.record(session, actor, "member.update", member, before=before, after=after)
    return member


def check_can_set_active(actor: Actor, member: Member) -> None:
    if actor.member_id == member.id:
        raise InvalidInput(N_("You cannot change your own activation."))
    actor.ensure_can_manage(Role(member.role), member.state_code)


async def set_active(session: AsyncSession, actor: Actor, member: Member, active: bool) -> Member:
    check_can_set_active(actor, member)
    if not active:  # codes they made (or that would link to them) must not let anyone in after them
        from storage.invites import revoke_open_codes

        await revoke_open_codes(session, member)
    return await update(session, actor, member, active=active)


async def link_identity(
    session: AsyncSession, actor: Actor, member: Member, *, platform: str, user_id: str, chat_id: str
) -> Identity:
    identity = Identity(platform=platform, user_id=user_id, chat_id=chat_id, member_id=member.id)
    session.add(identity)
    await session.flush()
    audit.record(session, actor, "identity.link", identity, after=audit.snapshot(identity))
    await session.refresh(member, ["identities"])
    return identity


async def follow_private_chat(session: AsyncSession, member: Member, platform: str, user_id: str, chat_id: str) -> bool:
    """Point the member's account at the private chat they last wrote from: a Matrix user may open a new
    direct room and leave the old one, and what pocnet sends them must follow. Audited; True when it moved."""
    identity = next((i for i in member.identities if i.platform == platform and i.user_id == user_id), None)
    if identity is None or identity.chat_id == chat_id:
        return False
    before = audit.snapshot(identity)
    identity.chat_id = chat_id
    await session.flush()
    audit.record(session, Actor.of(member), "identity.chat", identity, before=before, after=audit.snapshot(identity))
    return True


async def all_members(session: AsyncSession, *, state_code: str | None = None) -> list[Member]:
    query = select(Member).order_by(Member.state_code, Member.id)
    if state_code is not None:
        query = query.where(Member.state_code == state_code)
    return list(await session.scalars(query))
