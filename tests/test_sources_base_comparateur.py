"""INSEE base comparateur de territoires: 2022 edition (real file), 2025 conventions, xlsx, encodings."""
from __future__ import annotations

import csv
from collections import defaultdict

import duckdb
import pytest

from conftest import REPO_ROOT, query, real_file, run_cli
from etl import load, marts
from etl.validate import LoadError

REAL_2022 = "insee_base_cc_comparateur_2022edition_dep05.csv"


def _epci_of_commune() -> dict[str, str]:
    with open(REPO_ROOT / "data" / "reference" / "communes.csv", encoding="utf-8") as f:
        return {r["code_insee"]: r["epci_siren"] for r in csv.DictReader(f)}


def _epci_outside_05() -> set[str]:
    with open(REPO_ROOT / "data" / "reference" / "epci.csv", encoding="utf-8") as f:
        return {r["epci_siren"] for r in csv.DictReader(f) if "05" in r["departements"].split("|") and r["departements"] != "05"}


def test_real_2022_edition_epci_sums_and_partial_status(warehouse):
    path = real_file(REAL_2022)
    result = run_cli("load", path, "--warehouse", warehouse)
    assert result.returncode == 0, result.stderr
    assert "chargé" in result.stdout
    # Expected: ETBE18 and ETTOT18 of the real file summed over each EPCI's communes.
    epci_of = _epci_of_commune()
    expected = defaultdict(lambda: [0.0, 0.0])
    with open(path, encoding="ascii", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            expected[epci_of[row["CODGEO"]]][0] += float(row["ETBE18"])
            expected[epci_of[row["CODGEO"]]][1] += float(row["ETTOT18"])
    rows = query(warehouse, """
        SELECT code, groupement, valeur, statut FROM mart
        WHERE niveau = 'epci' AND mesure = 'etablissements' AND annee = 2018
          AND ((groupement = 'a5' AND groupe_code = 'BE') OR (groupement = 'total' AND groupe_code = '_T'))""")
    got = {(code, g): (v, s) for code, g, v, s in rows if code in expected}
    assert len(expected) == 9 and len(got) == 18
    for epci, (be, tot) in expected.items():
        assert got[(epci, "a5")][0] == pytest.approx(be)
        assert got[(epci, "total")][0] == pytest.approx(tot)
    partial = {code for (code, _), (_, s) in got.items() if s == "partiel"}
    assert partial == _epci_outside_05() and len(partial) == 4
    assert {s for (code, _), (_, s) in got.items() if code not in partial} == {"ok"}
    # The share the read side computes: industry over all establishments, per EPCI.
    share = {e: be / tot for e, (be, tot) in expected.items()}
    assert all(0 < v < 1 for v in share.values())
    # The département is fully covered by the file.
    dep = query(warehouse, """SELECT valeur, statut FROM mart WHERE niveau = 'departement' AND code = '05'
                              AND mesure = 'etablissements' AND annee = 2018 AND groupement = 'total'""")
    assert dep == [(sum(t for _, t in expected.values()), "ok")]
    # ETGZ (section G) is an "of which" variable: never summed into A10 (GI would be G only).
    # The fine groupings are computed on demand (etl.marts.mart_rows): section G as published, no A10.
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        a10 = marts.mart_rows(con, "a10")
        assert con.execute(f"SELECT count(*) FROM {a10} WHERE mesure = 'etablissements'").fetchall() == [(0,)]
        section = marts.mart_rows(con, "section")
        assert con.execute(f"SELECT DISTINCT groupe_code FROM {section} WHERE mesure = 'etablissements'").fetchall() == [("G",)]
    finally:
        con.close()
    # Lineage: the source row and every fact row pointing at it.
    src = query(warehouse, """SELECT source_id, kind, millesime, lignes_lues, lignes_gardees, lignes_rejetees, length(sha256)
                              FROM sources WHERE fichier = ?""", [REAL_2022])
    assert src and src[0][1:] == ("base_comparateur", "2022", 162, 162, 0, 64)
    sid = src[0][0]
    assert query(warehouse, "SELECT count(*) FROM facts WHERE source_id = ?", [sid])[0][0] > 162 * 5


def _write(path, lines: list[str], encoding: str, sep: str = ";") -> None:
    data = "\r\n".join(sep.join(cells) for cells in lines) + "\r\n"
    path.write_bytes(data.encode(encoding))


EDITION_2025 = [
    ["CODGEO", "LIBGEO", "P21_POP", "SUPERF", "ETTOT23", "ETBE23", "P21_EMPLT"],
    ["05061", "Gap", "40 100", "110.43", "4200", "310", "21500,4"],
    ["05023", "Briançon", "11000", "27,01", "1500", "s", "47,0"],
    ["05132", "Saint-Étienne-en-Dévoluy", "900", "132.2", "s", "s", ""],
    ["2A004", "Ajaccio", "70000", "82", "9000", "300", "40000"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_2025_edition_secret_s_and_decimal_comma(warehouse, tmp_path, encoding):
    path = tmp_path / f"base_cc_comparateur_2025_{encoding}.csv"
    _write(path, EDITION_2025, encoding)
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].statut == "chargé" and reports[0].kind == "base_comparateur"
    assert reports[0].lignes_lues == 4 and reports[0].lignes_gardees == 3
    assert any("hors du périmètre" in p.message and not p.grave for p in reports[0].problems)
    facts = {(c, m, n, a): (v, s) for c, m, n, a, v, s in query(warehouse, """
        SELECT territoire_code, mesure, naf_code, annee, valeur, statut FROM facts f JOIN sources USING (source_id)
        WHERE kind = 'base_comparateur'""")}
    assert facts[("05061", "population", "_T", 2021)] == (40100.0, "ok")
    assert facts[("05023", "superficie_km2", "_T", 2021)] == (pytest.approx(27.01), "ok")
    assert facts[("05061", "emplois", "_T", 2021)] == (pytest.approx(21500.4), "ok")
    assert facts[("05023", "emplois", "_T", 2021)] == (47.0, "ok")
    assert facts[("05023", "etablissements", "BE", 2023)] == (None, "secret")
    assert facts[("05132", "etablissements", "_T", 2023)] == (None, "secret")
    # 2025 convention: an empty cell is a figure that does not exist, not a secret and never 0.
    assert ("05132", "emplois", "_T", 2021) not in facts
    assert not any(k[0].startswith("2A") for k in facts)


def test_2022_convention_empty_cell_is_secret(warehouse, tmp_path):
    path = tmp_path / "base_cc_comparateur_2022.csv"
    _write(path, [["CODGEO", "P18_POP", "ETTOT18", "ETBE18"], ["05061", "40000", "4100", ""], ["05023", "11000", "", ""]], "ascii")
    load.load([path], warehouse, progress=lambda m: None)
    rows = query(warehouse, """SELECT territoire_code, naf_code, valeur, statut FROM facts WHERE mesure = 'etablissements'
                               AND annee = 2018 ORDER BY 1, 2""")
    assert rows == [("05023", "BE", None, "secret"), ("05023", "_T", None, "secret"),
                    ("05061", "BE", None, "secret"), ("05061", "_T", 4100.0, "ok")]
    mart = query(warehouse, """SELECT groupement, valeur, statut FROM mart WHERE niveau = 'epci' AND code = '200067825'
                               AND mesure = 'etablissements' AND annee = 2018 ORDER BY 1""")
    # Gap's EPCI: BE secret in its only loaded commune; total from Gap only, and the EPCI is partly outside 05.
    assert ("total", 4100.0, "partiel") in mart


def _xlsx(path, rows: list[list]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "COM"
    ws.append(["Base comparateur de territoires"])
    ws.append(["Mise en ligne le 27/06/2025"])
    ws.append(["Géographie au 01/01/2025"])
    ws.append([None])
    ws.append(["Code géographique", "Libellé géographique", "Population en 2021", "Nombre d'établissements en 2023",
               "Nombre d'établissements de l'industrie en 2023"])
    for r in rows:
        ws.append(r)
    wb.save(path)


def test_xlsx_edition_titles_labels_codes(warehouse, tmp_path):
    path = tmp_path / "base_cc_comparateur_2025.xlsx"
    _xlsx(path, [["CODGEO", "LIBGEO", "P21_POP", "ETTOT23", "ETBE23"],
                 ["05061", "Gap", 40100, 4200, 310], [5023, "Briançon", 11000, 1500, "s"]])
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].kind == "base_comparateur" and reports[0].lignes_gardees == 2
    rows = query(warehouse, """SELECT territoire_code, naf_code, valeur, statut FROM facts
                               WHERE mesure = 'etablissements' ORDER BY 1, 2""")
    assert rows == [("05023", "BE", None, "secret"), ("05023", "_T", 1500.0, "ok"),
                    ("05061", "BE", 310.0, "ok"), ("05061", "_T", 4200.0, "ok")]


def test_xlsx_bad_cell_names_excel_row_and_column(warehouse, tmp_path):
    path = tmp_path / "base_cc_comparateur_2025.xlsx"
    _xlsx(path, [["CODGEO", "LIBGEO", "P21_POP", "ETTOT23", "ETBE23"], ["05061", "Gap", 40100, "quatre mille", 310]])
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    text = str(exc.value)
    assert "base_cc_comparateur_2025.xlsx, ligne 7, colonne « ETTOT23 »" in text and "nombre positif attendu" in text
