"""Reference data: the 35 OAS member states.

Names in English, Spanish, Portuguese and French come from the Unicode CLDR through Babel; time zones
from CLDR's territory → zone table. What CLDR cannot know is kept here: the zone of the seat of
government for states that span several, and the names people actually type (acronyms, long forms,
older spellings).
"""

from __future__ import annotations

from babel import Locale
from babel.core import get_global
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import State

LANGUAGES = ("en", "es", "pt", "fr")

# ISO 3166-1 alpha-2 → ISO alpha-3 and the aliases people use. All 35 member states of the OAS.
OAS_MEMBERS: dict[str, tuple[str, ...]] = {
    "AG": ("ATG", "Antigua", "Antigua and Barbuda"),
    "AR": ("ARG", "República Argentina", "Argentine Republic"),
    "BS": ("BHS", "The Bahamas", "Commonwealth of The Bahamas"),
    "BB": ("BRB",),
    "BZ": ("BLZ", "Belice"),
    "BO": ("BOL", "Estado Plurinacional de Bolivia", "Plurinational State of Bolivia"),
    "BR": ("BRA", "Brazil", "República Federativa do Brasil"),
    "CA": ("CAN",),
    "CL": ("CHL", "República de Chile"),
    "CO": ("COL", "República de Colombia"),
    "CR": ("CRI",),
    "CU": ("CUB",),
    "DM": ("DMA", "Commonwealth of Dominica"),
    "DO": ("DOM", "Dominican Rep.", "RD", "Rep. Dominicana"),
    "EC": ("ECU",),
    "SV": ("SLV", "Salvador"),
    "GD": ("GRD", "Granada"),
    "GT": ("GTM",),
    "GY": ("GUY", "Guayana"),
    "HT": ("HTI", "Haïti"),
    "HN": ("HND",),
    "JM": ("JAM",),
    "MX": ("MEX", "Méjico", "Estados Unidos Mexicanos", "United Mexican States"),
    "NI": ("NIC",),
    "PA": ("PAN",),
    "PY": ("PRY",),
    "PE": ("PER",),
    "KN": ("KNA", "Saint Kitts and Nevis", "St Kitts", "St. Kitts", "Saint Kitts", "Saint Christopher and Nevis"),
    "LC": ("LCA", "Saint Lucia", "St Lucia", "Santa Lucía"),
    "VC": ("VCT", "Saint Vincent and the Grenadines", "St Vincent", "Saint Vincent", "San Vicente"),
    "SR": ("SUR", "Surinam"),
    "TT": ("TTO", "Trinidad and Tobago", "Trinidad", "T&T"),
    "US": ("USA", "United States of America", "EEUU", "EE.UU.", "EUA", "E.U.A.", "U.S.", "U.S.A.", "America"),
    "UY": ("URY", "República Oriental del Uruguay"),
    "VE": ("VEN", "República Bolivariana de Venezuela", "Bolivarian Republic of Venezuela"),
}

# Seat of government, for states CLDR lists with more than one zone.
CAPITAL_ZONE: dict[str, str] = {
    "AR": "America/Argentina/Buenos_Aires",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "MX": "America/Mexico_City",
    "US": "America/New_York",
}


def state_rows() -> list[dict[str, object]]:
    """One dict per member state, ready to upsert."""
    zones = get_global("territory_zones")
    names = {lang: Locale(lang).territories for lang in LANGUAGES}
    rows = []
    for code, aliases in OAS_MEMBERS.items():
        tzs = sorted(zones[code])
        default = CAPITAL_ZONE.get(code, tzs[0])
        if len(tzs) > 1 and code not in CAPITAL_ZONE:
            raise RuntimeError(f"{code} spans several zones; add its capital to CAPITAL_ZONE")
        rows.append(
            {
                "code": code,
                **{f"name_{lang}": names[lang][code] for lang in LANGUAGES},
                "aliases": list(aliases),
                "timezones": tzs,
                "default_timezone": default,
                "is_member": True,
            }
        )
    return rows


async def sync_states(session: AsyncSession) -> int:
    """Insert or refresh the member states; observers added by the Secretariat are left alone."""
    existing = {s.code: s for s in (await session.scalars(select(State))).all()}
    for row in state_rows():
        state = existing.get(str(row["code"]))
        if state is None:
            session.add(State(**row))
        else:
            for key, value in row.items():
                setattr(state, key, value)
    return len(OAS_MEMBERS)
