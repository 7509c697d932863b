"""Following the plan between committees: edits with history, refusals, conflicts, imports as changes,
exports read back, committee editions and their differences, rebuilds and backups, the deck's first slides.

Real files throughout: a copy of the demo warehouse and the plan store SQLite file next to it.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from etl import load as loader
from etl import plan_store
from indicators import plan, query, suivi
from indicators.content import registry
from indicators.db import get_warehouse

ROOT = Path(__file__).resolve().parents[1]
QUIET = lambda message: None  # noqa: E731
EDITOR = "Jeanne Éditrice"


@pytest.fixture
def wh(demo_warehouse, tmp_path) -> Path:
    """A private copy of the demo warehouse; its plan store starts from the warehouse's copy of the workbook."""
    path = tmp_path / "wh" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copyfile(demo_warehouse, path)
    return path


def snap(path: Path):
    return get_warehouse(path).snapshot()


def row(path: Path, numero: str) -> dict:
    a = suivi.plan_actions(snap(path))
    r = a[a.numero == numero].iloc[0]
    return {"statut": r.statut, "montant_engage": None if pd.isna(r.montant_engage) else r.montant_engage,
            "notes": r.notes if isinstance(r.notes, str) else None, "porteurs": r.porteurs}


@pytest.fixture
def cli(capsys):
    """`python -m etl|indicators ARGS`, run in this process (same `main` as the command line)."""
    def run(module: str, *args) -> subprocess.CompletedProcess:
        import importlib

        capsys.readouterr()
        code = importlib.import_module(f"{module}.__main__").main([str(a) for a in args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess([module, *args], code, out.out, out.err)
    return run


def store_state(path: Path) -> tuple:
    con = sqlite3.connect(plan_store.path_for(path))
    try:
        return (con.execute("SELECT * FROM actions ORDER BY numero").fetchall(),
                con.execute("SELECT count(*) FROM historique").fetchone()[0])
    finally:
        con.close()


def test_edit_round_trip_with_history_and_exports_read_back(wh, tmp_path, cli):
    s = snap(wh)
    base = row(wh, "1.1")
    changes = suivi.save(s, "1.1", base, {"statut": "en cours", "montant_engage": "2,4 M€", "notes": "Études lancées"},
                         EDITOR)
    assert [(c.champ, c.avant, c.apres) for c in changes] == [
        ("statut", "à lancer", "en cours"), ("montant_engage", None, 2_400_000.0), ("notes", None, "Études lancées")]
    assert row(wh, "1.1")["statut"] == "en cours" and row(wh, "1.1")["montant_engage"] == 2_400_000.0
    h = suivi.history(snap(wh), "1.1")
    edits = h[h.Origine == "saisie"]
    assert list(edits.Qui.unique()) == [EDITOR]
    assert list(zip(edits.Champ, edits.Avant, edits.Après)) == [
        ("Statut", "à lancer", "en cours"), ("Montant engagé (€)", "(vide)", "2\u202f400\u202f000\u202f€"),
        ("Note d'avancement", "(vide)", "Études lancées")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", edits.Quand.iat[0])
    # Export (xlsx and CSV) then check: the plan as it is, nothing to change.
    actions = suivi.plan_actions(snap(wh))
    for name, data in (("plan.xlsx", plan.to_xlsx(actions, suivi.binomes(snap(wh)))), ("plan.csv", plan.to_csv(actions))):
        path = tmp_path / name
        path.write_bytes(data)
        [report] = loader.check([path], warehouse=wh)
        assert report.statut == "vérifié", report.problems
        assert report.changes == [], [plan_store.describe(c) for c in report.changes]
    # An exported workbook edited elsewhere comes back as changes by its author.
    out = cli("indicators", "plan-export", "--out", tmp_path / "suivi.xlsx", "--warehouse", wh)
    assert out.returncode == 0, out.stderr
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "suivi.xlsx")
    ws = wb["Actions"]
    header = [c.value for c in ws[1]]
    r = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, 1).value == "2.1")
    ws.cell(r, header.index("Statut") + 1).value = "réalisé"
    ws.cell(r, header.index("Montant payé (€)") + 1).value = 150000
    ws.cell(r, header.index("Montant engagé (€)") + 1).value = 200000
    wb.save(tmp_path / "suivi.xlsx")
    checked = cli("etl", "check", tmp_path / "suivi.xlsx", "--warehouse", wh)
    assert checked.returncode == 0, checked.stderr
    assert "Changements du plan d'actions à l'import : 3" in checked.stdout
    assert "action 2.1, Statut : « à lancer » → « réalisé »" in checked.stdout
    assert store_state(wh)[0] == store_state(wh)[0] and row(wh, "2.1")["statut"] == "à lancer"  # check wrote nothing
    loaded = cli("etl", "load", tmp_path / "suivi.xlsx", "--warehouse", wh, "--par", "Paul Import")
    assert loaded.returncode == 0, loaded.stderr
    h = suivi.history(snap(wh), "2.1")
    assert set(h[h.Origine == "import"].Champ) == {"Statut", "Montant engagé (€)", "Montant payé (€)"}
    assert set(h[h.Origine == "import"].Qui) == {"Paul Import"}
    assert row(wh, "1.1")["statut"] == "en cours"   # the earlier in-app edit is kept


@pytest.mark.parametrize("new, words", [
    ({"statut": "terminé"}, "« terminé » n'est pas admis (valeurs admises : à lancer, en cours, réalisé, abandonné)"),
    ({"montant_engage": "-5"}, "Montant engagé (€) : un montant ne peut pas être négatif"),
    ({"montant_estime": "beaucoup"}, "Montant estimé (€) : nombre attendu, trouvé « beaucoup »"),
    ({"date_debut": "31/02/2026"}, "Date de début : date inexistante"),
    ({"date_debut": "01/06/2026", "date_fin": "01/01/2026"}, "date de fin (01/01/2026) est antérieure à la date de début"),
    ({"montant_engage": "100", "montant_paye": "200"}, "le montant payé dépasse le montant engagé"),
    ({"territoires": ["'; DROP TABLE actions; --"]}, "EPCI : code inconnu « '; DROP TABLE actions; -- »"),
    ({"notes": "x\x00y"}, "Note d'avancement : caractères de contrôle refusés"),
    ({"notes": "é" * 2001}, "texte de 2001 caractères, au-delà de la limite de 2000"),
    ({"cible_indicateur": "../../etc/passwd", "cible_valeur": "1", "cible_annee": "2027"},
     "n'est pas un indicateur du catalogue"),
    ({"cible_indicateur": "part_industrie_effectifs"}, "une cible se renseigne en entier"),
    ({"statut\" = 'x' --": "en cours"}, "champ inconnu"),
])
def test_invalid_and_hostile_edits_are_refused_in_french_and_nothing_is_lost(wh, new, words):
    s = snap(wh)
    before = (row(wh, "1.1"), store_state(wh))
    with pytest.raises(plan_store.PlanError) as err:
        suivi.save(s, "1.1", row(wh, "1.1"), new, EDITOR)
    assert words in str(err.value)
    assert (row(wh, "1.1"), store_state(wh)) == before
    with pytest.raises(plan_store.PlanError, match="auteur de la modification obligatoire"):
        suivi.save(s, "1.1", row(wh, "1.1"), {"statut": "en cours"}, "  ")


def test_two_editors_saving_at_once_lose_nothing(wh):
    s = snap(wh)
    read_by_a = read_by_b = row(wh, "3.1")
    suivi.save(s, "3.1", read_by_a, {"statut": "en cours", "notes": "A : dossier déposé"}, "Éditrice A")
    # B read the same version: its note clashes with A's, B is told and sees both versions; nothing is written.
    with pytest.raises(plan_store.Conflict) as err:
        suivi.save(s, "3.1", read_by_b, {"notes": "B : en attente", "porteurs": "Fromagerie, Région"}, "Éditeur B")
    c = err.value
    assert c.fields == ["notes"] and c.theirs == {"notes": "A : dossier déposé"} and c.mine == {"notes": "B : en attente"}
    assert "modifiée entre-temps par une autre personne (Note d'avancement)" in str(c)
    assert row(wh, "3.1")["notes"] == "A : dossier déposé" and row(wh, "3.1")["porteurs"] == read_by_b["porteurs"]
    # B's other field did not clash: saved on its own, A's status kept.
    suivi.save(s, "3.1", read_by_b, {"porteurs": "Fromagerie, Région"}, "Éditeur B")
    # B chooses its note over A's, reading A's as its base: the history keeps both.
    suivi.save(s, "3.1", {"notes": "A : dossier déposé"}, {"notes": "B : en attente"}, "Éditeur B")
    now = row(wh, "3.1")
    assert (now["statut"], now["porteurs"], now["notes"]) == ("en cours", "Fromagerie, Région", "B : en attente")
    h = suivi.history(snap(wh), "3.1")
    notes = h[h.Champ == "Note d'avancement"]
    assert list(zip(notes.Qui, notes.Après)) == [("Éditrice A", "A : dossier déposé"), ("Éditeur B", "B : en attente")]


def test_edition_then_a_change_then_ecarts_prints_exactly_that_change(wh, cli):
    out = cli("indicators", "comite", "creer", "--nom", "Comité de mars", "--date", "2027-03-12", "--par", "Claire",
              "--warehouse", wh)
    assert out.returncode == 0, out.stderr
    assert "Édition « Comité de mars » créée (comité du 12/03/2027) : 22 actions" in out.stdout
    suivi.save(snap(wh), "1.2", row(wh, "1.2"), {"statut": "en cours"}, EDITOR)
    csv = cli("indicators", "comite", "ecarts", "--depuis", "Comité de mars", "--format", "csv", "--warehouse", wh)
    assert csv.returncode == 0, csv.stderr
    lines = csv.stdout.lstrip("\ufeff").splitlines()
    assert lines[0] == "Type;Objet;Territoire;Champ;Avant;Après;Différence;Quand;Qui"
    assert len(lines) == 2 and lines[1].startswith("action;1.2 Créer une société de développement")
    assert lines[1].split(";")[3:6] == ["Statut", "à lancer", "en cours"] and lines[1].endswith(f";{EDITOR}")
    table = cli("indicators", "comite", "ecarts", "--depuis", "Comité de mars", "--warehouse", wh)
    assert "Depuis le comité « Comité de mars » du 12/03/2027 : 1 action lancée." in table.stdout
    # An edition is immutable: same name refused, no UPDATE or DELETE.
    again = cli("indicators", "comite", "creer", "--nom", "Comité de mars", "--warehouse", wh)
    assert again.returncode == 2 and "existe déjà : une édition est immuable" in again.stderr
    con = sqlite3.connect(plan_store.path_for(wh))
    for sql in ("UPDATE editions SET par = 'x'", "DELETE FROM editions"):
        with pytest.raises(sqlite3.IntegrityError, match="immuable"):
            con.execute(sql)
    con.close()
    liste = cli("indicators", "comite", "liste", "--warehouse", wh)
    assert "Comité de mars" in liste.stdout and "12/03/2027" in liste.stdout
    missing = cli("indicators", "comite", "ecarts", "--depuis", "Inconnu", "--warehouse", wh)
    assert missing.returncode == 2 and "aucune édition « Inconnu » (éditions : Comité de mars)" in missing.stderr


def test_indicator_differences_keep_the_secret_on_both_sides(wh):
    """A frozen figure changed by new data is reported with before, after and difference; a figure secret on one
    side shows « s » with no difference."""
    s = snap(wh)
    with suivi.store(s) as con:
        figures = registry.deck_figures(s)
        part = next(f for f in figures if f["diapo"] == "chiffres_cles" and f["indicateur"] == suivi.SUMMARY_FIGURES[0])
        ca = next(f for f in figures if f["diapo"] == "chiffres_cles" and f["indicateur"] == "Chiffre d'affaires")
        frozen = [dict(f) for f in figures]
        for f in frozen:
            if f is not None and f["indicateur"] == part["indicateur"] and f["code"] == part["code"] and f["diapo"] == "chiffres_cles":
                f["valeur"] = part["valeur"] - 0.003
            if f["indicateur"] == ca["indicateur"] and f["code"] == ca["code"] and f["diapo"] == "chiffres_cles":
                f["valeur"], f["statut"] = None, "secret"
        plan_store.create_edition(con, "Comité test", "2027-01-15", "Claire", s.version, frozen)
    e = suivi.ecarts(s, "Comité test", registry.deck_figures(s))
    t = e.indicateurs.set_index("indicateur")
    assert suivi.difference_text("part", t.loc[part["indicateur"], "difference"]) == "+0,3\u202fpoint"
    assert t.loc["Chiffre d'affaires", "statut_avant"] == "secret" and pd.isna(t.loc["Chiffre d'affaires", "difference"])
    table = suivi.ecarts_table(e).set_index("Objet")
    assert table.loc["Chiffre d'affaires", "Avant"].startswith("s (") and table.loc["Chiffre d'affaires", "Différence"] == ""
    assert "part de l'industrie +0,3\u202fpoint" in suivi.summary(e, part["code"])


def test_summary_is_generated_in_plain_french(wh):
    s = snap(wh)
    with suivi.store(s) as con:
        plan_store.create_edition(con, "Comité avant", "2027-03-12", "Claire", s.version, registry.deck_figures(s))
    for n in ("1.1", "1.2", "1.3"):
        suivi.save(s, n, row(wh, n), {"statut": "en cours"}, EDITOR)
    suivi.save(s, "2.1", row(wh, "2.1"), {"statut": "réalisé", "montant_engage": "2 400 000"}, EDITOR)
    e = suivi.ecarts(s, figures=registry.deck_figures(s))
    assert suivi.summary(e) == ("Depuis le comité « Comité avant » du 12/03/2027 : 3 actions lancées, 1 réalisée ; "
                                "2,4\u202fM€ engagés de plus.")
    assert suivi.summary(None).startswith("Aucune édition de comité n'est encore enregistrée")


def test_rebuild_keeps_history_and_editions_and_backup_restores_them(tmp_path, cli):
    wh = tmp_path / "w.duckdb"
    loader.build(wh, demo=False, progress=QUIET)
    s = snap(wh)
    suivi.save(s, "4.1", row(wh, "4.1"), {"statut": "en cours", "montant_estime": "1,5 M€"}, EDITOR)
    with suivi.store(s) as con:
        plan_store.create_edition(con, "Comité 1", "2027-03-12", "Claire", s.version, [])
    before = store_state(wh)
    messages = []
    loader.build(wh, demo=False, progress=messages.append)
    assert store_state(wh) == before
    assert any("suivi conservé" in m and "le classeur n'est pas réimporté" in m for m in messages)
    assert row(wh, "4.1")["statut"] == "en cours"
    assert [e["nom"] for e in suivi.editions(snap(wh))] == ["Comité 1"]
    # Backup, a later edit, restore: the store is back to the backup.
    out = cli("etl", "backup", "--out", tmp_path / "sauvegarde.sqlite", "--warehouse", wh)
    assert out.returncode == 0, out.stderr
    suivi.save(snap(wh), "4.1", row(wh, "4.1"), {"statut": "abandonné"}, EDITOR)
    bad = tmp_path / "pas_une_sauvegarde.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    refused = cli("etl", "restore", bad, "--warehouse", wh)
    assert refused.returncode == 2 and "Restauration refusée, le suivi n'a pas été modifié" in refused.stderr
    assert row(wh, "4.1")["statut"] == "abandonné"
    restored = cli("etl", "restore", tmp_path / "sauvegarde.sqlite", "--warehouse", wh)
    assert restored.returncode == 0, restored.stderr
    assert "1 édition(s) de comité" in restored.stdout
    assert store_state(wh) == before and row(wh, "4.1")["statut"] == "en cours"


def test_deck_opens_with_the_since_last_committee_slide(wh):
    from pptx import Presentation
    import io

    from indicators.export.deck import build_deck

    s = snap(wh)
    with suivi.store(s) as con:
        plan_store.create_edition(con, "Comité de mars", "2027-03-12", "Claire", s.version, registry.deck_figures(s))
    suivi.save(s, "1.1", row(wh, "1.1"), {"statut": "en cours", "montant_engage": "2,4 M€"}, EDITOR)
    suivi.save(s, "4.1", row(wh, "4.1"), {"cible_indicateur": "part_industrie_effectifs", "cible_valeur": "12 %",
                                           "cible_annee": "2027"}, EDITOR)
    deck = Presentation(io.BytesIO(build_deck(snap(wh), keys=["titre", "depuis_comite", "chiffres_cles"])))
    texts = [" ".join(sh.text_frame.text for sh in sl.shapes if sh.has_text_frame) for sl in deck.slides]
    assert len(texts) == 3
    assert "Depuis le comité « Comité de mars »" in texts[1]
    assert ("Depuis le comité « Comité de mars » du 12/03/2027\u202f: 1 action lancée\u202f; 2,4\u202fM€ engagés de plus\u202f; "
            "3 autres modifications sur 1 action." in texts[1])
    title = suivi.plan_actions(snap(wh)).set_index("numero").intitule["1.1"]
    assert f"1.1 {title} — statut : à lancer → en cours ({EDITOR}" in texts[1]   # by number and title
    assert "4.1 — Part de l'industrie dans l'emploi salarié privé ≥ 12,0\u202f% en 2027 : " in texts[1]   # the target


def test_targets_against_value_and_trajectory(wh):
    s = snap(wh)
    suivi.save(s, "4.1", row(wh, "4.1"), {"cible_indicateur": "part_industrie_effectifs", "cible_sens": "≥",
                                           "cible_valeur": "12 %", "cible_annee": "2027"}, EDITOR)
    [t] = suivi.targets(s, suivi.plan_actions(snap(wh)))
    niveau, code, _ = suivi.whole_territory(s)
    assert niveau == "ti"   # the TI of the warehouse (ref_territoires), not a département
    values = query.get(s, "part_industrie_effectifs", niveau, territoires=[code]).sort_values("annee")
    assert (t.cible, t.annee_cible, t.annee) == (0.12, 2027, int(values.annee.iat[-1]))
    assert t.valeur == pytest.approx(values.valeur.iat[-1])
    first = values.iloc[0]
    expected = first.valeur + (0.12 - first.valeur) * (t.annee - first.annee) / (2027 - first.annee)
    assert t.attendu == pytest.approx(expected)
    sentence = t.sentence()
    assert sentence.startswith("Part de l'industrie dans l'emploi salarié privé ≥ 12,0\u202f% en 2027 : ")
    pace = (0.12 - t.valeur) / (2027 - t.annee)
    assert f"rythme nécessaire {suivi.difference_text('part', pace)} par an jusqu'en 2027" in sentence
    # With an earlier year, the straight line from it to the target says whether the value is on track.
    t.base, t.annee_base, t.annee, t.attendu = 0.09, 2020, 2024, 0.09 + 0.03 * 4 / 7
    assert "trajectoire 10,7\u202f% attendue (droite de 9,0\u202f% en 2020 à la cible) : en retard sur la trajectoire" in t.sentence()


def test_no_territory_code_in_the_plan_code():
    """« The whole territory » comes from the warehouse (ref_territoires), never from a literal code."""
    for rel in ("etl/sources/plan_actions.py", "etl/plan_store.py", "indicators/plan.py", "indicators/suivi.py",
                "pages/views/plan_edit.py", "etl/plan_template.py"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert not re.search(r"[\"'](05|93|ti-\d{4})[\"']", text), rel


def test_import_page_shows_the_plan_changes_before_applying_them(wh, tmp_path, use_warehouse):
    """Import page: an edited export shows its changes, waits for the confirmation, then applies them in the
    administrator's name. An éditeur is refused the page (edits the plan, never loads data)."""
    import openpyxl

    from tests.test_importer import HASH, open_importer, sign_in, texts, upload

    use_warehouse(wh)
    s = snap(wh)
    path = tmp_path / "plan.xlsx"
    path.write_bytes(plan.to_xlsx(suivi.plan_actions(s), suivi.binomes(s)))
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    ws.cell(2, [c.value for c in ws[1]].index("Statut") + 1).value = "en cours"
    wb.save(path)
    at = sign_in(open_importer({"admin": {"password_hash": HASH}}))
    at = upload(at, "plan.xlsx", path.read_bytes())
    assert "Appliquer ce classeur fera **1 changement(s)**" in texts(at)
    [diff] = [d.value for d in at.dataframe if "Changement" in d.value.columns]
    assert list(diff.Changement) == ["action 1.1, Statut : « à lancer » → « en cours »"]
    assert row(wh, "1.1")["statut"] == "à lancer"      # nothing applied before the confirmation
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Charger dans l'entrepôt").click().run()
    assert not at.exception, [e.value for e in at.exception]
    h = suivi.history(snap(wh), "1.1")
    assert row(wh, "1.1")["statut"] == "en cours" and list(h[h.Origine == "import"].Qui) == ["Claire Martin"]
    editor = sign_in(open_importer({"admin": {"password_hash": HASH},
                                    "editeur": {"password_hash": auth_hash("éditrice du plan")}}), "éditrice du plan")
    assert "rôle éditeur" in " ".join(w.value for w in editor.warning) and not editor.file_uploader


def auth_hash(password: str) -> str:
    from indicators import auth

    return auth.hash_password(password, iterations=auth.MIN_ITERATIONS)


def test_two_editors_saving_at_the_same_instant(wh):
    """Two threads save from the same read at the same moment: different fields both land; the same field
    gives one save and one conflict naming both versions. SQLite serialises the two writers."""
    import threading

    s1, s2 = snap(wh), snap(wh)
    base = row(wh, "2.2")
    barrier, results = threading.Barrier(2), {}

    def editor(name, s, new):
        barrier.wait()
        try:
            results[name] = suivi.save(s, "2.2", base, new, name)
        except plan_store.Conflict as c:
            results[name] = c

    for new_a, new_b in (({"statut": "en cours"}, {"porteurs": "SAB, Région"}),
                         ({"notes": "version A"}, {"notes": "version B"})):
        threads = [threading.Thread(target=editor, args=("A", s1, new_a)),
                   threading.Thread(target=editor, args=("B", s2, new_b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        if "statut" in new_a:
            assert all(isinstance(r, list) and len(r) == 1 for r in results.values()), results
            assert (row(wh, "2.2")["statut"], row(wh, "2.2")["porteurs"]) == ("en cours", "SAB, Région")
            base = row(wh, "2.2")
        else:
            conflicts = [r for r in results.values() if isinstance(r, plan_store.Conflict)]
            assert len(conflicts) == 1 and {conflicts[0].theirs["notes"], conflicts[0].mine["notes"]} == {"version A", "version B"}
            assert row(wh, "2.2")["notes"] == conflicts[0].theirs["notes"]
        results.clear()


def test_page_refuses_a_bad_edit_and_shows_a_conflict_with_both_versions(wh, use_warehouse):
    """Plan page (AppTest): an éditeur's negative amount is refused in French, nothing saved; another editor
    saving the same field meanwhile gives a conflict showing both versions, and « Enregistrer ma version »
    keeps the éditeur's text."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    use_warehouse(wh)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.secrets.update({"editeur": {"password_hash": auth_hash("éditrice du plan")}})
    at.run()
    at.switch_page("pages/views/plan_actions.py").run()
    next(t for t in at.text_input if t.label.startswith("Votre nom")).set_value(EDITOR)
    next(t for t in at.text_input if t.label == "Mot de passe").set_value("éditrice du plan")
    next(b for b in at.button if b.label == "Se connecter").click().run()
    field = lambda label: next(t for t in at.text_input if t.label == label)  # noqa: E731
    save = lambda: next(b for b in at.button if b.label == "Enregistrer les modifications").click().run()  # noqa: E731
    before = store_state(wh)
    field("Montant payé (€)").set_value("-3")
    save()
    assert not at.exception, [e.value for e in at.exception]
    assert "Modification refusée, rien n'a été enregistré" in at.error[0].value and "négatif" in at.error[0].value
    assert store_state(wh) == before
    field("Montant payé (€)").set_value("")
    suivi.save(snap(wh), "1.1", row(wh, "1.1"), {"notes": "Note de Paul"}, "Paul")   # another editor, meanwhile
    next(t for t in at.text_area if t.label == "Note d'avancement").set_value("Note de Jeanne")
    save()
    assert "Conflit" in at.error[0].value and "Note d'avancement" in at.error[0].value
    [both] = [t.value for t in at.table if "Votre saisie" in t.value.columns]
    assert list(both.iloc[0]) == ["Note de Paul", "Note de Jeanne"]
    assert row(wh, "1.1")["notes"] == "Note de Paul"
    next(b for b in at.button if b.label == "Enregistrer ma version à la place").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert row(wh, "1.1")["notes"] == "Note de Jeanne"
    h = suivi.history(snap(wh), "1.1")
    assert list(h[h.Champ == "Note d'avancement"].Qui) == ["Paul", EDITOR]


def test_an_axis_carries_a_target_recorded_in_the_history(wh):
    s = snap(wh)
    with pytest.raises(plan_store.PlanError, match="axe 9 inconnu du plan"):
        suivi.set_axis_target(s, 9, "part_industrie_effectifs", "≥", "12 %", "2027", EDITOR)
    with pytest.raises(plan_store.PlanError, match="n'est pas un indicateur du catalogue"):
        suivi.set_axis_target(s, 1, "inconnu", "≥", "12 %", "2027", EDITOR)
    suivi.set_axis_target(s, 1, "part_industrie_effectifs", "≥", "12 %", "2027", EDITOR)
    [t] = suivi.targets(s, suivi.plan_actions(s).iloc[0:0])
    assert (t.numero, t.cible, t.annee_cible) == ("Axe 1", 0.12, 2027) and t.valeur is not None
    with suivi.store(s) as con:
        [h] = [r for r in plan_store.history(con) if r["objet"] == "axe"]
    assert (h["qui"], h["champ"], h["avant"], h["apres"]) == (EDITOR, "cible:part_industrie_effectifs", None,
                                                              {"sens": "≥", "valeur": 0.12, "annee": 2027})
    suivi.set_axis_target(s, 1, "part_industrie_effectifs", "≥", "", "", EDITOR)   # removed
    assert suivi.axis_targets(s) == []


def test_ecarts_name_binome_and_axis_target_changes(wh, tmp_path):
    s = snap(wh)
    with suivi.store(s) as con:
        plan_store.create_edition(con, "Comité", "2027-03-12", "Claire", s.version, [])
    suivi.set_axis_target(s, 2, "part_industrie_effectifs", "≥", "12 %", "2027", EDITOR)
    path = tmp_path / "plan.xlsx"
    b = suivi.binomes(s)
    b.loc[0, "elu"] = "Mme Exemple"
    path.write_bytes(plan.to_xlsx(suivi.plan_actions(s), b))
    loader.load([path], wh, progress=QUIET, par="Paul Import")
    e = suivi.ecarts(snap(wh), "Comité")
    got = {(r.numero, r.libelle, r.apres, r.qui) for r in e.actions.itertuples()}
    assert got == {(f"binôme {b.epci[0]}", "Élu(e)", "Mme Exemple", "Paul Import"),
                   ("Axe 2", "Cible : Part de l'industrie dans l'emploi salarié privé", "≥ 12,0\u202f% en 2027", EDITOR)}
