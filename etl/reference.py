"""Reference tables (communes, EPCIs, NAF, filières, sectors) from data/reference/."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"
# Another reference directory in the same layout (benchmarks use a national one), read at call time.
REFERENCE_DIR_ENV = "TI_REFERENCE_DIR"


def reference_dir() -> Path:
    """The reference directory in use: `$TI_REFERENCE_DIR` when set, else data/reference."""
    env = os.environ.get(REFERENCE_DIR_ENV)
    return Path(env) if env else REFERENCE_DIR

# The territory the product serves (Territoire d'industrie Hautes-Alpes): the département, its région and
# France as references, the EPCIs with at least one commune in the département and all their communes.
# A warehouse may hold more (all of France): `ref_territoires.perimetre` marks what pages show by default.
DEPARTEMENT, REGION, FRANCE = "05", "93", "FR"

# INSEE's five "grands secteurs" of the base comparateur (ETAZ, ETBE, ETFZ, ETGU, ETOQ), from A10.
A5_FROM_A10 = {"AZ": "AZ", "BE": "BE", "FZ": "FZ", "OQ": "OQ",
               "GI": "GU", "JZ": "GU", "KZ": "GU", "LZ": "GU", "MN": "GU", "RU": "GU"}
A5_LABELS = {
    "AZ": "Agriculture, sylviculture et pêche",
    "BE": "Industrie",
    "FZ": "Construction",
    "GU": "Commerce, transports et services divers",
    "OQ": "Administration publique, enseignement, santé, action sociale",
}
# The candidature's order of the five strategic filières.
FILIERES_ORDER = ["agroalimentaire", "ppam", "aeronautique", "energies_renouvelables", "btp"]

_CSV = "read_csv('{path}', header=true, all_varchar=true, delim=',', quote='\"')"


def _csv(name: str, ref: Path | None = None) -> str:
    return _CSV.format(path=((ref or reference_dir()) / name).as_posix().replace("'", "''"))


def load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Create every ref_* table. Idempotent (CREATE OR REPLACE)."""
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_epci AS
        SELECT epci_siren AS siren, nom, nom_court, type,
               CAST(nb_communes AS INTEGER) AS nb_communes, CAST(nb_communes_05 AS INTEGER) AS nb_communes_05,
               row_number() OVER (ORDER BY nom_court) AS ordre
        FROM {_csv('epci.csv')}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_communes AS
        SELECT code_insee AS code, nom, departement, epci_siren,
               CAST(population AS BIGINT) AS population, CAST(annee_population AS INTEGER) AS annee_population,
               CAST(superficie_km2 AS DOUBLE) AS superficie_km2,
               departement <> '{DEPARTEMENT}' AS hors_departement
        FROM {_csv('communes.csv')}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_territoires AS
        WITH perimetre AS (SELECT DISTINCT epci_siren FROM ref_communes WHERE departement = '{DEPARTEMENT}')
        SELECT 'france' AS niveau, code, nom, nom AS nom_court, 0 AS ordre, code = '{FRANCE}' AS perimetre
        FROM {_csv('territoires.csv')} WHERE niveau = 'france'
        UNION ALL SELECT 'region', code, nom, nom, 1, code = '{REGION}' FROM {_csv('territoires.csv')} WHERE niveau = 'region'
        UNION ALL SELECT 'departement', code, nom, nom, 2, code = '{DEPARTEMENT}'
        FROM {_csv('territoires.csv')} WHERE niveau = 'departement'
        UNION ALL SELECT 'epci', siren, nom, nom_court, 10 + ordre, siren IN (SELECT epci_siren FROM perimetre) FROM ref_epci
        UNION ALL SELECT 'commune', code, nom, nom, 100, epci_siren IN (SELECT epci_siren FROM perimetre) FROM ref_communes
    """)
    # Which territories a commune's figures add up to (EPCI, and its département when it is a
    # reference territory). Région and France come only from files that publish them.
    con.execute("""
        CREATE OR REPLACE TABLE ref_appartenance AS
        SELECT code AS commune, 'epci' AS niveau, epci_siren AS code FROM ref_communes
        UNION ALL
        SELECT c.code, 'departement', c.departement FROM ref_communes c
        JOIN ref_territoires t ON t.niveau = 'departement' AND t.code = c.departement
    """)
    con.execute("""
        CREATE OR REPLACE TABLE ref_membres AS
        SELECT niveau, code, count(*) AS n_membres FROM ref_appartenance GROUP BY ALL
    """)
    # NAF rév. 2 and NAF 2025: ref_naf, ref_naf_correspondance, ref_secteurs(_naf2025), ref_filieres, ref_naf_ruptures.
    from .nomenclature import build_naf_groupings, load_nomenclatures
    load_nomenclatures(con)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_tranches AS
        SELECT code, libelle, TRY_CAST(borne_min AS INTEGER) AS borne_min, TRY_CAST(borne_max AS INTEGER) AS borne_max
        FROM {_csv('tranches_effectifs.csv')}
    """)
    # Key figures as published in the candidature, shown beside the recomputed ones (one file for
    # this territory, kept with the default reference data).
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_candidature AS
        SELECT cle, libelle, CAST(valeur_publiee AS DOUBLE) AS valeur_publiee, texte_publie, explication
        FROM {_csv('candidature_chiffres_cles.csv', REFERENCE_DIR)}
    """)
    changes = reference_dir() / "communes_changements.csv"
    if changes.exists():
        con.execute(f"""
            CREATE OR REPLACE TABLE ref_communes_changements AS
            SELECT ancien_code, nouveau_code, date_effet, nom_ancien FROM {_csv(changes.name)}
        """)
    else:
        con.execute("CREATE OR REPLACE TABLE ref_communes_changements (ancien_code VARCHAR, nouveau_code VARCHAR, date_effet VARCHAR, nom_ancien VARCHAR)")
    build_naf_groupings(con)
    from .geo import load_contours  # needs ref_communes and ref_communes_changements
    load_contours(con)

