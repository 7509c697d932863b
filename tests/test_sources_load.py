"""Loading behaviour common to every source: atomic refusal, idempotence, vintages, lineage, CLI, real files."""
from __future__ import annotations

import fnmatch

import pytest

from conftest import SHARED_REAL, query, real_file, run_cli
from etl import load
from etl.validate import LoadError

URSSAF_HEADER = "code_commune;code_ape;nombre_d_etablissements_{a};effectifs_salaries_{a};nombre_d_etablissements_{b};effectifs_salaries_{b}\n"


def _urssaf(tmp_path, name: str, a: int, b: int, values: tuple) -> object:
    path = tmp_path / name
    path.write_text(URSSAF_HEADER.format(a=a, b=b) + "05061;2562B;{};{};{};{}\n".format(*values), encoding="utf-8")
    return path


def _urssaf_facts(warehouse):
    return query(warehouse, """SELECT annee, mesure, valeur, s.fichier FROM facts f JOIN sources s USING (source_id)
                               WHERE s.kind = 'urssaf' ORDER BY annee, mesure""")


def test_refused_file_leaves_warehouse_byte_identical(warehouse, tmp_path):
    good = _urssaf(tmp_path, "urssaf_2023.csv", 2022, 2023, (10, 100, 11, 110))
    load.load([good], warehouse, progress=lambda m: None)
    before = warehouse.read_bytes()
    bad = tmp_path / "urssaf_2024.csv"
    bad.write_text(URSSAF_HEADER.format(a=2023, b=2024) + "05061;2562B;12;120;13;cent trente\n", encoding="utf-8")
    # A good file and a bad one together: all or nothing.
    other = _urssaf(tmp_path, "urssaf_bis_2024.csv", 2023, 2024, (1, 2, 3, 4))
    with pytest.raises(LoadError) as exc:
        load.load([other, bad], warehouse, progress=lambda m: None)
    assert "urssaf_2024.csv, ligne 2, colonne « effectifs_salaries_2024 » : nombre positif attendu, trouvé « cent trente »" in str(exc.value)
    assert warehouse.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp-*"))


def test_same_file_twice_changes_nothing(warehouse, tmp_path):
    path = _urssaf(tmp_path, "urssaf_2023.csv", 2022, 2023, (10, 100, 11, 110))
    load.load([path], warehouse, progress=lambda m: None)
    before = warehouse.read_bytes()
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert [r.statut for r in reports] == ["déjà chargé"]
    assert warehouse.read_bytes() == before


def test_newer_vintage_replaces_the_years_it_covers_only(warehouse, tmp_path):
    old = _urssaf(tmp_path, "urssaf_2023.csv", 2022, 2023, (10, 100, 11, 110))
    new = _urssaf(tmp_path, "urssaf_2024.csv", 2023, 2024, (12, 115, 13, 130))
    load.load([old], warehouse, progress=lambda m: None)
    load.load([new], warehouse, progress=lambda m: None)
    assert _urssaf_facts(warehouse) == [
        (2022, "effectifs_salaries", 100.0, "urssaf_2023.csv"), (2022, "etablissements_employeurs", 10.0, "urssaf_2023.csv"),
        (2023, "effectifs_salaries", 115.0, "urssaf_2024.csv"), (2023, "etablissements_employeurs", 12.0, "urssaf_2024.csv"),
        (2024, "effectifs_salaries", 130.0, "urssaf_2024.csv"), (2024, "etablissements_employeurs", 13.0, "urssaf_2024.csv")]
    # Both files stay in the lineage, each with its own rows.
    assert query(warehouse, "SELECT fichier, millesime, annees FROM sources WHERE kind = 'urssaf' ORDER BY 1") == [
        ("urssaf_2023.csv", "2023", "2022-2023"), ("urssaf_2024.csv", "2024", "2023-2024")]


def test_older_vintage_loaded_later_does_not_overwrite(warehouse, tmp_path):
    old = _urssaf(tmp_path, "urssaf_2023.csv", 2022, 2023, (10, 100, 11, 110))
    new = _urssaf(tmp_path, "urssaf_2024.csv", 2023, 2024, (12, 115, 13, 130))
    load.load([new], warehouse, progress=lambda m: None)
    load.load([old], warehouse, progress=lambda m: None)
    facts = {(a, m): (v, f) for a, m, v, f in _urssaf_facts(warehouse)}
    assert facts[(2023, "effectifs_salaries")] == (115.0, "urssaf_2024.csv")
    assert facts[(2022, "effectifs_salaries")] == (100.0, "urssaf_2023.csv")


def test_lineage_every_fact_and_firm_has_a_source(warehouse, tmp_path):
    path = _urssaf(tmp_path, "urssaf_2023.csv", 2022, 2023, (10, 100, 11, 110))
    load.load([path], warehouse, progress=lambda m: None)
    assert query(warehouse, "SELECT count(*) FROM facts WHERE source_id NOT IN (SELECT source_id FROM sources)") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM mart WHERE source_id NOT IN (SELECT source_id FROM sources)") == [(0,)]
    row = query(warehouse, """SELECT kind, fichier, length(sha256), millesime, lignes_lues, lignes_gardees, lignes_rejetees,
                                     charge_le IS NOT NULL, producteur, licence FROM sources WHERE kind = 'urssaf'""")
    assert row == [("urssaf", "urssaf_2023.csv", 64, "2023", 1, 1, 0, True, "URSSAF", "ODbL 1.0 (open data Urssaf)")]
    mart = query(warehouse, """SELECT DISTINCT s.fichier FROM mart m JOIN sources s USING (source_id)
                               WHERE m.mesure = 'effectifs_salaries' AND m.niveau = 'epci'""")
    assert mart == [("urssaf_2023.csv",)]


def test_cli_refusal_is_french_without_traceback(warehouse, tmp_path):
    bad = tmp_path / "export.csv"
    bad.write_text("colonne_a;colonne_b\n1;2\n", encoding="utf-8")
    before = warehouse.read_bytes()
    result = run_cli("load", bad, "--warehouse", warehouse)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "Fichier refusé, l'entrepôt n'a pas été modifié" in result.stderr
    assert "export.csv, ligne 1 : format de fichier non reconnu" in result.stderr
    assert warehouse.read_bytes() == before
    result = run_cli("check", bad, "--warehouse", warehouse)
    assert result.returncode == 2 and "refusé" in result.stdout and "Traceback" not in result.stderr
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run_cli("load", binary, "--warehouse", warehouse)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "image.csv" in result.stderr


def test_status_lists_sources_and_soft_problems(warehouse, tmp_path):
    path = tmp_path / "urssaf_2023.csv"
    path.write_text(URSSAF_HEADER.format(a=2022, b=2023) + "05061;2562B;1;2;3;4\n38185;2562B;1;2;3;4\n", encoding="utf-8")
    assert run_cli("load", path, "--warehouse", warehouse).returncode == 0
    result = run_cli("status", "--warehouse", warehouse)
    assert result.returncode == 0
    assert "urssaf_2023.csv" in result.stdout and "hors du périmètre" in result.stdout


REAL_EXPECTED = {
    "insee_base_cc_comparateur_2022edition_dep05.csv": "chargé",
    "insee_populations_legales_2023_donnees_communes_dep05.csv": "chargé",
    "urssaf_commune_x_ape_sample_dep76_first60lines.csv": "aucune ligne du fichier ne concerne le périmètre",
    "dgcl_epcicom2025_epci_05.csv": "fichier de référence, pas une source statistique : composition des EPCI",
    "insee_cog_communes_dep05.csv": "fichier de référence, pas une source statistique : code officiel géographique",
    "insee_meta_base_cc_comparateur_2022edition_vars_and_dep05.csv": "fichier de métadonnées",
    "insee_table_appartenance_geo_2022_zones_supra_dep05.csv": "table d'appartenance géographique",
    "insee_table_appartenance_geo_communes_2022_dep05.csv": "table d'appartenance géographique des communes",
    "geo/communes-05-hautes-alpes-2018.geojson": "contours géographiques (GeoJSON)",
    "insee_base_cc_comparateur_2022edition_france.csv": "chargé",
    "geo/departements-2018-simplifie.geojson": "contours géographiques (GeoJSON)",
    "geo/regions-2018-simplifie.geojson": "contours géographiques (GeoJSON)",
}
# Files of one family: one of them is loaded, the others only need to exist under the pattern.
REAL_FAMILIES = {"geo/communes-2018/communes-*.geojson": "contours géographiques (GeoJSON)"}


def test_every_real_file_is_loaded_or_refused_with_a_reason(warehouse):
    real_file("SOURCES.md")
    present = {p.relative_to(SHARED_REAL).as_posix() for p in SHARED_REAL.rglob("*") if p.is_file() and p.name != "SOURCES.md"}
    families = {pattern: sorted(p for p in present if fnmatch.fnmatch(p, pattern)) for pattern in REAL_FAMILIES}
    present -= {p for members in families.values() for p in members}
    assert present <= set(REAL_EXPECTED), f"new real file(s) without an expected outcome: {present - set(REAL_EXPECTED)}"
    cases = dict(REAL_EXPECTED)
    cases.update({members[0]: REAL_FAMILIES[pattern] for pattern, members in families.items() if members})
    for name, expected in cases.items():
        path = SHARED_REAL / name
        if not path.exists():
            continue
        before = warehouse.read_bytes()
        if expected == "chargé":
            reports = load.load([path], warehouse, progress=lambda m: None)
            assert reports[0].statut == "chargé", name
        else:
            with pytest.raises(LoadError) as exc:
                load.load([path], warehouse, progress=lambda m: None)
            assert expected in str(exc.value) and path.name in str(exc.value), name
            assert warehouse.read_bytes() == before


def test_real_populations_legales_as_population_facts(warehouse):
    path = real_file("insee_populations_legales_2023_donnees_communes_dep05.csv")
    load.load([path], warehouse, progress=lambda m: None)
    rows = query(warehouse, """SELECT count(*), sum(valeur) FROM facts f JOIN sources s USING (source_id)
                               WHERE s.kind = 'populations_legales' AND annee = 2023 AND mesure = 'population'""")
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        pmun = sum(int(r["PMUN"]) for r in csv.DictReader(f, delimiter=";"))
    assert rows == [(162, float(pmun))]
    # Same figures as the reference communes table (both are the 2023 populations légales).
    ref = query(warehouse, "SELECT sum(population) FROM ref_communes WHERE departement = '05'")
    assert ref == [(pmun,)]
