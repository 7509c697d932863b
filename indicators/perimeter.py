"""The territory the warehouse was built for, as the read side sees it (stored by etl/reference.py).

Every page, slide, sentence, map and export names the territory and its references through this module:
no territory code or name is written anywhere else in the read side.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .db import Snapshot

ROLES = ("membre", "reference", "voisin")


class OutdatedWarehouse(RuntimeError):
    """A warehouse built before the perimeter was stored."""


@dataclass(frozen=True)
class Territory:
    niveau: str
    code: str
    nom: str
    nom_court: str
    role: str | None


@dataclass(frozen=True)
class Perimeter:
    ti: Territory | None
    members: tuple[Territory, ...]          # member EPCI (and EPT), in reference order
    member_communes: tuple[Territory, ...]  # the TI's communes
    references: tuple[Territory, ...]       # départements, régions, France (main ones first)
    neighbours: tuple[Territory, ...]       # EPCI of a reference département outside the TI
    other_tis: tuple[Territory, ...]        # other TI of the reference régions
    outside: pd.DataFrame                   # per member EPCI: communes and inhabitants outside the reference départements

    @property
    def name(self) -> str:
        return f"Territoire d'industrie {self.ti.nom}" if self.ti else "Territoire"

    @property
    def label(self) -> str:
        n = len(self.members)
        return f"{self.name} ({n} EPCI)" if n else self.name

    @property
    def departement(self) -> Territory | None:
        return next((t for t in self.references if t.niveau == "departement"), None)

    def reference(self, niveau: str) -> Territory | None:
        """The main reference at 'departement', 'region' or 'france'."""
        return next((t for t in self.references if t.niveau == niveau), None)

    def reference_code(self, niveau: str) -> str | None:
        t = self.reference(niveau)
        return t.code if t else None

    def references_of(self, niveau: str) -> list[Territory]:
        return [t for t in self.references if t.niveau == niveau]

    def find(self, niveau: str, code: str) -> Territory | None:
        for t in (self.ti, *self.members, *self.references, *self.neighbours, *self.other_tis, *self.member_communes):
            if t is not None and t.niveau == niveau and t.code == code:
                return t
        return None

    def rows(self) -> pd.DataFrame:
        """niveau, code, nom, role: what `python -m indicators perimetre` prints."""
        out = [t for t in (self.ti, *self.members, *self.member_communes, *self.references, *self.neighbours,
                           *self.other_tis) if t is not None]
        return pd.DataFrame([(t.niveau, t.code, t.nom, t.role) for t in out], columns=["niveau", "code", "nom", "role"])


_CACHE: dict[str, Perimeter] = {}


def load(snap: Snapshot) -> Perimeter:
    """The perimeter stored in the warehouse, read once per data version."""
    per = _CACHE.get(snap.version)
    if per is None:
        per = _read(snap)
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[snap.version] = per
    return per


def _read(snap: Snapshot) -> Perimeter:
    cols = {r[0] for r in snap.rows("SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                                    "AND table_name = 'ref_territoires'")}
    if "role" not in cols:
        raise OutdatedWarehouse("entrepôt construit par une version antérieure, sans son périmètre : relancez "
                                "« python -m etl build » (ou chargez un fichier : « python -m etl load » le met à jour)")
    df = snap.df("SELECT niveau, code, nom, nom_court, role FROM ref_territoires WHERE role IS NOT NULL ORDER BY ordre, code")
    terr = [Territory(r.niveau, r.code, r.nom, r.nom_court, r.role) for r in df.itertuples()]
    ti = next((t for t in terr if t.niveau == "ti" and t.role == "membre"), None)
    outside = snap.df("""
        SELECT a.code AS epci, count(*) FILTER (WHERE c.hors_departement) AS communes_hors,
               coalesce(sum(c.population) FILTER (WHERE c.hors_departement), 0) AS habitants_hors,
               count(*) AS communes, sum(c.population) AS habitants
        FROM ref_appartenance a JOIN ref_communes c ON c.code = a.commune
        WHERE a.niveau = 'epci' GROUP BY ALL ORDER BY ALL""")
    return Perimeter(
        ti=ti,
        members=tuple(t for t in terr if t.niveau == "epci" and t.role == "membre"),
        member_communes=tuple(t for t in terr if t.niveau == "commune" and t.role == "membre"),
        references=tuple(sorted((t for t in terr if t.role == "reference"),
                                key=lambda t: ("departement", "region", "france").index(t.niveau))),
        neighbours=tuple(t for t in terr if t.niveau == "epci" and t.role == "voisin"),
        other_tis=tuple(t for t in terr if t.niveau == "ti" and t.role == "voisin"),
        outside=outside,
    )
