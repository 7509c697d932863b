"""URSSAF établissements et effectifs salariés, commune x APE: labelled layout (real sample) and snake_case export."""
from __future__ import annotations

import csv

import duckdb
import pytest

from conftest import query, real_file
from etl import load, sources
from etl.validate import LoadError

REAL = "urssaf_commune_x_ape_sample_dep76_first60lines.csv"


def _staging_connection():
    con = duckdb.connect()
    load._init(con)
    return con


def test_real_labelled_layout_is_read_cell_by_cell():
    path = real_file(REAL)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    expected = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        for row in reader:
            commune, ape = row[header.index("Code commune")], row[header.index("Code APE")]
            for h, v in zip(header, row):
                if v.strip() and (h.startswith("Nombre d'établissements") or h.startswith("Effectifs salariés")):
                    mesure = "etablissements_employeurs" if h.startswith("Nombre") else "effectifs_salaries"
                    naf = f"{ape[:2]}.{ape[2:]}"
                    expected[(commune, naf, mesure, int(h[-4:]))] = float(v)
    con = _staging_connection()
    try:
        module = sources.detect(path)
        assert module.KIND == "urssaf"
        staged = module.stage(con, path)
        assert not staged.hard and staged.lignes_lues == 59
        got = {(c, n, m, a): v for c, n, m, a, v, s in con.execute(
            "SELECT territoire_code, naf_code, mesure, annee, valeur, statut FROM stg_facts").fetchall()}
        assert {s for (s,) in con.execute("SELECT DISTINCT statut FROM stg_facts").fetchall()} == {"ok"}
    finally:
        con.close()
    assert got == expected
    assert min(a for *_, a in expected) == 2006 and max(a for *_, a in expected) == 2022


def test_real_sample_outside_perimeter_is_refused_in_french(warehouse):
    path = real_file(REAL)
    before = warehouse.read_bytes()
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    assert "aucune ligne du fichier ne concerne le périmètre" in str(exc.value) and "76" in str(exc.value)
    assert warehouse.read_bytes() == before


SNAKE = ("code_region;code_departement;code_commune;code_ape;ape;nombre_d_etablissements_2023;effectifs_salaries_2023;"
         "nombre_d_etablissements_2024;effectifs_salaries_2024\n"
         "93;05;05061;2562B;2562B Mécanique industrielle;12;140;13;151\n"
         "93;05;05061;1071C;1071C Boulangerie et boulangerie-pâtisserie;30;95;;\n"
         "93;04;04209;2562B;2562B Mécanique industrielle;2;8;2;9\n"
         "84;26;26001;2562B;2562B Mécanique industrielle;1;3;1;4\n")


def test_snake_case_export(warehouse, tmp_path):
    path = tmp_path / "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last.csv"
    path.write_text(SNAKE, encoding="utf-8")
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].kind == "urssaf" and reports[0].lignes_gardees == 3
    rows = query(warehouse, """SELECT territoire_code, naf_code, annee, mesure, valeur FROM facts f JOIN sources USING (source_id)
                               WHERE kind = 'urssaf' ORDER BY 1, 2, 3, 4""")
    assert ("05061", "10.71C", 2023, "effectifs_salaries", 95.0) in rows
    # Empty cells: nothing published for 2024, so no fact at all (never 0).
    assert not [r for r in rows if r[:3] == ("05061", "10.71C", 2024)]
    assert ("04209", "25.62B", 2024, "effectifs_salaries", 9.0) in rows
    mart = query(warehouse, """SELECT valeur FROM mart WHERE niveau = 'commune' AND code = '05061' AND annee = 2024
                               AND mesure = 'effectifs_salaries' AND groupement = 'a5' AND groupe_code = 'BE'""")
    assert mart == [(151.0,)]


def test_bad_ape_code_names_line_and_column(warehouse, tmp_path):
    path = tmp_path / "urssaf.csv"
    path.write_text(SNAKE.replace("1071C;1071C", "10X1;10X1"), encoding="utf-8")
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    assert "urssaf.csv, ligne 3, colonne « code_ape » : code APE attendu" in str(exc.value)


def test_bad_numbers_are_listed_line_by_line_left_to_right(warehouse, tmp_path):
    path = tmp_path / "urssaf_2024.csv"
    path.write_text("code_commune;code_ape;nombre_d_etablissements_2023;effectifs_salaries_2023;"
                    "nombre_d_etablissements_2024;effectifs_salaries_2024\n"
                    "05061;2562B;1;12;1;13\n"
                    "05023;1071C;2;-4;deux;\n"
                    "05061;4399C;1 000;1,5;3;x\n", encoding="utf-8")
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    assert [str(p) for p in exc.value.problems] == [
        "urssaf_2024.csv, ligne 3, colonne « effectifs_salaries_2023 » : nombre positif attendu, trouvé « -4 »",
        "urssaf_2024.csv, ligne 3, colonne « nombre_d_etablissements_2024 » : nombre positif attendu, trouvé « deux »",
        "urssaf_2024.csv, ligne 4, colonne « effectifs_salaries_2024 » : nombre positif attendu, trouvé « x »"]


def test_a_commune_repeated_once_padded_is_refused_naming_its_lines(warehouse, tmp_path):
    # « 5061 » and « 05061 »: not the same text, the same commune x APE once padded. The loader then does not
    # promise one fact per key, and the load's shared check refuses the repeated key (the file is left out).
    path = tmp_path / "urssaf_2024.csv"
    path.write_text(SNAKE + "93;05;5061;2562B;2562B Mécanique industrielle;1;2;3;4\n", encoding="utf-8")
    before = warehouse.read_bytes()
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    assert "ligne 6" in str(exc.value) and "doublon" in str(exc.value) and "lignes 2 et 6" in str(exc.value)
    assert warehouse.read_bytes() == before
