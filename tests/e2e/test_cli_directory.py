"""``pocnet directory …`` as the Secretariat's IT officer uses it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.test_cli import config, pocnet


def _ready(tmp_path: Path) -> Path:
    cfg = config(tmp_path, tmp_path / "dir.sqlite")
    assert pocnet("--config", str(cfg), "db", "upgrade").returncode == 0
    return cfg


def test_add_set_verify_export_and_deactivate(tmp_path: Path) -> None:
    cfg = _ready(tmp_path)
    c = ["--config", str(cfg), "directory"]
    added = pocnet(*c, "add", "--state", "Mexique", "--function", "UIF", "--name", "Ana Pérez")
    assert added.returncode == 0, added.stderr
    member_id = added.stdout.strip()
    assert pocnet(*c, "set", member_id, "competences", "TIP,", "lavado").returncode == 0
    assert pocnet(*c, "set", member_id, "hours", "lun-vie", "9-17").returncode == 0
    assert pocnet(*c, "verify", member_id).returncode == 0
    csv_out = pocnet(*c, "export").stdout
    assert f"{member_id},MX,Ana Pérez,fiu,official,,,,mon-fri 09:00-17:00,aml;tip," in csv_out
    vcf = tmp_path / "book.vcf"
    assert pocnet(*c, "export", "--format", "vcf", "--output", str(vcf)).returncode == 0
    assert "FN:Ana Pérez" in vcf.read_text()
    assert pocnet(*c, "deactivate", member_id).returncode == 0
    assert "false" in pocnet(*c, "export").stdout.splitlines()[1]
    assert "\r" not in pocnet(*c, "export").stderr  # no progress bar when not on a terminal

    bad = pocnet(*c, "set", member_id, "function", "wizard")
    assert bad.returncode == 2 and "Unknown function" in bad.stderr
    missing = pocnet(*c, "verify", "999")
    assert missing.returncode == 2 and "No member with id 999" in missing.stderr


def test_import_reports_every_bad_row_and_imports_nothing(tmp_path: Path) -> None:
    cfg = _ready(tmp_path)
    c = ["--config", str(cfg), "directory"]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,state,email\nGood,MX,good@example.org\nBad,Atlantis,nope\n,PE,\n", encoding="utf-8")
    result = pocnet(*c, "import", str(bad))
    assert result.returncode == 2
    assert "row 3: state" in result.stderr and "row 3: email" in result.stderr and "row 4: name" in result.stderr
    assert "nothing was changed" in result.stderr and "Traceback" not in result.stderr
    assert pocnet(*c, "export").stdout.count("\n") == 1  # header only

    good = tmp_path / "good.csv"
    good.write_text("name,state,function\nGood Person,MX,fiu\nOther Person,BR,police\n", encoding="utf-8")
    imported = pocnet(*c, "import", str(good))
    assert imported.returncode == 0 and "2 added, 0 updated" in imported.stdout
    assert pocnet(*c, "import", str(tmp_path / "absent.csv")).returncode == 2


def test_the_cli_refuses_names_that_chat_and_import_refuse(tmp_path: Path) -> None:
    cfg = _ready(tmp_path)
    c = ["--config", str(cfg), "directory"]
    for name, reason in [
        ("A" * 201, "at most 200 characters"),
        ("Ana\rPérez", "plain text"),
        ("\u202eAna", "plain text"),
    ]:
        result = pocnet(*c, "add", "--state", "MX", "--function", "fiu", "--name", name)
        assert result.returncode == 2 and reason in result.stderr and "Traceback" not in result.stderr
    assert pocnet(*c, "add", "--state", "MX", "--function", "fiu", "--name", "A" * 200).returncode == 0
    exported = tmp_path / "out.csv"
    assert pocnet(*c, "export", "--output", str(exported)).returncode == 0
    assert pocnet(*c, "import", str(exported)).returncode == 0  # what the CLI adds, a backup restores


def test_cli_exports_are_audited_under_the_login_name_not_user(tmp_path: Path) -> None:
    import pwd
    import sqlite3

    cfg = _ready(tmp_path)
    c = ["--config", str(cfg), "directory"]
    assert pocnet(*c, "export", env={"USER": "someone-else", "LOGNAME": "someone-else"}).returncode == 0
    rows = (
        sqlite3.connect(tmp_path / "dir.sqlite")
        .execute("SELECT actor, note FROM audit_event WHERE action = 'directory.export'")
        .fetchall()
    )
    assert rows == [(f"cli:{pwd.getpwuid(os.getuid()).pw_name}", "csv, 0 entries")]


def test_import_reads_semicolon_files_and_counts_cells_of_short_rows(tmp_path: Path) -> None:
    cfg = _ready(tmp_path)
    c = ["--config", str(cfg), "directory"]
    spanish = tmp_path / "es.csv"  # what a spreadsheet saves in Spanish, Portuguese or French settings
    spanish.write_text("name;state;function\nAna Pérez;MX;fiu\nJoão Silva;BR;police\n", encoding="utf-8")
    imported = pocnet(*c, "import", str(spanish))
    assert imported.returncode == 0 and "2 added, 0 updated" in imported.stdout, imported.stderr
    short = tmp_path / "short.csv"
    short.write_text("name,state,function\nShort Row\nFine,PE,police\n", encoding="utf-8")
    result = pocnet(*c, "import", str(short))
    assert result.returncode == 2
    assert "row 2: 1 cell, 3 expected (one per column)" in result.stderr
    assert "not imported, 1 problem (nothing was changed)" in result.stderr
