"""Repositories on both backends: members, identities, invites and the audit trail."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage import audit, invites, members
from storage.access import Actor, Role
from storage.db import Database
from storage.errors import AccessDenied
from storage.models import AuditEvent, Invite
from storage.types import utcnow

CLI = Actor.system("cli:test")


async def _redeem(db: Database, code: str, user: str, **kw: object):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await invites.redeem(
            session,
            code,
            platform="telegram",
            user_id=user,
            chat_id=user,
            sender_name=f"Name {user}",
            language=None,
            **kw,  # type: ignore[arg-type]
        )


async def test_invite_create_redeem_reuse_expiry(db: Database) -> None:
    async with db.transaction() as session:
        new = await invites.create(session, CLI, role=Role.CONTACT, state_code="MX", display_name="Ana Pérez")
    assert len(invites.normalize(new.code)) == invites.CODE_LENGTH

    member = await _redeem(db, new.code.lower().replace("-", " "), "1001")  # forgiving about case and dashes
    assert (member.display_name, member.role, member.state_code) == ("Ana Pérez", "contact", "MX")

    with pytest.raises(invites.InviteUsed):
        await _redeem(db, new.code, "1002")

    async with db.transaction() as session:
        old = await invites.create(
            session, CLI, role=Role.OFFICIAL, state_code="MX", ttl=timedelta(hours=1), now=utcnow() - timedelta(hours=2)
        )
    with pytest.raises(invites.InviteExpired):
        await _redeem(db, old.code, "1003")
    with pytest.raises(invites.InviteUnknown):
        await _redeem(db, "ZZZZ-ZZZZ", "1004")

    async with db.transaction() as session:
        bound = await members.by_identity(session, "telegram", "1001")
        assert bound is not None and bound.id == member.id
        assert await members.by_identity(session, "telegram", "1002") is None
        stored = await session.scalar(select(Invite).where(Invite.id == new.invite.id))
        assert stored is not None and stored.used_by == member.id
        assert new.code not in str(stored.code_hash)  # only a hash is kept


async def test_link_code_binds_a_second_platform_to_the_same_member(db: Database) -> None:
    async with db.transaction() as session:
        new = await invites.create(session, CLI, role=Role.CONTACT, state_code="BR")
    member = await _redeem(db, new.code, "2001")
    actor = Actor(Role.CONTACT, "BR", member.id)
    async with db.transaction() as session:
        me = await members.get(session, member.id)
        link = await invites.create(session, actor, role=Role.CONTACT, state_code="BR", member=me)
    async with db.transaction() as session:
        linked = await invites.redeem(
            session,
            link.code,
            platform="matrix",
            user_id="@br:localhost",
            chat_id="!room",
            sender_name=None,
            language=None,
        )
        assert linked.id == member.id
        assert sorted(i.platform for i in linked.identities) == ["matrix", "telegram"]


async def test_only_one_of_two_simultaneous_redemptions_wins(db: Database) -> None:
    async with db.transaction() as session:
        new = await invites.create(session, CLI, role=Role.CONTACT, state_code="CL")
    results = await asyncio.gather(_redeem(db, new.code, "3001"), _redeem(db, new.code, "3002"), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results


async def test_identity_is_unique_per_platform_account(db: Database) -> None:
    async with db.transaction() as session:
        a = await members.create(session, CLI, display_name="A", role=Role.CONTACT, state_code="PE")
        await members.link_identity(session, CLI, a, platform="telegram", user_id="42", chat_id="42")
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            b = await members.create(session, CLI, display_name="B", role=Role.CONTACT, state_code="PE")
            await members.link_identity(session, CLI, b, platform="telegram", user_id="42", chat_id="42")


async def test_an_account_follows_the_private_chat_it_writes_from(db: Database) -> None:
    async with db.transaction() as session:
        a = await members.create(session, CLI, display_name="A", role=Role.CONTACT, state_code="PE")
        identity = await members.link_identity(session, CLI, a, platform="matrix", user_id="@a:hs", chat_id="!old:hs")
        assert not await members.follow_private_chat(session, a, "matrix", "@a:hs", "!old:hs")  # same chat
        assert not await members.follow_private_chat(session, a, "matrix", "@b:hs", "!new:hs")  # not their account
        assert await members.follow_private_chat(session, a, "matrix", "@a:hs", "!new:hs")
    async with db.transaction() as session:
        events = await audit.events_for(session, "identity", str(identity.id))
        again = await members.by_identity(session, "matrix", "@a:hs")
    assert again is not None and again.identities[0].chat_id == "!new:hs"
    assert [e.action for e in events] == ["identity.link", "identity.chat"]
    assert events[1].before["chat_id"] == "!old:hs" and events[1].after["chat_id"] == "!new:hs"
    assert events[1].actor == f"member:{a.id}"


async def test_every_membership_change_is_audited_with_before_and_after(db: Database) -> None:
    async with db.transaction() as session:
        m = await members.create(session, CLI, display_name="Carlos", role=Role.OFFICIAL, state_code="CO")
        await members.update(session, CLI, m, institution="Fiscalía")
        await members.set_active(session, CLI, m, False)
        await members.update(session, CLI, m, institution="Fiscalía")  # no change: no event
    async with db.transaction() as session:
        events = await audit.events_for(session, "member", str(m.id))
    assert [e.action for e in events] == ["member.create", "member.update", "member.update"]
    assert events[0].before is None and events[0].after["display_name"] == "Carlos"
    assert events[1].before["institution"] is None and events[1].after["institution"] == "Fiscalía"
    assert events[2].before["active"] is True and events[2].after["active"] is False
    assert all(e.actor == "cli:test" for e in events)
    assert all(e.at.tzinfo is not None for e in events)


async def test_state_scope_is_enforced_by_the_repository(db: Database) -> None:
    mx_contact = Actor(Role.CONTACT, "MX", member_id=None, label="member:x")
    async with db.transaction() as session:
        await invites.create(session, mx_contact, role=Role.OFFICIAL, state_code="MX")  # own state: fine
        with pytest.raises(AccessDenied):
            await invites.create(session, mx_contact, role=Role.OFFICIAL, state_code="AR")
        with pytest.raises(AccessDenied):
            await invites.create(session, mx_contact, role=Role.CONTACT, state_code="MX")
        ar_official = await members.create(session, CLI, display_name="X", role=Role.OFFICIAL, state_code="AR")
        with pytest.raises(AccessDenied):
            await members.set_active(session, mx_contact, ar_official, False)
        count = len(list(await session.scalars(select(AuditEvent).where(AuditEvent.actor == "member:x"))))
    assert count == 1  # only the allowed invite was recorded
