"""Helpers every source module shares: the staged result, reading a CSV as text, header matching."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..readers import MAX_LINE_BYTES, TextFile, check_line_lengths, is_zip, open_text  # noqa: F401  (re-exported for the source modules)
from ..validate import LoadError, Problem, refuse

# Staged facts: (ligne, territoire_code, niveau, annee, mesure, naf_code, naf_niveau, valeur, statut), other columns ignored
# Staged firms: (ligne, siret, siren, raison_sociale, naf_code, commune, tranche_effectif, annee, ca_eur)


@dataclass
class Staged:
    kind: str
    libelle: str
    producteur: str
    licence: str
    millesime: str | None
    lignes_lues: int
    facts_table: str | None = None
    firms_table: str | None = None
    problems: list[Problem] = field(default_factory=list)
    # Rows of the file kept, when the staged table does not hold one row per file line (Sirene).
    lignes_gardees: int | None = None
    # The loader guarantees one staged fact per (territoire_code, niveau, annee, mesure, naf_code, naf_niveau):
    # the load then copies the facts as they are instead of summing them per key.
    unique_keys: bool = False
    # Header of the column holding the file's key (commune, SIRET…), named by the repeated-key refusal.
    key_column: str | None = None
    # Lines of the file that must be unique before any regrouping: (table, level SQL, code SQL) over its lines.
    key_lines: tuple[str, str, str] | None = None
    # Nomenclature of the file's activity codes (nomenclature.NAF2008 / NAF2025); None: no activity code.
    nomenclature: str | None = None

    @property
    def hard(self) -> list[Problem]:
        return [p for p in self.problems if p.grave]


def year_from_name(path: Path) -> str | None:
    m = re.findall(r"(?<!\d)(20\d\d)(?!\d)", Path(path).name)
    return m[-1] if m else None


def read_text_table(con: duckdb.DuckDBPyConnection, tf: TextFile, table: str) -> int:
    """Load a delimited file as text columns c0..cN plus `ligne` (file line number). Returns rows.

    Line lengths are checked first (readers.check_line_lengths): DuckDB would drop an overlong last line."""
    check_line_lengths(tf.path, tf.source.name)
    columns = {f"c{i}": "VARCHAR" for i in range(len(tf.header))}
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
                SELECT row_number() OVER () + 1 AS ligne, *
                FROM read_csv(?, delim=?, header=false, skip=1, quote='"', escape='"',
                              auto_detect=false, columns=?, max_line_size=?)""",
            [tf.path.as_posix(), tf.delimiter, columns, MAX_LINE_BYTES],
        )
    except duckdb.Error as exc:
        msg = str(exc)
        # Valid UTF-8 in its first megabyte only (readers.open_text): transcoded, then read again.
        if "invalid unicode" in msg.lower() and tf.encoding == "utf-8" and tf.transcode():
            return read_text_table(con, tf, table)
        m = re.search(r"[Ll]ine:? (\d+)", msg)
        ligne = int(m.group(1)) if m else None
        if "Expected Number of Columns" in msg or "columns" in msg.lower():
            why = f"nombre de colonnes différent de l'en-tête ({len(tf.header)} colonnes attendues)"
        elif "maximum line size" in msg.lower():
            why = f"ligne trop longue (plus de {MAX_LINE_BYTES // 1024} Ko)"
        else:
            why = "fichier CSV mal formé (guillemets ou séparateurs incohérents)"
        raise LoadError([Problem(tf.source.name, ligne, None, why)]) from None
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def find_column(header: list[str], *candidates: str, required: str | None = None, path: Path | None = None) -> int | None:
    """Index of the first header matching one of the candidates (case, accents and spaces ignored)."""
    norm = [_norm(h) for h in header]
    for cand in candidates:
        c = _norm(cand)
        if c in norm:
            return norm.index(c)
    if required:
        refuse(path or "fichier", f"colonne obligatoire absente : {required}", 1)
    return None


_ACCENTS = str.maketrans("àâäéèêëîïôöùûüçÀÂÄÉÈÊËÎÏÔÖÙÛÜÇ’'", "aaaeeeeiioouuucAAAEEEEIIOOUUUC  ")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(text).translate(_ACCENTS).lower())



def _cell_text(v) -> str | None:
    """An xlsx cell as the text a CSV would hold (integers without '.0', dates as ISO)."""
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10] if getattr(v, "hour", 0) == 0 and getattr(v, "minute", 0) == 0 else v.isoformat()
    return str(v)


def read_xlsx_table(con: duckdb.DuckDBPyConnection, path: Path, is_header, what: str,
                    table: str = "stg_raw", max_scan: int = 30) -> tuple[list[str], int]:
    """Load the first sheet of a workbook as text columns c0..cN plus `ligne` (the Excel row number).

    The header is the first row (within `max_scan`) for which `is_header(cells)` is true: INSEE
    workbooks put 4 title rows and a row of labels above the row of variable codes.
    """
    import pandas as pd

    from ..readers import read_xlsx_rows

    rows = iter(read_xlsx_rows(path))
    header = None
    for i, row in rows:
        cells = ["" if c is None else str(c).strip() for c in row]
        if is_header(cells):
            header = cells
            while header and header[-1] == "":
                header.pop()
            break
        if i >= max_scan:
            break
    if header is None:
        refuse(path, f"aucune ligne d'en-tête ({what}) dans les {max_scan} premières lignes du classeur")
    width = len(header)
    data = {f"c{j}": [] for j in range(width)}
    lines = []
    for i, row in rows:
        if row is None or all(c is None or str(c).strip() == "" for c in row):
            continue
        lines.append(i)
        for j in range(width):
            data[f"c{j}"].append(_cell_text(row[j]) if j < len(row) else None)
    df = pd.DataFrame({"ligne": lines, **data}, dtype=object)
    con.register("stg_xlsx", df)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT CAST(ligne AS BIGINT) AS ligne, "
                    + ", ".join(f"CAST(c{j} AS VARCHAR) AS c{j}" for j in range(width)) + " FROM stg_xlsx")
    finally:
        con.unregister("stg_xlsx")
    return header, len(lines)


def read_table(con: duckdb.DuckDBPyConnection, path: Path, is_header=None, what: str = "") -> tuple[list[str], int]:
    """stg_raw from a delimited file, or from a workbook when `is_header` (a header-row test) is given."""
    if is_header is not None and is_zip(path):
        return read_xlsx_table(con, path, is_header, what)
    tf = open_text(path)
    try:
        return tf.header, read_text_table(con, tf, "stg_raw")
    finally:
        tf.close()
