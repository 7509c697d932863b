"""The « Importer des données » page (AppTest, real warehouse files) and its pieces: password hashes,
stored uploads, the import journal, the child process that checks and loads."""
from __future__ import annotations

import ast
import csv
import hashlib
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from etl import imports
from indicators import auth
from tests.conftest import ROOT, query

PASSWORD = "mot-de-passe-de-test-42"
HASH = auth.hash_password(PASSWORD, iterations=auth.MIN_ITERATIONS)   # fast in tests; the command uses 600 000


def version(path) -> str:
    return query(path, "SELECT valeur FROM meta WHERE cle = 'version'")[0][0]


def open_importer(secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    if secrets:
        at.secrets.update(secrets)
    at.run()
    at.switch_page("pages/views/importer.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in(at: AppTest, password: str = PASSWORD, name: str = "Claire Martin") -> AppTest:
    at.text_input[0].set_value(name)
    at.text_input[1].set_value(password)
    at.button[-1].click()      # the form's « Se connecter » (the last button on the page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [e.value for e in at.error] + [s.value for s in at.success]
                    + [i.value for i in at.info] + [c.value for c in at.caption])


# --- pieces ---------------------------------------------------------------------------------------

def test_password_hash_round_trip_and_refusals():
    stored = auth.hash_password("un mot de passe solide", iterations=2000)
    assert stored.startswith("pbkdf2_sha256$2000$")
    assert auth.verify("un mot de passe solide", stored)
    assert not auth.verify("un mot de passe solidE", stored)
    assert not auth.verify("", stored)
    assert not auth.verify("x" * 5000, stored)
    for bad in ("", "md5$1$a$b", "pbkdf2_sha256$abc$AAAAAAAAAAA$AAAA", "pbkdf2_sha256$999999999$AAAAAAAAAAA$" + "A" * 43,
                "pbkdf2_sha256$1000$%%%$AAAA"):
        with pytest.raises(auth.BadHash):
            auth.verify("x", bad)
    assert auth.check_strength("court") and auth.check_strength("aaaaaaaaaaaaaaaa") and not auth.check_strength(PASSWORD)


def test_hash_password_command_prints_a_verifiable_secrets_line():
    out = subprocess.run([sys.executable, "-m", "indicators", "hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n",
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("password_hash = "))
    stored = line.split('"')[1]
    assert auth.parse(stored)[0] == auth.ITERATIONS and auth.verify(PASSWORD, stored)
    weak = subprocess.run([sys.executable, "-m", "indicators", "hash-password"], input="court\ncourt\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert weak.returncode != 0 and "trop court" in weak.stderr and "password_hash" not in weak.stdout


def test_safe_names_keep_the_file_name_without_paths_or_formulas():
    assert imports.safe_name("base_cc_comparateur_2025.csv") == "base_cc_comparateur_2025.csv"
    assert imports.safe_name("../../etc/passwd") == "passwd"
    assert imports.safe_name("C:\\Users\\x\\Données été.xlsx") == "Données été.xlsx"
    assert imports.safe_name("=cmd|' /C calc'!A0.csv") == "C calc_A0.csv"   # "/" separates directories
    assert imports.safe_name("=SUM(A1)+@x.csv") == "SUM(A1)_x.csv"
    assert imports.safe_name("a\x00b;rm -rf.csv") == "ab_rm -rf.csv"
    assert imports.safe_name("") == "fichier" and imports.safe_name("....") == "fichier"
    assert len(imports.safe_name("x" * 5000 + ".csv")) < 120
    assert not imports.extension_ok("rapport.exe") and imports.extension_ok("FLORES.CSV")


def test_page_does_not_import_the_etl_for_visitors():
    """Module level of the page: no `etl` import (visitors keep a light page)."""
    tree = ast.parse((ROOT / "pages" / "views" / "importer.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [a.name for n in top for a in n.names] + [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n == "etl" or n.startswith("etl.")]
    out = subprocess.run([sys.executable, "-c", "import sys, pages.views.importer, indicators.ui; "
                          "print(sorted(m for m in sys.modules if m == 'etl' or m.startswith('etl.')))"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


# --- the page -------------------------------------------------------------------------------------

def test_without_a_password_the_page_explains_and_offers_no_upload(warehouse, use_warehouse):
    use_warehouse(warehouse)
    before = warehouse.read_bytes()
    at = open_importer()
    assert at.title[0].value == "Importer des données"
    text = texts(at)
    assert "désactivé" in text and "python -m indicators hash-password" in text and ".streamlit/secrets.toml" in text
    assert len(at.file_uploader) == 0 and len(at.text_input) == 0
    assert warehouse.read_bytes() == before


def test_a_malformed_hash_disables_the_page(warehouse, use_warehouse):
    use_warehouse(warehouse)
    at = open_importer({"admin": {"password_hash": "pbkdf2_sha256$1$xx$yy"}})
    assert any("empreinte" in e.value and "invalide" in e.value for e in at.error)
    assert len(at.text_input) == 0 and len(at.file_uploader) == 0


def test_a_wrong_password_is_refused(warehouse, use_warehouse):
    use_warehouse(warehouse)
    at = sign_in(open_importer({"admin": {"password_hash": HASH}}), password="pas le bon mot de passe")
    assert any("Mot de passe incorrect" in e.value for e in at.error)
    assert len(at.file_uploader) == 0
    assert not (warehouse.parent / "raw").exists()


def test_a_refused_file_leaves_the_warehouse_byte_identical_and_is_logged(warehouse, use_warehouse):
    use_warehouse(warehouse)
    before = warehouse.read_bytes()
    at = sign_in(open_importer({"admin": {"password_hash": HASH}}))
    assert len(at.file_uploader) == 1
    hostile = b"=HYPERLINK(\"http://x\");@SUM(1)\n'; DROP TABLE facts; --;+1\n"
    name = "=cmd|' /C calc'!A0.csv"
    at = upload(at, name, hostile)
    text = texts(at)
    assert "Fichier refusé" in text and "format de fichier non reconnu" in " ".join(map(str, at.dataframe[0].value.Message))
    assert not [b for b in at.button if b.label == "Charger dans l'entrepôt"], "pas de chargement proposé"
    assert warehouse.read_bytes() == before
    sha = hashlib.sha256(hostile).hexdigest()
    stored = warehouse.parent / "raw" / "imports" / sha / imports.safe_name(name)
    assert stored.read_bytes() == hostile
    with open(warehouse.parent / "raw" / imports.JOURNAL_NAME, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert [(r["action"], r["resultat"], r["sha256"], r["qui"]) for r in rows] == [("contrôle", "refusé", sha, "Claire Martin")]
    assert not rows[0]["detail"].startswith(("=", "+", "-", "@")) and "non reconnu" in rows[0]["detail"]
    assert rows[0]["fichier"] == imports.safe_name(name)


def test_check_confirm_load_then_the_app_reads_the_new_warehouse(warehouse, demo_warehouse, use_warehouse):
    source = ROOT / "data" / "default" / "base_cc_comparateur_2022_extrait.csv"   # embedded open data
    data = source.read_bytes()
    use_warehouse(warehouse)
    old = version(warehouse)
    at = sign_in(open_importer({"admin": {"password_hash": HASH}}))
    at = upload(at, source.name, data)
    assert "Fichier valide" in texts(at) and "base_comparateur" in texts(at)
    load = next(b for b in at.button if b.label == "Charger dans l'entrepôt")
    assert load.disabled, "le chargement attend la confirmation"
    assert version(warehouse) == old
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Charger dans l'entrepôt").click().run()
    assert not at.exception, [e.value for e in at.exception]
    new = version(warehouse)
    assert new != old
    assert query(warehouse, "SELECT count(*) FROM sources WHERE kind = 'base_comparateur' AND sha256 = ?",
                 [hashlib.sha256(data).hexdigest()])[0][0] == 1
    assert any("fichier chargé" in s.value and new[:8] in s.value for s in at.success)
    assert len(at.file_uploader) == 1 and at.file_uploader[0].value is None, "le dépôt est vidé après le chargement"
    # The app picked the new file up by itself: this run's snapshot reads the new version.
    marker = [h for h in at.get("html") if "ti-version" in h.proto.body]
    assert marker and f'data-version="{new}"' in marker[-1].proto.body
    with open(warehouse.parent / "raw" / imports.JOURNAL_NAME, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert [(r["action"], r["resultat"]) for r in rows] == [("contrôle", "vérifié"), ("chargement", "chargé")]
    # Another page of the same session lists the loaded file.
    at.switch_page("pages/views/sources.py").run()
    assert not at.exception
    assert source.name in at.dataframe[0].value["Fichier"].tolist()


def test_child_process_reports_a_killed_load_without_touching_the_warehouse(warehouse, tmp_path):
    """A load stopped by its time limit: French message, warehouse byte-identical."""
    before = warehouse.read_bytes()
    big = tmp_path / "urssaf.csv"
    big.write_text("x" * 10, encoding="utf-8")
    out = imports.run("load", big, warehouse, timeout=0.01)
    assert not out.ok and out.statut == "erreur" and "interrompu" in out.summary()
    assert warehouse.read_bytes() == before


def test_child_process_memory_cap_gives_a_french_message(warehouse, monkeypatch):
    """The child's address space is capped: a file needing more memory ends in a clear refusal."""
    before = warehouse.read_bytes()
    monkeypatch.setattr(imports, "CHILD_MEMORY_BYTES", 64 * 1024**2)
    out = imports.run("load", ROOT / "data" / "plan_actions.xlsx", warehouse)
    assert not out.ok and "mémoire insuffisante" in out.summary() and "Traceback" not in out.summary()
    assert warehouse.read_bytes() == before


def test_file_text_is_shown_as_plain_text_not_markdown():
    from pages.views.importer import md

    shown = md("[cliquez](http://exemple.invalid) <img src=x> **gras** `code`")
    import re
    assert not re.search(r"(?<!\\)[\[\]()<>*`]", shown), "caractère markdown non neutralisé"
    assert shown.replace("\\", "") == "[cliquez](http://exemple.invalid) <img src=x> **gras** `code`"
