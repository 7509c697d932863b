"""Helpers every source module shares: the staged result, reading a CSV as text, header matching."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..readers import MAX_LINE_BYTES, TextFile, open_text  # noqa: F401  (re-exported for the source modules)
from ..validate import LoadError, Problem, refuse

# Staged facts: (ligne, territoire_code, niveau, annee, mesure, naf_code, naf_niveau, valeur, statut)
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

    @property
    def hard(self) -> list[Problem]:
        return [p for p in self.problems if p.grave]


def year_from_name(path: Path) -> str | None:
    m = re.findall(r"(?<!\d)(20\d\d)(?!\d)", Path(path).name)
    return m[-1] if m else None


def read_text_table(con: duckdb.DuckDBPyConnection, tf: TextFile, table: str) -> int:
    """Load a delimited file as text columns c0..cN plus `ligne` (file line number). Returns rows."""
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

