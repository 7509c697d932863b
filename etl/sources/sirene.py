"""INSEE Sirene, stock of establishments (StockEtablissement_utf8.csv, its parquet, or the
per-département geo-sirene extract geo_siret_DD.csv.gz).

The national file has about 40 million rows (8 GB): it is streamed and filtered by DuckDB in
one pass (projection of 7 columns, hash aggregate), never loaded into Python. Kept: the active
establishments (etatAdministratifEtablissement = 'A') of the perimeter's communes, counted by
commune and NAF sous-classe (activitePrincipaleEtablissement, NAFRev2 only for the detail; every
active establishment in the total), and those with employees (trancheEffectifsEtablissement other
than NN / 00 / empty). The year of the counts is the year of the latest dateDernierTraitementEtablissement.

Flows, in the same pass: creations (dateCreationEtablissement) and closures (a closed establishment,
etatAdministratifEtablissement = F: the dateDebut of its last period) by year of the event, commune and NAF
sous-classe, all and with employees (band at the stock's date), for the FLOW_YEARS complete years before the
stock's year; and the establishments active on 1 January of each of those years (created before, not closed
before), the denominator of the rates. A commune of the file with no event in a year gets a zero total. An
extract of active establishments only (no closed row, or no dateDebut) gives creations alone, and says so.
A creation is a new SIRET: a move within the territory is one closure and one creation.

NAF 2025: when the stock has activitePrincipaleNAF25Etablissement, the detail is read from it (facts in
NAF2025); otherwise from activitePrincipaleEtablissement, whose codes may be NAF rév. 2 (nomenclature
column NAFRev2) or NAF 2025 (codes such as 46.50Y). A stock whose active establishments mix both is
refused, with the first lines of each.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import duckdb

from ..readers import MAX_LINE_BYTES, _head_line, check_line_lengths
from ..nomenclature import LABELS, NAF2008, NAF2025
from ..validate import LoadError, Problem, refuse
from .common import Staged, year_from_name

KIND = "sirene"
LIBELLE = "INSEE, répertoire Sirene (stock des établissements)"
PRODUCTEUR = "INSEE"
LICENCE = "Licence Ouverte 2.0 (Etalab)"

# Columns read, by their name in the published file.
COLUMNS = {"commune": "codeCommuneEtablissement", "etat": "etatAdministratifEtablissement",
           "naf": "activitePrincipaleEtablissement", "nomenclature": "nomenclatureActivitePrincipaleEtablissement",
           "tranche": "trancheEffectifsEtablissement", "traitement": "dateDernierTraitementEtablissement",
           "siret": "siret", "naf25": "activitePrincipaleNAF25Etablissement",
           "creation": "dateCreationEtablissement", "debut": "dateDebut"}
_OPTIONAL = {"nomenclature", "traitement", "tranche", "naf25", "creation", "debut"}
# Complete years of flows kept before the stock's year (Sirene's dates go back to the 1900s).
FLOW_YEARS = 15
FLOW_MEASURES = ("creations_etablissements", "fermetures_etablissements", "creations_etablissements_avec_salaries",
                 "fermetures_etablissements_avec_salaries", "etablissements_1er_janvier")
# Row nomenclature: NAF rév. 2 when Sirene says so; older ones (NAFRev1, NAF1993, NAP) are none of ours;
# any other value (or none) with a NAF 2025 code is NAF 2025.
_OLD = ("NAFRev1", "NAF1993", "NAP")
def _row_nomenclature(c: str) -> str:
    """A row's nomenclature from Sirene's column; 'ANY' without it (the code alone decides)."""
    return (f"CASE WHEN {c} IS NULL THEN 'ANY' WHEN {c} = 'NAFRev2' THEN '{NAF2008}' WHEN {c} IN {_OLD} THEN NULL "
            f"ELSE '{NAF2025}' END")
EMPLOYER_BANDS_EXCLUDED = ("NN", "00", "")


def detect(header: list[str]) -> bool:
    low = {h.strip().lower() for h in header}
    return {"siret", "etatadministratifetablissement", "activiteprincipaleetablissement", "codecommuneetablissement"} <= low


def _header(path: Path) -> tuple[list[str], bool]:
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PAR1":
        return [], True
    opener = gzip.open if head[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read(256 * 1024)
    except (OSError, EOFError):
        refuse(path, "archive gzip illisible ou tronquée")
    return _head_line(raw), False


def _source_sql(con, path: Path) -> tuple[str, list, dict[str, int], int]:
    """FROM clause reading the file, its parameters, and the position of each needed column."""
    header, parquet = _header(path)
    if parquet:
        try:
            header = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                                                [path.as_posix()]).fetchall()]
        except duckdb.Error:
            refuse(path, "fichier parquet illisible ou tronqué")
    low = [h.strip().lower() for h in header]
    pos = {}
    for key, name in COLUMNS.items():
        if name.lower() in low:
            pos[key] = low.index(name.lower()) + 1
        elif key not in _OPTIONAL:
            refuse(path, f"colonne obligatoire absente : {name} (stock Sirene des établissements)", 1)
    if parquet:
        return "read_parquet(?)", [path.as_posix()], pos, len(header)
    columns = {f"c{i}": "VARCHAR" for i in range(len(header))}
    delim = "," if header and len(header) > 1 else ";"
    return ("read_csv(?, delim=?, header=false, skip=1, quote='\"', escape='\"', auto_detect=false, columns=?, "
            "max_line_size=?, encoding=?)"), [path.as_posix(), delim, columns, MAX_LINE_BYTES], pos, len(header)


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    path = Path(path)
    name = path.name
    src, params, pos, _ = _source_sql(con, path)
    if src.startswith("read_csv"):
        # DuckDB drops an overlong last line without a word (readers.check_line_lengths); gzip is checked inflated.
        try:
            check_line_lengths(path, name)
        except (OSError, EOFError):
            refuse(path, "archive gzip illisible ou tronquée")
    col = {k: f"CAST(#{p} AS VARCHAR)" for k, p in pos.items()}
    if "naf25" in col:  # the NAF 2025 column, when the stock has it, gives the detail
        col["naf"], col["nomenclature"] = col["naf25"], f"'{NAF2025}'"
    col.setdefault("nomenclature", "NULL")
    col.setdefault("traitement", "NULL")
    col.setdefault("tranche", "NULL")
    col.setdefault("creation", "NULL")
    col.setdefault("debut", "NULL")
    query = f"""
        CREATE OR REPLACE TEMP TABLE stg_sirene AS
        WITH perimetre AS (
            SELECT code AS commune FROM ref_communes
            UNION SELECT ancien_code FROM ref_communes_changements WHERE nouveau_code IN (SELECT code FROM ref_communes)
        ), rows AS (
            SELECT {col['commune']} AS commune, {col['etat']} AS etat, {col['naf']} AS naf,
                   {col['nomenclature']} AS nomenclature, {col['tranche']} AS tranche, {col['traitement']} AS traitement,
                   {col['siret']} AS siret, {_year(col['creation'])} AS cree,
                   CASE WHEN {col['etat']} = 'F' THEN {_year(col['debut'])} END AS ferme
            FROM {src}
        )
        SELECT CASE WHEN dedans THEN commune END AS commune, CASE WHEN dedans THEN etat END AS etat,
               CASE WHEN dedans THEN naf END AS naf, CASE WHEN dedans THEN nomenclature END AS nomenclature,
               CASE WHEN dedans THEN coalesce(tranche, '') END AS tranche,
               CASE WHEN dedans THEN cree END AS cree, CASE WHEN dedans THEN ferme END AS ferme,
               count(*) AS n, max(traitement) AS traitement, count(*) FILTER (WHERE siret IS NULL) AS sans_siret
        FROM (SELECT *, coalesce(commune IN (SELECT commune FROM perimetre), false) AS dedans FROM rows)
        GROUP BY ALL
    """
    for encoding in ("utf-8", "latin-1"):
        try:
            con.execute(query, params + ([encoding] if src.startswith("read_csv") else []))
            break
        except duckdb.Error as exc:
            msg = str(exc)
            if src.startswith("read_csv") and encoding == "utf-8" and "unicode" in msg.lower():
                continue
            m = re.search(r"[Ll]ine:? (\d+)", msg)
            why = ("nombre de colonnes différent de l'en-tête" if "column" in msg.lower()
                   else "fichier illisible ou mal formé (guillemets ou séparateurs incohérents, archive tronquée)")
            raise LoadError([Problem(name, int(m.group(1)) if m else None, None, why)]) from None
    total, outside, traitement = con.execute(
        "SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE commune IS NULL), 0), max(traitement) FROM stg_sirene").fetchall()[0]
    problems: list[Problem] = []
    if total == 0:
        refuse(path, "aucun établissement dans le fichier")
    year = int(traitement[:4]) if traitement and re.match(r"(19|20)\d\d", traitement) else None
    millesime = traitement[:7] if year else year_from_name(path)
    if year is None and millesime:
        year = int(millesime[:4])
    if year is None:
        refuse(path, "date du stock introuvable (colonne dateDernierTraitementEtablissement vide et pas d'année dans le nom du fichier)")
    if outside:
        problems.append(Problem(name, None, COLUMNS["commune"], f"{outside} établissement(s) hors du périmètre "
                                "de l'entrepôt : ignoré(s)", grave=False))
    # Each group's nomenclature: its code must be a sous-classe of the nomenclature its row claims.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_sirene AS
        SELECT s.*, r.nomenclature AS nom FROM stg_sirene s
        LEFT JOIN ref_naf r ON r.sous_classe = s.naf AND {_row_nomenclature('s.nomenclature')} IN (r.nomenclature, 'ANY')
    """)
    used = con.execute("""SELECT nom, sum(n) FROM stg_sirene WHERE commune IS NOT NULL AND etat = 'A' AND nom IS NOT NULL
                          GROUP BY nom ORDER BY 2 DESC""").fetchall()
    if len(used) > 1:
        raise LoadError([_mixed(con, path, src, params, col, used)])
    nomenclature = used[0][0] if used else (NAF2025 if "naf25" in pos else NAF2008)
    # Active establishments coded in an older nomenclature (NAFRev1, NAF1993...) or with an unknown NAF code.
    old = con.execute("""
        SELECT coalesce(sum(n), 0) FROM stg_sirene s WHERE commune IS NOT NULL AND etat = 'A' AND nom IS NULL""").fetchall()[0][0]
    naf_col = COLUMNS["naf25" if "naf25" in pos else "naf"]
    if old:
        problems.append(Problem(name, None, naf_col, f"{old} établissement(s) actif(s) sans code {LABELS[nomenclature]} reconnu (ancienne "
                                "nomenclature ou code vide) : comptés dans le total, pas dans le détail par activité", grave=False))
    bands = ", ".join(f"'{b}'" for b in EMPLOYER_BANDS_EXCLUDED)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_facts AS
        WITH a AS (SELECT s.*, nom IS NOT NULL AS naf_ok,
                          tranche NOT IN ({bands}) AS employeur
                   FROM stg_sirene s WHERE commune IS NOT NULL AND etat = 'A')
        SELECT NULL::BIGINT AS ligne, commune AS territoire_code, 'commune' AS niveau, {year} AS annee, 'etablissements' AS mesure,
               naf AS naf_code, 'sous_classe' AS naf_niveau, CAST(sum(n) AS DOUBLE) AS valeur, 'ok' AS statut
        FROM a WHERE naf_ok GROUP BY ALL
        UNION ALL
        SELECT NULL, commune, 'commune', {year}, 'etablissements', '_T', 'total', sum(n), 'ok' FROM a GROUP BY ALL
        UNION ALL
        SELECT NULL, commune, 'commune', {year}, 'etablissements_avec_salaries', naf, 'sous_classe', sum(n), 'ok'
        FROM a WHERE naf_ok AND employeur GROUP BY ALL
        UNION ALL
        SELECT NULL, commune, 'commune', {year}, 'etablissements_avec_salaries', '_T', 'total', sum(n), 'ok'
        FROM a WHERE employeur GROUP BY ALL
    """)
    problems += _flows(con, name, year)
    kept = con.execute("SELECT coalesce(sum(n), 0) FROM stg_sirene WHERE commune IS NOT NULL AND etat = 'A'").fetchall()[0][0]
    # Each branch above groups by its keys: one fact per key.
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, millesime, int(total), facts_table="stg_facts", problems=problems,
                  lignes_gardees=int(kept), unique_keys=True, nomenclature=nomenclature)


def _year(c: str) -> str:
    """The year of an ISO date (text of a CSV, DATE or TIMESTAMP of a parquet cast to text); NULL otherwise."""
    return (f"CASE WHEN regexp_matches({c}, '^(19|20)[0-9][0-9]-[01][0-9]-[0-3][0-9]') "
            f"THEN CAST(substr({c}, 1, 4) AS INTEGER) END")


def _flows(con: duckdb.DuckDBPyConnection, name: str, year: int) -> list[Problem]:
    """Creations, closures and the stock on 1 January by year, appended to stg_facts (see the module's text).
    Nothing when the file has no creation date at all."""
    lo, hi = year - FLOW_YEARS, year - 1
    closed, dated, created = con.execute(f"""
        SELECT coalesce(sum(n) FILTER (WHERE etat = 'F'), 0), coalesce(sum(n) FILTER (WHERE etat = 'F' AND ferme IS NOT NULL), 0),
               coalesce(sum(n) FILTER (WHERE cree IS NOT NULL), 0)
        FROM stg_sirene WHERE commune IS NOT NULL""").fetchall()[0]
    if not created:
        return []
    problems = []
    closures = dated > 0
    if not closures:
        problems.append(Problem(name, None, "etatAdministratifEtablissement", "fermetures d'établissements non disponibles : "
                                "le fichier ne contient pas d'établissement fermé daté (extrait des seuls établissements "
                                "actifs, ou colonne dateDebut absente) ; seules les créations sont comptées", grave=False))
    elif closed > dated:
        problems.append(Problem(name, None, "dateDebut", f"{closed - dated} établissement(s) fermé(s) sans date de fin "
                                "lisible : ni fermeture ni stock au 1er janvier", grave=False))
    bands = ", ".join(f"'{b}'" for b in EMPLOYER_BANDS_EXCLUDED)
    events = [("creations_etablissements", "cree", "true"),
              ("creations_etablissements_avec_salaries", "cree", f"tranche NOT IN ({bands})")]
    if closures:
        events += [("fermetures_etablissements", "ferme", "true"),
                   ("fermetures_etablissements_avec_salaries", "ferme", f"tranche NOT IN ({bands})")]
    parts = [f"SELECT commune, {y} AS annee, '{m}' AS mesure, naf, nom IS NOT NULL AS naf_ok, n FROM stg_sirene "
             f"WHERE commune IS NOT NULL AND {y} BETWEEN {lo} AND {hi} AND {w}" for m, y, w in events]
    if closures:  # active on 1 January: created before it (or undated, hence old), not closed before it
        parts.append(f"""SELECT commune, y.annee, 'etablissements_1er_janvier', naf, nom IS NOT NULL, n
                         FROM stg_sirene CROSS JOIN range({lo}, {hi + 1}) y(annee)
                         WHERE commune IS NOT NULL AND coalesce(cree, 0) < y.annee
                           AND (etat = 'A' OR (etat = 'F' AND ferme >= y.annee))""")
    measures = [m for m, _, _ in events] + (["etablissements_1er_janvier"] if closures else [])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_flux AS
        SELECT commune, annee, mesure, naf, naf_ok, sum(n) AS n FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL""")
    # Totals on the grid of the file's communes x years x measures: a year without any event is a true zero.
    con.execute(f"""
        INSERT INTO stg_facts
        SELECT NULL, commune, 'commune', annee, mesure, naf, 'sous_classe', CAST(sum(n) AS DOUBLE), 'ok'
        FROM stg_flux WHERE naf_ok GROUP BY ALL
        UNION ALL
        SELECT NULL, g.commune, 'commune', g.annee, g.mesure, '_T', 'total', CAST(coalesce(sum(f.n), 0) AS DOUBLE), 'ok'
        FROM (SELECT c.commune, y.annee, m.mesure FROM (SELECT DISTINCT commune FROM stg_sirene WHERE commune IS NOT NULL) c
              CROSS JOIN range({lo}, {hi + 1}) y(annee) CROSS JOIN (SELECT unnest(?) AS mesure) m) g
        LEFT JOIN stg_flux f USING (commune, annee, mesure)
        GROUP BY ALL
    """, [measures])
    con.execute("DROP TABLE stg_flux")
    return problems


def _mixed(con, path: Path, src: str, params: list, col: dict, used: list) -> Problem:
    """The refusal of a stock mixing both nomenclatures, naming the first lines of each (a second pass
    over the file, numbering its rows: only when the file is refused)."""
    lines = {}
    for nom, _ in used:
        expr = _row_nomenclature(col["nomenclature"])
        sql = f"""
            SELECT ligne, naf FROM (
                SELECT row_number() OVER () + 1 AS ligne, {col['commune']} AS commune, {col['etat']} AS etat, {col['naf']} AS naf,
                       {expr} AS nom
                FROM {src})
            WHERE etat = 'A' AND nom IN (?, 'ANY') AND EXISTS (SELECT 1 FROM ref_naf r WHERE r.sous_classe = naf AND r.nomenclature = ?)
              AND commune IN (SELECT code FROM ref_communes UNION SELECT ancien_code FROM ref_communes_changements)
            ORDER BY ligne LIMIT 5"""
        for encoding in ("utf-8", "latin-1"):
            try:
                lines[nom] = con.execute(sql, params + ([encoding] if src.startswith("read_csv") else []) + [nom, nom]).fetchall()
                break
            except duckdb.Error:
                lines[nom] = []
    parts = [f"{n} établissement(s) actif(s) en {LABELS[nom]} (lignes {', '.join(str(r[0]) for r in lines[nom])}"
             f"{'…' if n > len(lines[nom]) else ''}, ex. « {lines[nom][0][1] if lines[nom] else ''} »)" for nom, n in used]
    first = min((r[0] for rs in lines.values() for r in rs[:1]), default=None)
    minority = used[1][0]
    return Problem(path.name, lines[minority][0][0] if lines[minority] else first, col_name(col),
                   "le stock mélange les deux nomenclatures d'activité : " + " et ".join(parts)
                   + ". Un fichier doit être codé entièrement en NAF rév. 2 ou entièrement en NAF 2025 (colonne "
                   "activitePrincipaleNAF25Etablissement pour la NAF 2025)")


def col_name(col: dict) -> str:
    return COLUMNS["naf25"] if col["nomenclature"] == f"'{NAF2025}'" else COLUMNS["naf"]
