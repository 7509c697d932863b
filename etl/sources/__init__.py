"""One module per source kind: `detect(header) -> bool` and `stage(con, path) -> Staged`.

`stage` reads the file into a temporary DuckDB table in the tidy shape the warehouse
wants, with the line number of each row, and lists the problems it found. It never
writes to the warehouse tables: `etl.load` does, once every check has passed.
"""
from __future__ import annotations

from pathlib import Path

from ..readers import sniff_kind_headers
from ..validate import refuse
from . import base_comparateur, chambre, flores, foncier, plan_actions, populations, reference_files, sirene, urssaf
from .common import Staged

KINDS = {m.KIND: m for m in (base_comparateur, urssaf, flores, sirene, populations, chambre, plan_actions, foncier)}
LABELS = ("base comparateur INSEE, URSSAF commune x APE, INSEE Flores, stock Sirene des établissements, "
          "populations légales INSEE, export CCI/CMA, plan d'actions, inventaire CNIG des sites économiques")


def detect(path: Path, kind: str | None = None):
    """The source module for a file, from its header (or the --kind given)."""
    path = Path(path)
    if kind:
        if kind not in KINDS:
            refuse(path, f"type de source inconnu « {kind} » (types connus : {', '.join(sorted(KINDS))})")
        return KINDS[kind]
    if not path.is_file():
        refuse(path, "fichier introuvable")
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] == b"PAR1":
        return sirene
    if head[:4] == b"PK\x03\x04" and foncier.is_package(path):  # a zipped CNIG data package
        return foncier
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        refuse(path, reference_files.explain_json(head))
    headers = sniff_kind_headers(path)
    for header in headers:
        for module in KINDS.values():
            if module.detect(header):
                return module
    for header in headers:
        why = reference_files.explain(header)
        if why:
            refuse(path, why, 1)
    header = headers[0] if headers else []
    shown = ", ".join(h[:30] for h in header[:6])
    refuse(path, "format de fichier non reconnu : l'en-tête ne correspond à aucune source connue "
                 f"({LABELS}). Début de l'en-tête : {shown}", 1)


__all__ = ["Staged", "KINDS", "detect"]
