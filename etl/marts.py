"""Marts the pages read: facts rolled up NAF levels and communes -> EPCI / département, once.

`mart` holds one row per (niveau, code, annee, mesure, groupement, groupe_code), from the
best source for that key. Firm-level turnover keeps its contributor count and largest
contribution so that the read side can apply the statistical secret rules.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .schema import TERRITORY_LEVELS

# Lower is preferred when two sources give the same figure.
KIND_PRIORITY = {"reference": 0, "populations_legales": 1, "base_comparateur": 1, "urssaf": 1, "chambre": 1, "flores": 2,
                 "sirene": 3}
# NAF levels a kind publishes only in part ("of which" variables: ETGZ, section G, in the base
# comparateur): taken as published, never summed into coarser groupings.
PARTIAL_LEVELS = {"base_comparateur": {"section"}}
GROUPINGS = ["total", "a5", "section", "a10", "a17", "a38", "a88", "sous_classe", "secteur", "champ", "filiere_coeur", "filiere_elargi"]
_FINENESS = ["sous_classe", "a88", "a38", "a17", "section", "a10", "a5", "total"]
# Workforce bands of fewer than 250 employees (Sirene codes): with turnover <= 50 M€, a TPE or PME.
TPE_PME_BANDS = ("NN", "00", "01", "02", "03", "11", "12", "21", "22", "31")
PME_MAX_CA_EUR = 50e6


def _level_choice(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """For each source and grouping, the NAF level its figures are read from.

    A grouping the file publishes itself is taken as published; the others are summed
    from the finest level of the file only (a coarse level may be a partial list).
    """
    present = con.execute("SELECT DISTINCT f.source_id, s.kind, f.naf_niveau FROM facts f JOIN sources s USING (source_id)").fetchdf()
    mapping = set(map(tuple, con.execute("SELECT DISTINCT naf_niveau, groupement FROM ref_naf_map").fetchall()))
    rows = []
    for (source_id, kind), levels in present.groupby(["source_id", "kind"]).naf_niveau:
        levels = set(levels)
        complete = levels - PARTIAL_LEVELS.get(kind, set())
        finest = min(complete or levels, key=_FINENESS.index)
        for g in GROUPINGS:
            if g in levels:
                rows.append((source_id, g, g))
            elif (finest, g) in mapping:
                rows.append((source_id, finest, g))
    return pd.DataFrame(rows, columns=["source_id", "naf_niveau", "groupement"]).astype({"source_id": "int64"})


_KEYS = "niveau, code, annee, mesure, groupement, groupe_code"
_COLS = "source_id, niveau, code, annee, mesure, groupement, groupe_code, valeur, statut, nb_contrib, max_contrib, n_couvertes, n_membres"


# Commune figures are kept at the groupings pages show (total, broad sectors, the candidature's sectors,
# filières); the fine NAF levels by commune only feed the EPCI and département roll-ups. Storing them
# would multiply the mart by about 100 for a national URSSAF file, for figures nobody reads.
FINE_LEVELS = ("sous_classe", "a88", "a38", "a17", "section", "a10")
_COMMUNE_DETAIL = f"(niveau = 'commune' AND groupement IN {FINE_LEVELS})"


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild `mart` from facts and firms.

    Done in a few set-based passes: commune facts are first rolled up to their EPCI and
    département at the NAF level they are published at (a few times fewer rows than the
    commune facts times every grouping); then, on both the facts and these roll-ups, a
    figure published at the grouping asked for is taken as is (no aggregation), sous-classes
    roll up to A88 once and the coarser groupings are summed from A88 (sums, counts and
    flags are additive, so the result is the same as summing the sous-classes); commune
    rows are computed only at the groupings the mart keeps for communes; the best-source
    choice ranks only the measures that more than one source provides.
    """
    choice = _level_choice(con)
    mapping = set(map(tuple, con.execute("SELECT DISTINCT naf_niveau, groupement FROM ref_naf_map").fetchall()))
    # How each (source, grouping) is computed: 'same' (as published), 'a88' (via the A88 roll-up), 'direct'.
    choice["via"] = [
        "same" if lvl == g else ("a88" if lvl == "sous_classe" and g != "a88" and ("a88", g) in mapping else "direct")
        for lvl, g in zip(choice.naf_niveau, choice.groupement)]
    con.register("level_choice", choice)
    con.execute("CREATE OR REPLACE TEMP TABLE m_choice AS SELECT * FROM level_choice")
    con.unregister("level_choice")
    # Facts as published (rolled = false) and commune facts summed up to EPCI / département (rolled = true),
    # each row with what the statut needs (secret and valued counts, a partial flag): additive.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_fx AS
        SELECT f.source_id, f.niveau, f.territoire_code AS code, f.annee, f.mesure, f.naf_code, f.naf_niveau, false AS rolled,
               f.valeur, CAST(f.statut = 'secret' AS BIGINT) AS n_secret, CAST(f.valeur IS NOT NULL AS BIGINT) AS n_val,
               f.statut = 'partiel' AS any_partiel
        FROM facts f SEMI JOIN m_choice c ON c.source_id = f.source_id AND c.naf_niveau = f.naf_niveau
        UNION ALL
        SELECT f.source_id, a.niveau, a.code, f.annee, f.mesure, f.naf_code, f.naf_niveau, true,
               sum(f.valeur), count(*) FILTER (WHERE f.statut = 'secret'), count(f.valeur), bool_or(f.statut = 'partiel')
        FROM facts f SEMI JOIN m_choice c ON c.source_id = f.source_id AND c.naf_niveau = f.naf_niveau
        JOIN ref_appartenance a ON a.commune = f.territoire_code
        WHERE f.niveau = 'commune'
        GROUP BY ALL
    """)
    agg = "sum(f.valeur) AS valeur, sum(f.n_secret) AS n_secret, sum(f.n_val) AS n_val, bool_or(f.any_partiel) AS any_partiel"
    # Commune rows only at the groupings the mart keeps for communes.
    keep = f"NOT (f.niveau = 'commune' AND {{g}} IN {FINE_LEVELS})"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_src AS
        -- Published at the grouping asked for: one row per key already (facts are unique per source and key).
        SELECT f.source_id, f.niveau, f.code, f.annee, f.mesure, f.rolled, f.naf_niveau AS groupement,
               f.naf_code AS groupe_code, f.valeur, f.n_secret, f.n_val, f.any_partiel
        FROM m_fx f
        SEMI JOIN m_choice c ON c.source_id = f.source_id AND c.naf_niveau = f.naf_niveau AND c.via = 'same'
        SEMI JOIN ref_naf_map m ON m.naf_niveau = f.naf_niveau AND m.naf_code = f.naf_code AND m.groupement = f.naf_niveau
        WHERE {keep.format(g="f.naf_niveau")}
        UNION ALL
        -- Summed straight from the level read.
        SELECT f.source_id, f.niveau, f.code, f.annee, f.mesure, f.rolled, m.groupement, m.groupe_code, {agg}
        FROM m_fx f
        JOIN m_choice c ON c.source_id = f.source_id AND c.naf_niveau = f.naf_niveau AND c.via = 'direct'
        JOIN ref_naf_map m ON m.naf_niveau = f.naf_niveau AND m.naf_code = f.naf_code AND m.groupement = c.groupement
        WHERE {keep.format(g="c.groupement")}
        GROUP BY ALL
    """)
    # Sous-classes -> A88 once, then A88 -> every coarser grouping.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_a88 AS
        SELECT f.source_id, f.niveau, f.code, f.annee, f.mesure, f.rolled, m.groupe_code AS a88, {agg}
        FROM m_fx f
        JOIN ref_naf_map m ON m.naf_niveau = 'sous_classe' AND m.naf_code = f.naf_code AND m.groupement = 'a88'
        WHERE f.naf_niveau = 'sous_classe' AND f.source_id IN (SELECT source_id FROM m_choice WHERE via = 'a88')
        GROUP BY ALL
    """)
    con.execute("DROP TABLE m_fx")
    con.execute(f"""
        INSERT INTO m_src
        SELECT f.source_id, f.niveau, f.code, f.annee, f.mesure, f.rolled, m.groupement, m.groupe_code,
               sum(f.valeur), sum(f.n_secret), sum(f.n_val), bool_or(f.any_partiel)
        FROM m_a88 f
        JOIN m_choice c ON c.source_id = f.source_id AND c.via = 'a88'
        JOIN ref_naf_map m ON m.naf_niveau = 'a88' AND m.naf_code = f.a88 AND m.groupement = c.groupement
        WHERE {keep.format(g="c.groupement")}
        GROUP BY ALL
    """)
    con.execute("DROP TABLE m_a88")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_cov AS
        SELECT c.source_id, a.niveau, a.code, count(*) AS n_couvertes
        FROM source_couverture c JOIN ref_appartenance a ON a.commune = c.commune GROUP BY ALL
    """)
    # Firm-based measures (turnover, firm counts) go to their own table, in the mart's columns.
    con.execute("""CREATE OR REPLACE TEMP TABLE m_firm_all (source_id INTEGER, niveau VARCHAR, code VARCHAR, annee INTEGER,
                   mesure VARCHAR, groupement VARCHAR, groupe_code VARCHAR, valeur DOUBLE, statut VARCHAR, nb_contrib BIGINT,
                   max_contrib DOUBLE, n_couvertes BIGINT, n_membres BIGINT)""")
    _firm_marts(con)
    # Measures given by more than one source need the best-source choice; the others are taken as they are.
    multi = [r[0] for r in con.execute("""
        SELECT mesure FROM (SELECT DISTINCT mesure, source_id FROM m_src
                            UNION SELECT DISTINCT mesure, source_id FROM m_firm_all)
        GROUP BY mesure HAVING count(*) > 1""").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE m_multi (mesure VARCHAR)")
    if multi:
        con.executemany("INSERT INTO m_multi VALUES (?)", [[m] for m in multi])
    priority = " ".join(f"WHEN '{k}' THEN {v}" for k, v in KIND_PRIORITY.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_rank AS
        SELECT source_id, row_number() OVER (ORDER BY CASE kind {priority} ELSE 9 END, charge_le DESC, source_id DESC) AS rk
        FROM sources
    """)
    statut = """CASE WHEN n_val = 0 AND n_secret > 0 THEN 'secret'
                     WHEN n_secret > 0 OR any_partiel OR n_couvertes < n_membres THEN 'partiel' ELSE 'ok' END"""
    all_rows = f"""
        SELECT source_id, niveau, code, annee, mesure, groupement, groupe_code,
               CASE WHEN n_val = 0 THEN NULL ELSE valeur END AS valeur,
               CASE WHEN n_val = 0 AND n_secret > 0 THEN 'secret' WHEN n_secret > 0 OR any_partiel THEN 'partiel' ELSE 'ok' END AS statut,
               NULL::BIGINT AS nb_contrib, NULL::DOUBLE AS max_contrib, NULL::BIGINT AS n_couvertes, NULL::BIGINT AS n_membres
        FROM m_src WHERE NOT rolled AND {{where}}
        UNION ALL
        SELECT s.source_id, s.niveau, s.code, s.annee, s.mesure, s.groupement, s.groupe_code,
               CASE WHEN n_val = 0 THEN NULL ELSE valeur END, {statut}, NULL, NULL, n_couvertes, n_membres
        FROM m_src s
        JOIN m_cov c USING (source_id, niveau, code)
        JOIN ref_membres USING (niveau, code)
        WHERE s.rolled AND {{where}}
        UNION ALL
        SELECT * FROM m_firm_all WHERE {{where}} AND NOT {_COMMUNE_DETAIL}"""
    single = all_rows.format(where="mesure NOT IN (SELECT mesure FROM m_multi)")
    several = all_rows.format(where="mesure IN (SELECT mesure FROM m_multi)")
    # Rows are stored clustered by (mesure, groupement, niveau, annee) so that reads skip row groups;
    # sorting on one small integer for the first three is much cheaper than on the text columns.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_order AS
        SELECT mesure, groupement, niveau, row_number() OVER (ORDER BY mesure, groupement, niveau) AS k
        FROM (SELECT DISTINCT mesure FROM m_src UNION SELECT DISTINCT mesure FROM m_firm_all),
             (SELECT unnest(?) AS groupement), (SELECT unnest(?) AS niveau)
    """, [GROUPINGS, TERRITORY_LEVELS])
    con.execute(f"""
        CREATE OR REPLACE TABLE mart AS
        WITH several AS (SELECT m.*, r.rk FROM ({several}) m JOIN m_rank r USING (source_id)),
             best AS (SELECT {_KEYS}, min(rk) AS rk FROM several GROUP BY ALL)
        SELECT u.* FROM (
            SELECT * FROM ({single})
            UNION ALL
            SELECT {_COLS} FROM several JOIN best USING ({_KEYS}, rk)) u
        JOIN m_order o USING (mesure, groupement, niveau)
        ORDER BY o.k, u.annee
    """)
    for t in ("m_src", "m_cov", "m_firm", "m_firm_all", "m_choice", "m_multi", "m_rank", "m_order"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _firm_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Turnover and firm counts from firm rows, with what the secret rules need."""
    bands = ", ".join(f"'{b}'" for b in TPE_PME_BANDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_firm AS
        WITH f AS (
            SELECT f.*, s.secteur,
                   sum(ca_eur) OVER (PARTITION BY siren, annee) AS ca_entreprise
            FROM firmes f JOIN ref_naf n ON n.sous_classe = f.naf_code JOIN ref_secteurs s ON s.section = n.section
        ),
        places AS (
            SELECT commune, 'commune' AS niveau, commune AS code FROM (SELECT DISTINCT commune FROM firmes)
            UNION ALL SELECT commune, niveau, code FROM ref_appartenance
        ),
        per_firm AS (
            SELECT p.niveau, p.code, f.annee, m.groupement, m.groupe_code, f.siren,
                   sum(f.ca_eur) AS ca, count(f.ca_eur) AS n_ca,
                   bool_or(f.secteur <> 'hors_champ' AND coalesce(f.tranche_effectif, 'NN') IN ({bands})
                           AND coalesce(f.ca_entreprise, 0) <= {PME_MAX_CA_EUR}) AS tpe_pme,
                   max(f.source_id) AS source_id
            FROM f JOIN places p ON p.commune = f.commune
            JOIN ref_naf_map m ON m.naf_niveau = 'sous_classe' AND m.naf_code = f.naf_code
                               AND m.groupement NOT IN ('sous_classe', 'a88')
            -- commune rows only at the groupings the mart keeps for communes
            WHERE NOT (p.niveau = 'commune' AND m.groupement IN {FINE_LEVELS})
            GROUP BY ALL
        )
        SELECT niveau, code, annee, groupement, groupe_code, max(source_id) AS source_id,
               sum(ca) AS ca, count(*) FILTER (WHERE n_ca > 0) AS nb_contrib, max(ca) AS max_contrib,
               count(*) AS n_entreprises, count(*) FILTER (WHERE tpe_pme) AS n_tpe_pme
        FROM per_firm GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_firm_cov AS
        SELECT a.niveau, a.code, count(DISTINCT c.commune) AS n_couvertes
        FROM source_couverture c JOIN sources s ON s.source_id = c.source_id AND s.kind = 'chambre'
        JOIN ref_appartenance a ON a.commune = c.commune GROUP BY ALL
    """)
    status = "CASE WHEN coalesce(c.n_couvertes, 0) < coalesce(r.n_membres, 0) THEN 'partiel' ELSE 'ok' END"
    for mesure, value, contrib in [("ca_eur", "f.ca", "f.nb_contrib, f.max_contrib"),
                                   ("entreprises", "f.n_entreprises", "NULL, NULL"),
                                   ("entreprises_tpe_pme", "f.n_tpe_pme", "NULL, NULL")]:
        con.execute(f"""
            INSERT INTO m_firm_all
            SELECT f.source_id, f.niveau, f.code, f.annee, '{mesure}', f.groupement, f.groupe_code,
                   {value}, {status}, {contrib}, c.n_couvertes, r.n_membres
            FROM m_firm f LEFT JOIN m_firm_cov c USING (niveau, code) LEFT JOIN ref_membres r USING (niveau, code)
            {"WHERE f.nb_contrib > 0" if mesure == "ca_eur" else ""}
        """)
    con.execute("DROP TABLE IF EXISTS m_firm_cov")
