"""Plan d'actions: the workbook, its loader (French refusals, warehouse untouched), the read side, the page, the CLI.

Every test works on a real DuckDB file built from the reference data, the committed workbook
data/plan_actions.xlsx and (for the filière figures) the URSSAF demo file.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from etl import load as loader
from etl import plan_template
from etl.validate import LoadError
from indicators import plan, query, suivi
from indicators.db import get_warehouse

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "data" / "plan_actions.xlsx"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "004_05afd00822ce2d78.txt"
QUIET = lambda message: None  # noqa: E731


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Reference data, the embedded extract and the committed plan (build) + the URSSAF demo file (filière figures)."""
    from etl import demo

    wh = tmp_path_factory.mktemp("plan") / "base.duckdb"
    reports = loader.build(wh, demo=False, progress=QUIET)
    assert [r.kind for r in reports] == ["base_comparateur", "plan_actions"]
    urssaf = [f for f in demo.ensure(loader.DEMO_DIR, QUIET) if f.name.startswith("urssaf")]
    loader.load(urssaf, wh, progress=QUIET)
    return wh


@pytest.fixture
def wh(base, tmp_path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(base, copy)
    return copy


def edited(tmp_path: Path, actions: dict[str, dict[str, object]] | None = None,
           binomes: dict[str, dict[str, object]] | None = None, new_rows: list[list] | None = None,
           name: str = "plan_actions.xlsx") -> Path:
    """A copy of the committed workbook with cells changed by N° (Actions) or EPCI (Binômes) and header name."""
    out = tmp_path / "edit" / name
    out.parent.mkdir(exist_ok=True)
    wb = openpyxl.load_workbook(WORKBOOK)
    for sheet_name, changes in ((plan_template.SHEET_ACTIONS, actions), (plan_template.SHEET_BINOMES, binomes)):
        ws = wb[sheet_name]
        header = {c.value: c.column for c in ws[1]}
        for key, values in (changes or {}).items():
            row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == key)
            for col, value in values.items():
                ws.cell(row, header[col]).value = value
    for row in new_rows or []:
        wb[plan_template.SHEET_ACTIONS].append(row)
    wb.save(out)
    return out


def snapshot(path: Path):
    return get_warehouse(path).snapshot()


def seed_actions() -> list[tuple[str, str, str]]:
    """(axe, intitulé, porteurs) of every fiche action, as written in the candidature text."""
    if not SEED.exists():
        pytest.skip(f"texte de la candidature absent ({SEED.name}) : comparaison impossible")
    text = SEED.read_text(encoding="utf-8")
    part = text.split("LES FICHES ACTIONS", 1)[1].split("LES BINÔMES", 1)[0]
    out, axe = [], None
    for line in part.splitlines():
        m = re.match(r"^#*\s*(Axe \d+\. .+?)\s*$", line.strip())
        if m:
            axe = m.group(1)
            continue
        m = re.match(r"^- › (.+?)\s*$", line.strip())
        if m:
            item = m.group(1)
            p = re.match(r"^(.*?)\s*\(([^()]*)\)$", item)
            out.append((axe, p.group(1), p.group(2)) if p else (axe, item, ""))
    return out


# --- the workbook -------------------------------------------------------------------------------

def test_template_transcribes_every_fiche_action_of_the_candidature():
    expected = seed_actions()
    assert len(expected) == 22
    got = [(plan_template.AXES[a], intitule, porteurs) for a, intitule, porteurs, *_ in plan_template.ACTIONS]
    assert got == expected
    assert len({a for a, _, _ in expected}) == 4


def test_committed_workbook_loads_every_action_with_its_porteur(base):
    actions = suivi.plan_actions(snapshot(base))
    loaded = {(a.axe, a.intitule, a.porteurs if isinstance(a.porteurs, str) else "") for a in actions.itertuples()}
    for axe, intitule, porteurs in seed_actions():
        assert (axe, intitule, porteurs) in loaded, intitule
    assert list(suivi.plan_axes(snapshot(base)).axe) == list(plan_template.AXES.values())
    binomes = suivi.binomes(snapshot(base))
    assert len(binomes) == 9 and binomes.elu.isna().all() and binomes.industriel.isna().all()
    assert binomes.epci.iloc[0] == "Briançonnais"


def test_workbook_documents_columns_and_has_drop_down_lists():
    wb = openpyxl.load_workbook(WORKBOOK)
    assert wb.sheetnames[:2] == [plan_template.SHEET_ACTIONS, plan_template.SHEET_BINOMES]
    readme = "\n".join(str(c.value) for row in wb[plan_template.SHEET_README].iter_rows() for c in row if c.value)
    for header, _, _ in plan_template.ACTION_COLUMNS + plan_template.BINOME_COLUMNS:
        assert header in readme
    for statut in plan_template.STATUTS:
        assert statut in readme
    validations = {str(dv.sqref): dv.formula1 for dv in wb[plan_template.SHEET_ACTIONS].data_validations.dataValidation}
    statut_ref = next(f for ref, f in validations.items() if ref.startswith("I2"))
    assert statut_ref.startswith(f"={plan_template.SHEET_LISTS}!$A$2")
    assert any(ref.startswith("E2") for ref in validations) and any(ref.startswith("F2") for ref in validations)


def test_template_regenerates_a_loadable_workbook(tmp_path):
    out = tmp_path / "plan_actions.xlsx"
    assert plan_template.main(["--output", str(out)]) == 0
    assert plan_template.main(["--output", str(out)]) == 1  # never overwrites the agency's edits silently
    [report] = loader.check([out])
    assert report.statut == "vérifié" and report.kind == "plan_actions"
    assert report.lignes_lues == 22 + 9


# --- loading: lineage, updates, refusals --------------------------------------------------------

def test_lineage_is_real_data_and_survives_other_loads(base):
    rows = snapshot(base).rows("SELECT kind, fichier, sha256, demo, lignes_gardees FROM sources WHERE kind = 'plan_actions'")
    assert rows == [("plan_actions", "plan_actions.xlsx", sha(WORKBOOK), False, 31)]
    # The URSSAF file loaded after the plan did not drop the plan's lineage.
    assert snapshot(base).rows("SELECT count(*) FROM sources WHERE kind = 'urssaf'") == [(1,)]


def test_same_workbook_again_changes_nothing(wh):
    before = sha(wh)
    [report] = loader.load([WORKBOOK], wh, progress=QUIET)
    assert report.statut == "déjà chargé" and sha(wh) == before


def test_editing_the_workbook_updates_the_plan(wh, tmp_path):
    path = edited(tmp_path, actions={
        "3.1": {"Statut": "en cours", "EPCI": "Guillestrois-Queyras ; 200067825", "Montant estimé (€)": "1,5 M€",
                "Financements": "Région Sud, FEDER", "Date de début": "03/2024"},
        "1.1": {"Statut": "Réalisé", "Montant estimé (€)": 250000, "EPCI": "Hautes-Alpes"},
    }, binomes={"Briançonnais": {"Élu(e)": "Mme Exemple", "Industriel(le)": "M. Modèle"}},
        new_rows=[["4.6", "Axe 4. Compétences et formations", "Former aux métiers du bois", "Fédération BTP", None,
                   "btp", "200 k€", None, "à lancer", None, None, "Personnes formées", None]])
    [report] = loader.load([path], wh, progress=QUIET)
    assert report.statut == "chargé"
    snap = snapshot(wh)
    actions = suivi.plan_actions(snap).set_index("numero")
    assert len(actions) == 23
    a = actions.loc["3.1"]
    assert (a.statut, a.montant_eur, a.financements) == ("en cours", 1_500_000.0, "Région Sud, FEDER")
    assert a.territoires == ["200067452", "200067825"]
    assert a.territoires_noms == "Guillestrois-Queyras ; Gap-Tallard-Durance"
    assert str(a.date_debut.date()) == "2024-03-01"
    # « Hautes-Alpes » (an older workbook's words for the whole département) is the warehouse's territory: its TI.
    ti = snap.rows("SELECT valeur FROM meta WHERE cle = 'territoire_code'")[0][0]
    assert (actions.loc["1.1"].statut, actions.loc["1.1"].territoires) == ("réalisé", [ti])
    assert actions.loc["4.6"].montant_eur == 200_000.0 and actions.loc["4.6"].filieres == ["btp"]
    assert actions.drop(["3.1", "1.1", "4.6"]).montant_eur.isna().all()  # unknown stays unknown, never 0
    # Filters: an EPCI gets its actions and the département-wide ones.
    assert set(suivi.plan_actions(snap, territoire="200067452").numero) == {"1.1", "3.1"}
    assert list(suivi.plan_actions(snap, statuts=["en cours"]).numero) == ["3.1"]
    assert set(suivi.plan_actions(snap, filiere="btp", axes=[4]).numero) == {"4.2", "4.6"}
    # Totals and the deck's per-axe table.
    t = plan.by_axe(snap).set_index("axe_num")
    assert t.loc[3, "montant_eur"] == 1_500_000.0 and t.loc[3, "sans_montant"] == 10 and t.loc[3, "en cours"] == 1
    assert t.loc[4, "actions"] == 6 and t.loc[4, "montant_eur"] == 200_000.0
    assert len(t.loc[3, "liste"]) == 11
    by_epci = plan.totals(suivi.plan_actions(snap), "epci").set_index("libelle")
    assert by_epci.loc["Gap-Tallard-Durance", "montant_eur"] == 1_500_000.0
    assert by_epci.index[-1] == plan.NON_RENSEIGNE
    b = suivi.binomes(snap).set_index("epci")
    assert (b.loc["Briançonnais", "elu"], b.loc["Briançonnais", "industriel"]) == ("Mme Exemple", "M. Modèle")
    # One plan at a time: the previous workbook's lineage is gone.
    assert snap.rows("SELECT count(*) FROM sources WHERE kind = 'plan_actions'") == [(1,)]


@pytest.mark.parametrize("actions, binomes, line, column, words", [
    ({"3.1": {"Statut": "terminé"}}, None, 8, "Statut", "statut inconnu « terminé »"),
    ({"3.1": {"EPCI": "Embrunais"}}, None, 8, "EPCI", "EPCI inconnu « Embrunais »"),
    ({"2.3": {"Filière(s)": "Chimie"}}, None, 7, "Filière(s)", "filière inconnue « Chimie »"),
    ({"1.2": {"Montant estimé (€)": "beaucoup"}}, None, 3, "Montant estimé (€)", "montant en euros attendu"),
    ({"1.2": {"Montant estimé (€)": -5}}, None, 3, "Montant estimé (€)", "valeur négative interdite"),
    ({"1.3": {"Date de début": "32/13/2024"}}, None, 4, "Date de début", "date attendue"),
    ({"1.3": {"Date de début": "01/06/2025", "Date de fin": "01/01/2025"}}, None, 4, "Date de fin", "antérieure"),
    ({"1.3": {"N°": "1.2"}}, None, 4, "N°", "déjà utilisé ligne 3"),
    ({"1.3": {"Statut": None}}, None, 4, "Statut", "statut obligatoire"),
    # A formula has no value of its own (none computed by Excel): said as such, naming the cell, not « obligatoire ».
    ({"2.3": {"Intitulé de l'action": '=A7&" "&B7'}}, None, 7, "Intitulé de l'action",
     'la cellule C7 contient une formule (=A7&" "&B7), pas un intitulé'),
    ({"1.3": {"Statut": '="en cours"'}}, None, 4, "Statut", 'la cellule I4 contient une formule (="en cours"), pas un statut'),
    (None, {"Briançonnais": {"EPCI": "Grand Gap"}}, 2, "EPCI", "EPCI inconnu « Grand Gap »"),
])
def test_bad_edit_is_refused_in_french_and_the_previous_plan_stays(wh, tmp_path, actions, binomes, line, column, words):
    before_bytes, before_plan = sha(wh), suivi.plan_actions(snapshot(wh))
    path = edited(tmp_path, actions=actions, binomes=binomes)
    with pytest.raises(LoadError) as err:
        loader.load([path], wh, progress=QUIET)
    [problem] = err.value.problems
    sheet = plan_template.SHEET_BINOMES if binomes else plan_template.SHEET_ACTIONS
    assert problem.fichier == f"plan_actions.xlsx (feuille « {sheet} »)"
    assert (problem.ligne, problem.colonne) == (line, column)
    assert words in problem.message
    assert sha(wh) == before_bytes  # warehouse byte-identical
    after = suivi.plan_actions(snapshot(wh))
    assert after[["numero", "statut", "intitule"]].equals(before_plan[["numero", "statut", "intitule"]])


def test_cli_refusal_names_file_line_and_column(wh, tmp_path, capsys):
    from etl.__main__ import main

    path = edited(tmp_path, actions={"4.5": {"Statut": "fini"}})
    before = sha(wh)
    assert main(["load", str(path), "--warehouse", str(wh)]) == 2
    err = capsys.readouterr().err
    assert "Fichier refusé, l'entrepôt n'a pas été modifié" in err
    assert "plan_actions.xlsx (feuille « Actions »), ligne 23, colonne « Statut » : statut inconnu « fini »" in err
    assert sha(wh) == before


def test_missing_required_column_and_not_a_workbook(tmp_path):
    wb = openpyxl.load_workbook(WORKBOOK)
    ws = wb[plan_template.SHEET_ACTIONS]
    ws.delete_cols(9)  # Statut
    ws.cell(1, 2).value = "Axe"
    path = tmp_path / "sans_statut.xlsx"
    wb.save(path)
    [report] = loader.check([path], kind="plan_actions")
    assert report.statut == "refusé"
    assert any("colonne obligatoire absente : « Statut »" in p.message for p in report.problems)
    # A CSV is read as an export of the plan (one sheet « Actions »): its missing column is named the same way.
    csv = tmp_path / "plan.csv"
    csv.write_text("N°;Axe;Intitulé de l'action;Statut\n1.1;Axe 1. X;Y;à lancer\n", encoding="utf-8")
    [report] = loader.check([csv])
    assert report.statut == "refusé" and "colonne obligatoire absente : « Porteur(s) »" in report.problems[0].message


# --- read side: figures next to each action, CLI, page ------------------------------------------

def test_filiere_figures_next_to_each_action(wh, tmp_path):
    loader.load([edited(tmp_path, actions={"3.1": {"EPCI": "Guillestrois-Queyras"}})], wh, progress=QUIET)
    snap = snapshot(wh)
    actions = suivi.plan_actions(snap)
    years = {name: query.latest_year(snap, name, "epci") for name, _, _ in plan.FIGURES}

    figures = plan.filiere_figures(actions, lambda *a, **k: query.get(snap, *a, **k), years, suivi.whole_territory(snap))
    lait = figures[figures.numero == "3.1"].set_index("indicateur")
    expected = query.get(snap, "effectifs_filiere", "epci", annee=years["effectifs_filiere"], territoires=["200067452"])
    expected = expected[expected.filiere_code == "agroalimentaire"].iloc[0]
    assert lait.loc["effectifs_filiere", "code"] == "200067452"
    assert lait.loc["effectifs_filiere", "valeur"] == expected.valeur and expected.statut == "ok"
    assert lait.loc["ca_filiere", "statut"] == "absent"  # no chamber file loaded: absent, not 0
    # Without an EPCI, the whole territory's figures (the TI of the warehouse); without a filière, none.
    assert set(figures[figures.numero == "3.3"].code) == {snap.rows("SELECT valeur FROM meta WHERE cle = 'territoire_code'")[0][0]}
    assert "1.1" not in set(figures.numero)
    text = plan.figures_text(figures)["3.1"]
    assert text.startswith("Guillestrois-Queyras : ") and "sal." in text


def test_cli_show_plan_actions_csv(base, capsys):
    from indicators.__main__ import main

    assert main(["show", "plan_actions", "--format", "csv", "--warehouse", str(base)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("N°;Axe;Action;Porteur(s);EPCI;Filière(s);Statut;Montant estimé (€)")
    assert len(lines) == 1 + 22
    assert "3.1;Axe 3. Innovation et R&D;Développer une unité de valorisation du lait de montagne;" \
           "Fromagerie de la Durance, Bleu du Queyras;" in "\n".join(lines)
    assert main(["show", "plan_binomes", "--format", "csv", "--warehouse", str(base)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 9


def _page(warehouse: Path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TI_WAREHOUSE", str(warehouse))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    at.switch_page("pages/views/plan_actions.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _tables(at) -> str:
    return "\n".join(t.value.reset_index().to_csv(sep="|", index=False) for t in at.table)


def test_page_lists_the_four_axes_and_every_action_with_its_porteur(base, monkeypatch):
    at = _page(base, monkeypatch)
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headings == [f"#### {axe}" for axe in plan_template.AXES.values()]
    tables = _tables(at)
    for _, intitule, porteurs in seed_actions():
        row = next(line for line in tables.splitlines() if f"|{intitule}|" in line)
        assert f"|{porteurs}|" in row or not porteurs
    assert "Mme" not in tables and tables.count("à désigner") == 18  # nine blank binômes
    assert any("22 actions\u202f: 22 à lancer" in m.value for m in at.markdown)


def test_page_follows_an_edited_workbook_and_its_filters(wh, tmp_path, monkeypatch):
    path = edited(tmp_path, actions={"3.1": {"Statut": "en cours", "EPCI": "Guillestrois-Queyras",
                                             "Montant estimé (€)": 1_500_000}},
                  binomes={"Briançonnais": {"Élu(e)": "Mme Exemple"}})
    loader.load([path], wh, progress=QUIET)
    at = _page(wh, monkeypatch)
    tables = _tables(at)
    row = next(line for line in tables.splitlines() if "|Développer une unité de valorisation du lait de montagne|" in line)
    assert "|en cours|" in row and "1,5\u202fM€" in row and "Guillestrois-Queyras : " in row
    assert "Mme Exemple" in tables
    assert any("Montant estimé renseigné pour 1 action sur 22" in m.value for m in at.markdown)
    # Filters.
    at.multiselect(key="plan_statut").set_value(["en cours"]).run()
    assert [m.value for m in at.markdown if m.value.startswith("#### ")] == ["#### Axe 3. Innovation et R&D"]
    assert "lait de montagne" in _tables(at) and "Tourtons" not in _tables(at)
    at.multiselect(key="plan_statut").set_value([]).run()
    at.selectbox(key="plan_epci").set_value("200068096").run()  # Champsaur-Valgaudemar
    assert "Tourtons" in _tables(at) and "lait de montagne" not in _tables(at)


def _rewrite_sheet(src: Path, dst: Path, sheet_xml, change) -> Path:
    """A copy of a workbook with one part's XML changed (what openpyxl would never write)."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, change(data) if item.filename == sheet_xml else data)
    return dst


def test_forged_dimension_and_broken_sheet_of_the_plan(tmp_path):
    [ok] = loader.check([WORKBOOK], kind="plan_actions")
    forged = _rewrite_sheet(WORKBOOK, tmp_path / "plan_actions.xlsx", "xl/worksheets/sheet1.xml",
                            lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', x))
    [report] = loader.check([forged], kind="plan_actions")
    assert (report.statut, report.lignes_lues) == (ok.statut, ok.lignes_lues)
    # Cut inside the 5th row: the XML parser fails there, reported in French with the line.
    def cut(x: bytes) -> bytes:
        start = [m.start() for m in re.finditer(rb"<row ", x)][4]
        return x[:start + 40]
    broken = _rewrite_sheet(WORKBOOK, tmp_path / "plan_casse.xlsx", "xl/worksheets/sheet1.xml", cut)
    [report] = loader.check([broken], kind="plan_actions")
    assert report.statut == "refusé"
    [p] = report.problems
    assert "XML du classeur mal formé" in p.message and p.ligne is not None and p.fichier == "plan_casse.xlsx"
