"""Lineage of a loaded file: its report (`FileReport`), its row in `sources` and its soft problems in `problemes`.

Every loader writes its lineage here: `etl/load.py` for the files that go to facts/firmes, and the sources
with tables of their own (`etl/sources/foncier.py`, `etl/sources/plan_actions.py`) from their `apply`.
Imports nothing of `etl/` but the validation vocabulary, so that loaders and `etl.load` both read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from .validate import Problem


@dataclass
class FileReport:
    fichier: str
    kind: str | None = None
    statut: str = "refusé"          # chargé, déjà chargé, vérifié, refusé
    lignes_lues: int = 0
    lignes_gardees: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Measures whose mart rows the load changed (the mart update recomputes only those).
    mesures: frozenset[str] = field(default_factory=frozenset, repr=False)
    # An action-plan workbook: what it brings to the plan store, and (check) the changes it would make.
    # What the file replaced of the demo data (« données de démonstration URSSAF remplacées pour 2015-2022 »).
    remplacements: list[str] = field(default_factory=list)
    plan: object = field(default=None, repr=False)
    changes: list = field(default_factory=list, repr=False)


def next_source_id(con) -> int:
    return con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchall()[0][0]


# Département of a commune code (overseas: 3 characters).
_DEPARTEMENT = "CASE WHEN {c} LIKE '97%' THEN left({c}, 3) ELSE left({c}, 2) END"


def departements_label(con, codes_sql: str) -> str:
    """« 04, 05 » for the communes `codes_sql` selects (« … (N départements) » beyond 20)."""
    deps = [r[0] for r in con.execute(
        f"SELECT DISTINCT {_DEPARTEMENT.format(c='c')} FROM ({codes_sql}) t(c) ORDER BY 1").fetchall()]
    return ", ".join(deps[:20]) + (f" … ({len(deps)} départements)" if len(deps) > 20 else "")


def record(con: duckdb.DuckDBPyConnection, sid: int, kind: str, libelle: str, fichier: str, sha: str, millesime,
           annees, producteur, licence, couverture, demo: bool, lignes_lues: int, lignes_gardees: int,
           problems: list[Problem]) -> None:
    """The file's row in `sources` and its problems in `problemes`."""
    con.execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        sid, kind, libelle, fichier, sha, millesime, annees, producteur, licence, couverture, demo,
        lignes_lues, lignes_gardees, lignes_lues - lignes_gardees, datetime.now()])
    for p in problems:
        con.execute("INSERT INTO problemes VALUES (?, ?, ?, ?, ?, ?)", [sid, p.fichier, p.ligne, p.colonne, p.message, p.grave])
