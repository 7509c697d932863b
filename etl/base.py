"""The bottom of `etl/`: where the reference files are, and the vocabularies every other module shares.

Imports nothing of `etl/`, so that any module (reference tables, nomenclatures, perimeter, contours, sources,
plan store) can read it without an import circle.
"""
from __future__ import annotations

import os
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"
# Another reference directory in the same layout (benchmarks use a national one), read at call time.
REFERENCE_DIR_ENV = "TI_REFERENCE_DIR"


def reference_dir() -> Path:
    """The reference directory in use: `$TI_REFERENCE_DIR` when set, else data/reference."""
    env = os.environ.get(REFERENCE_DIR_ENV)
    return Path(env) if env else REFERENCE_DIR


_CSV = "read_csv('{path}', header=true, all_varchar=true, delim=',', quote='\"')"


def csv_sql(name: str, ref: Path | None = None) -> str:
    """DuckDB's reader of a reference CSV file (every column as text), for a FROM clause."""
    return _CSV.format(path=((ref or reference_dir()) / name).as_posix().replace("'", "''"))


# INSEE's five "grands secteurs" of the base comparateur (ETAZ, ETBE, ETFZ, ETGU, ETOQ), from A10.
A5_FROM_A10 = {"AZ": "AZ", "BE": "BE", "FZ": "FZ", "OQ": "OQ",
               "GI": "GU", "JZ": "GU", "KZ": "GU", "LZ": "GU", "MN": "GU", "RU": "GU"}
A5_LABELS = {
    "AZ": "Agriculture, sylviculture et pêche",
    "BE": "Industrie",
    "FZ": "Construction",
    "GU": "Commerce, transports et services divers",
    "OQ": "Administration publique, enseignement, santé, action sociale",
}
# The candidature's order of the five strategic filières.
FILIERES_ORDER = ["agroalimentaire", "ppam", "aeronautique", "energies_renouvelables", "btp"]
# The statuts of a fiche action, in the order of its life (plan workbook, plan store, read side).
PLAN_STATUTS = ["à lancer", "en cours", "réalisé", "abandonné"]
