"""Members and their platform identities. Every change goes through here and is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage import audit
from storage.access import Actor, Role
from storage.errors import N_, InvalidInput, NotFound
from storage.models import Identity, Member, MemberCompetence
from storage.text import fold


def snapshot(member: Member) -> dict[str, Any]:
    """The audited view of a member: its columns plus its competences, without derived data."""
    values = audit.snapshot(member)
    values.pop("search_key", None)
    values["competences"] = member.competences
    return values


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
    member = Member(
        display_name=display_name.strip(),
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
    if changes.get("away_delegate_id") is not None:
        delegate = await get(session, changes["away_delegate_id"])
        actor.ensure_can_cover(changes.get("state_code", member.state_code), delegate.state_code)
    before = snapshot(member)
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


async def all_members(session: AsyncSession, *, state_code: str | None = None) -> list[Member]:
    query = select(Member).order_by(Member.state_code, Member.id)
    if state_code is not None:
        query = query.where(Member.state_code == state_code)
    return list(await session.scalars(query))
