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
    a5_case = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in A5_FROM_A10.items())
    a5_lab = " ".join(f"WHEN '{k}' THEN '{v.replace(chr(39), chr(39) * 2)}'" for k, v in A5_LABELS.items())
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_naf AS
        SELECT naf_sous_classe AS sous_classe, libelle, classe, groupe, a88, libelle_a88, section, libelle_section,
               a10, libelle_a10, a17, libelle_a17, a38, libelle_a38,
               CASE a10 {a5_case} END AS a5,
               CASE (CASE a10 {a5_case} END) {a5_lab} END AS libelle_a5
        FROM {_csv('naf.csv')}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_secteurs AS
        SELECT section, secteur, secteur_libelle, CAST(ordre AS INTEGER) AS ordre FROM {_csv('secteurs_candidature.csv')}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_filieres AS
        SELECT filiere, filiere_libelle, naf_sous_classe AS sous_classe, perimetre, note FROM {_csv('filieres.csv')}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_tranches AS
        SELECT code, libelle, TRY_CAST(borne_min AS INTEGER) AS borne_min, TRY_CAST(borne_max AS INTEGER) AS borne_max
        FROM {_csv('tranches_effectifs.csv')}
    """)
    # Key figures as published in the candidature, shown beside the recomputed ones (one file for
    # this territory, kept with the default reference data).
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_candidature AS
        SELECT cle, libelle, CAST(valeur_publiee AS DOUBLE) AS valeur_publiee, texte_publie,
               coalesce(explication, '') AS explication, indicateur, coalesce(categorie, '') AS categorie,
               niveau, CAST(code AS VARCHAR) AS code, TRY_CAST(annee AS INTEGER) AS annee,
               coalesce(motif, '') AS motif
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
    _build_naf_map(con)
    _build_groups(con)
    from .geo import load_contours  # needs ref_communes and ref_communes_changements
    load_contours(con)


def _build_naf_map(con: duckdb.DuckDBPyConnection) -> None:
    """ref_naf_map(naf_niveau, naf_code, groupement, groupe_code): every functional roll-up.

    A level rolls up into a coarser one only when each of its codes belongs to a single
    coarser code (e.g. a38 -> a10 does, a10 -> secteur does not).
    """
    cols = {"sous_classe": "sous_classe", "a88": "a88", "a38": "a38", "a17": "a17",
            "section": "section", "a10": "a10", "a5": "a5"}
    parts = []
    for fine, fcol in cols.items():
        parts.append(f"SELECT DISTINCT '{fine}' AS naf_niveau, {fcol} AS naf_code, 'total' AS groupement, '_T' AS groupe_code FROM ref_naf")
        for coarse, ccol in cols.items():
            functional = con.execute(
                f"SELECT max(n) = 1 FROM (SELECT count(DISTINCT {ccol}) n FROM ref_naf GROUP BY {fcol})").fetchall()[0][0]
            if functional:
                parts.append(f"SELECT DISTINCT '{fine}', {fcol}, '{coarse}', {ccol} FROM ref_naf")
        sect_functional = con.execute(
            f"SELECT max(n) = 1 FROM (SELECT count(DISTINCT section) n FROM ref_naf GROUP BY {fcol})").fetchall()[0][0]
        if sect_functional:
            parts.append(f"SELECT DISTINCT '{fine}', n.{fcol}, 'secteur', s.secteur FROM ref_naf n JOIN ref_secteurs s USING (section)")
            # The candidature's field: market activities, non-agricultural, non-financial.
            parts.append(f"SELECT DISTINCT '{fine}', n.{fcol}, 'champ', 'CHAMP' FROM ref_naf n JOIN ref_secteurs s USING (section) "
                         "WHERE s.secteur <> 'hors_champ'")
    parts.append("SELECT 'total', '_T', 'total', '_T'")
    parts.append("""SELECT DISTINCT 'sous_classe', sous_classe, 'filiere_coeur', filiere FROM ref_filieres WHERE perimetre = 'coeur'""")
    parts.append("""SELECT DISTINCT 'sous_classe', sous_classe, 'filiere_elargi', filiere FROM ref_filieres""")
    con.execute("CREATE OR REPLACE TABLE ref_naf_map AS " + " UNION ALL ".join(parts))


def _build_groups(con: duckdb.DuckDBPyConnection) -> None:
    """ref_groupes(groupement, groupe_code, libelle, ordre): labels of every category shown."""
    parts = ["SELECT 'total' AS groupement, '_T' AS groupe_code, 'Ensemble des activités' AS libelle, 0 AS ordre"]
    for level, label in [("a88", "libelle_a88"), ("a38", "libelle_a38"), ("a17", "libelle_a17"),
                         ("section", "libelle_section"), ("a10", "libelle_a10"), ("a5", "libelle_a5"),
                         ("sous_classe", "libelle")]:
        parts.append(f"SELECT DISTINCT '{level}', {level}, {label}, dense_rank() OVER (ORDER BY {level}) FROM ref_naf")
    parts.append("SELECT DISTINCT 'secteur', secteur, secteur_libelle, ordre FROM ref_secteurs WHERE secteur <> 'hors_champ'")
    parts.append("SELECT 'champ', 'CHAMP', 'Champ marchand non agricole et non financier', 1")
    order = " ".join(f"WHEN '{f}' THEN {i}" for i, f in enumerate(FILIERES_ORDER, start=1))
    for g in ("filiere_coeur", "filiere_elargi"):
        parts.append(f"SELECT DISTINCT '{g}', filiere, filiere_libelle, CASE filiere {order} ELSE 99 END FROM ref_filieres")
    con.execute("CREATE OR REPLACE TABLE ref_groupes AS " + " UNION ALL ".join(parts))
