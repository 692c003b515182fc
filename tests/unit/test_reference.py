"""The 35 OAS member states: codes, names in four languages from the CLDR, aliases, time zones."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from storage.reference import OAS_MEMBERS, state_rows


def test_all_35_member_states_with_four_names_and_valid_zones() -> None:
    rows = {row["code"]: row for row in state_rows()}
    assert len(rows) == 35
    assert {"US", "CA", "MX", "BR", "AR", "HT", "SR", "KN", "VC", "TT"} <= set(rows)
    for code, row in rows.items():
        assert len(code) == 2 and code.isupper()
        for lang in ("en", "es", "pt", "fr"):
            assert row[f"name_{lang}"], (code, lang)
        ZoneInfo(str(row["default_timezone"]))
        assert row["default_timezone"] in row["timezones"]  # type: ignore[operator]
    assert rows["MX"]["name_es"] == "México" and rows["MX"]["name_fr"] == "Mexique"
    assert rows["BR"]["name_pt"] == "Brasil" and rows["US"]["name_es"] == "Estados Unidos"
    assert rows["US"]["default_timezone"] == "America/New_York"
    assert rows["BR"]["default_timezone"] == "America/Sao_Paulo"


def test_common_aliases_are_present() -> None:
    for code, alias in [
        ("US", "USA"),
        ("US", "EEUU"),
        ("US", "EUA"),
        ("KN", "Saint Kitts and Nevis"),
        ("TT", "Trinidad and Tobago"),
        ("MX", "Méjico"),
        ("VC", "Saint Vincent and the Grenadines"),
    ]:
        assert alias in OAS_MEMBERS[code]
