"""INSEE Flores, long Melodi layout (A38 / A88), latin-1 or UTF-8, OBS_STATUS K = secret."""
from __future__ import annotations

import pytest

from conftest import query
from etl import load
from etl.validate import LoadError

HEADER = "GEO;GEO_OBJECT;ACTIVITY;NUMBER_EMPL;LEGAL_FORM_WITH_PUBLIC;FLORES_MEASURE;OBS_STATUS;TIME_PERIOD;OBS_VALUE"
ROWS_A38 = [
    "05061;COM;_T;_T;1T9X7;UNIT_LOC;A;2022;3210",
    "05061;COM;CA;_T;1T9X7;UNIT_LOC;A;2022;41",
    "05061;COM;CA;_T;1T9X7;EMPL3112;A;2022;388",
    "05061;COM;CA;E1T4;1T9X7;UNIT_LOC;A;2022;20",       # size band: not kept (totals only)
    "05023;COM;CA;_T;1T9X7;UNIT_LOC;K;2022;",           # secret
    "05023;COM;CA;_T;1T9X7;EMPL3112;K;2022;",
    "05023;COM;C1;_T;1T9X7;UNIT_LOC;A;2022;5",          # A17 aggregate in an A38 file: not kept
    "05;DEP;CA;_T;_T;EMPL3112;A;2022;2950",
    "05;DEP;CA;_T;1T9X7;EMPL3112;A;2022;2900",          # _T legal form published: 1T9X7 dropped
    "38;DEP;CA;_T;_T;EMPL3112;A;2022;15000",            # another département: not kept
    "9310;ZE2020;CA;_T;_T;EMPL3112;A;2022;1000",        # zone d'emploi: not kept
    "200067825;EPCI;CA;_T;1T9X7;UNIT_LOC;W;2022;60",    # W = includes another category: a value
]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_flores_a38(warehouse, tmp_path, encoding):
    path = tmp_path / f"DS_FLORES_A38_2022_{encoding}.csv"
    # A label column with accents makes the encoding matter.
    lines = [HEADER + ";LIBELLE"] + [r + (";Hautes-Alpes é" if r.startswith("05;") else ";Gap à") for r in ROWS_A38]
    path.write_bytes("\n".join(lines).encode(encoding))
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].kind == "flores"
    assert any("hors du champ" in p.message for p in reports[0].problems)
    facts = {r[:5]: r[5:] for r in query(warehouse, """
        SELECT niveau, territoire_code, mesure, naf_niveau, naf_code, valeur, statut FROM facts f JOIN sources USING (source_id)
        WHERE kind = 'flores' AND annee = 2022""")}
    assert facts[("commune", "05061", "etablissements", "total", "_T")] == (3210.0, "ok")
    assert facts[("commune", "05061", "etablissements", "a38", "CA")] == (41.0, "ok")
    assert facts[("commune", "05061", "effectifs_salaries", "a38", "CA")] == (388.0, "ok")
    assert facts[("commune", "05023", "etablissements", "a38", "CA")] == (None, "secret")
    assert facts[("departement", "05", "effectifs_salaries", "a38", "CA")] == (2950.0, "ok")
    assert facts[("epci", "200067825", "etablissements", "a38", "CA")] == (60.0, "ok")
    assert len(facts) == 7
    # The A10 industry aggregate is summed from the A38 detail; a secret contribution makes it secret.
    mart = query(warehouse, """SELECT code, valeur, statut FROM mart WHERE niveau = 'commune' AND mesure = 'effectifs_salaries'
                               AND annee = 2022 AND groupement = 'a10' AND groupe_code = 'BE' ORDER BY code""")
    assert mart == [("05023", None, "secret"), ("05061", 388.0, "ok")]


def test_flores_a88_level(warehouse, tmp_path):
    path = tmp_path / "DS_FLORES_A88_2021.csv"
    path.write_text("\n".join([HEADER, "05061;COM;10;_T;1T9X7;UNIT_LOC;A;2021;35", "05061;COM;25;_T;1T9X7;UNIT_LOC;A;2021;12",
                               "05061;COM;_T;_T;1T9X7;UNIT_LOC;A;2021;3100"]), encoding="utf-8")
    load.load([path], warehouse, progress=lambda m: None)
    assert query(warehouse, "SELECT naf_niveau, naf_code, valeur FROM facts WHERE mesure = 'etablissements' ORDER BY 2") == [
        ("a88", "10", 35.0), ("a88", "25", 12.0), ("total", "_T", 3100.0)]


def test_flores_bad_year_and_value(warehouse, tmp_path):
    path = tmp_path / "DS_FLORES_A38.csv"
    path.write_text("\n".join([HEADER, "05061;COM;CA;_T;1T9X7;UNIT_LOC;A;2022;12", "05061;COM;CB;_T;1T9X7;UNIT_LOC;A;22;5",
                               "05061;COM;CC;_T;1T9X7;UNIT_LOC;A;2022;douze"]), encoding="utf-8")
    before = warehouse.read_bytes()
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    text = str(exc.value)
    assert "DS_FLORES_A38.csv, ligne 3, colonne « TIME_PERIOD » : année attendue" in text
    assert "ligne 4, colonne « OBS_VALUE » : nombre positif attendu, trouvé « douze »" in text
    assert warehouse.read_bytes() == before
