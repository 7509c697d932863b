"""INSEE Sirene stock of establishments: CSV (plain or gzip) and parquet, streamed by DuckDB."""
from __future__ import annotations

import csv
import gzip
import io

import duckdb
import pytest

from conftest import query
from etl import load
from etl.validate import LoadError

HEADER = ("siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
          "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
          "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,numeroVoieEtablissement,"
          "indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,indiceRepetitionDernierNumeroVoieEtablissement,"
          "typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
          "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,"
          "codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
          "identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,coordonneeLambertOrdonneeEtablissement,"
          "complementAdresse2Etablissement,numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,"
          "libelleVoie2Etablissement,codePostal2Etablissement,libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,"
          "distributionSpeciale2Etablissement,codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
          "codePays2Etablissement,libellePays2Etablissement,dateDebut,etatAdministratifEtablissement,enseigne1Etablissement,"
          "enseigne2Etablissement,enseigne3Etablissement,denominationUsuelleEtablissement,activitePrincipaleEtablissement,"
          "nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement").split(",")

# (siret, commune, etat, naf, nomenclature, tranche, last processing date, street with a comma)
ESTABLISHMENTS = [
    ("30000000100011", "05061", "A", "25.62B", "NAFRev2", "11", "2025-01-28T10:12:00", "ZA Patac, lot 4"),
    ("30000000200019", "05061", "A", "25.62B", "NAFRev2", "NN", "2024-06-01T08:00:00", "Route de Briançon"),
    ("30000000300017", "05061", "A", "10.71C", "NAFRev2", "01", "2023-02-11T08:00:00", "Rue Carnot"),
    ("30000000400015", "05061", "F", "10.71C", "NAFRev2", "01", "2022-02-11T08:00:00", "Rue Carnot"),   # closed
    ("30000000500012", "05023", "A", "55.10Z", "NAFRev2", "00", "2024-12-03T08:00:00", "Grande Rue"),
    ("30000000600010", "05023", "A", "52.1Z", "NAFRev1", "", "2010-01-01T00:00:00", "Grande Rue"),      # old NAF
    ("30000000700018", "04209", "A", "25.62B", "NAFRev2", "12", "2024-03-03T08:00:00", "Avenue de la Libération"),
    ("30000000800016", "75056", "A", "70.10Z", "NAFRev2", "53", "2024-05-05T08:00:00", "Rue de Rivoli"),  # outside
    ("30000000900014", "", "A", "70.10Z", "NAFRev2", "NN", "2024-05-05T08:00:00", ""),                   # abroad
]


def _csv_text() -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for siret, com, etat, naf, nomencl, tranche, traitement, street in ESTABLISHMENTS:
        row = dict.fromkeys(HEADER, "")
        row.update(siren=siret[:9], nic=siret[9:], siret=siret, codeCommuneEtablissement=com,
                   etatAdministratifEtablissement=etat, activitePrincipaleEtablissement=naf,
                   nomenclatureActivitePrincipaleEtablissement=nomencl, trancheEffectifsEtablissement=tranche,
                   dateDernierTraitementEtablissement=traitement, libelleVoieEtablissement=street,
                   libelleCommuneEtablissement="GAP é")
        w.writerow([row[h] for h in HEADER])
    return out.getvalue()


def _write(tmp_path, variant: str):
    if variant == "csv":
        path = tmp_path / "StockEtablissement_utf8.csv"
        path.write_text(_csv_text(), encoding="utf-8")
    elif variant == "gz":
        path = tmp_path / "geo_siret_05.csv.gz"
        path.write_bytes(gzip.compress(_csv_text().encode("utf-8")))
    else:
        src = tmp_path / "src.csv"
        src.write_text(_csv_text(), encoding="utf-8")
        path = tmp_path / "StockEtablissement.parquet"
        con = duckdb.connect()
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, header=true)", [src.as_posix()])
        con.execute(f"COPY t TO '{path.as_posix()}' (FORMAT parquet)")
        con.close()
    return path


@pytest.mark.parametrize("variant", ["csv", "gz", "parquet"])
def test_sirene_active_establishments_by_commune_and_naf(warehouse, tmp_path, variant):
    path = _write(tmp_path, variant)
    reports = load.load([path], warehouse, progress=lambda m: None)
    r = reports[0]
    assert r.kind == "sirene" and r.lignes_lues == 9 and r.lignes_gardees == 6
    messages = " ".join(p.message for p in r.problems)
    assert "2 établissement(s) hors du périmètre" in messages
    assert "1 établissement(s) actif(s) sans code NAF rév. 2" in messages
    facts = {row[:3]: row[3] for row in query(warehouse, """
        SELECT territoire_code, mesure, naf_code, valeur FROM facts f JOIN sources USING (source_id)
        WHERE kind = 'sirene' AND annee = 2025""")}
    assert facts == {
        ("05061", "etablissements", "25.62B"): 2, ("05061", "etablissements", "10.71C"): 1,
        ("05061", "etablissements", "_T"): 3,
        ("05061", "etablissements_avec_salaries", "25.62B"): 1, ("05061", "etablissements_avec_salaries", "10.71C"): 1,
        ("05061", "etablissements_avec_salaries", "_T"): 2,
        ("05023", "etablissements", "55.10Z"): 1, ("05023", "etablissements", "_T"): 2,
        ("04209", "etablissements", "25.62B"): 1, ("04209", "etablissements", "_T"): 1,
        ("04209", "etablissements_avec_salaries", "25.62B"): 1, ("04209", "etablissements_avec_salaries", "_T"): 1,
    }
    src = query(warehouse, "SELECT millesime, annees, lignes_lues, lignes_gardees FROM sources WHERE kind = 'sirene'")
    assert src == [("2025-01", "2025", 9, 6)]
    # Industry (A10 BE) in Gap: the two 25.62B establishments; the 10.71C one too (section C).
    mart = query(warehouse, """SELECT valeur FROM mart WHERE niveau = 'commune' AND code = '05061' AND annee = 2025
                               AND mesure = 'etablissements' AND groupement = 'a10' AND groupe_code = 'BE'""")
    assert mart == [(3.0,)]


def test_sirene_missing_column_is_refused(warehouse, tmp_path):
    path = tmp_path / "StockEtablissement_utf8.csv"
    text = _csv_text().replace("codeCommuneEtablissement", "codeCommune", 1)
    path.write_text(text, encoding="utf-8")
    # Without codeCommuneEtablissement the header is not recognised as Sirene; forcing the kind names the column.
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, kind="sirene", progress=lambda m: None)
    assert "colonne obligatoire absente : codeCommuneEtablissement" in str(exc.value)


def test_sirene_malformed_line_is_refused_with_its_number(warehouse, tmp_path):
    path = tmp_path / "StockEtablissement_utf8.csv"
    lines = _csv_text().splitlines()
    lines[3] = lines[3] + ",extra,columns"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = warehouse.read_bytes()
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    assert "StockEtablissement_utf8.csv" in str(exc.value) and "colonnes" in str(exc.value)
    assert warehouse.read_bytes() == before
