"""National-scale benchmark dataset, in the published layouts, generated with DuckDB SQL.

    python bench/generate.py [--scale quick|full] [--out bench/data]

Writes `<out>/<scale>/`:
- `reference/`: the reference directory of all France (same files and columns as
  data/reference/): ~34 900 communes in ~1 250 EPCIs, 101 départements, 18 régions;
  NAF, filières, sectors and workforce bands copied from data/reference;
- `base_cc_comparateur_2023_bench.csv`: INSEE base comparateur, one row per commune;
- `urssaf_commune_ape_2024_bench.csv`: URSSAF commune x APE, 2006-2024 (1.5 M rows / 150 000 at quick);
- `StockEtablissement_utf8_bench.csv`: Sirene stock of establishments (1 M / 10 M rows);
- `cci_entreprises_2022_bench.csv`: chamber export, 5 years of turnover per establishment
  (300 000 / 3 M firm-years).

Values are synthetic; codes, cardinalities and layouts are realistic. Randomness comes
from `hash()` of row numbers, so the files are the same at every run and thread count.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
DEFAULT_OUT = ROOT / "bench" / "data"

SCALES = {
    # URSSAF: ~1.5 M commune x APE rows at full scale; a tenth at quick so that the run stays short.
    "quick": {"sirene_rows": 1_000_000, "chamber_firm_years": 300_000, "urssaf_rows": 150_000},
    "full": {"sirene_rows": 10_000_000, "chamber_firm_years": 3_000_000, "urssaf_rows": 1_500_000},
}
N_COMMUNES = 34_900
N_EPCI = 1_250
URSSAF_YEARS = list(range(2006, 2025))      # 19 years, as the published file
CA_YEARS = [2018, 2019, 2020, 2021, 2022]
COPIED = ["naf.csv", "filieres.csv", "secteurs_candidature.csv", "tranches_effectifs.csv"]

# Régions (code, name) and their départements (COG 2024).
REGIONS = {
    "01": ("Guadeloupe", ["971"]), "02": ("Martinique", ["972"]), "03": ("Guyane", ["973"]),
    "04": ("La Réunion", ["974"]), "06": ("Mayotte", ["976"]),
    "11": ("Île-de-France", ["75", "77", "78", "91", "92", "93", "94", "95"]),
    "24": ("Centre-Val de Loire", ["18", "28", "36", "37", "41", "45"]),
    "27": ("Bourgogne-Franche-Comté", ["21", "25", "39", "58", "70", "71", "89", "90"]),
    "28": ("Normandie", ["14", "27", "50", "61", "76"]),
    "32": ("Hauts-de-France", ["02", "59", "60", "62", "80"]),
    "44": ("Grand Est", ["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"]),
    "52": ("Pays de la Loire", ["44", "49", "53", "72", "85"]),
    "53": ("Bretagne", ["22", "29", "35", "56"]),
    "75": ("Nouvelle-Aquitaine", ["16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"]),
    "76": ("Occitanie", ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"]),
    "84": ("Auvergne-Rhône-Alpes", ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]),
    "93": ("Provence-Alpes-Côte d'Azur", ["04", "05", "06", "13", "83", "84"]),
    "94": ("Corse", ["2A", "2B"]),
}

SIRENE_COLUMNS = [
    "siren", "nic", "siret", "statutDiffusionEtablissement", "dateCreationEtablissement",
    "trancheEffectifsEtablissement", "anneeEffectifsEtablissement", "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement", "etablissementSiege", "nombrePeriodesEtablissement",
    "complementAdresseEtablissement", "numeroVoieEtablissement", "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement", "indiceRepetitionDernierNumeroVoieEtablissement", "typeVoieEtablissement",
    "libelleVoieEtablissement", "codePostalEtablissement", "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement", "distributionSpecialeEtablissement", "codeCommuneEtablissement",
    "codeCedexEtablissement", "libelleCedexEtablissement", "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement", "identifiantAdresseEtablissement", "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement", "complementAdresse2Etablissement", "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement", "typeVoie2Etablissement", "libelleVoie2Etablissement",
    "codePostal2Etablissement", "libelleCommune2Etablissement", "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement", "codeCommune2Etablissement", "codeCedex2Etablissement",
    "libelleCedex2Etablissement", "codePaysEtranger2Etablissement", "libellePaysEtranger2Etablissement",
    "etatAdministratifEtablissement", "enseigne1Etablissement", "enseigne2Etablissement", "enseigne3Etablissement",
    "denominationUsuelleEtablissement", "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement", "caractereEmployeurEtablissement",
]

_MACROS = """
-- Uniform in [0, 1) from a row number and a salt: the same at every run.
CREATE OR REPLACE MACRO u(i, salt) AS (hash(i, salt) % 1000000007)::DOUBLE / 1000000007;
-- Standard normal (Box-Muller).
CREATE OR REPLACE MACRO z(i, salt) AS sqrt(-2 * ln(1 - u(i, salt || 'a'))) * cos(2 * pi() * u(i, salt || 'b'));
-- Append the Luhn check digit to a string of digits.
CREATE OR REPLACE MACRO luhn(b) AS b || CAST((10 - list_sum(list_transform(range(1, length(b) + 1), lambda i:
    CASE WHEN i % 2 = 1 THEN (CASE WHEN CAST(substr(b, length(b) - i + 1, 1) AS INTEGER) * 2 > 9
                                   THEN CAST(substr(b, length(b) - i + 1, 1) AS INTEGER) * 2 - 9
                                   ELSE CAST(substr(b, length(b) - i + 1, 1) AS INTEGER) * 2 END)
         ELSE CAST(substr(b, length(b) - i + 1, 1) AS INTEGER) END)) % 10) % 10 AS VARCHAR);
"""


def _generator_version(scale: str) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for name in COPIED:
        h.update((REFERENCE / name).read_bytes())
    h.update(scale.encode())
    return h.hexdigest()[:16]


def _copy(con: duckdb.DuckDBPyConnection, select: str, path: Path, delim: str) -> None:
    """Write a query to CSV (header from the column aliases), through a temporary name."""
    tmp = path.with_name(path.name + ".part")
    con.execute(f"COPY ({select}) TO '{tmp.as_posix()}' (FORMAT csv, HEADER true, DELIMITER '{delim}', QUOTE '\"')")
    tmp.replace(path)


def reference(con: duckdb.DuckDBPyConnection, ref: Path) -> None:
    """Régions, départements, communes, EPCIs of all France (synthetic names and figures)."""
    ref.mkdir(parents=True, exist_ok=True)
    rows = [(reg, name, dep, i) for reg, (name, deps) in REGIONS.items() for dep in deps for i in [0]]
    con.execute("CREATE OR REPLACE TABLE b_dep (region VARCHAR, region_nom VARCHAR, code VARCHAR, n INTEGER)")
    con.executemany("INSERT INTO b_dep VALUES (?, ?, ?, ?)", rows)
    # Communes per département: 30 in overseas départements, 1 in Paris, the rest shared at random.
    con.execute(f"""
        CREATE OR REPLACE TABLE b_dep AS
        WITH w AS (SELECT *, CASE WHEN length(code) = 3 OR code = '75' THEN 0 ELSE 0.3 + 1.4 * u(code, 'ncom') END AS w FROM b_dep),
        fixed AS (SELECT sum(CASE WHEN length(code) = 3 THEN 30 WHEN code = '75' THEN 1 ELSE 0 END) AS f FROM w)
        SELECT region, region_nom, code,
               CAST(CASE WHEN length(code) = 3 THEN 30 WHEN code = '75' THEN 1
                         ELSE round(w / (SELECT sum(w) FROM w) * ({N_COMMUNES} - (SELECT f FROM fixed))) END AS INTEGER) AS n
        FROM w
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE b_dep AS
        SELECT *, greatest(1, CAST(round(n * {N_EPCI} / (SELECT sum(n) FROM b_dep)) AS INTEGER)) AS n_epci,
               row_number() OVER (ORDER BY code) AS dep_rank
        FROM b_dep
    """)
    con.execute("""
        CREATE OR REPLACE TABLE b_communes AS
        SELECT d.code || CASE WHEN length(d.code) = 3 THEN lpad(CAST(j AS VARCHAR), 2, '0') ELSE lpad(CAST(j AS VARCHAR), 3, '0') END AS code_insee,
               d.code AS departement, d.region, j, d.n, d.n_epci, d.dep_rank,
               CAST(floor((j - 1) * d.n_epci / d.n) AS INTEGER) AS epci_in_dep
        FROM b_dep d, range(1, d.n + 1) r(j)
    """)
    con.execute("""
        CREATE OR REPLACE TABLE b_communes AS
        SELECT code_insee, 'Commune ' || code_insee AS nom, departement, region,
               '2' || lpad(CAST(dense_rank() OVER (ORDER BY dep_rank, epci_in_dep) * 7919 % 99999991 AS VARCHAR), 8, '0') AS epci_siren,
               CAST(CASE WHEN departement = '75' THEN 2100000
                         ELSE greatest(1, round(exp(6.0 + 1.45 * z(code_insee, 'pop')))) END AS BIGINT) AS population,
               2022 AS annee_population,
               round(3 + 60 * pow(u(code_insee, 'sup'), 2), 2) AS superficie_km2
        FROM b_communes
    """)
    con.execute("""
        CREATE OR REPLACE TABLE b_epci AS
        WITH e AS (SELECT epci_siren, count(*) AS nb, sum(population) AS pop, min(departement) AS dep,
                          count(*) FILTER (WHERE departement = '05') AS nb05
                   FROM b_communes GROUP BY epci_siren)
        SELECT epci_siren, CASE WHEN pop > 400000 THEN 'Métropole' WHEN pop > 250000 THEN 'CU' WHEN pop > 50000 THEN 'CA' ELSE 'CC' END AS type,
               nb, nb05, 'Territoire ' || epci_siren AS nom_court, dep
        FROM e
    """)
    _copy(con, """SELECT code_insee, nom, departement, region, epci_siren, population, annee_population,
                         printf('%.2f', superficie_km2) AS superficie_km2, '' AS anciens_codes
                  FROM b_communes ORDER BY code_insee""", ref / "communes.csv", ",")
    _copy(con, """SELECT epci_siren, CASE type WHEN 'Métropole' THEN 'Métropole ' WHEN 'CU' THEN 'CU ' WHEN 'CA' THEN 'CA ' ELSE 'CC ' END
                         || nom_court AS nom, nom_court, CASE type WHEN 'Métropole' THEN 'METRO' ELSE type END AS type,
                         nb AS nb_communes, dep AS departements
                  FROM b_epci ORDER BY epci_siren""", ref / "epci.csv", ",")
    # One Territoire d'industrie per département (its EPCI whose first commune lies there), under the ids of
    # the real list for the Hautes-Alpes: the benchmark's perimeter is the product's default one.
    con.execute("""CREATE OR REPLACE TABLE b_ti AS
                   SELECT CASE WHEN dep = '05' THEN 'ti-9304' ELSE 'ti-b' || dep END AS id_ti,
                          'Industrie ' || dep AS nom, epci_siren FROM b_epci""")
    _copy(con, "SELECT id_ti, any_value(nom) AS nom, count(*) AS nb_membres FROM b_ti GROUP BY id_ti ORDER BY id_ti",
          ref / "territoires_industrie.csv", ",")
    _copy(con, "SELECT id_ti, 'epci' AS type_membre, epci_siren AS code, 'CC ' || epci_siren AS nom FROM b_ti ORDER BY ALL",
          ref / "territoires_industrie_membres.csv", ",")
    _copy(con, """SELECT t.id_ti, c.code_insee, 'epci' AS type_membre, t.epci_siren AS code_membre
                  FROM b_ti t JOIN b_communes c USING (epci_siren) ORDER BY ALL""",
          ref / "territoires_industrie_communes.csv", ",")
    _copy(con, """SELECT niveau, code, nom FROM (
                    SELECT 'departement' AS niveau, code, 'Département ' || code AS nom, 1 AS k FROM b_dep
                    UNION ALL SELECT DISTINCT 'region', region, region_nom, 2 FROM b_dep
                    UNION ALL SELECT 'france', 'FR', 'France', 3) ORDER BY k, code""",
          ref / "territoires.csv", ",")
    (ref / "communes_changements.csv").write_text("ancien_code,nouveau_code,date_effet,nom_ancien\n", encoding="utf-8")
    for name in COPIED:
        shutil.copyfile(REFERENCE / name, ref / name)
    con.execute(f"CREATE OR REPLACE TABLE b_naf AS SELECT * FROM read_csv('{(REFERENCE / 'naf.csv').as_posix()}', all_varchar=true)")
    # NAF weights (a heavy-tailed mix: a few very common activities) and their cumulative distribution.
    con.execute("""
        CREATE OR REPLACE TABLE b_naf AS
        SELECT row_number() OVER (ORDER BY naf_sous_classe) - 1 AS k, naf_sous_classe, libelle, a88, libelle_a88,
               section, libelle_section, a17, libelle_a17, a38, libelle_a38,
               pow(u(naf_sous_classe, 'w'), 3) * CASE WHEN section IN ('O', 'T', 'U') THEN 0.05 ELSE 1 END AS w
        FROM b_naf
    """)
    con.execute("""
        CREATE OR REPLACE TABLE b_naf_cdf AS
        SELECT k, naf_sous_classe, coalesce(sum(w) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) / sum(w) OVER () AS lo
        FROM b_naf
    """)
    con.execute("""
        CREATE OR REPLACE TABLE b_com_cdf AS
        SELECT code_insee, nom, departement,
               coalesce(sum(population) OVER (ORDER BY code_insee ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::DOUBLE
                 / sum(population) OVER () AS lo
        FROM b_communes
    """)


def base_comparateur(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """2022-edition style: empty cells for the secret, decimal points, variables the dashboard ignores."""
    shares = {"AZ": 0.09, "BE": 0.065, "FZ": 0.14, "GU": 0.62, "OQ": 0.085}
    parts = [f"CASE WHEN population < 150 AND u(code_insee, 'sBE') < 0.3 AND '{k}' = 'BE' THEN NULL "
             f"ELSE CAST(round(et * {v} * (0.7 + 0.6 * u(code_insee, '{k}'))) AS BIGINT) END AS ET{k}23"
             for k, v in shares.items()]
    _copy(con, f"""
        SELECT code_insee AS CODGEO, nom AS LIBGEO, CAST(round(population * (0.985 + 0.025 * u(code_insee, 'p22'))) AS BIGINT) AS P22_POP,
               CAST(round(population * (0.95 + 0.09 * u(code_insee, 'p16'))) AS BIGINT) AS P16_POP,
               superficie_km2 AS SUPERF,
               CAST(round(population * 0.45 * u(code_insee, 'men'), 3) AS DOUBLE) AS P22_MEN,
               CAST(round(16000 + 12000 * u(code_insee, 'med')) AS BIGINT) AS MED21,
               round(et * (1.5 + 1.7 * u(code_insee, 'em')), 3) AS P22_EMPLT,
               round(et * (1.1 + 1.2 * u(code_insee, 'es')), 3) AS P22_EMPLT_SAL,
               et AS ETTOT23, {", ".join(parts)},
               CAST(round(et * 0.15 * u(code_insee, 'gz')) AS BIGINT) AS ETGZ23
        FROM (SELECT *, CAST(1 + floor(population / 14 * (0.6 + 0.8 * u(code_insee, 'et'))) AS BIGINT) AS et FROM b_communes)
        ORDER BY code_insee
    """, path, ";")


def urssaf(con: duckdb.DuckDBPyConnection, path: Path, rows: int) -> None:
    """URSSAF commune x APE: labelled columns, then « Nombre d'établissements / Effectifs salariés YYYY » pairs."""
    # Each (commune, APE) pair is present with a probability growing with population and the APE weight,
    # scaled so that about `rows` pairs are drawn.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE b_p AS
        SELECT c.code_insee, n.k, pow(c.population, 0.75) * n.w AS p FROM b_communes c, b_naf n
    """)
    # Solve the scale factor so that sum(min(1, a * p)) ~ rows (bisection).
    lo, hi = 1e-9, 1e3
    for _ in range(40):
        mid = (lo * hi) ** 0.5
        n = con.execute("SELECT sum(least(1, ? * p)) FROM b_p", [mid]).fetchall()[0][0]
        lo, hi = (mid, hi) if n < rows else (lo, mid)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE b_pairs AS
        SELECT p.code_insee, p.k, least(1, ? * p.p) AS p FROM b_p p
        WHERE u(p.code_insee || '-' || CAST(p.k AS VARCHAR), 'keep') < least(1, ? * p.p)
    """, [lo, lo])
    con.execute("DROP TABLE b_p")
    cols = []
    for y in URSSAF_YEARS:
        # Present from a start year to an end year; counts and workforce drift around a base size.
        alive = f"({y} BETWEEN y0 AND y1)"
        cols.append(f"CASE WHEN {alive} THEN greatest(1, CAST(round(n0 * (1 + 0.02 * ({y} - 2015)) * (0.9 + 0.2 * u(id, 'e{y}'))) AS BIGINT)) END"
                    f" AS \"Nombre d'établissements {y}\"")
        cols.append(f"CASE WHEN {alive} THEN CAST(round(s0 * (1 + 0.015 * ({y} - 2015)) * (0.85 + 0.3 * u(id, 's{y}'))) AS BIGINT) END"
                    f" AS \"Effectifs salariés {y}\"")
    _copy(con, f"""
        WITH b AS (
            SELECT p.code_insee || '-' || n.naf_sous_classe AS id, p.code_insee, c.nom, c.departement, c.region, c.epci_siren,
                   n.naf_sous_classe, n.libelle, n.a88, n.libelle_a88, n.a17, n.libelle_a17, n.a38, n.libelle_a38, n.section,
                   CASE WHEN u(p.code_insee || n.naf_sous_classe, 'y0') < 0.55 THEN 2006
                        ELSE 2007 + CAST(floor(18 * u(p.code_insee || n.naf_sous_classe, 'y0b')) AS INTEGER) END AS y0,
                   CASE WHEN u(p.code_insee || n.naf_sous_classe, 'y1') < 0.8 THEN 2024
                        ELSE 2006 + CAST(floor(18 * u(p.code_insee || n.naf_sous_classe, 'y1b')) AS INTEGER) END AS y1_raw,
                   1 + floor(-ln(1 - u(p.code_insee || n.naf_sous_classe, 'n0')) * 3 * p.p) AS n0,
                   floor(-ln(1 - u(p.code_insee || n.naf_sous_classe, 's0')) * 8
                         * CASE WHEN n.section IN ('B', 'C', 'D', 'E') THEN 4 ELSE 1 END * (1 + 3 * p.p)) AS s0
            FROM b_pairs p JOIN b_naf n USING (k) JOIN b_communes c USING (code_insee)
        )
        SELECT r.region_nom AS "Région", r.region_nom AS "Ancienne région", 'Département ' || b.departement AS "Département",
               'Zone ' || b.departement || '01' AS "Zone d'emploi", 'Territoire ' || b.epci_siren AS "EPCI",
               b.nom AS "Nom commune", b.code_insee || ' ' || b.nom AS "Commune",
               'GS' || b.section AS "Grand secteur d'activité", b.a17 || ' ' || b.libelle_a17 AS "Secteur NA17",
               b.a38 || ' ' || b.libelle_a38 AS "Secteur NA38", b.a88 || ' ' || b.libelle_a88 AS "Secteur NA88",
               replace(b.naf_sous_classe, '.', '') || ' ' || b.libelle AS "APE",
               b.region AS "Code région", b.region AS "Code ancienne région", b.departement AS "Code département",
               b.departement || '01' AS "Code zone d'emploi", b.epci_siren AS "Code EPCI", b.code_insee AS "Code commune",
               replace(b.naf_sous_classe, '.', '') AS "Code APE",
               {", ".join(cols)}
        FROM (SELECT *, greatest(y0, y1_raw) AS y1 FROM b) b
        JOIN (SELECT DISTINCT region, region_nom FROM b_dep) r USING (region)
        ORDER BY b.code_insee, b.naf_sous_classe
    """, path, ";")
    con.execute("DROP TABLE b_pairs")


def sirene(con: duckdb.DuckDBPyConnection, path: Path, rows: int) -> None:
    """Sirene stock of establishments: INSEE column names, NAF with the dot, active and closed."""
    bands = ["NN"] * 14 + ["00", "01", "01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51"]
    band_list = "[" + ", ".join(f"'{b}'" for b in bands) + "]"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE b_sir AS
        SELECT i, CAST(floor(i / 1.3) AS BIGINT) AS firm, u(i, 'etat') < 0.42 AS actif, u(i, 'etr') < 0.001 AS etranger
        FROM range({rows}) t(i)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE b_sir AS
        SELECT s.*, luhn(lpad(CAST(10000000 + (s.firm * 48271) % 89999999 AS VARCHAR), 8, '0')) AS siren,
               CAST(s.i - CAST(ceil(s.firm * 1.3) AS BIGINT) + 1 AS INTEGER) AS rank_in_firm,
               c.code_insee, c.nom AS commune_nom, c.departement, n.naf_sous_classe
        FROM b_sir s
        ASOF JOIN b_com_cdf c ON u(s.i, 'com') >= c.lo
        ASOF JOIN b_naf_cdf n ON u(s.i, 'naf') >= n.lo
    """)
    _copy(con, f"""
        SELECT siren, substr(siret, 10) AS nic, siret,
               CASE WHEN u(i, 'diff') < 0.03 THEN 'P' ELSE 'O' END AS statutDiffusionEtablissement,
               CAST(DATE '1960-01-01' + CAST(floor(23000 * pow(u(i, 'crea'), 0.6)) AS INTEGER) AS VARCHAR) AS dateCreationEtablissement,
               CASE WHEN actif THEN {band_list}[1 + CAST(floor(u(i, 'tr') * {len(bands)}) AS INTEGER)] END AS trancheEffectifsEtablissement,
               CASE WHEN actif AND u(i, 'tr') >= 0.5 THEN '2022' END AS anneeEffectifsEtablissement,
               NULL AS activitePrincipaleRegistreMetiersEtablissement,
               strftime(TIMESTAMP '2015-01-01 00:00:00' + to_seconds(CAST(floor(u(i, 'trt') * 300000000) AS BIGINT)), '%Y-%m-%dT%H:%M:%S')
                 AS dateDernierTraitementEtablissement,
               CASE WHEN rank_in_firm = 1 THEN 'true' ELSE 'false' END AS etablissementSiege,
               1 + CAST(floor(u(i, 'per') * 4) AS INTEGER) AS nombrePeriodesEtablissement,
               NULL AS complementAdresseEtablissement,
               CAST(1 + floor(u(i, 'num') * 120) AS INTEGER) AS numeroVoieEtablissement, NULL AS indiceRepetitionEtablissement,
               NULL AS dernierNumeroVoieEtablissement, NULL AS indiceRepetitionDernierNumeroVoieEtablissement,
               ['RUE', 'AV', 'BD', 'CHE', 'RTE', 'PL'][1 + CAST(floor(u(i, 'tv') * 6) AS INTEGER)] AS typeVoieEtablissement,
               ['DE LA GARE', 'DU COMMERCE', 'DES ALPES', 'JEAN JAURES', 'DE LA REPUBLIQUE', 'DU MOULIN'][1 + CAST(floor(u(i, 'lv') * 6) AS INTEGER)]
                 AS libelleVoieEtablissement,
               CASE WHEN etranger THEN NULL ELSE left(code_insee, 2) || lpad(CAST(CAST(floor(u(i, 'cp') * 999) AS INTEGER) AS VARCHAR), 3, '0') END
                 AS codePostalEtablissement,
               CASE WHEN etranger THEN NULL ELSE upper(commune_nom) END AS libelleCommuneEtablissement,
               CASE WHEN etranger THEN 'GENEVE' END AS libelleCommuneEtrangerEtablissement, NULL AS distributionSpecialeEtablissement,
               CASE WHEN etranger THEN NULL ELSE code_insee END AS codeCommuneEtablissement,
               NULL AS codeCedexEtablissement, NULL AS libelleCedexEtablissement,
               CASE WHEN etranger THEN '99140' END AS codePaysEtrangerEtablissement,
               CASE WHEN etranger THEN 'SUISSE' END AS libellePaysEtrangerEtablissement,
               CASE WHEN etranger THEN NULL ELSE code_insee || '_' || lpad(CAST(CAST(floor(u(i, 'adr') * 9999) AS INTEGER) AS VARCHAR), 4, '0') END
                 AS identifiantAdresseEtablissement,
               CASE WHEN etranger THEN NULL ELSE printf('%.1f', 100000 + 1100000 * u(i, 'x')) END AS coordonneeLambertAbscisseEtablissement,
               CASE WHEN etranger THEN NULL ELSE printf('%.1f', 6050000 + 1050000 * u(i, 'y')) END AS coordonneeLambertOrdonneeEtablissement,
               NULL AS complementAdresse2Etablissement, NULL AS numeroVoie2Etablissement, NULL AS indiceRepetition2Etablissement,
               NULL AS typeVoie2Etablissement, NULL AS libelleVoie2Etablissement, NULL AS codePostal2Etablissement,
               NULL AS libelleCommune2Etablissement, NULL AS libelleCommuneEtranger2Etablissement,
               NULL AS distributionSpeciale2Etablissement, NULL AS codeCommune2Etablissement, NULL AS codeCedex2Etablissement,
               NULL AS libelleCedex2Etablissement, NULL AS codePaysEtranger2Etablissement, NULL AS libellePaysEtranger2Etablissement,
               CASE WHEN actif THEN 'A' ELSE 'F' END AS etatAdministratifEtablissement,
               CASE WHEN u(i, 'ens') < 0.1 THEN 'ENSEIGNE ' || CAST(i AS VARCHAR) END AS enseigne1Etablissement,
               NULL AS enseigne2Etablissement, NULL AS enseigne3Etablissement,
               CASE WHEN u(i, 'den') < 0.08 THEN 'ETS ' || CAST(i AS VARCHAR) END AS denominationUsuelleEtablissement,
               -- Old establishments closed before 2008 keep their NAF rev. 1 code, as in the published stock.
               CASE WHEN NOT actif AND u(i, 'rev1') < 0.05 THEN '52.1D' ELSE naf_sous_classe END AS activitePrincipaleEtablissement,
               CASE WHEN NOT actif AND u(i, 'rev1') < 0.05 THEN 'NAFRev1' ELSE 'NAFRev2' END AS nomenclatureActivitePrincipaleEtablissement,
               CASE WHEN actif AND u(i, 'emp') < 0.25 THEN 'O' ELSE 'N' END AS caractereEmployeurEtablissement
        FROM (SELECT *, luhn(siren || lpad(CAST(rank_in_firm AS VARCHAR), 4, '0')) AS siret FROM b_sir)
        ORDER BY i
    """, path, ",")
    con.execute("DROP TABLE b_sir")


def chamber(con: duckdb.DuckDBPyConnection, path: Path, firm_years: int) -> None:
    """Chamber export: one row per establishment, « CA YYYY (k€) » columns, workforce band labels."""
    rows = firm_years // len(CA_YEARS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE b_band AS SELECT row_number() OVER () - 1 AS b, libelle FROM read_csv('{(REFERENCE / 'tranches_effectifs.csv').as_posix()}', all_varchar=true)")
    n_bands = 10   # NN .. 31: chamber files are mostly small firms
    ca = []
    for y in CA_YEARS:
        ca.append(f"CASE WHEN {y} < birth THEN NULL WHEN u(i, 'miss{y}') < 0.02 THEN NULL "
                  f"ELSE CAST(round(size * pow(1.04, {y} - 2022) * (0.85 + 0.3 * u(i, 'ca{y}'))) AS BIGINT) END AS \"CA {y} (k€)\"")
    _copy(con, f"""
        WITH f AS (
            SELECT i, CAST(floor(i / 1.15) AS BIGINT) AS firm,
                   CAST(i - CAST(ceil(floor(i / 1.15) * 1.15) AS BIGINT) + 1 AS INTEGER) AS rank_in_firm,
                   CASE WHEN u(i, 'birth') < 0.08 THEN 2019 + CAST(floor(u(i, 'by') * 4) AS INTEGER) ELSE 2000 END AS birth,
                   exp(5.2 + 1.3 * z(i, 'size')) AS size,
                   CAST(floor(pow(u(i, 'band'), 1.8) * {n_bands}) AS INTEGER) AS b
            FROM range({rows}) t(i)
        )
        SELECT luhn(luhn(lpad(CAST(10000000 + (f.firm * 69621) % 89999999 AS VARCHAR), 8, '0')) || lpad(CAST(f.rank_in_firm AS VARCHAR), 4, '0'))
                 AS "N° SIRET",
               ['SARL', 'SAS', 'EURL', 'SA', 'SCOP'][1 + CAST(f.i % 5 AS INTEGER)] || ' Entreprise ' || CAST(f.firm AS VARCHAR) AS "Raison sociale",
               n.naf_sous_classe AS "Code NAF", c.code_insee AS "Code commune INSEE", bd.libelle AS "Tranche effectif",
               {", ".join(ca)}
        FROM f
        ASOF JOIN b_com_cdf c ON u(f.i, 'com') >= c.lo
        ASOF JOIN b_naf_cdf n ON u(f.i, 'naf') >= n.lo
        JOIN b_band bd ON bd.b = f.b
        ORDER BY f.i
    """, path, ";")


def files_for(scale: str, out: Path = DEFAULT_OUT) -> dict[str, Path]:
    d = Path(out) / scale
    return {"reference": d / "reference",
            "base_comparateur": d / "base_cc_comparateur_2023_bench.csv",
            "urssaf": d / "urssaf_commune_ape_2024_bench.csv",
            "sirene": d / "StockEtablissement_utf8_bench.csv",
            "chambre": d / "cci_entreprises_2022_bench.csv"}


def generate(scale: str = "quick", out: Path = DEFAULT_OUT, progress=print) -> dict[str, Path]:
    """Generate (or reuse, when made by this very generator) the dataset of a scale."""
    files = files_for(scale, out)
    d = files["reference"].parent
    stamp = d / "VERSION"
    version = _generator_version(scale)
    if stamp.exists() and stamp.read_text().strip() == version and all(p.exists() for p in files.values()):
        progress(f"Jeu de données {scale} déjà généré : {d}")
        return files
    d.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    params = SCALES[scale]
    con = duckdb.connect()
    try:
        con.execute(_MACROS)
        steps = [("référentiel national", lambda: reference(con, files["reference"])),
                 ("base comparateur", lambda: base_comparateur(con, files["base_comparateur"])),
                 ("URSSAF commune x APE", lambda: urssaf(con, files["urssaf"], params["urssaf_rows"])),
                 ("stock Sirene", lambda: sirene(con, files["sirene"], params["sirene_rows"])),
                 ("fichier consulaire", lambda: chamber(con, files["chambre"], params["chamber_firm_years"]))]
        for label, step in steps:
            t0 = time.perf_counter()
            step()
            progress(f"  {label} : {time.perf_counter() - t0:.1f} s")
        summary = {
            "communes": con.execute("SELECT count(*) FROM b_communes").fetchall()[0][0],
            "epci": con.execute("SELECT count(*) FROM b_epci").fetchall()[0][0],
            "departements": con.execute("SELECT count(*) FROM b_dep").fetchall()[0][0],
            "regions": con.execute("SELECT count(DISTINCT region) FROM b_dep").fetchall()[0][0],
        }
    finally:
        con.close()
    for k in ("urssaf", "sirene", "chambre", "base_comparateur"):
        summary[f"{k}_lignes"] = _count_lines(files[k]) - 1
        summary[f"{k}_mo"] = round(files[k].stat().st_size / 1024**2, 1)
    (d / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    stamp.write_text(version + "\n")
    progress("  " + ", ".join(f"{k} = {v}" for k, v in summary.items()))
    return files


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(16 * 1024**2):
            n += chunk.count(b"\n")
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Génère le jeu de données national du banc d'essai")
    p.add_argument("--scale", choices=sorted(SCALES), default="quick")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    generate(args.scale, args.out)
    print(f"Terminé en {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
