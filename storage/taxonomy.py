"""The directory's fixed vocabularies, with names in English, Spanish, Portuguese and French.

``FUNCTIONS``: what a person does for the network (their directory role), in the order /whois lists
people. ``COMPETENCES``: the subject matter they handle, with the abbreviations officials type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str
    en: str
    es: str
    pt: str
    fr: str
    aliases: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        return str(getattr(self, language, self.en))

    @property
    def names(self) -> tuple[str, ...]:
        return (self.en, self.es, self.pt, self.fr)


FUNCTIONS: tuple[Term, ...] = (
    Term(
        "npc",
        "national point of contact",
        "punto de contacto nacional",
        "ponto de contato nacional",
        "point de contact national",
        ("npc", "pcn", "poc"),
    ),
    Term(
        "alternate",
        "alternate point of contact",
        "punto de contacto alterno",
        "ponto de contato suplente",
        "point de contact suppléant",
        ("alternate", "alterno", "suplente", "suppleant"),
    ),
    Term(
        "central_authority",
        "central authority (mutual legal assistance/extradition)",
        "autoridad central (asistencia jurídica mutua/extradición)",
        "autoridade central (assistência jurídica mútua/extradição)",
        "autorité centrale (entraide judiciaire/extradition)",
        ("ca", "central authority"),
    ),
    Term(
        "fiu",
        "financial intelligence unit",
        "unidad de inteligencia financiera",
        "unidade de inteligência financeira",
        "cellule de renseignement financier",
        ("fiu", "uif", "crf", "coaf"),
    ),
    Term("police", "police", "policía", "polícia", "police"),
    Term("customs", "customs", "aduanas", "alfândega", "douanes", ("aduana",)),
    Term(
        "prosecutor",
        "prosecutor",
        "fiscal",
        "procurador / ministério público",
        "procureur",
        ("ministerio publico", "ministério público", "parquet"),
    ),
    Term("judiciary", "judiciary", "poder judicial", "poder judiciário", "pouvoir judiciaire", ("judge", "juez")),
    Term("other", "other", "otro", "outro", "autre"),
)

COMPETENCES: tuple[Term, ...] = (
    Term(
        "tip",
        "trafficking in persons",
        "trata de personas",
        "tráfico de pessoas",
        "traite des personnes",
        ("tip", "tdp", "human trafficking", "trata", "trafico de personas", "tsh", "traite"),
    ),
    Term(
        "som",
        "migrant smuggling",
        "tráfico ilícito de migrantes",
        "contrabando de migrantes",
        "trafic illicite de migrants",
        ("som", "smuggling", "trafico de migrantes", "contrabando", "passeurs"),
    ),
    Term(
        "firearms",
        "firearms trafficking",
        "tráfico de armas de fuego",
        "tráfico de armas de fogo",
        "trafic d'armes à feu",
        ("firearms", "arms", "guns", "weapons", "armas", "armes", "armas de fuego"),
    ),
    Term(
        "aml",
        "money laundering",
        "lavado de activos",
        "lavagem de dinheiro",
        "blanchiment d'argent",
        ("aml", "ml", "lavado", "lavado de dinero", "blanqueo", "lavagem", "blanchiment", "laundering"),
    ),
    Term("corruption", "corruption", "corrupción", "corrupção", "corruption", ("bribery", "soborno", "suborno")),
    Term(
        "cyber",
        "cybercrime",
        "ciberdelincuencia",
        "crime cibernético",
        "cybercriminalité",
        ("cyber", "cibercrimen", "cibercrime", "ciberdelito", "computer crime", "delitos informaticos"),
    ),
    Term(
        "drugs",
        "drug trafficking / new psychoactive substances",
        "narcotráfico / nuevas sustancias psicoactivas",
        "tráfico de drogas / novas substâncias psicoativas",
        "trafic de drogues / nouvelles substances psychoactives",
        ("drugs", "drogas", "drogues", "narcotics", "narcotrafico", "nps", "nsp", "stupefiants"),
    ),
    Term(
        "assets",
        "asset forfeiture",
        "decomiso de bienes",
        "perda de bens",
        "confiscation des avoirs",
        ("asset recovery", "forfeiture", "decomiso", "extincion de dominio", "confisco", "confiscation", "assets"),
    ),
    Term(
        "mla",
        "mutual legal assistance & extradition",
        "asistencia jurídica mutua y extradición",
        "assistência jurídica mútua e extradição",
        "entraide judiciaire et extradition",
        ("mla", "mlat", "extradition", "extradicion", "extradicao", "ajm", "entraide", "asistencia judicial"),
    ),
    Term("general", "general", "general", "geral", "général", ("all", "any", "todos")),
)

FUNCTION_BY_CODE = {t.code: t for t in FUNCTIONS}
COMPETENCE_BY_CODE = {t.code: t for t in COMPETENCES}
FUNCTION_RANK = {t.code: n for n, t in enumerate(FUNCTIONS)}
