"""Looking people up: /whois, /find, /contact, /states, /topics, /functions."""

from __future__ import annotations

from babel.dates import format_date
from rapidfuzz import fuzz, process

from bot.commands import command
from bot.context import Context
from bot.transports.base import Incoming
from handlers.cards import entry_block, entry_card
from handlers.common import reader_zone
from storage.errors import N_, InvalidInput
from storage.lookup import split_state_and_topic
from storage.taxonomy import COMPETENCE_BY_CODE, COMPETENCES, FUNCTIONS
from storage.text import excerpt, whole_number
from storage.types import utcnow
from storage.vocabularies import TOPICS

MAX_LISTED = 10


@command(
    "whois",
    help=N_("Who to reach in a state, best match for a topic first"),
    usage=N_("<state> [topic]"),
    aliases=("quien", "quem", "qui"),
    readonly=True,
)
async def whois(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split()
    if not words:
        raise InvalidInput(N_("Usage: /whois <state> [topic], for example /whois mexico firearms"))
    directory = ctx.directory
    split = split_state_and_topic(directory.state_names, words)
    found = split.state
    if found.code is None:
        _no_state(ctx, words[0], found.candidates, found.suggestions, split.topic_text)
        return
    state = directory.states[found.code]
    topic_code: str | None = None
    notes: list[str] = []
    if found.fuzzy:  # a near name: say what was understood rather than answer for another state silently
        typed = " ".join(words[: len(words) - len(split.topic_text.split())])
        notes.append(
            ctx._("There is no state called “{typed}”; showing {state}.").format(
                typed=excerpt(typed), state=state.name(ctx.language)
            )
        )
    if split.topic_text:
        topic = TOPICS.resolve(split.topic_text)
        if topic.code is None and topic.candidates:
            ctx.reply(
                ctx._("Which topic do you mean?"),
                buttons=tuple(
                    (COMPETENCE_BY_CODE[c].name(ctx.language), f"/whois {state.code} {c}") for c in topic.candidates
                ),
            )
            return
        if topic.code is not None and topic.fuzzy:
            notes.append(
                ctx._("I read the topic “{typed}” as {topic}.").format(
                    typed=excerpt(split.topic_text), topic=COMPETENCE_BY_CODE[topic.code].name(ctx.language)
                )
            )
        if topic.code is None:
            notes.append(
                ctx._("I do not know the topic “{topic}”, so here is everyone. Send /topics for the list.").format(
                    topic=excerpt(split.topic_text)
                )
            )
        topic_code = topic.code
    result = directory.whois(state.code, topic_code, limit=MAX_LISTED)
    name = f"{state.name(ctx.language)} ({state.code})"
    if result.total == 0:
        ctx.reply("\n".join([*notes, ctx._("{state} has no contacts in the directory yet.").format(state=name)]))
        return
    if topic_code and result.matching == 0:
        header = ctx.ngettext(
            "{state}: nobody in the directory handles {topic}. Its only contact:",
            "{state}: nobody in the directory handles {topic}. Its contacts:",
            result.total,
        ).format(state=name, total=result.total, topic=COMPETENCE_BY_CODE[topic_code].name(ctx.language))
    elif topic_code and result.matching == result.total:  # not "1 of 1 contacts handles …"
        every = ctx._("{state}: its only contact handles {topic}.") if result.total == 1 else (
            ctx._("{state}: all {total} contacts handle {topic}."))  # fmt: skip
        header = every.format(state=name, total=result.total, topic=COMPETENCE_BY_CODE[topic_code].name(ctx.language))
    elif topic_code:
        header = ctx.ngettext(
            "{state}: {matching} of {total} contacts handles {topic}; listed first.",
            "{state}: {matching} of {total} contacts handle {topic}; listed first.",
            result.matching,
        ).format(
            state=name,
            matching=result.matching,
            total=result.total,
            topic=COMPETENCE_BY_CODE[topic_code].name(ctx.language),
        )
    else:
        header = ctx.ngettext("{state}: {total} contact.", "{state}: {total} contacts.", result.total).format(
            state=name, total=result.total
        )
    now = utcnow()
    blocks = [entry_block(ctx, m, now, n) for n, m in enumerate(result.members, 1)]
    more = result.total - len(result.members)
    tail = [ctx._("… and {more} more. Add a topic to narrow the list.").format(more=more)] if more > 0 else []
    ctx.reply("\n".join([*notes, header, *blocks, *tail]))


def _no_state(ctx: Context, typed: str, candidates: tuple[str, ...], suggestions: tuple[str, ...], topic: str) -> None:
    states = ctx.directory.states
    if candidates:
        choices = [states[c] for c in candidates]
        ctx.reply(
            ctx._("Which state do you mean?"),
            buttons=tuple((s.name(ctx.language), f"/whois {s.code} {topic}".strip()) for s in choices),
        )
        return
    if suggestions:
        names = [states[c].name(ctx.language) for c in suggestions]
        ctx.reply(
            ctx._("There is no state called “{typed}”. Did you mean: {names}?").format(
                typed=excerpt(typed), names=", ".join(names)
            )
        )
        return
    ctx.reply(ctx._("There is no state called “{typed}”. Send /states for the list.").format(typed=excerpt(typed)))


def _closest_names(ctx: Context, text: str) -> list[str]:
    names = ctx.directory.active_names()
    hits = process.extract(text, names, scorer=fuzz.WRatio, limit=3, score_cutoff=75)
    return [f"{name} (/contact {member_id})" for name, _score, member_id in hits]


@command(
    "find",
    help=N_("Search people by name, institution or topic"),
    usage=N_("<words>"),
    aliases=("buscar",),
    readonly=True,
)
async def find(msg: Incoming, ctx: Context) -> None:
    words = ctx.args.split()
    if not words:
        raise InvalidInput(N_("Usage: /find <words>, for example /find fiscalia cyber"))
    people = ctx.directory.find(words, limit=MAX_LISTED + 1)
    if not people:
        close = _closest_names(ctx, ctx.args)
        text = ctx._("No one found for “{words}”.").format(words=excerpt(ctx.args))
        if close:
            text += "\n" + ctx._("Closest names: {names}").format(names="; ".join(close))
        ctx.reply(text)
        return
    now = utcnow()
    lines = [entry_block(ctx, m, now, n, with_state=True) for n, m in enumerate(people[:MAX_LISTED], 1)]
    if len(people) > MAX_LISTED:
        lines.append(ctx._("More people match; add words to narrow the search."))
    ctx.reply("\n".join(lines))


@command(
    "contact",
    help=N_("One person's full card"),
    usage=N_("<name or id>"),
    aliases=("contacto", "contato"),
    readonly=True,
)
async def contact(msg: Incoming, ctx: Context) -> None:
    text = ctx.args.strip().lstrip("#")
    if not text:
        raise InvalidInput(N_("Usage: /contact <name or id>"))
    number = whole_number(text)
    if number is not None:
        member = ctx.directory.get_active(number)
        people = [member] if member else []
    else:
        people = ctx.directory.find_by_name(text, limit=MAX_LISTED)
    if len(people) == 1:
        ctx.reply(entry_card(ctx, people[0], utcnow()))
        return
    if people:
        ctx.reply(
            ctx._("Several people match. Which one?"),
            buttons=tuple((f"{m.display_name} ({m.state_code or 'OAS'})", f"/contact {m.id}") for m in people),
        )
        return
    close = [] if number is not None else _closest_names(ctx, text)
    reply = ctx._("No one found for “{words}”.").format(words=excerpt(text))
    if close:
        reply += "\n" + ctx._("Closest names: {names}").format(names="; ".join(close))
    ctx.reply(reply)


@command(
    "states",
    help=N_("Member states, their number of contacts and last confirmation"),
    aliases=("estados", "etats"),
    readonly=True,
)
async def states_(msg: Incoming, ctx: Context) -> None:
    lines = [ctx._("Member states (contacts · last confirmed):")]
    zone = reader_zone(ctx)
    for row in ctx.directory.summary():
        confirmed = (  # the date in the reader's time zone, as /confirm shows it
            format_date(row.last_confirmed.astimezone(zone), "medium", locale=ctx.language)
            if row.last_confirmed
            else "—"
        )
        lines.append(f"{row.state.code} {row.state.name(ctx.language)} · {row.contacts} · {confirmed}")
    ctx.reply("\n".join(lines))


@command(
    "topics", help=N_("The topics people handle, with their abbreviations"), aliases=("temas", "sujets"), readonly=True
)
async def topics(msg: Incoming, ctx: Context) -> None:
    lines = [ctx._("Topics (use any of these words in /whois and /find):")]
    for term in COMPETENCES:
        short = ", ".join(a.upper() for a in term.aliases if len(a) <= 3)
        lines.append(f"{term.code} — {term.name(ctx.language)}" + (f" ({short})" if short else ""))
    ctx.reply("\n".join(lines))


@command(
    "functions", help=N_("The functions people hold in the network"), aliases=("funciones", "funcoes"), readonly=True
)
async def functions(msg: Incoming, ctx: Context) -> None:
    lines = [ctx._("Functions:")]
    lines += [f"{term.code} — {term.name(ctx.language)}" for term in FUNCTIONS]
    ctx.reply("\n".join(lines))
