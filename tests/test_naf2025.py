"""NAF 2025 beside NAF rév. 2: reference tables, loaders reading either, comparable groupings, breaks."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO_ROOT, query
from etl import demo, load
from etl.validate import LoadError

REF = REPO_ROOT / "data" / "reference"
SHARED_REF = REPO_ROOT.parent / "shared" / "reference"
quiet = lambda _m: None  # noqa: E731


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, dtype=str, keep_default_na=False)


def test_reference_tables():
    naf25, naf08, corr = _ref("naf2025.csv"), _ref("naf.csv"), _ref("naf2008_naf2025.csv")
    assert len(naf25) == 747 and naf25.naf_sous_classe.is_unique
    assert sorted(naf25.section_naf2025.unique()) == list("ABCDEFGHIJKLMNOPQRSTUV")
    assert not set(naf25.naf_sous_classe) & set(naf08.naf_sous_classe)  # the codes never collide
    assert naf25.naf_sous_classe.str.match(r"^\d\d\.\d\d[YGHJKL]$").all()
    assert len(corr) == 1223 and set(corr.code_naf2008) == set(naf08.naf_sous_classe)
    assert set(corr.type_correspondance) == {"Unique", "Multiple"}
    # A Unique NAF rév. 2 code has exactly one NAF 2025 code.
    assert (corr[corr.type_correspondance == "Unique"].groupby("code_naf2008").size() == 1).all()
    fil = _ref("filieres_naf2025.csv")
    assert {"reprise", "a_arbitrer"} <= set(fil.decision) <= {"reprise", "a_arbitrer", "decidee"}
    # Never in the core without every antecedent in the core; what waits for a decision is listed with labels.
    assert not ((fil.decision == "a_arbitrer") & (fil.perimetre == "coeur")).any()
    assert (fil[fil.decision == "a_arbitrer"].codes_naf2008_filiere.str.len() > 0).all()
    assert set(_ref("secteurs_candidature_naf2025.csv").section) == set("ABCDEFGHIJKLMNOPQRSTUV")


@pytest.mark.skipif(not (SHARED_REF / "naf2008_naf2025_correspondance.csv").exists(),
                    reason="fichiers INSEE NAF 2025 absents de ../shared/reference/")
def test_build_script_reproduces_committed_tables(tmp_path):
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "build_naf2025.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    for name in ("naf2025.csv", "naf2008_naf2025.csv", "filieres_naf2025.csv", "naf_ruptures.csv",
                 "secteurs_candidature_naf2025.csv"):
        assert (tmp_path / name).read_bytes() == (REF / name).read_bytes(), name


def _comparable_codes() -> set[str]:
    """NAF rév. 2 codes whose every NAF 2025 code is in the same A5, sector and filières (core and wide):
    the codes with a unique correspondence at the level of the groupings compared."""
    naf08, naf25, corr = _ref("naf.csv"), _ref("naf2025.csv"), _ref("naf2008_naf2025.csv")
    a5 = {**dict(zip(naf08.naf_sous_classe, naf08.a10.map(demo.A5_FROM_A10))),
          **dict(zip(naf25.naf_sous_classe, naf25.a10.map(demo.A5_FROM_A10)))}
    sections = {**dict(zip(naf08.naf_sous_classe, naf08.section)), **dict(zip(naf25.naf_sous_classe, naf25.section))}
    secteur = dict(zip(_ref("secteurs_candidature.csv").section, _ref("secteurs_candidature.csv").secteur))
    f08, f25 = _ref("filieres.csv"), _ref("filieres_naf2025.csv")
    f25 = f25[f25.perimetre != ""]
    member: dict[str, set] = {}
    for f in (f08, f25):
        for code, fil, per in zip(f.naf_sous_classe, f.filiere, f.perimetre):
            member.setdefault(code, set()).add((fil, per == "coeur"))
            member[code].add((fil, "elargi"))
    ok = set()
    for a, targets in corr.groupby("code_naf2008").code_naf2025:
        if all(a5[b] == a5[a] and secteur[sections[b]] == secteur[sections[a]] and member.get(b, set()) == member.get(a, set()) for b in targets):
            ok.add(a)
    return ok


# One xdist worker for the whole module: its module fixture builds two warehouses (about 25 s) once, not once per worker.
pytestmark = pytest.mark.xdist_group("naf2025")


@pytest.fixture(scope="module")
def both_demo_warehouses(reference_warehouse, tmp_path_factory):
    """The demo URSSAF and chamber files restricted to comparable codes, loaded as they are (NAF rév. 2)
    and recoded in NAF 2025 by the demo generator's option: two warehouses."""
    tmp = tmp_path_factory.mktemp("naf25")
    demo_files = demo.ensure(load.DEMO_DIR, quiet)
    files = {1: next(f for f in demo_files if f.name.startswith("urssaf")), 2: next(f for f in demo_files if f.name.startswith("cci"))}
    keep = _comparable_codes()
    urssaf = pd.read_csv(files[1], sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    urssaf = urssaf[(urssaf["Code APE"].str[:2] + "." + urssaf["Code APE"].str[2:]).isin(keep)]
    u08 = tmp / "urssaf_commune_ape_2024.csv"
    urssaf.to_csv(u08, sep=";", index=False, encoding="utf-8-sig")
    u25 = tmp / "urssaf_commune_ape_2024_naf2025.csv"
    demo.recode_urssaf_naf2025(u08, u25)
    with open(files[2], newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    i_naf = rows[0].index("Code NAF")
    c08 = tmp / "cci_2022.csv"
    with open(c08, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(rows[0])
        w.writerows(r for r in rows[1:] if r[i_naf] in keep)
    c25 = tmp / "cci_2022_naf2025.csv"
    demo.recode_chamber_naf2025(c08, c25)
    out = {}
    for nom, paths in (("NAF2008", [u08, c08]), ("NAF2025", [u25, c25])):
        wh = tmp / f"{nom}.duckdb"
        shutil.copyfile(reference_warehouse, wh)
        load.load(paths, wh, progress=quiet)
        out[nom] = wh
    return out


def _mart(wh: Path, groupement: str, mesure: str, annee: int) -> dict:
    return dict(((code, g), v) for code, g, v in query(wh, """
        SELECT code, groupe_code, valeur FROM mart WHERE groupement = ? AND mesure = ? AND annee = ?
          AND niveau IN ('departement', 'epci')""", [groupement, mesure, annee]))


def test_demo_year_in_both_nomenclatures_gives_same_a5_and_filieres(both_demo_warehouses):
    w08, w25 = both_demo_warehouses["NAF2008"], both_demo_warehouses["NAF2025"]
    assert query(w25, "SELECT DISTINCT nomenclature FROM facts WHERE naf_niveau = 'sous_classe'") == [("NAF2025",)]
    assert query(w25, "SELECT DISTINCT nomenclature FROM firmes") == [("NAF2025",)]
    assert query(w08, "SELECT DISTINCT nomenclature FROM firmes") == [("NAF2008",)]
    for mesure in ("etablissements_employeurs", "effectifs_salaries"):
        a08, a25 = _mart(w08, "a5", mesure, 2024), _mart(w25, "a5", mesure, 2024)
        tot08, tot25 = _mart(w08, "total", mesure, 2024), _mart(w25, "total", mesure, 2024)
        assert a08 and a08.keys() == a25.keys()
        for (code, g), v in a08.items():  # A5 shares equal, territory by territory
            assert v / tot08[(code, "_T")] == pytest.approx(a25[(code, g)] / tot25[(code, "_T")])
        for g in ("filiere_coeur", "filiere_elargi"):
            assert _mart(w08, g, mesure, 2024) == _mart(w25, g, mesure, 2024)
    for g in ("filiere_coeur", "filiere_elargi", "secteur"):  # turnover from the firm rows
        f08 = _mart(w08, g, "ca_eur", 2022)
        assert f08 and f08 == pytest.approx(_mart(w25, g, "ca_eur", 2022))


def test_break_note_under_charts_of_naf2025_figures(both_demo_warehouses):
    from indicators import db, query as q

    def notes(wh):
        snap = db.get_warehouse(wh).snapshot()
        df = q.get(snap, "effectifs_secteur", niveau="departement", annees=[2023, 2024])
        return df, {n for n in df.note if n}

    df25, n25 = notes(both_demo_warehouses["NAF2025"])
    assert any(n.startswith("Rupture de série en 2023, au passage à la NAF 2025 : Construction") for n in n25)
    assert df25.source.str.endswith("codes NAF 2025").all()
    _, n08 = notes(both_demo_warehouses["NAF2008"])
    assert not any("Rupture" in n for n in n08)


URSSAF_HEADER = "Code commune;Code APE;Nombre d'établissements 2024;Effectifs salariés 2024\n"


def test_urssaf_file_mixing_nomenclatures_is_refused_naming_lines(warehouse, tmp_path):
    path = tmp_path / "urssaf_2024.csv"
    path.write_text(URSSAF_HEADER + "05061;2562B;2;10\n05061;4650Y;1;3\n05023;1071C;3;5\n05023;6491Y;1;2\n", encoding="utf-8")
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=quiet)
    text = str(exc.value)
    assert "urssaf_2024.csv, ligne 3, colonne « Code APE » : le fichier mélange les deux nomenclatures" in text
    assert "2 ligne(s) en NAF rév. 2 (lignes 2, 4)" in text and "2 ligne(s) en NAF 2025 (lignes 3, 5)" in text
    assert query(warehouse, "SELECT count(*) FROM sources WHERE kind = 'urssaf'") == [(0,)]


SIRENE_HEADER = ["siret", "codeCommuneEtablissement", "etatAdministratifEtablissement", "activitePrincipaleEtablissement",
                 "nomenclatureActivitePrincipaleEtablissement", "activitePrincipaleNAF25Etablissement",
                 "trancheEffectifsEtablissement", "dateDernierTraitementEtablissement"]
# (commune, NAF rév. 2, NAF 2025): unique correspondences in the same A5 (25.62B -> 25.53Y, 10.71C -> 10.71H...)
SIRENE_ROWS = [("05061", "25.62B", "25.53Y"), ("05061", "25.62B", "25.53Y"), ("05061", "10.71C", "10.71H"),
               ("05023", "55.10Z", "55.10Y"), ("05023", "43.21A", "43.21G"), ("05061", "01.12Z", "01.12Y")]


def _sirene(path: Path, with_naf25: bool, legacy=lambda i, n08, n25: (n08, "NAFRev2")) -> Path:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(SIRENE_HEADER if with_naf25 else SIRENE_HEADER[:5] + SIRENE_HEADER[6:])
    for i, (com, n08, n25) in enumerate(SIRENE_ROWS):
        code, nom = legacy(i, n08, n25)
        row = [f"{30000000100011 + i * 8:014d}", com, "A", code, nom] + ([n25] if with_naf25 else []) + ["11", "2027-02-01"]
        w.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_sirene_stock_reads_naf25_column_and_keeps_a5(reference_warehouse, tmp_path):
    shares = {}
    for with_naf25 in (False, True):
        wh = tmp_path / f"s{with_naf25}.duckdb"
        shutil.copyfile(reference_warehouse, wh)
        load.load([_sirene(tmp_path / "StockEtablissement_utf8.csv", with_naf25)], wh, progress=quiet)
        noms = query(wh, "SELECT DISTINCT nomenclature FROM facts WHERE naf_niveau = 'sous_classe'")
        assert noms == [("NAF2025" if with_naf25 else "NAF2008",)]
        shares[with_naf25] = query(wh, """SELECT groupe_code, valeur FROM mart WHERE niveau = 'departement'
                                          AND mesure = 'etablissements' AND groupement IN ('a5', 'total') ORDER BY 1""")
    assert shares[False] == shares[True] and len(shares[True]) == 5  # AZ, BE, FZ, GU + total


def test_sirene_stock_mixing_nomenclatures_is_refused_naming_lines(warehouse, tmp_path):
    # Legacy activity column: lines 3 and 5 already recoded in NAF 2025, the others still in NAF rév. 2.
    path = _sirene(tmp_path / "StockEtablissement_utf8.csv", False,
                   lambda i, n08, n25: (n25, "NAF2025") if i in (1, 3) else (n08, "NAFRev2"))
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=quiet)
    text = str(exc.value)
    assert "le stock mélange les deux nomenclatures d'activité" in text
    assert "2 établissement(s) actif(s) en NAF 2025 (lignes 3, 5" in text


def test_sources_page_and_charts_show_both_nomenclatures_and_the_break(both_demo_warehouses, use_warehouse):
    from streamlit.testing.v1 import AppTest

    use_warehouse(both_demo_warehouses["NAF2025"])
    at = AppTest.from_file(str(REPO_ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/views/sources.py").run()
    assert not at.exception, [e.value for e in at.exception]
    tables = [t.value for t in at.dataframe]
    nomenclatures = next(t for t in tables if "Nomenclature des activités" in t.columns)
    assert "NAF 2025" in set(nomenclatures["Nomenclature des activités"])
    decisions = next(t for t in tables if "Sous-classes à arbitrer" in t.columns)
    assert decisions["Sous-classes à arbitrer"].sum() > 0
    proposal = next(t for t in tables if "Code NAF 2025" in t.columns)
    assert {"reprise", "à arbitrer"} <= set(proposal["Décision"])
    assert (proposal[proposal["Décision"] == "à arbitrer"]["Codes NAF rév. 2 de la filière"].str.len() > 0).all()
    breaks = next(t for t in tables if "Catégories modifiées" in t.columns)
    assert breaks.set_index("Regroupement").loc["A5 (grands secteurs)", "Catégories modifiées"] == 5
    at.switch_page("pages/views/industrie.py").run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Rupture de série en" in text and "au passage à la NAF 2025" in text


def test_line_chart_marks_the_break_year():
    from indicators import charts
    from indicators.content import ChartSpec, Finding

    note = "Rupture de série en 2027, au passage à la NAF 2025 : Industrie n'a pas le même contenu"

    def line(years, notes):
        table = pd.DataFrame({"territoire": "TI", "code": "ti", "niveau": "ti", "categorie": "", "annee": years,
                              "indicateur": "Part", "valeur": [0.10, 0.11, 0.12][-len(years):], "kind": "part",
                              "statut": "ok", "note": notes, "usage": "graphique"})
        return charts.figure(Finding("x", "x", table=table, spec=ChartSpec("line", series="territoire")))
    fig = line([2025, 2026, 2027], ["", "", note])
    assert [s.x0 for s in fig.layout.shapes] == [2026.5]
    assert "NAF 2025 (2027)" in fig.layout.annotations[0].text
    assert not line([2027], [note]).layout.shapes  # nothing before it: no mark


FLORES = ("GEO;GEO_OBJECT;ACTIVITY;NUMBER_EMPL;LEGAL_FORM_WITH_PUBLIC;FLORES_MEASURE;OBS_STATUS;TIME_PERIOD;OBS_VALUE\n"
          "05061;COM;_T;_T;_T;EMPL3112;A;{y};500\n05061;COM;46;_T;_T;EMPL3112;A;{y};40\n05061;COM;{d};_T;_T;EMPL3112;A;{y};12\n")


@pytest.mark.parametrize("name, year, division, expected", [
    ("DS_FLORES_A88_2023.csv", 2023, "25", "NAF2008"),          # before 2027, nothing said: NAF rév. 2
    ("DS_FLORES_A88_NAF2025_2026.csv", 2026, "25", "NAF2025"),  # the name says NAF 2025
    ("DS_FLORES_A88_2027.csv", 2027, "25", "NAF2025"),          # figures of 2027: APE codes are NAF 2025
    ("DS_FLORES_A88_NAF2025_2026.csv", 2026, "45", None),       # division 45 does not exist in NAF 2025
])
def test_flores_nomenclature_from_name_or_vintage(warehouse, tmp_path, name, year, division, expected):
    path = tmp_path / name
    path.write_text(FLORES.format(y=year, d=division), encoding="utf-8")
    if expected is None:
        with pytest.raises(LoadError) as exc:
            load.load([path], warehouse, progress=quiet)
        assert "ligne 4, colonne « ACTIVITY » : le fichier se dit codé en NAF 2025 mais 1 ligne(s) portent la division 45" in str(exc.value)
        return
    load.load([path], warehouse, progress=quiet)
    assert query(warehouse, "SELECT DISTINCT nomenclature FROM facts JOIN sources USING (source_id) WHERE kind = 'flores'") == [(expected,)]
