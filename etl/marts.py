"""Marts the pages read: facts rolled up NAF levels and communes -> EPCI / département, once.

`mart` holds one row per (niveau, code, annee, mesure, groupement, groupe_code), from the
best source for that key. Firm-level turnover keeps its contributor count and largest
contribution so that the read side can apply the statistical secret rules.
"""
from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from .schema import TERRITORY_LEVELS

# Lower is preferred when two sources give the same figure (after real before demo: etl/marts.py m_rank).
KIND_PRIORITY = {"reference": 0, "populations_legales": 1, "base_comparateur": 1, "urssaf": 1, "chambre": 1, "flores": 2,
                 "sirene": 3}
# Kinds that list units (establishments, firms) rather than communes: a file covers the communes of the
# départements it has rows in (etl/load.py), a commune without a row has none; the others cover the communes
# they have rows for, year by year.
REGISTER_KINDS = ("sirene", "chambre")
# NAF levels a kind publishes only in part ("of which" variables: ETGZ, section G, in the base
# comparateur): taken as published, never summed into coarser groupings.
PARTIAL_LEVELS = {"base_comparateur": {"section"}}
GROUPINGS = ["total", "a5", "section", "a10", "a17", "a38", "a88", "sous_classe", "secteur", "champ", "filiere_coeur", "filiere_elargi"]
_FINENESS = ["sous_classe", "a88", "a38", "a17", "section", "a10", "a5", "total"]
# Workforce bands of fewer than 250 employees (Sirene codes): with turnover <= 50 M€, a TPE or PME.
TPE_PME_BANDS = ("NN", "00", "01", "02", "03", "11", "12", "21", "22", "31")
PME_MAX_CA_EUR = 50e6


def _level_choice(con: duckdb.DuckDBPyConnection, groupings=GROUPINGS) -> pd.DataFrame:
    """For each source and grouping, the NAF level its figures are read from.

    A grouping the file publishes itself is taken as published; the others are summed
    from the finest level of the file only (a coarse level may be a partial list). The
    levels are those of all the source's facts, whatever measures are being computed.
    """
    present = con.execute("SELECT DISTINCT f.source_id, s.kind, f.naf_niveau FROM facts f JOIN sources s USING (source_id)").fetchdf()
    mapping = set(map(tuple, con.execute("SELECT DISTINCT naf_niveau, groupement FROM ref_naf_map").fetchall()))
    rows = []
    for (source_id, kind), levels in present.groupby(["source_id", "kind"]).naf_niveau:
        levels = set(levels)
        complete = levels - PARTIAL_LEVELS.get(kind, set())
        finest = min(complete or levels, key=_FINENESS.index)
        for g in groupings:
            if g in levels:
                rows.append((source_id, g, g))
            elif (finest, g) in mapping:
                rows.append((source_id, finest, g))
    return pd.DataFrame(rows, columns=["source_id", "naf_niveau", "groupement"]).astype({"source_id": "int64"})



# Groupings the read side queries, by measure: `total` for every measure (it tells which territory-years a
# file covers), the grouping of each indicator of indicators/catalog.py (a filière indicator reads both
# definitions) and, for firm measures, the secret families of indicators/query.py (secteur with its champ
# margin). tests/test_marts_equivalence.py checks it against the catalogue. Only these are stored in
# `mart`, at every territorial level; a measure not listed (no indicator reads it) keeps its total only.
# Any other grouping (secteur of establishments, the fine NAF levels…) is computed on demand by `mart_rows`.
_FILIERES = ("filiere_coeur", "filiere_elargi")
READ_GROUPINGS = {
    "population": ("total",),
    "superficie_km2": ("total",),
    "etablissements": ("total", "a5"),
    "etablissements_employeurs": ("total", "a5", *_FILIERES),
    "effectifs_salaries": ("total", "a5", *_FILIERES),
    "ca_eur": ("total", "secteur", "champ", *_FILIERES),
    "entreprises_tpe_pme": ("total", "a5", "champ"),
    # Sirene flows (etl/sources/sirene.py) and their denominator, the establishments active on 1 January.
    **{m: ("total", "a5", *_FILIERES) for m in ("creations_etablissements", "fermetures_etablissements",
                                               "creations_etablissements_avec_salaries",
                                               "fermetures_etablissements_avec_salaries", "etablissements_1er_janvier")},
}
MART_GROUPINGS = ("total", "a5", "secteur", "champ", *_FILIERES)
# Finer NAF groupings: never stored by commune, not even on demand (they would multiply the mart by ~100).
FINE_LEVELS = ("sous_classe", "a88", "a38", "a17", "section", "a10")
# Measures computed from firm rows (chamber files): recomputed together (coverage is shared by all years).
FIRM_MEASURES = ("ca_eur", "entreprises", "entreprises_tpe_pme")
# Stored in meta: a warehouse whose mart was built another way gets a full rebuild instead of an update.
MART_FORMAT = "groupements-lus-v4-couverture-annuelle"


def _read_groupings(mesure: str) -> tuple[str, ...]:
    return READ_GROUPINGS.get(mesure, ("total",))


def build_marts(con: duckdb.DuckDBPyConnection, mesures: Iterable[str] | None = None) -> None:
    """Build `mart` from facts and firms: all of it, or only the rows of `mesures`.

    With `mesures` (the measures the files just loaded touched), the rows of the other measures are
    kept as they are: a measure's rows depend only on the facts (or firm rows) of that measure, on
    the coverage of their sources and on the relative rank of those sources, none of which a load
    changes for another measure. Firm measures go together. A warehouse without a mart, or with a
    mart of another format, is rebuilt in full.
    """
    full = mesures is None or _mart_format(con) != MART_FORMAT
    scope = None
    if not full:
        scope = set(mesures)
        if scope & set(FIRM_MEASURES):
            scope |= set(FIRM_MEASURES)
        if not scope:
            return
        scope = sorted(scope)
    select = _prepare(con, _read_groupings, scope, ordered=True)
    if full:
        con.execute(f"CREATE OR REPLACE TABLE mart AS {select}")
    else:
        con.execute("DELETE FROM mart WHERE list_contains(?, mesure)", [scope])
        con.execute(f"INSERT INTO mart {select}")
    _cleanup(con)
    if full or set(scope) & set(FIRM_MEASURES):
        from . import secret
        secret.protect(con)  # statistical secret of firm-level rows, stored in mart.secret (etl/secret.py)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('mart_format', ?)", [MART_FORMAT])


def mart_rows(con: duckdb.DuckDBPyConnection, groupement: str, table: str = "mart_demande") -> str:
    """Every measure's mart rows at one grouping, computed on demand from facts into a temp table.

    For a grouping `mart` does not store for a measure (the secteurs of establishments, A88…): the
    rows a mart storing it would hold, built by the same code (fine NAF groupings: EPCI and coarser
    levels only, never by commune). Returns the table name.
    """
    if groupement not in GROUPINGS:
        raise ValueError(f"regroupement inconnu « {groupement} » ({', '.join(GROUPINGS)})")
    select = _prepare(con, lambda _mesure: (groupement,), None)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    _cleanup(con)
    return table


def _mart_format(con: duckdb.DuckDBPyConnection) -> str | None:
    has_mart = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                           "AND schema_name = 'main' AND table_name = 'mart'").fetchall()[0][0]
    if not has_mart:
        return None
    rows = con.execute("SELECT valeur FROM meta WHERE cle = 'mart_format'").fetchall()
    return rows[0][0] if rows else None


def _cleanup(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("m_want", "m_srcm", "m_key", "m_map", "m_src", "m_roll", "m_cov", "m_pop", "m_firm", "m_firm_all", "m_multi", "m_rank", "m_scope"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _prepare(con: duckdb.DuckDBPyConnection, want, scope: list[str] | None, ordered: bool = False) -> str:
    """Temp tables for the mart rows of the measures in `scope` (or all), each at the groupings
    `want(mesure)` lists, and the SELECT giving those rows (no commune rows at fine groupings).

    Two set-based passes: facts are summed into every grouping asked for, by the territory they
    are published for (a figure published at the grouping asked for maps to itself; the others
    are summed from the source's finest complete level); then the commune rows are summed up to
    EPCI and département (sums, counts and flags are additive, so this equals summing the facts).
    Both passes group on one integer standing for (mesure, groupement, groupe_code): hashing it is
    much cheaper than the three texts. The best-source choice ranks only the measures that more
    than one source provides. `ordered`: rows clustered by (mesure, groupement, niveau) then year,
    so that reads skip row groups (an update appends the measures it recomputes, each in one run).
    """
    con.execute("CREATE OR REPLACE TEMP TABLE m_scope (mesure VARCHAR)")
    if scope is not None:
        con.execute("INSERT INTO m_scope SELECT unnest(?)", [scope])
    in_scope = "true" if scope is None else "f.mesure IN (SELECT mesure FROM m_scope)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE m_srcm AS SELECT DISTINCT f.source_id, f.mesure FROM facts f WHERE {in_scope}")
    firms = scope is None or bool(set(scope) & set(FIRM_MEASURES))
    mesures = {r[0] for r in con.execute("SELECT DISTINCT mesure FROM m_srcm").fetchall()} | (set(FIRM_MEASURES) if firms else set())
    wanted = [(m, g) for m in sorted(mesures) for g in want(m)]
    con.execute("CREATE OR REPLACE TEMP TABLE m_want (mesure VARCHAR, groupement VARCHAR)")
    if wanted:
        con.executemany("INSERT INTO m_want VALUES (?, ?)", wanted)
    groupings = [g for g in GROUPINGS if any(g == w for _, w in wanted)]
    # One integer per (mesure, groupement, groupe_code) wanted; `kmg` orders (mesure, groupement) for storage.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_key AS
        SELECT (row_number() OVER (ORDER BY w.mesure, w.groupement, g.groupe_code))::INTEGER AS wid,
               w.mesure, w.groupement, g.groupe_code,
               (dense_rank() OVER (ORDER BY w.mesure, list_position(?, w.groupement), w.groupement))::INTEGER AS kmg,
               list_contains(?, w.groupement) AS fine
        FROM m_want w JOIN (SELECT DISTINCT groupement, groupe_code FROM ref_naf_map) g USING (groupement)
    """, [list(MART_GROUPINGS), list(FINE_LEVELS)])
    # (source, measure, NAF level read, code) -> the grouping codes it counts in.
    con.register("level_choice", _level_choice(con, groupings))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_map AS
        SELECT c.source_id, k.mesure, m.naf_niveau, m.naf_code, k.wid
        FROM level_choice c
        JOIN m_srcm sm ON sm.source_id = c.source_id
        JOIN ref_naf_map m ON m.naf_niveau = c.naf_niveau AND m.groupement = c.groupement
        JOIN m_key k ON k.mesure = sm.mesure AND k.groupement = m.groupement AND k.groupe_code = m.groupe_code
    """)
    con.unregister("level_choice")
    # Each row carries what the statut needs (secret and valued counts, a partial flag): all additive.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_src AS
        SELECT f.source_id, f.niveau, f.territoire_code AS code, f.annee, m.wid,
               sum(f.valeur) AS valeur, count(*) FILTER (WHERE f.statut = 'secret') AS n_secret, count(f.valeur) AS n_val,
               bool_or(f.statut = 'partiel') AS any_partiel
        FROM facts f JOIN m_map m USING (source_id, mesure, naf_niveau, naf_code)
        WHERE {in_scope}
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_roll AS
        SELECT s.source_id, a.niveau, a.code, s.annee, s.wid, sum(s.valeur) AS valeur,
               sum(s.n_secret) AS n_secret, sum(s.n_val) AS n_val, bool_or(s.any_partiel) AS any_partiel
        FROM m_src s JOIN ref_appartenance a ON a.commune = s.code
        WHERE s.niveau = 'commune'
        GROUP BY ALL
    """)
    # Coverage from the rows, year by year: a territory's figure is complete only when every commune of it has
    # rows of the source for that year (a file of part of a département gives a partial département). A register
    # (REGISTER_KINDS) covers every year the communes of its départements (source_couverture): a commune without a
    # row has no unit. Communes and inhabitants covered, for the note under a partial figure.
    registers = ", ".join(f"'{k}'" for k in REGISTER_KINDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_cov AS
        WITH present AS (
            SELECT DISTINCT f.source_id, f.annee, f.territoire_code AS commune FROM facts f WHERE f.niveau = 'commune'
            UNION
            SELECT y.source_id, y.annee, c.commune
            FROM (SELECT DISTINCT source_id, annee FROM facts) y JOIN source_couverture c USING (source_id)
            JOIN sources s USING (source_id) WHERE s.kind IN ({registers}))
        SELECT p.source_id, p.annee, a.niveau, a.code, count(*) AS n_couvertes, sum(r.population)::BIGINT AS pop_couverte
        FROM present p JOIN ref_appartenance a ON a.commune = p.commune LEFT JOIN ref_communes r ON r.code = p.commune
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_pop AS
        SELECT a.niveau, a.code, sum(r.population)::BIGINT AS pop_membres
        FROM ref_appartenance a LEFT JOIN ref_communes r ON r.code = a.commune GROUP BY ALL
    """)
    # Firm-based measures (turnover, firm counts) go to their own table, in the mart's columns.
    con.execute("""CREATE OR REPLACE TEMP TABLE m_firm_all (source_id INTEGER, niveau VARCHAR, code VARCHAR, annee INTEGER,
                   mesure VARCHAR, groupement VARCHAR, groupe_code VARCHAR, valeur DOUBLE, statut VARCHAR, nb_contrib BIGINT,
                   max_contrib DOUBLE, n_couvertes BIGINT, n_membres BIGINT, secret VARCHAR, pop_couverte BIGINT,
                   pop_membres BIGINT)""")
    if firms:
        firm_want = {m: tuple(want(m)) for m in FIRM_MEASURES}
        _firm_marts(con, [g for g in GROUPINGS if any(g in w for w in firm_want.values())], firm_want)
    # Measures given by more than one source need the best-source choice; the others are taken as they are.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_multi AS
        SELECT k.wid FROM m_key k SEMI JOIN (
            SELECT mesure FROM (SELECT source_id, mesure FROM m_srcm UNION SELECT DISTINCT source_id, mesure FROM m_firm_all)
            GROUP BY mesure HAVING count(*) > 1) USING (mesure)
    """)
    priority = " ".join(f"WHEN '{k}' THEN {v}" for k, v in KIND_PRIORITY.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_rank AS
        SELECT source_id, row_number() OVER (ORDER BY demo, CASE kind {priority} ELSE 9 END, charge_le DESC, source_id DESC) AS rk
        FROM sources
    """)
    statut = """CASE WHEN n_val = 0 AND n_secret > 0 THEN 'secret'
                     WHEN n_secret > 0 OR any_partiel OR n_couvertes < n_membres THEN 'partiel' ELSE 'ok' END"""
    rows = f"""
        SELECT source_id, niveau, code, annee, wid,
               CASE WHEN n_val = 0 THEN NULL ELSE valeur END AS valeur,
               CASE WHEN n_val = 0 AND n_secret > 0 THEN 'secret' WHEN n_secret > 0 OR any_partiel THEN 'partiel' ELSE 'ok' END AS statut,
               NULL::BIGINT AS nb_contrib, NULL::DOUBLE AS max_contrib, NULL::BIGINT AS n_couvertes, NULL::BIGINT AS n_membres,
               NULL::VARCHAR AS secret, NULL::BIGINT AS pop_couverte, NULL::BIGINT AS pop_membres
        FROM m_src WHERE {{where}}
        UNION ALL
        SELECT s.source_id, s.niveau, s.code, s.annee, s.wid,
               CASE WHEN n_val = 0 THEN NULL ELSE valeur END, {statut}, NULL, NULL, n_couvertes, n_membres, NULL,
               pop_couverte, pop_membres
        FROM m_roll s
        JOIN m_cov c USING (source_id, annee, niveau, code)
        JOIN ref_membres r ON r.niveau = s.niveau AND r.code = s.code
        LEFT JOIN m_pop p ON p.niveau = s.niveau AND p.code = s.code
        WHERE {{where}}
        UNION ALL
        SELECT f.source_id, f.niveau, f.code, f.annee, k.wid, f.valeur, f.statut, f.nb_contrib, f.max_contrib, f.n_couvertes, f.n_membres,
               f.secret, f.pop_couverte, f.pop_membres
        FROM m_firm_all f JOIN m_key k USING (mesure, groupement, groupe_code) WHERE {{where}}"""
    single = rows.format(where="wid NOT IN (SELECT wid FROM m_multi)")
    several = rows.format(where="wid IN (SELECT wid FROM m_multi)")
    cols = ("source_id, niveau, code, annee, wid, valeur, statut, nb_contrib, max_contrib, n_couvertes, n_membres, secret, "
            "pop_couverte, pop_membres")
    levels = " ".join(f"WHEN '{n}' THEN {i}" for i, n in enumerate(TERRITORY_LEVELS))
    return f"""
        WITH several AS (SELECT m.*, r.rk FROM ({several}) m JOIN m_rank r USING (source_id)),
             best AS (SELECT niveau, code, annee, wid, min(rk) AS rk FROM several GROUP BY ALL),
             chosen AS (SELECT * FROM ({single}) UNION ALL SELECT {cols} FROM several JOIN best USING (niveau, code, annee, wid, rk))
        SELECT u.source_id, u.niveau, u.code, u.annee, k.mesure, k.groupement, k.groupe_code,
               u.valeur, u.statut, u.nb_contrib, u.max_contrib, u.n_couvertes, u.n_membres, u.secret,
               u.pop_couverte, u.pop_membres
        FROM chosen u JOIN m_key k USING (wid)
        WHERE NOT (u.niveau = 'commune' AND k.fine)
        {f"ORDER BY k.kmg, CASE u.niveau {levels} END, u.annee" if ordered else ""}"""


def _firm_marts(con: duckdb.DuckDBPyConnection, groupings=GROUPINGS, want: dict | None = None) -> None:
    """Turnover and firm counts from firm rows, with what the secret rules need, into m_firm_all
    (at `groupings`, or for each measure at those `want` lists).

    Firms are counted once per territory and category (a firm is a SIREN; its establishments in
    the same territory and category add up). Most firms have a single establishment-year: they
    need no such grouping, and are summed by commune before the roll-up.
    """
    bands = ", ".join(f"'{b}'" for b in TPE_PME_BANDS)
    # Per establishment-year: whether its firm is a TPE-PME (firm turnover) and has no other establishment that year.
    # A firm-year exists when the file gives its turnover for that year: a firm created in 2020 is listed with
    # empty 2018 and 2019 columns, and is not counted among the firms of those years.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_fx AS
        SELECT f.commune, f.annee, f.siren, f.naf_code, f.ca_eur, f.source_id,
               s.secteur <> 'hors_champ' AND coalesce(f.tranche_effectif, 'NN') IN ({bands})
                   AND e.ca <= {PME_MAX_CA_EUR} AS tpe_pme,
               e.n = 1 AS seul
        FROM firmes f JOIN ref_naf n ON n.sous_classe = f.naf_code JOIN ref_secteurs s ON s.section = n.section
        JOIN (SELECT siren, annee, sum(ca_eur) AS ca, count(*) AS n FROM firmes WHERE ca_eur IS NOT NULL GROUP BY ALL) e
             USING (siren, annee)
        WHERE f.ca_eur IS NOT NULL
    """)
    # One integer per category (groupement, groupe_code) of each NAF sous-classe.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_fkey AS
        SELECT (row_number() OVER (ORDER BY groupement, groupe_code))::INTEGER AS gid, groupement, groupe_code,
               groupement IN {FINE_LEVELS} AS fine
        FROM (SELECT DISTINCT groupement, groupe_code FROM ref_naf_map WHERE naf_niveau = 'sous_classe'
              AND groupement NOT IN ('sous_classe', 'a88') AND list_contains(?, groupement))
    """, [list(groupings)])
    # Each commune as a territory of its own and as a member of its EPCI, département…
    levels = """(SELECT commune, 'commune' AS niveau, commune AS code FROM (SELECT DISTINCT commune FROM m_fx)
                 UNION ALL SELECT commune, niveau, code FROM ref_appartenance)"""
    categories = """JOIN ref_naf_map m ON m.naf_niveau = 'sous_classe' AND m.naf_code = x.naf_code
                    JOIN m_fkey k ON k.groupement = m.groupement AND k.groupe_code = m.groupe_code"""
    # Single-establishment firms are summed by commune first, then the small result is rolled up
    # (sums, counts and maxima are additive); only firms with several establishments are
    # grouped by SIREN in each territory.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE m_firm AS
        WITH by_commune AS (
            SELECT x.commune, x.annee, k.gid, k.fine, sum(x.ca_eur) AS ca, count(*) AS nb_contrib,
                   max(x.ca_eur) AS max_contrib, count(*) AS n_entreprises, count(*) FILTER (WHERE x.tpe_pme) AS n_tpe_pme,
                   max(x.source_id) AS source_id
            FROM m_fx x {categories} WHERE x.seul GROUP BY ALL
        ), per_firm AS (
            SELECT p.niveau, p.code, x.annee, k.gid, x.siren, sum(x.ca_eur) AS ca,
                   bool_or(x.tpe_pme) AS tpe_pme, max(x.source_id) AS source_id
            FROM m_fx x JOIN {levels} p ON p.commune = x.commune {categories}
            WHERE NOT x.seul AND NOT (p.niveau = 'commune' AND k.fine)  -- no commune rows at fine groupings
            GROUP BY ALL
        ), parts AS (
            SELECT p.niveau, p.code, c.annee, c.gid, c.ca, c.nb_contrib, c.max_contrib, c.n_entreprises, c.n_tpe_pme, c.source_id
            FROM by_commune c JOIN {levels} p ON p.commune = c.commune
            WHERE NOT (p.niveau = 'commune' AND c.fine)
            UNION ALL
            SELECT niveau, code, annee, gid, ca, 1, ca, 1, tpe_pme::BIGINT, source_id FROM per_firm
        )
        SELECT f.niveau, f.code, f.annee, k.groupement, k.groupe_code, f.source_id, f.ca, f.nb_contrib, f.max_contrib,
               f.n_entreprises, f.n_tpe_pme
        FROM (SELECT niveau, code, annee, gid, max(source_id) AS source_id, sum(ca) AS ca,
                     sum(nb_contrib)::BIGINT AS nb_contrib, max(max_contrib) AS max_contrib,
                     sum(n_entreprises)::BIGINT AS n_entreprises, sum(n_tpe_pme)::BIGINT AS n_tpe_pme
              FROM parts GROUP BY ALL) f
        JOIN m_fkey k USING (gid)
    """)
    con.execute("DROP TABLE m_fx")
    con.execute("DROP TABLE m_fkey")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE m_firm_cov AS
        SELECT a.niveau, a.code, count(DISTINCT c.commune) AS n_couvertes
        FROM source_couverture c JOIN sources s ON s.source_id = c.source_id AND s.kind = 'chambre'
        JOIN ref_appartenance a ON a.commune = c.commune GROUP BY ALL
    """)
    status = "CASE WHEN coalesce(c.n_couvertes, 0) < coalesce(r.n_membres, 0) THEN 'partiel' ELSE 'ok' END"
    # `secret`: turnover waits for etl/secret.py; counts of firms are not magnitude data (see there).
    for mesure, value, contrib, secret in [("ca_eur", "f.ca", "f.nb_contrib, f.max_contrib", "a_evaluer"),
                                           ("entreprises", "f.n_entreprises", "NULL, NULL", "diffuse"),
                                           ("entreprises_tpe_pme", "f.n_tpe_pme", "NULL, NULL", "diffuse")]:
        con.execute(f"""
            INSERT INTO m_firm_all
            SELECT f.source_id, f.niveau, f.code, f.annee, '{mesure}', f.groupement, f.groupe_code,
                   {value}, {status}, {contrib}, c.n_couvertes, r.n_membres, '{secret}', NULL, NULL
            FROM m_firm f LEFT JOIN m_firm_cov c USING (niveau, code) LEFT JOIN ref_membres r USING (niveau, code)
            WHERE list_contains(?, f.groupement)
        """, [list(groupings if want is None else want[mesure])])
    con.execute("DROP TABLE IF EXISTS m_firm_cov")
