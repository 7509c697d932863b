"""The mart build gives the same figures as its plain formulation (one roll-up, one window).

`build_marts` takes shortcuts for speed at national scale (published groupings taken as
they are, sous-classes rolled up through A88, the best-source window only where sources
compete, clustered storage). This test recomputes the mart the straightforward way on
the demo warehouse and compares every row.
"""
from __future__ import annotations

import duckdb

from etl import marts

ROUND = 6  # sums of doubles may differ in the last bits with the order of additions


def _plain_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The reference formulation: every fact joined to every grouping, one window for the best source."""
    con.register("level_choice", marts._level_choice(con))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE p_src AS
        SELECT f.source_id, f.niveau, f.territoire_code AS code, f.annee, f.mesure, m.groupement, m.groupe_code,
               sum(f.valeur) AS valeur, count(*) FILTER (WHERE f.statut = 'secret') AS n_secret,
               count(f.valeur) AS n_val, bool_or(f.statut = 'partiel') AS any_partiel
        FROM facts f
        JOIN level_choice c ON c.source_id = f.source_id AND c.naf_niveau = f.naf_niveau
        JOIN ref_naf_map m ON m.naf_niveau = f.naf_niveau AND m.naf_code = f.naf_code AND m.groupement = c.groupement
        GROUP BY ALL
    """)
    con.unregister("level_choice")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE p_cov AS
        SELECT c.source_id, a.niveau, a.code, count(*) AS n_couvertes
        FROM source_couverture c JOIN ref_appartenance a ON a.commune = c.commune GROUP BY ALL
    """)
    statut = """CASE WHEN n_val = 0 AND n_secret > 0 THEN 'secret'
                     WHEN n_secret > 0 OR any_partiel OR n_couvertes < n_membres THEN 'partiel' ELSE 'ok' END"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE p_all AS
        SELECT source_id, niveau, code, annee, mesure, groupement, groupe_code,
               CASE WHEN n_val = 0 THEN NULL ELSE valeur END AS valeur,
               CASE WHEN n_val = 0 AND n_secret > 0 THEN 'secret' WHEN n_secret > 0 OR any_partiel THEN 'partiel' ELSE 'ok' END AS statut,
               NULL::BIGINT AS nb_contrib, NULL::DOUBLE AS max_contrib, NULL::BIGINT AS n_couvertes, NULL::BIGINT AS n_membres
        FROM p_src
        UNION ALL
        SELECT t.source_id, t.niveau, t.code, t.annee, t.mesure, t.groupement, t.groupe_code,
               CASE WHEN n_val = 0 THEN NULL ELSE valeur END, {statut}, NULL, NULL, n_couvertes, n_membres
        FROM (SELECT s.source_id, a.niveau, a.code, s.annee, s.mesure, s.groupement, s.groupe_code,
                     sum(s.valeur) AS valeur, sum(s.n_secret) AS n_secret, sum(s.n_val) AS n_val, bool_or(s.any_partiel) AS any_partiel
              FROM p_src s JOIN ref_appartenance a ON a.commune = s.code
              WHERE s.niveau = 'commune' GROUP BY ALL) t
        JOIN p_cov c USING (source_id, niveau, code)
        JOIN ref_membres USING (niveau, code)
    """)
    # Firm-based rows: the same code as the build (not restructured), appended to the plain rows.
    con.execute("CREATE OR REPLACE TEMP TABLE m_firm_all AS SELECT * FROM p_all WHERE false")
    marts._firm_marts(con)
    con.execute("INSERT INTO p_all SELECT * FROM m_firm_all")
    priority = " ".join(f"WHEN '{k}' THEN {v}" for k, v in marts.KIND_PRIORITY.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE plain_mart AS
        SELECT * EXCLUDE (rk) FROM (
            SELECT m.*, row_number() OVER (
                PARTITION BY m.niveau, m.code, m.annee, m.mesure, m.groupement, m.groupe_code
                ORDER BY CASE s.kind {priority} ELSE 9 END, s.charge_le DESC, m.source_id DESC) AS rk
            FROM p_all m JOIN sources s USING (source_id))
        WHERE rk = 1 AND NOT (niveau = 'commune' AND groupement IN {marts.FINE_LEVELS})
    """)


def _rows(con, table: str) -> str:
    return f"""SELECT source_id, niveau, code, annee, mesure, groupement, groupe_code, round(valeur, {ROUND}) AS valeur,
                      statut, nb_contrib, round(max_contrib, {ROUND}) AS max_contrib, n_couvertes, n_membres FROM {table}"""


def test_mart_equals_plain_formulation(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        _plain_marts(con)
        n_mart = con.execute("SELECT count(*) FROM mart").fetchall()[0][0]
        n_plain = con.execute("SELECT count(*) FROM plain_mart").fetchall()[0][0]
        assert n_mart == n_plain > 50_000
        only_mart = con.execute(f"SELECT count(*) FROM ({_rows(con, 'mart')} EXCEPT ALL {_rows(con, 'plain_mart')})").fetchall()[0][0]
        only_plain = con.execute(f"SELECT count(*) FROM ({_rows(con, 'plain_mart')} EXCEPT ALL {_rows(con, 'mart')})").fetchall()[0][0]
        assert (only_mart, only_plain) == (0, 0)
        # The demo exercises every path: a measure from two sources, published groupings, A88 roll-ups, firms.
        # A measure two sources give (population: reference and base comparateur) goes through the best-source choice.
        kinds = {r[0] for r in con.execute("""
            SELECT DISTINCT s.kind FROM mart m JOIN sources s USING (source_id) WHERE m.mesure = 'population'""").fetchall()}
        assert kinds == {"reference", "base_comparateur"}
        groupings = {r[0] for r in con.execute("SELECT DISTINCT groupement FROM mart WHERE mesure = 'effectifs_salaries'").fetchall()}
        assert set(marts.GROUPINGS) <= groupings
        assert con.execute("SELECT count(*) FROM mart WHERE mesure = 'ca_eur'").fetchall()[0][0] > 0
    finally:
        con.close()


def test_mart_is_clustered_by_measure_grouping_level_year(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        # Row order as stored: each (mesure, groupement, niveau) forms one run, years ascending inside it.
        runs = con.execute("""
            SELECT count(*) FROM (
                SELECT mesure, groupement, niveau, annee,
                       lag(mesure) OVER w AS pm, lag(groupement) OVER w AS pg, lag(niveau) OVER w AS pn, lag(annee) OVER w AS pa
                FROM (SELECT *, row_number() OVER () AS rn FROM mart) WINDOW w AS (ORDER BY rn))
            WHERE (mesure, groupement, niveau) = (pm, pg, pn) AND annee < pa""").fetchall()[0][0]
        assert runs == 0
        distinct_runs = con.execute("""
            SELECT count(*) FROM (
                SELECT mesure, groupement, niveau, lag(mesure || groupement || niveau) OVER (ORDER BY rn) AS prev
                FROM (SELECT *, row_number() OVER () AS rn FROM mart))
            WHERE prev IS NULL OR prev <> mesure || groupement || niveau""").fetchall()[0][0]
        combos = con.execute("SELECT count(*) FROM (SELECT DISTINCT mesure, groupement, niveau FROM mart)").fetchall()[0][0]
        assert distinct_runs == combos
    finally:
        con.close()
