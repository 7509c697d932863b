"""Both activity nomenclatures: NAF rév. 2 (2008) and NAF 2025 (NACE Rév. 2.1, APE codes from 1 January 2027).

Reference tables built here (called by `reference.load_reference`):

- `ref_naf`: every sous-classe of both nomenclatures (`nomenclature` NAF2008 / NAF2025; the codes never
  collide: NAF 2025 codes end in Y or in a French subdivision letter G, H, J, K, L). Its aggregate columns
  (a88, section, a10, a17, a38, a5) are the *comparable* ones, in NAF rév. 2 codes: a NAF 2025 sous-classe
  carries the aggregates of its division (divisions keep their numbers in NACE Rév. 2.1). The native
  NACE Rév. 2.1 section (A to V) is in `section_naf2025`.
- `ref_naf_correspondance(code_naf2008, code_naf2025, type_correspondance, ...)`: INSEE's table.
- `ref_secteurs` (by NAF rév. 2 section) and `ref_secteurs_naf2025` (by NACE Rév. 2.1 section).
- `ref_filieres`: both definitions (`nomenclature`, `decision` reprise / a_arbitrer); a NAF 2025 row with
  an empty perimeter (not retained until someone decides) is not loaded.
- `ref_filieres_naf2025`: the whole NAF 2025 proposal (codes not retained included), for the Sources page.
- `ref_naf_ruptures(groupement, groupe_code, statut, note, ...)`: whether each category has the same content
  in both nomenclatures (`identique`) or not (`modifie`); the note is shown under charts of NAF 2025 figures.

Facts are never converted from one nomenclature to the other (no code is split by a ratio): each fact is
rolled up through its own code's aggregates, and a grouping whose content changes is flagged.
"""
from __future__ import annotations

import duckdb

from .base import A5_FROM_A10, A5_LABELS, FILIERES_ORDER, REFERENCE_DIR, csv_sql as csv, reference_dir

NAF2008, NAF2025 = "NAF2008", "NAF2025"
LABELS = {NAF2008: "NAF rév. 2", NAF2025: "NAF 2025"}
# APE codes are NAF 2025 from 1 January 2027: the year from which a file that does not say otherwise is NAF 2025.
NAF2025_FIRST_YEAR = 2027


def _dir(name: str):
    """The directory holding a NAF file: the reference directory in use, else the default one (a national
    reference directory built before NAF 2025 has only naf.csv); None when neither has it."""
    for d in (reference_dir(), REFERENCE_DIR):
        if (d / name).exists():
            return d
    return None


def _csv(name: str) -> str:
    return csv(name, _dir(name))


def _has(name: str) -> bool:
    return _dir(name) is not None


def load_nomenclatures(con: duckdb.DuckDBPyConnection) -> None:
    """ref_naf, ref_naf_correspondance, ref_secteurs(_naf2025), ref_filieres, ref_naf_ruptures."""
    a5_case = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in A5_FROM_A10.items())
    a5_lab = " ".join(f"WHEN '{k}' THEN '{v.replace(chr(39), chr(39) * 2)}'" for k, v in A5_LABELS.items())
    cols = "naf_sous_classe, libelle, classe, groupe, a88, libelle_a88, section, libelle_section, a10, libelle_a10, a17, libelle_a17, a38, libelle_a38"
    # A reference directory without NAF 2025 files (an older national one) keeps NAF rév. 2 only.
    n25 = _has("naf2025.csv")
    union = (f" UNION ALL SELECT {cols}, '{NAF2025}', section_naf2025, libelle_section_naf2025 FROM {_csv('naf2025.csv')}"
             if n25 else "")
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_naf AS
        SELECT naf_sous_classe AS sous_classe, libelle, classe, groupe, a88, libelle_a88, section, libelle_section,
               a10, libelle_a10, a17, libelle_a17, a38, libelle_a38,
               CASE a10 {a5_case} END AS a5,
               CASE (CASE a10 {a5_case} END) {a5_lab} END AS libelle_a5,
               nomenclature, section_naf2025, libelle_section_naf2025
        FROM (SELECT {cols}, '{NAF2008}' AS nomenclature, NULL::VARCHAR AS section_naf2025,
                     NULL::VARCHAR AS libelle_section_naf2025 FROM {_csv('naf.csv')}{union})
    """)
    empty_corr = ("SELECT NULL::VARCHAR code_naf2008, NULL::VARCHAR code_naf2025, NULL::VARCHAR type_correspondance, "
                  "NULL::VARCHAR typologie_cardinalite LIMIT 0")
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_naf_correspondance AS
        {f"SELECT code_naf2008, code_naf2025, type_correspondance, typologie_cardinalite FROM {_csv('naf2008_naf2025.csv')}"
         if _has('naf2008_naf2025.csv') else empty_corr}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_secteurs AS
        SELECT section, secteur, secteur_libelle, CAST(ordre AS INTEGER) AS ordre FROM {_csv('secteurs_candidature.csv')}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_secteurs_naf2025 AS
        {f"SELECT section, libelle_section, secteur, secteur_libelle, CAST(ordre AS INTEGER) AS ordre, section_naf_rev2 FROM {_csv('secteurs_candidature_naf2025.csv')}"
         if _has('secteurs_candidature_naf2025.csv') else "SELECT * FROM ref_secteurs LIMIT 0"}
    """)
    fil25 = (f""" UNION ALL SELECT filiere, filiere_libelle, naf_sous_classe, perimetre, note, '{NAF2025}', decision
                  FROM {_csv('filieres_naf2025.csv')} WHERE perimetre <> ''""" if _has("filieres_naf2025.csv") else "")
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_filieres AS
        SELECT filiere, filiere_libelle, naf_sous_classe AS sous_classe, perimetre, note, nomenclature, decision
        FROM (SELECT filiere, filiere_libelle, naf_sous_classe, perimetre, note, '{NAF2008}' AS nomenclature,
                     'reference' AS decision FROM {_csv('filieres.csv')}{fil25})
    """)
    # The whole NAF 2025 proposal, codes not retained included (the Sources page lists what awaits a decision).
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_filieres_naf2025 AS
        {f"SELECT * FROM {_csv('filieres_naf2025.csv')}" if _has("filieres_naf2025.csv") else
         "SELECT NULL::VARCHAR filiere, NULL::VARCHAR filiere_libelle, NULL::VARCHAR naf_sous_classe, NULL::VARCHAR libelle_naf2025, "
         "NULL::VARCHAR perimetre, NULL::VARCHAR decision, NULL::VARCHAR codes_naf2008_filiere, "
         "NULL::VARCHAR codes_naf2008_hors_filiere, NULL::VARCHAR correspondance_multiple, NULL::VARCHAR note LIMIT 0"}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE ref_naf_ruptures AS
        {f'''SELECT groupement, groupe_code, libelle, statut, CAST(n_naf2008_sortants AS INTEGER) AS n_naf2008_sortants,
                   CAST(n_naf2025_entrants AS INTEGER) AS n_naf2025_entrants, naf2008_sortants, naf2025_entrants, note
            FROM {_csv('naf_ruptures.csv')}''' if _has('naf_ruptures.csv') else
         "SELECT NULL::VARCHAR groupement, NULL::VARCHAR groupe_code, NULL::VARCHAR libelle, NULL::VARCHAR statut, "
         "NULL::INTEGER n_naf2008_sortants, NULL::INTEGER n_naf2025_entrants, NULL::VARCHAR naf2008_sortants, "
         "NULL::VARCHAR naf2025_entrants, NULL::VARCHAR note LIMIT 0"}
    """)


def build_naf_groupings(con: duckdb.DuckDBPyConnection) -> None:
    """ref_naf_map (every roll-up, both nomenclatures) and ref_groupes (labels)."""
    _build_naf_map(con)
    _build_groups(con)


def _build_naf_map(con: duckdb.DuckDBPyConnection) -> None:
    """ref_naf_map(naf_niveau, naf_code, groupement, groupe_code): every functional roll-up.

    A level rolls up into a coarser one only when each of its codes belongs to a single
    coarser code (e.g. a38 -> a10 does, a10 -> secteur does not). NAF 2025 sous-classes roll up
    through their comparable aggregates, like NAF rév. 2 ones (same `sous_classe` level).
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
        # Aggregates are labelled by their NAF rév. 2 title (the comparable codes); sous-classes by their own.
        parts.append(f"SELECT DISTINCT '{level}', {level}, {label}, dense_rank() OVER (ORDER BY {level}) FROM ref_naf"
                     + ("" if level == "sous_classe" else f" WHERE nomenclature = '{NAF2008}'"))
    parts.append("SELECT DISTINCT 'secteur', secteur, secteur_libelle, ordre FROM ref_secteurs WHERE secteur <> 'hors_champ'")
    parts.append("SELECT 'champ', 'CHAMP', 'Champ marchand non agricole et non financier', 1")
    order = " ".join(f"WHEN '{f}' THEN {i}" for i, f in enumerate(FILIERES_ORDER, start=1))
    for g in ("filiere_coeur", "filiere_elargi"):
        parts.append(f"SELECT DISTINCT '{g}', filiere, filiere_libelle, CASE filiere {order} ELSE 99 END FROM ref_filieres")
    con.execute("CREATE OR REPLACE TABLE ref_groupes AS " + " UNION ALL ".join(parts))


def upgrade_nomenclatures(con: duckdb.DuckDBPyConnection, ddl: str) -> None:
    """A warehouse built before NAF 2025 gets the `nomenclature` columns (schema DDL, idempotent) and both
    nomenclatures in its NAF tables; a current one is left as it is."""
    con.execute(ddl)
    cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'ref_naf'").fetchall()}
    if "nomenclature" not in cols:
        load_nomenclatures(con)
        build_naf_groupings(con)


# --- detection of a file's nomenclature (loaders) --------------------------------------------------

def sql_nomenclature(code: str) -> str:
    """SQL expression: the nomenclature of a normalised sous-classe code ('46.50Y'), NULL when unknown."""
    return f"(SELECT min(r.nomenclature) FROM ref_naf r WHERE r.sous_classe = {code})"


def single_nomenclature(con: duckdb.DuckDBPyConnection, table: str, code: str, fichier: str, colonne: str | None,
                        hint: str | None = None, line: str | None = "ligne"):
    """The one nomenclature of a staged table's activity codes, and the problem when it mixes both.

    `code` is the normalised code expression over `table`; `line` the line-number column (None: no
    line numbers are known, e.g. an aggregated stock). `hint` (NAF2008 / NAF2025, from a column name
    or the file's vintage) decides when no code is recognised. Returns (nomenclature, problems).
    """
    from .validate import Problem

    rows = con.execute(f"""
        SELECT r.nomenclature, count(*) AS n, {f'list(t.{line} ORDER BY t.{line})[1:5]' if line else 'NULL'} AS lignes,
               min(t.c_code) AS exemple
        FROM (SELECT *, {code} AS c_code FROM {table}) t JOIN ref_naf r ON r.sous_classe = t.c_code
        GROUP BY r.nomenclature ORDER BY n DESC, r.nomenclature""").fetchall()
    found = {r[0]: r for r in rows}
    if len(found) <= 1:
        return (rows[0][0] if rows else (hint or NAF2008)), []
    major, minor = rows[0], rows[1]

    def where(r):
        shown = ", ".join(str(x) for x in (r[2] or []))
        return (f"{r[1]} ligne(s) en {LABELS[r[0]]}" + (f" (lignes {shown}{'…' if r[1] > 5 else ''})" if shown else "")
                + f", ex. « {r[3]} »")

    first = minor[2][0] if line and minor[2] else None
    return major[0], [Problem(fichier, first, colonne,
                              f"le fichier mélange les deux nomenclatures d'activité : {where(major)} et {where(minor)}. "
                              "Un fichier doit être codé entièrement en NAF rév. 2 ou entièrement en NAF 2025 : "
                              "séparez-le en deux fichiers (ou recodez les lignes citées)")]
