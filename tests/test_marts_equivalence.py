"""The mart build gives the same figures as its plain formulation (one roll-up, one window).

`build_marts` takes shortcuts for speed at national scale (facts summed into every grouping by
commune, then communes summed up to EPCI and département; the best-source window only where
sources compete; clustered storage; only the groupings pages read are stored, the fine NAF
groupings are computed on demand; a load recomputes only the measures it touches). These tests
recompute the mart the straightforward way on the demo warehouse and compare every row, for
the stored groupings, the on-demand ones, and a warehouse filled file after file.
"""
from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import quiet
from etl import demo, load, marts
from etl.sources import sirene

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
    # Firm-based rows: every establishment declined by territory x category, then counted by SIREN.
    _plain_firm_marts(con)
    con.execute("INSERT INTO p_all SELECT * FROM p_firm_all")
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


def _plain_firm_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Firm measures the straightforward way: each establishment declined by territory x category, one
    row per firm (SIREN) there, then summed and counted."""
    bands = ", ".join(f"'{b}'" for b in marts.TPE_PME_BANDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE p_firm AS
        WITH f AS (
            SELECT f.*, s.secteur, sum(ca_eur) OVER (PARTITION BY siren, annee) AS ca_entreprise
            FROM firmes f JOIN ref_naf n ON n.sous_classe = f.naf_code JOIN ref_secteurs s ON s.section = n.section
            WHERE f.ca_eur IS NOT NULL     -- a firm counts in the years the file gives its turnover
        ),
        places AS (
            SELECT commune, 'commune' AS niveau, commune AS code FROM (SELECT DISTINCT commune FROM firmes)
            UNION ALL SELECT commune, niveau, code FROM ref_appartenance
        ),
        per_firm AS (
            SELECT p.niveau, p.code, f.annee, m.groupement, m.groupe_code, f.siren,
                   sum(f.ca_eur) AS ca, count(f.ca_eur) AS n_ca,
                   bool_or(f.secteur <> 'hors_champ' AND coalesce(f.tranche_effectif, 'NN') IN ({bands})
                           AND coalesce(f.ca_entreprise, 0) <= {marts.PME_MAX_CA_EUR}) AS tpe_pme,
                   max(f.source_id) AS source_id
            FROM f JOIN places p ON p.commune = f.commune
            JOIN ref_naf_map m ON m.naf_niveau = 'sous_classe' AND m.naf_code = f.naf_code
                               AND m.groupement NOT IN ('sous_classe', 'a88')
            WHERE NOT (p.niveau = 'commune' AND m.groupement IN {marts.FINE_LEVELS})
            GROUP BY ALL
        )
        SELECT niveau, code, annee, groupement, groupe_code, max(source_id) AS source_id,
               sum(ca) AS ca, count(*) FILTER (WHERE n_ca > 0) AS nb_contrib, max(ca) AS max_contrib,
               count(*) AS n_entreprises, count(*) FILTER (WHERE tpe_pme) AS n_tpe_pme
        FROM per_firm GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE p_firm_cov AS
        SELECT a.niveau, a.code, count(DISTINCT c.commune) AS n_couvertes
        FROM source_couverture c JOIN sources s ON s.source_id = c.source_id AND s.kind = 'chambre'
        JOIN ref_appartenance a ON a.commune = c.commune GROUP BY ALL
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE p_firm_all AS SELECT * FROM p_all WHERE false")
    status = "CASE WHEN coalesce(c.n_couvertes, 0) < coalesce(r.n_membres, 0) THEN 'partiel' ELSE 'ok' END"
    for mesure, value, contrib, where in [("ca_eur", "f.ca", "f.nb_contrib, f.max_contrib", "WHERE f.nb_contrib > 0"),
                                          ("entreprises", "f.n_entreprises", "NULL, NULL", ""),
                                          ("entreprises_tpe_pme", "f.n_tpe_pme", "NULL, NULL", "")]:
        con.execute(f"""
            INSERT INTO p_firm_all
            SELECT f.source_id, f.niveau, f.code, f.annee, '{mesure}', f.groupement, f.groupe_code,
                   {value}, {status}, {contrib}, c.n_couvertes, r.n_membres
            FROM p_firm f LEFT JOIN p_firm_cov c USING (niveau, code) LEFT JOIN ref_membres r USING (niveau, code) {where}
        """)


def _rows(con, table: str) -> str:
    return f"""SELECT source_id, niveau, code, annee, mesure, groupement, groupe_code, round(valeur, {ROUND}) AS valeur,
                      statut, nb_contrib, round(max_contrib, {ROUND}) AS max_contrib, n_couvertes, n_membres FROM {table}"""


def _differences(con, a: str, b: str) -> tuple[int, int]:
    only_a = con.execute(f"SELECT count(*) FROM ({_rows(con, a)} EXCEPT ALL {_rows(con, b)})").fetchall()[0][0]
    only_b = con.execute(f"SELECT count(*) FROM ({_rows(con, b)} EXCEPT ALL {_rows(con, a)})").fetchall()[0][0]
    return only_a, only_b


def test_mart_equals_plain_formulation(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        _plain_marts(con)
        # Only the groupings the read side queries are stored: those of marts.READ_GROUPINGS, the total otherwise.
        pairs = [(m, g) for m, gs in marts.READ_GROUPINGS.items() for g in gs]
        con.execute("CREATE TEMP TABLE read_pairs (mesure VARCHAR, groupement VARCHAR)")
        con.executemany("INSERT INTO read_pairs VALUES (?, ?)", pairs)
        con.execute("""CREATE TEMP TABLE plain_read AS SELECT * FROM plain_mart p
                       WHERE groupement = 'total' OR (mesure, groupement) IN (SELECT (mesure, groupement) FROM read_pairs)""")
        n_mart = con.execute("SELECT count(*) FROM mart").fetchall()[0][0]
        n_plain = con.execute("SELECT count(*) FROM plain_read").fetchall()[0][0]
        assert n_mart == n_plain > 50_000
        assert _differences(con, "mart", "plain_read") == (0, 0)
        # The demo exercises every path: a measure from two sources, published groupings, A88 roll-ups, firms.
        # A measure two sources give (population: reference and base comparateur) goes through the best-source choice.
        kinds = {r[0] for r in con.execute("""
            SELECT DISTINCT s.kind FROM mart m JOIN sources s USING (source_id) WHERE m.mesure = 'population'""").fetchall()}
        assert kinds == {"reference", "base_comparateur"}
        stored = dict(con.execute("SELECT mesure, list(DISTINCT groupement) FROM mart GROUP BY mesure").fetchall())
        assert set(stored["effectifs_salaries"]) == set(marts.READ_GROUPINGS["effectifs_salaries"])
        assert set(stored["ca_eur"]) == set(marts.READ_GROUPINGS["ca_eur"])
        assert set(stored["emplois"]) == {"total"}
    finally:
        con.close()


@pytest.mark.parametrize("groupement", marts.GROUPINGS)
def test_every_grouping_on_demand_equals_plain_formulation(demo_warehouse, groupement):
    """Any grouping, stored or not (fine NAF levels, secteurs of establishments…), computed on demand."""
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        _plain_marts(con)
        con.execute("CREATE TEMP TABLE plain_g AS SELECT * FROM plain_mart WHERE groupement = ?", [groupement])
        table = marts.mart_rows(con, groupement)
        n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert n == con.execute("SELECT count(*) FROM plain_g").fetchall()[0][0] > 0
        assert _differences(con, table, "plain_g") == (0, 0)
        if groupement in marts.FINE_LEVELS:
            assert con.execute(f"SELECT count(*) FROM {table} WHERE niveau = 'commune'").fetchall()[0][0] == 0
        # The working tables of the build are gone.
        assert not con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'm\\_%' ESCAPE '\\'").fetchall()
    finally:
        con.close()
    with pytest.raises(ValueError, match="regroupement inconnu"):
        marts.mart_rows(duckdb.connect(), "naf")


def test_mart_stores_what_the_read_side_queries():
    """Every (measure, grouping) an indicator reads is stored, and nothing else but totals."""
    from etl import secret
    from indicators import catalog

    need = set()
    for ind in catalog.CATALOG.values():
        if ind.kind == "foncier":   # economic-zone inventories: own tables, computed on read (indicators/foncier_query.py)
            continue
        need.add((ind.mesure, "total"))  # coverage of each territory-year, denominators of shares
        for g in (["filiere_coeur", "filiere_elargi"] if ind.groupement == "filiere" else [ind.groupement]):
            need.add((ind.mesure, g))
    # The secret protects every published grouping of turnover together (etl/secret.py).
    need |= {(m, g) for m in secret.MAGNITUDE_MEASURES for g in secret.PUBLISHED_GROUPINGS}
    stored = {(m, g) for m, gs in marts.READ_GROUPINGS.items() for g in gs}
    assert need <= stored, f"à ajouter à etl.marts.READ_GROUPINGS : {sorted(need - stored)}"
    assert stored - need <= {(m, "total") for m in marts.READ_GROUPINGS}
    assert {g for _, g in stored} == set(marts.MART_GROUPINGS)


def _urssaf_2025(tmp_path):
    """A newer URSSAF vintage for two communes: replaces 2024 there, adds 2025."""
    path = tmp_path / "urssaf_commune_ape_2025.csv"
    path.write_text("code_commune;code_ape;nombre_d_etablissements_2024;effectifs_salaries_2024;"
                    "nombre_d_etablissements_2025;effectifs_salaries_2025\n"
                    "05061;2562B;3;40;4;45\n05023;1071C;1;;2;12\n", encoding="utf-8")
    return path


def test_incremental_mart_equals_full_rebuild(warehouse, tmp_path, monkeypatch):
    """Files loaded one after the other, each load recomputing only its measures, give the mart a full
    rebuild gives (and keep it clustered)."""
    files = demo.ensure(load.DEMO_DIR, quiet)
    calls = []
    real = load.build_marts
    monkeypatch.setattr(load, "build_marts", lambda con, mesures=None: (calls.append(mesures), real(con, mesures))[1])
    for path in [*files, _urssaf_2025(tmp_path)]:
        load.load([path], warehouse, progress=quiet)
    sirene_measures = frozenset({"etablissements", "etablissements_avec_salaries", *sirene.FLOW_MEASURES})
    assert calls == [frozenset({"etablissements_employeurs", "effectifs_salaries"}), frozenset(marts.FIRM_MEASURES),
                     sirene_measures, frozenset({"etablissements_employeurs", "effectifs_salaries"})]
    full = tmp_path / "full.duckdb"
    shutil.copyfile(warehouse, full)
    con = duckdb.connect(str(full))
    try:
        marts.build_marts(con)  # mesures=None: the whole mart, from scratch
        con.execute(f"ATTACH '{warehouse.as_posix()}' AS inc (READ_ONLY)")
        con.execute("CREATE TEMP TABLE inc_mart AS SELECT * FROM inc.mart")
        assert con.execute("SELECT count(*) FROM inc_mart").fetchall()[0][0] == con.execute("SELECT count(*) FROM mart").fetchall()[0][0] > 20_000
        assert _differences(con, "inc_mart", "mart") == (0, 0)
        # The newer vintage did replace 2024 in Gap, and the population comes from both sources (best-source choice).
        assert con.execute("""SELECT valeur FROM mart WHERE niveau = 'commune' AND code = '05061' AND annee = 2025
                              AND mesure = 'effectifs_salaries' AND groupement = 'a5' AND groupe_code = 'BE'""").fetchall() == [(45.0,)]
    finally:
        con.close()
    _assert_clustered(warehouse)


def test_mart_of_another_format_is_rebuilt_in_full(warehouse, monkeypatch):
    """A warehouse written before the mart format changed gets a full rebuild at its next load."""
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM meta WHERE cle = 'mart_format'")
    con.execute("INSERT INTO mart SELECT * REPLACE ('a88' AS groupement) FROM mart LIMIT 5")
    con.close()
    load.load([demo.ensure(load.DEMO_DIR, quiet)[0]], warehouse, progress=quiet)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM mart WHERE groupement = 'a88'").fetchall() == [(0,)]
        assert con.execute("SELECT valeur FROM meta WHERE cle = 'mart_format'").fetchall() == [(marts.MART_FORMAT,)]
    finally:
        con.close()


def test_mart_is_clustered_by_measure_grouping_level_year(demo_warehouse):
    _assert_clustered(demo_warehouse)


def _assert_clustered(path):
    con = duckdb.connect(str(path), read_only=True)
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


def test_firms_with_several_establishments_equal_plain_formulation(warehouse, tmp_path):
    """A firm (SIREN) is counted once per territory and category, whatever its number of establishments:
    several in one commune and category, in two communes of one EPCI, in two départements, in two EPCIs."""
    from etl.validate import luhn_complete

    def siret(siren: str, nic: str) -> str:
        return luhn_complete(siren + nic)

    a, b, c = luhn_complete("12345678"), luhn_complete("23456789"), luhn_complete("34567890")
    rows = [(siret(a, "0001"), "2562B", "05061", "11", "1 200", "1 300"),   # two in Gap, both industry
            (siret(a, "0002"), "1071C", "05061", "11", "800", ""),
            (siret(a, "0003"), "4711F", "05013", "11", "500", "600"),       # same EPCI, commerce
            (siret(a, "0004"), "2562B", "04058", "11", "100", "90"),        # same EPCI, other département
            (siret(b, "0001"), "2562B", "05061", "00", "70", "75"),         # a single establishment
            (siret(c, "0001"), "4399C", "05061", "21", "", "400"),          # two EPCIs
            (siret(c, "0002"), "4399C", "05023", "21", "300", "310")]
    path = tmp_path / "cci_entreprises_2023.csv"
    path.write_text("SIRET;Raison sociale;Code NAF;Code commune INSEE;Tranche effectif;CA 2022 (k€);CA 2023 (k€)\n"
                    + "".join(f"{s};Entreprise;{naf};{com};{tr};{ca1};{ca2}\n" for s, naf, com, tr, ca1, ca2 in rows),
                    encoding="utf-8")
    load.load([path], warehouse, progress=quiet)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        _plain_marts(con)
        firm = f"mesure IN {marts.FIRM_MEASURES}"
        con.execute(f"""CREATE TEMP TABLE stored AS SELECT * FROM mart WHERE {firm}""")
        con.execute(f"""CREATE TEMP TABLE plain_stored AS SELECT p.* FROM plain_mart p
                        SEMI JOIN (SELECT DISTINCT mesure, groupement FROM stored) USING (mesure, groupement) WHERE {firm}""")
        assert con.execute("SELECT count(*) FROM stored").fetchall()[0][0] > 20
        assert _differences(con, "stored", "plain_stored") == (0, 0)
        for g in ("a5", "a38", "secteur", "total"):
            table = marts.mart_rows(con, g)
            con.execute(f"CREATE OR REPLACE TEMP TABLE got AS SELECT * FROM {table} WHERE {firm}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE want AS SELECT * FROM plain_mart WHERE groupement = ? AND {firm}", [g])
            assert _differences(con, "got", "want") == (0, 0), g
        # Firm a: once in its EPCI (four establishments), turnover summed; c: once in each of two EPCIs in 2023,
        # only in Briançon's in 2022 (its Gap establishment has no 2022 turnover: not counted there that year).
        got = con.execute("""SELECT annee, code, valeur FROM mart WHERE mesure = 'entreprises' AND groupement = 'total'
                             AND niveau = 'epci' ORDER BY annee, code""").fetchall()
        assert got == [(2022, "200067825", 2.0), (2022, "240500439", 1.0), (2023, "200067825", 3.0), (2023, "240500439", 1.0)]
    finally:
        con.close()
