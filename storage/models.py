"""Tables. Alembic (storage/migrations) owns the schema; these classes describe it for the ORM."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class State(Base):
    """An OAS member state (or observer), keyed by ISO 3166-1 alpha-2 code."""

    __tablename__ = "state"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_es: Mapped[str] = mapped_column(String(100))
    name_pt: Mapped[str] = mapped_column(String(100))
    name_fr: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezones: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_timezone: Mapped[str] = mapped_column(String(64))
    is_member: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, language: str) -> str:
        return str(getattr(self, f"name_{language}", None) or self.name_en)


class Member(Base):
    """A person in the network. ``role`` is their access role; ``state_code`` is None for the Secretariat."""

    __tablename__ = "member"
    __table_args__ = (Index("ix_member_state_active", "state_code", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    state_code: Mapped[str | None] = mapped_column(ForeignKey("state.code"), index=True)
    institution: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    # Directory entry (see storage/directory.py and storage/taxonomy.py).
    function: Mapped[str] = mapped_column(String(24), default="other", server_default="other")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    office_hours: Mapped[str | None] = mapped_column(String(64))  # canonical, e.g. "mon-fri 09:00-17:00"
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")  # folded name + institution
    # Away (handlers/away.py): while ``away_until`` is in the future, relays for them go to the delegate.
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    away_delegate_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    # Optimistic concurrency: every UPDATE says "WHERE version = <the version read>" and adds one, so of two
    # processes editing one entry at once the second fails (StaleDataError) instead of silently undoing
    # the first; CSV export carries it, so importing an older file cannot revert a newer edit.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    state: Mapped[State | None] = relationship(lazy="joined")
    identities: Mapped[list[Identity]] = relationship(back_populates="member", lazy="selectin", order_by="Identity.id")
    competence_rows: Mapped[list[MemberCompetence]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MemberCompetence.competence"
    )

    # version_id_generator=False: storage.members (claim) and the CSV import set each new version
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    @property
    def competences(self) -> list[str]:
        return [row.competence for row in self.competence_rows]


class MemberCompetence(Base):
    """A subject a member handles (codes from storage.taxonomy.COMPETENCES)."""

    __tablename__ = "member_competence"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    competence: Mapped[str] = mapped_column(String(24), primary_key=True, index=True)


class Identity(Base):
    """A platform account bound to a member. A member may have one per platform, or several."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[str] = mapped_column(String(255))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="identities")


class Invite(Base):
    """A one-time onboarding code. Only its SHA-256 is stored, never the code itself."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    state_code: Mapped[str | None] = mapped_column(ForeignKey("state.code"))
    display_name: Mapped[str | None] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))  # set: links another platform
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))


class TransportState(Base):
    """What a transport must remember across restarts (e.g. Matrix's sync token and device id)."""

    __tablename__ = "transport_state"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """Who did what, when, with the record before and after. Append-only."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_member_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


class OutboxItem(Base):
    """One message to one recipient on the durable lane (relays, broadcasts, reminders).

    Written in the same transaction as the business change; holds an untranslated message id and its
    parameters, rendered in the recipient's language when sent. ``status``: queued → sending (claimed by a
    sender) → sent (``platform_message_id``, so replies to it can be traced) → acknowledged; or failed
    (``error``)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pick", "platform", "status", "priority", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="text")
    template: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    reference: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. "relay:12"
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))  # sent with the message
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    platform_message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Dialog(Base):
    """An open conversation of one person in one chat (design note §2c): at most one per (platform,
    chat, user). ``kind`` names the dialog (bot.dialogs), ``step`` where it stands, ``data`` what it has
    collected so far."""

    __tablename__ = "dialog"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class StoredFile(Base):
    """A file that travels with messages (a relayed document, an announcement's agenda): kept once,
    uploaded to each recipient's platform when their copy is sent."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Relay(Base):
    """An information-sharing message (handlers/relay.py): a first send, an answer to one (``parent_id``
    is the relay answered) or a forward of one (``parent_id`` is the relay forwarded). The body is kept
    here only; audit events record label, audience and counts, never the body."""

    __tablename__ = "relay"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))  # "send" | "answer" | "forward" | "announce"
    sender_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("relay.id"))
    tlp: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[str] = mapped_column(String(500))  # as the sender wrote it, for /relays
    body: Mapped[str] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Announcements (mode "announce", handlers/broadcast.py): the text per language, whether copies ask to
    # be acknowledged, and when the author was told that every copy had been settled.
    texts: Mapped[dict[str, str] | None] = mapped_column(JSON)
    ack: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sender: Mapped[Member] = relationship(lazy="joined")
    copies: Mapped[list[RelayCopy]] = relationship(
        back_populates="relay", lazy="selectin", order_by="RelayCopy.id", cascade="all, delete-orphan"
    )


class RelayCopy(Base):
    """One recipient of a relay. Its delivery status is its outbox row's; acknowledgement and escalation
    are kept here. ``covers_for_id``: the member this copy stands in for (away, or escalated from)."""

    __tablename__ = "relay_copy"
    __table_args__ = (UniqueConstraint("relay_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    relay_id: Mapped[int] = mapped_column(ForeignKey("relay.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    reason: Mapped[str] = mapped_column(String(12), default="audience")  # audience | away | escalation
    covers_for_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # urgent: escalate if not acked
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    relay: Mapped[Relay] = relationship(back_populates="copies", lazy="joined")
    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")
    outbox: Mapped[OutboxItem | None] = relationship(lazy="joined")


class Round(Base):
    """A reporting round (handlers/figures.py): the figures of one period (``"2025"``: calendar year 2025)
    that the states in its audience owe by ``deadline``. ``indicators``: codes of the catalogue
    (storage/catalogue.py); ``states``: ISO codes, empty for every member state. The reminder plan
    (reminders/) reads ``offsets`` (days before the deadline), then every ``overdue_every`` days after it,
    at most ``overdue_limit`` times, at ``remind_at`` local time."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), unique=True)
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    states: Mapped[list[str]] = mapped_column(JSON, default=list)
    deadline: Mapped[date] = mapped_column(Date)
    offsets: Mapped[list[int]] = mapped_column(JSON, default=lambda: [30, 14, 7, 1])
    overdue_every: Mapped[int] = mapped_column(Integer, default=7)
    overdue_limit: Mapped[int] = mapped_column(Integer, default=4)
    remind_at: Mapped[str] = mapped_column(String(5), default="09:00")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Figure(Base):
    """One version of one figure a state reported in a round. Reporting an indicator again adds a version;
    ``current`` marks the latest. ``value`` is None when the figure is not available (kept apart from 0)."""

    __tablename__ = "figure"
    __table_args__ = (
        UniqueConstraint("round_id", "state_code", "indicator", "version"),
        Index("ix_figure_current", "round_id", "state_code", "current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    state_code: Mapped[str] = mapped_column(ForeignKey("state.code"))
    indicator: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    value: Mapped[int | None] = mapped_column(Integer)
    not_available: Mapped[bool] = mapped_column(Boolean, default=False)
    estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    sentences: Mapped[str | None] = mapped_column(String(200))  # as reported, e.g. "3-15y"
    comment: Mapped[str | None] = mapped_column(Text)  # why a check was overridden, or any remark
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))  # None: the command line
    submitted_by_label: Mapped[str] = mapped_column(String(100))  # audit name ("member:7", "cli:ana")
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)  # the Secretariat entered it for the state
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FigureDraft(Base):
    """What a member entered in the guided /report dialog and has not yet confirmed: kept when the dialog
    times out, offered again when they come back."""

    __tablename__ = "figure_draft"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Meeting(Base):
    """A meeting the Secretariat records (reminders/): members are reminded before the registration
    deadline and before it starts, in their own time zone, with an .ics file. ``states``: empty for all."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))  # the zone it was announced in
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    place: Mapped[str | None] = mapped_column(String(500))  # a place or a link
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    states: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A planned reminder (reminders/): the source of truth the scheduler is rebuilt from. ``key`` names it
    uniquely (``round:3:member:17:d-30``) so planning twice never plans it twice. ``status``: planned →
    sent (in the transaction that queued ``outbox_id``) | skipped (superseded, or no longer owed) |
    cancelled."""

    __tablename__ = "reminder"
    __table_args__ = (
        Index("ix_reminder_due", "status", "due_at"),
        Index("ix_reminder_kind", "kind", "status"),  # a planner reads its own kind's rows, not all 250,000
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # round | meeting | registration | reconfirm | digest | announcement
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    relay_id: Mapped[int | None] = mapped_column(ForeignKey("relay.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(24), default="")  # e.g. "d-30", "overdue-2"
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="planned")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))
