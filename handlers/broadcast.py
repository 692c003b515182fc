"""Announcements by the Secretariat: /announce (one line, or step by step), /deliveries.

/announce to:all ack en: Meeting on Friday | es: Reunión el viernes
/announce to:CO,PE role:contact The questionnaire is due on 31 March
/announce                                   (asks: audience → text per language → file → confirm)
/deliveries [<number>]                      (counts, and who is missing, by state)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from bot.commands import MESSAGE_LIMIT, command
from bot.context import Context
from bot.dialogs import dialog, on_confirm
from bot.transports.base import Incoming
from handlers import announce_later as later
from handlers.relay import keep_file
from handlers.relay_status import ACKNOWLEDGED, DELIVERED, FAILED, NO_ACCOUNT, QUEUED, status_of
from storage import announcements, relays
from storage.access import Role
from storage.announcements import Audience, Draft
from storage.errors import N_, InvalidInput, NotFound
from storage.models import Relay, StoredFile
from storage.text import fold

DIALOG = "announce"
_DONE = {"done", "listo", "pronto", "fini", "ok", "no", "nao", "non"}
AUDIENCE_QUESTION = N_(
    "Who is it for? to:all, to:<states> (to:CO,PE), topic:<topic>, role:<contact|official>, combined as you "
    "like; add “ack” to ask for acknowledgement. /cancel stops."
)


def _draft(data: dict[str, Any]) -> Draft:
    return Draft(Audience(**data["audience"]), dict(data["texts"]), bool(data["ack"]))


async def _ask_to_confirm(ctx: Context, draft: Draft, file_id: int | None, at: str | None = None) -> None:
    announcements.check(draft, ctx.settings.relay.max_length)
    ids = draft.audience.member_ids(await ctx.snapshot(), ctx.who.id)
    if not ids:
        raise InvalidInput(N_("No active member matches that audience."))
    people = await announcements.recipients(ctx.session, ids)
    plan = announcements.plan(people, draft.texts, ctx.settings.bot.default_language)
    if not plan.reachable:
        raise InvalidInput(N_("None of them has linked a chat account yet, so pocnet cannot reach them."))
    platforms = ", ".join(f"{n} {name.capitalize()}" for name, n in plan.platforms.most_common())
    languages = ", ".join(f"{lang or ctx.language}: {n}" for lang, n in plan.languages.most_common())
    lines = [
        ctx.ngettext(
            "Send announcement to {n} member ({platforms})?",
            "Send announcement to {n} members ({platforms})?",
            len(plan.reachable),
        ).format(n=len(plan.reachable), platforms=platforms),
        ctx._(N_("Languages: {languages}.")).format(languages=languages),
    ]
    if plan.unreachable:
        lines.append(
            ctx._(N_("{n} more have no linked chat account and will not receive it.")).format(n=len(plan.unreachable))
        )
    if at is not None:  # scheduled: when it goes out (checked now, and again on "yes")
        lines.append(later.describe(ctx, later.parse_when(at, ctx.who.timezone, ctx.now())))
    payload = {"audience": vars(draft.audience), "texts": draft.texts, "ack": draft.ack, "file": file_id, "at": at}
    await ctx.confirm("\n".join(lines), "announce.send", payload)


@command(
    "announce",
    help=N_("Announce to the whole network or part of it"),
    usage=N_("to:all|<states>|topic:<topic>|role:<role> [ack] <text>"),
    roles={Role.SECRETARIAT},
    aliases=("anunciar", "annoncer"),
    max_arguments=MESSAGE_LIMIT,
)
async def announce(msg: Incoming, ctx: Context) -> None:
    if len(ctx.args) > 4 * ctx.settings.relay.max_length + 2000:  # before any parsing
        raise InvalidInput(N_("The text is {length} characters long; an announcement holds at most {limit}."),
                           length=len(ctx.args), limit=ctx.settings.relay.max_length)  # fmt: skip
    if not ctx.args.strip():
        await ctx.open_dialog(DIALOG, step="audience")
        ctx.reply(ctx._(AUDIENCE_QUESTION))
        return
    at, args = later.split_at(ctx.args)  # "at:<when>" first: a scheduled announcement
    words = args.split(" ")
    audience, ack, used = announcements.parse_audience_words(await ctx.snapshot(), [w for w in words if w][:40])
    rest = args.strip()
    for _ in range(used):  # drop the audience words, keep the text as written
        rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
    file = await keep_file(ctx, msg.attachment)
    await _ask_to_confirm(ctx, Draft(audience, announcements.split_texts(rest), ack), file.id if file else None, at)


@dialog(DIALOG)
async def compose(msg: Incoming, ctx: Context) -> None:
    assert ctx.dialog is not None
    data = dict(ctx.dialog.data)
    answer = ctx.args.strip()
    if ctx.dialog.step == "audience":
        words = answer.split()
        audience, ack, used = announcements.parse_audience_words(await ctx.snapshot(), words)
        if used < len(words) or audience.empty:
            raise InvalidInput(AUDIENCE_QUESTION)
        await ctx.open_dialog(DIALOG, step="text", data={"audience": vars(audience), "ack": ack, "texts": {}})
        ctx.reply(ctx._(N_("The text. To give it in several languages, start each with en:, es:, pt: or fr:.")))
    elif ctx.dialog.step == "text":
        texts = dict(data["texts"])
        if texts and fold(answer) in _DONE:
            await ctx.open_dialog(DIALOG, step="file", data=data)
            ctx.reply(ctx._(N_("Attach a file to go with it, or answer “no”.")))
            return
        given = announcements.split_texts(answer)
        if not given:
            raise InvalidInput(N_("The announcement has no text. Write it after the audience."))
        texts.update(given)
        announcements.check(Draft(Audience(everyone=True), texts), ctx.settings.relay.max_length)
        data["texts"] = texts
        await ctx.open_dialog(DIALOG, step="text", data=data)
        ctx.reply(ctx._(N_("Noted ({languages}). Another language (e.g. “es: …”), or “done”.")).format(
            languages=", ".join(lang or "*" for lang in texts)))  # fmt: skip
    else:
        file = await keep_file(ctx, msg.attachment)
        if file is None and fold(answer) not in _DONE:
            raise InvalidInput(N_("Attach a file to go with it, or answer “no”."))
        await _ask_to_confirm(ctx, _draft(data), file.id if file else None)


@on_confirm("announce.send")
async def confirmed(msg: Incoming, ctx: Context, data: dict[str, Any]) -> None:
    file = await ctx.session.get(StoredFile, data["file"]) if data.get("file") else None
    if data.get("at"):
        await later.confirmed(ctx, _draft(data), data["at"], file)
        return
    relay, plan = await announcements.send(
        ctx.session, ctx.as_actor, ctx.me, _draft(data), await ctx.snapshot(), now=ctx.now(),
        default_language=ctx.settings.bot.default_language, file=file,
    )  # fmt: skip
    ctx.reply(
        ctx._(N_("Announcement #{number} is going out to {n} members. You will get a report when it has gone out; "
                 "/deliveries {number} shows progress.")).format(number=relay.id, n=len(plan.reachable))
    )  # fmt: skip


# --- /deliveries ----------------------------------------------------------------------------------------


def summary(ctx: Context, relay: Relay) -> str:
    counts = Counter(status_of(copy) for copy in relay.copies)
    text = ctx._(N_("#{number} · {audience} · {sent} sent, {failed} failed, {queued} queued")).format(
        number=relay.id, audience=relay.audience, sent=counts[DELIVERED] + counts[ACKNOWLEDGED],
        failed=counts[FAILED], queued=counts[QUEUED],
    )  # fmt: skip
    if relay.ack:
        text += " · " + ctx._(N_("{acked} of {total} acknowledged")).format(
            acked=counts[ACKNOWLEDGED], total=len(relay.copies)
        )
    return text


@command(
    "deliveries",
    help=N_("What became of announcements: counts, and who is missing by state"),
    usage=N_("[<number>]"),
    roles={Role.SECRETARIAT},
    aliases=("entregas", "livraisons"),
)
async def deliveries(msg: Incoming, ctx: Context) -> None:
    if not ctx.args.strip():
        rows = list(await ctx.session.scalars(
            select(Relay).where(Relay.mode == "announce").order_by(Relay.id.desc()).limit(10)))  # fmt: skip
        if not rows:
            ctx.reply(ctx._(N_("No announcements yet. /announce sends one.")))
            return
        ctx.reply("\n".join([ctx._(N_("Recent announcements (/deliveries <number> for who is missing):")),
                             *(summary(ctx, r) for r in rows)]))  # fmt: skip
        return
    number = relays.number_in(ctx.args)
    if number is None:
        raise InvalidInput(N_("Announcement numbers look like 12 or #12."))
    relay = await ctx.session.get(Relay, number)
    if relay is None or relay.mode != "announce":
        raise NotFound(N_("There is no announcement #{number}."), number=number)
    missing: defaultdict[str, list[str]] = defaultdict(list)
    for copy in relay.copies:
        status = status_of(copy)
        if status in (FAILED, QUEUED, NO_ACCOUNT) or (relay.ack and status != ACKNOWLEDGED):
            missing[copy.member.state_code or "OAS"].append(f"{copy.member.display_name} ({ctx._(status)})")
    lines = [summary(ctx, relay)]
    if missing:
        lines.append(ctx._(N_("Missing, by state:")))
        lines += [f"{state}: {', '.join(names)}" for state, names in sorted(missing.items())]
    else:
        lines.append(ctx._(N_("Nobody is missing.")))
    ctx.reply("\n".join(lines))
