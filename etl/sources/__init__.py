"""One module per source kind: `detect(header) -> bool` and `stage(con, path) -> Staged`.

`stage` reads the file into a temporary DuckDB table in the tidy shape the warehouse
wants, with the line number of each row, and lists the problems it found. It never
writes to the warehouse tables: `etl.load` does, once every check has passed.
"""
from __future__ import annotations

from pathlib import Path

from ..readers import sniff_kind_header
from ..validate import refuse
from . import base_comparateur, chambre, plan_actions, urssaf
from .common import Staged

KINDS = {m.KIND: m for m in (base_comparateur, urssaf, chambre, plan_actions)}


def detect(path: Path, kind: str | None = None):
    """The source module for a file, from its header (or the --kind given)."""
    if kind:
        if kind not in KINDS:
            refuse(path, f"type de source inconnu « {kind} » (types connus : {', '.join(sorted(KINDS))})")
        return KINDS[kind]
    header = sniff_kind_header(Path(path))
    for module in KINDS.values():
        if module.detect(header):
            return module
    shown = ", ".join(h[:30] for h in header[:6])
    refuse(path, "format de fichier non reconnu : l'en-tête ne correspond à aucune source connue "
                 f"(base comparateur INSEE, URSSAF commune x APE, export CCI/CMA). Début de l'en-tête : {shown}", 1)


__all__ = ["Staged", "KINDS", "detect"]
