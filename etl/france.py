"""The France-wide commune reference, read at load time for national (or multi-département) files.

A warehouse holds only its perimeter's communes (`ref_communes`); a national file also gives the totals
of every région and of France, computed here over ALL the communes of the file, and its communes may use
an older COG. This module reads data/reference/communes.csv (every current commune, its département,
région, population and former codes) into temporary tables, maps the file's communes to the current
ones and computes the région / France totals. Nothing here is stored in the warehouse.

Rules (documented in docs/ARCHITECTURE.md):
- a code of the file is mapped to its current commune (itself, or the commune nouvelle it merged into,
  through `anciens_codes`); a code that is neither (arrondissements municipaux of Paris, Lyon and
  Marseille, published beside their commune; an unknown code) is left out, never added to a commune;
- several former communes merged into one are summed; when some of them are secret and others not, the
  sum is kept with statut `partiel` (never 0, never secret while a part is known);
- a région gets a total only when the file covers it: its communes in the file hold at least
  `COVERAGE_MIN_POPULATION` of its population and `COVERAGE_MIN_COMMUNES` of its communes (the margin:
  communes re-created since the file's vintage, whose territory the file counts in their former commune);
  France gets a total only when every région is covered. A total is `partiel` when a commune's value is
  secret (or partial), `secret` when no commune has a value.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from .perimeter import FRANCE_CODE
from .base import reference_dir

# Arrondissements municipaux (COG type ARM), published by INSEE files beside their commune: (first, last) codes.
ARRONDISSEMENTS = (("13201", "13216"), ("69381", "69389"), ("75101", "75120"))  # territory-literal: format (COG ARM)
COVERAGE_MIN_POPULATION = 0.999
COVERAGE_MIN_COMMUNES = 0.99


def _csv(path: Path) -> str:
    return "read_csv('{}', header=true, all_varchar=true, delim=',', quote='\"')".format(
        path.as_posix().replace("'", "''"))


def create_tables(con: duckdb.DuckDBPyConnection, ref: Path | None = None) -> bool:
    """Temp tables fr_communes(code, departement, region, population) — communes of the régions of
    territoires.csv — and fr_codes(code, commune): every current or former code -> its current commune.
    False when the reference has no région column (an older layout): nothing is created."""
    ref = Path(ref or reference_dir())
    cols = con.execute(f"SELECT * FROM {_csv(ref / 'communes.csv')} LIMIT 0").description
    names = [c[0] for c in cols]
    if "region" not in names:
        return False
    former = "anciens_codes" if "anciens_codes" in names else "NULL::VARCHAR"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fr_all AS
        SELECT code_insee AS code, departement, region, coalesce(TRY_CAST(population AS BIGINT), 0) AS population,
               {former} AS anciens FROM {_csv(ref / 'communes.csv')}
    """)
    regions = ref / "territoires.csv"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fr_communes AS
        SELECT code, departement, region, population FROM fr_all
        WHERE region IN (SELECT code FROM {_csv(regions)} WHERE niveau = 'region')
    """ if regions.exists() else "CREATE OR REPLACE TEMP TABLE fr_communes AS SELECT code, departement, region, population FROM fr_all")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE fr_codes AS
        SELECT code, code AS commune FROM fr_all
        UNION ALL
        SELECT DISTINCT trim(unnest(string_split(anciens, '|'))), code FROM fr_all WHERE coalesce(anciens, '') <> ''
    """)
    con.execute("DROP TABLE fr_all")
    return True


def current_communes(con: duckdb.DuckDBPyConnection, facts: str) -> tuple[int, int]:
    """Rewrite the commune facts of `facts` (staged columns) on current communes, in place.

    Returns (former codes mapped, codes left out). Merged communes are summed: statut `partiel` when
    a part is secret and another is known, `secret` when every part is.
    """
    counts = con.execute(f"""
        SELECT count(DISTINCT f.territoire_code) FILTER (WHERE c.commune IS NOT NULL AND c.commune <> f.territoire_code),
               count(DISTINCT f.territoire_code) FILTER (WHERE c.commune IS NULL)
        FROM {facts} f LEFT JOIN fr_codes c ON c.code = f.territoire_code WHERE f.niveau = 'commune'
    """).fetchall()[0]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fr_mapped AS
        SELECT min(f.ligne) AS ligne, c.commune AS territoire_code, 'commune' AS niveau, f.annee, f.mesure, f.naf_code,
               f.naf_niveau, sum(f.valeur) AS valeur,
               CASE WHEN count(f.valeur) = 0 THEN 'secret'
                    WHEN bool_or(f.statut IN ('secret', 'partiel')) THEN 'partiel' ELSE 'ok' END AS statut
        FROM {facts} f JOIN fr_codes c ON c.code = f.territoire_code
        WHERE f.niveau = 'commune'
        GROUP BY c.commune, f.annee, f.mesure, f.naf_code, f.naf_niveau
        UNION ALL
        SELECT ligne, territoire_code, niveau, annee, mesure, naf_code, naf_niveau, valeur, statut
        FROM {facts} WHERE niveau <> 'commune'
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {facts} AS SELECT * FROM fr_mapped")
    con.execute("DROP TABLE fr_mapped")
    return counts


def left_out(con: duckdb.DuckDBPyConnection, facts: str, limit: int = 20) -> tuple[int, list[tuple[str, int]], int]:
    """The commune codes of `facts` (staged columns, before `current_communes`) that are no commune of the COG,
    current or former: (arrondissements municipaux, [(unknown code, its first line)] up to `limit`, unknown codes)."""
    arm = " OR ".join(f"f.territoire_code BETWEEN '{a}' AND '{b}'" for a, b in ARRONDISSEMENTS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fr_left_out AS
        SELECT f.territoire_code AS code, min(f.ligne) AS ligne, ({arm}) AS arrondissement FROM {facts} f
        LEFT JOIN fr_codes c ON c.code = f.territoire_code
        WHERE f.niveau = 'commune' AND c.commune IS NULL GROUP BY ALL""")
    arrondissements, unknown = con.execute("SELECT count(*) FILTER (WHERE arrondissement), "
                                           "count(*) FILTER (WHERE NOT arrondissement) FROM fr_left_out").fetchall()[0]
    first = con.execute(f"SELECT code, ligne FROM fr_left_out WHERE NOT arrondissement ORDER BY ligne, code "
                        f"LIMIT {int(limit)}").fetchall()
    con.execute("DROP TABLE fr_left_out")
    return arrondissements, first, unknown


def add_totals(con: duckdb.DuckDBPyConnection, facts: str) -> tuple[list[str], bool]:
    """Append to `facts` the totals of every région the file covers and of France when it covers them all
    (after `current_communes`); a total the file publishes itself is not recomputed.
    Returns (régions totalled, France totalled)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fr_cover AS
        WITH held AS (SELECT DISTINCT territoire_code AS code FROM {facts} WHERE niveau = 'commune')
        SELECT r.region, sum(r.population) AS pop, count(*) AS n,
               sum(r.population) FILTER (WHERE h.code IS NOT NULL) AS pop_held, count(h.code) AS n_held
        FROM fr_communes r LEFT JOIN held h USING (code) GROUP BY r.region
    """)
    regions = [r[0] for r in con.execute(f"""
        SELECT region FROM fr_cover
        WHERE n_held >= {COVERAGE_MIN_COMMUNES} * n AND coalesce(pop_held, 0) >= {COVERAGE_MIN_POPULATION} * pop
          AND region NOT IN (SELECT territoire_code FROM {facts} WHERE niveau = 'region')
        ORDER BY region""").fetchall()]
    all_covered = con.execute(f"""
        SELECT count(*) = 0 FROM fr_cover
        WHERE NOT (n_held >= {COVERAGE_MIN_COMMUNES} * n AND coalesce(pop_held, 0) >= {COVERAGE_MIN_POPULATION} * pop)
          AND region NOT IN (SELECT territoire_code FROM {facts} WHERE niveau = 'region')""").fetchall()[0][0]
    france = bool(all_covered) and con.execute(
        f"SELECT count(*) = 0 FROM {facts} WHERE niveau = 'france'").fetchall()[0][0]
    con.execute(f"""
        INSERT INTO {facts}
        SELECT NULL, t.code, t.niveau, f.annee, f.mesure, f.naf_code, f.naf_niveau, sum(f.valeur),
               CASE WHEN count(f.valeur) = 0 THEN 'secret'
                    WHEN bool_or(f.statut IN ('secret', 'partiel')) THEN 'partiel' ELSE 'ok' END
        FROM {facts} f JOIN fr_communes r ON r.code = f.territoire_code
        JOIN (SELECT DISTINCT region AS key, 'region' AS niveau, region AS code FROM fr_communes WHERE list_contains($regions, region)
              UNION ALL SELECT DISTINCT region, 'france', $fr FROM fr_communes WHERE $france) t ON t.key = r.region
        WHERE f.niveau = 'commune'
        GROUP BY t.niveau, t.code, f.annee, f.mesure, f.naf_code, f.naf_niveau
    """, {"regions": regions, "fr": FRANCE_CODE, "france": france})
    con.execute("DROP TABLE fr_cover")
    return regions, france
