"""Reference tables (communes, EPCIs, NAF, filières, sectors) from data/reference/."""
from __future__ import annotations

import duckdb

from .base import REFERENCE_DIR, csv_sql as _csv, reference_dir  # noqa: F401  (also read by load.py, secret.py)
from .perimeter import FRANCE_CODE, FRANCE_NOM, Perimeter, resolve


def load_reference(con: duckdb.DuckDBPyConnection, perimeter: Perimeter | None = None, contours: bool = True) -> None:
    """Create every ref_* table for the perimeter (default: the product's default TI). Idempotent.
    `contours`: false for a throw-away warehouse that validates a file (no map drawn from it).

    The warehouse holds the perimeter's communes only (`Perimeter.communes`: the TI's, those of its
    reference départements, of its neighbours and of the other TI of its régions); the territory itself is
    stored as data (`ref_territoires.role`, `ref_perimetre`, meta `territoire_*`) for the read side.
    """
    p = perimeter or resolve()
    _perimeter_tables(con, p)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_communes AS
        SELECT code_insee AS code, nom, departement, region, epci_siren,
               CAST(population AS BIGINT) AS population, CAST(annee_population AS INTEGER) AS annee_population,
               TRY_CAST(superficie_km2 AS DOUBLE) AS superficie_km2,
               NOT list_contains($deps, departement) AS hors_departement
        FROM {_csv('communes.csv')} WHERE code_insee IN (SELECT commune FROM ref_perimetre_communes)
        ORDER BY code
    """, {"deps": list(p.departements)})
    # EPCI of the communes held, plus EPT members (Grand Paris: not in epci.csv). nb_communes_ref: member
    # communes in a reference département.
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_epci AS
        WITH e AS (
            SELECT epci_siren AS siren, nom, nom_court, type, CAST(nb_communes AS INTEGER) AS nb_communes
            FROM {_csv('epci.csv')} WHERE epci_siren IN (SELECT epci_siren FROM ref_communes)
            UNION ALL
            SELECT code, nom, nom, 'EPT', NULL FROM {_csv('territoires_industrie_membres.csv')}
            WHERE type_membre = 'ept' AND list_contains($members, code)
        ), n AS (
            SELECT a.code AS siren, count(*) AS n_held, count(*) FILTER (WHERE NOT c.hors_departement) AS n_ref
            FROM ref_appartenance_epci a JOIN ref_communes c ON c.code = a.commune GROUP BY ALL
        )
        SELECT DISTINCT ON (e.siren) e.siren, e.nom, e.nom_court, e.type, coalesce(e.nb_communes, n.n_held) AS nb_communes,
               coalesce(n.n_ref, 0) AS nb_communes_ref,
               row_number() OVER (ORDER BY list_position($members, e.siren) IS NULL, e.nom_court) AS ordre
        FROM e LEFT JOIN n USING (siren) ORDER BY e.siren
    """, {"members": list(p.member_epci)})
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_territoires AS
        WITH t AS (SELECT * FROM {_csv('territoires.csv')}),
        r AS (SELECT * FROM ref_perimetre)
        SELECT 'france' AS niveau, code, nom, nom AS nom_court, 0 AS ordre FROM t WHERE niveau = 'france'
        UNION ALL SELECT 'region', code, nom, nom, 1 + coalesce(list_position($regions, code), 99) FROM t
            WHERE niveau = 'region' AND list_contains($regions, code)
        UNION ALL SELECT 'departement', code, nom, nom, 200 + list_position($deps, code) FROM t
            WHERE niveau = 'departement' AND list_contains($deps, code)
        UNION ALL SELECT 'ti', code, nom, 'TI ' || nom, 300 + CASE WHEN role = 'membre' THEN 0 ELSE 1 END FROM r WHERE niveau = 'ti'
        UNION ALL SELECT 'epci', siren, nom, nom_court, 1000 + ordre FROM ref_epci
        UNION ALL SELECT 'commune', code, nom, nom, 100000 FROM ref_communes
    """, {"regions": list(p.regions), "deps": list(p.departements)})
    con.execute("""
        CREATE OR REPLACE TABLE ref_territoires AS
        SELECT t.niveau, t.code, t.nom, t.nom_court,
               row_number() OVER (ORDER BY t.ordre, t.nom_court, t.code) AS ordre,
               coalesce(r.role IN ('membre', 'reference'), false) AS perimetre, r.role
        FROM ref_territoires t LEFT JOIN ref_perimetre r USING (niveau, code)
        ORDER BY ordre
    """)
    # Which territories a commune's figures add up to: its EPCI (EPT members too), the TI it is a member of,
    # its département when that is a reference. Région and France come only from files that publish them
    # (a national file gives their totals over all their communes).
    con.execute("""
        CREATE OR REPLACE TABLE ref_appartenance AS
        SELECT commune, 'epci' AS niveau, code FROM ref_appartenance_epci
        UNION ALL SELECT commune, 'ti', ti FROM ref_perimetre_communes WHERE ti IS NOT NULL
        UNION ALL SELECT c.code, 'departement', c.departement FROM ref_communes c
        JOIN ref_territoires t ON t.niveau = 'departement' AND t.code = c.departement
    """)
    # A member or neighbour EPCI with communes outside the reference départements: its part inside them is a
    # territory of its own (level epci_partie, code SIREN:département), for comparisons on the département's ground.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ref_parties AS
        WITH e AS (SELECT a.code AS siren FROM ref_appartenance a JOIN ref_communes c ON c.code = a.commune
                   JOIN ref_territoires t ON t.niveau = 'epci' AND t.code = a.code AND t.role IN ('membre', 'voisin')
                   WHERE a.niveau = 'epci' GROUP BY ALL HAVING bool_or(c.hors_departement) AND bool_or(NOT c.hors_departement))
        SELECT a.commune, a.code || ':' || c.departement AS code, a.code AS siren, c.departement
        FROM ref_appartenance a JOIN ref_communes c ON c.code = a.commune
        WHERE a.niveau = 'epci' AND a.code IN (SELECT siren FROM e) AND NOT c.hors_departement
    """)
    con.execute("INSERT INTO ref_appartenance SELECT commune, 'epci_partie', code FROM ref_parties")
    con.execute("""
        INSERT INTO ref_territoires
        SELECT DISTINCT 'epci_partie', p.code, e.nom || ' (partie ' || d.nom || ')', e.nom_court || ' (partie ' || d.nom || ')',
               e.ordre, false, NULL
        FROM ref_parties p JOIN ref_territoires e ON e.niveau = 'epci' AND e.code = p.siren
        JOIN ref_territoires d ON d.niveau = 'departement' AND d.code = p.departement
    """)
    con.execute("DROP TABLE ref_appartenance_epci")
    con.execute("""
        CREATE OR REPLACE TABLE ref_membres AS
        SELECT niveau, code, count(*) AS n_membres FROM ref_appartenance GROUP BY ALL
    """)
    con.execute("CREATE TABLE IF NOT EXISTS meta (cle VARCHAR PRIMARY KEY, valeur VARCHAR)")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('territoire_code', ?), ('territoire_nom', ?), ('territoire_spec', ?)",
                [p.ti_code, p.ti_nom, p.to_json()])
    # NAF rév. 2 and NAF 2025: ref_naf, ref_naf_correspondance, ref_secteurs(_naf2025), ref_filieres, ref_naf_ruptures.
    from .nomenclature import build_naf_groupings, load_nomenclatures
    load_nomenclatures(con)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_tranches AS
        SELECT code, libelle, TRY_CAST(borne_min AS INTEGER) AS borne_min, TRY_CAST(borne_max AS INTEGER) AS borne_max
        FROM {_csv('tranches_effectifs.csv')}
    """)
    # Key figures as published in a TI's candidature, shown beside the recomputed ones (only the default
    # TI's so far, kept with the default reference data).
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_candidature AS
        SELECT cle, niveau, CAST(code AS VARCHAR) AS code, libelle, CAST(valeur_publiee AS DOUBLE) AS valeur_publiee,
               texte_publie, coalesce(explication, '') AS explication, indicateur, coalesce(categorie, '') AS categorie,
               TRY_CAST(annee AS INTEGER) AS annee, coalesce(motif, '') AS motif
        FROM {_csv('candidature_chiffres_cles.csv', REFERENCE_DIR)} WHERE territoire = $ti
    """, {"ti": p.ti_code})
    changes = reference_dir() / "communes_changements.csv"
    if changes.exists():
        con.execute(f"""
            CREATE OR REPLACE TABLE ref_communes_changements AS
            SELECT ancien_code, nouveau_code, date_effet, nom_ancien FROM {_csv(changes.name)}
        """)
    else:
        con.execute("CREATE OR REPLACE TABLE ref_communes_changements (ancien_code VARCHAR, nouveau_code VARCHAR, date_effet VARCHAR, nom_ancien VARCHAR)")
    build_naf_groupings(con)
    if contours:
        from .geo import load_contours  # needs ref_communes and ref_communes_changements
        load_contours(con)


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], rows: list[tuple],
           temp: bool = False) -> None:
    """A VARCHAR table from Python rows, in one statement (`executemany` inserts row by row: 0.3 s for the
    default perimeter's 1 000 communes, much more for all of France)."""
    cols = list(zip(*rows)) if rows else [()] * len(columns)
    select = ", ".join(f"unnest(${c}::VARCHAR[]) AS {c}" for c in columns)
    con.execute(f"CREATE OR REPLACE {'TEMP ' if temp else ''}TABLE {name} AS SELECT {select}",
                {c: list(v) for c, v in zip(columns, cols)})


def _perimeter_tables(con: duckdb.DuckDBPyConnection, p: Perimeter) -> None:
    """ref_perimetre(niveau, code, nom, role) and the commune tables the other ref_* tables are built from."""
    others = [(code, nom, cs) for code, (nom, cs) in sorted(p.other_tis.items())]
    rows = [("ti", p.ti_code, p.ti_nom, "membre")]
    rows += [("ti", code, nom, "voisin") for code, nom, _ in others]
    rows += [("epci", s, None, "membre") for s in p.member_epci]
    rows += [("epci", s, None, "voisin") for s in p.neighbour_epci]
    rows += [("commune", c, None, "membre") for c in sorted(p.member_communes)]
    rows += [("departement", d, None, "reference") for d in p.departements]
    rows += [("region", r, None, "reference") for r in p.regions]
    rows += [("france", FRANCE_CODE, FRANCE_NOM, "reference")]
    _table(con, "ref_perimetre", ("niveau", "code", "nom", "role"), rows)
    ti_of = {c: code for code, _, cs in others for c in cs} | {c: p.ti_code for c in p.member_communes}
    held = [(c, ti_of.get(c)) for c in sorted(p.communes)]
    _table(con, "ref_perimetre_communes", ("commune", "ti"), held, temp=True)
    ept = [(c, s) for s, cs in p.ept_communes.items() for c in cs]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ref_appartenance_epci AS
        SELECT code_insee AS commune, epci_siren AS code FROM {_csv('communes.csv')}
        WHERE epci_siren <> '' AND code_insee IN (SELECT commune FROM ref_perimetre_communes)
    """)
    if ept:
        _table(con, "ept_communes", ("commune", "code"), ept, temp=True)
        con.execute("INSERT INTO ref_appartenance_epci SELECT * FROM ept_communes")
