"""The territory the warehouse serves, as data: a Territoire d'industrie (TI) and its references.

A TI is a set of EPCI (for a few TI also EPT of the Grand Paris or single communes), from the ANCT list of
the 183 TI 2023-2027 (data/reference/territoires_industrie*.csv). Its references are the départements that
hold at least `REFERENCE_MIN_SHARE` of its population (always the main one), their régions and France; its
neighbours are the EPCI of a reference département that are not members. This module and the reference
data are the only places where a territory code or name is written.

`resolve("ti-9304")` or `resolve(Path("perimetre.csv"))` (a custom list of EPCI SIREN) gives the perimeter;
etl/reference.py stores it in the warehouse (ref_territoires.role, ref_appartenance, meta), where the read
side finds it (indicators/perimeter.py).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .base import reference_dir
from .validate import LoadError, Problem

# The product's default territory: Territoire d'industrie Hautes-Alpes.
DEFAULT_TI = "ti-9304"
FRANCE_CODE, FRANCE_NOM = "FR", "France"
# A département is a reference of the TI when it holds at least this share of the TI's population
# (the département holding most of it always is): 5 small communes of a TI in a neighbouring
# département do not make that département the TI's comparison.
REFERENCE_MIN_SHARE = 0.10
# Named example shipped with the product: the candidature's 9-EPCI perimeter.
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "perimetres"


@dataclass(frozen=True)
class Perimeter:
    ti_code: str
    ti_nom: str
    member_epci: tuple[str, ...]            # SIREN of member EPCI (and EPT), in reference order
    member_communes: frozenset[str]         # INSEE codes of every commune of the TI
    departements: tuple[str, ...]           # reference départements, main one first
    regions: tuple[str, ...]                # their régions, main one first
    neighbour_epci: tuple[str, ...]         # EPCI of a reference département outside the TI
    communes: frozenset[str]                # every commune the warehouse holds
    member_single_communes: tuple[str, ...] = ()   # communes members in their own right (not through an EPCI)
    other_departements: tuple[str, ...] = field(default=())  # départements touched by the TI, not references
    ept_communes: dict = field(default_factory=dict)         # EPT member -> its communes (not in epci.csv)
    # The other TI of the reference régions (comparison territories): id -> (name, their communes).
    other_tis: dict = field(default_factory=dict)
    # Members, reference départements and neighbours (what demo data covers): `communes` less the other TI's.
    core_communes: frozenset = frozenset()

    national: bool = False                                   # the warehouse holds every commune of France

    def to_json(self) -> str:
        return json.dumps({"ti_code": self.ti_code, "ti_nom": self.ti_nom, "member_epci": list(self.member_epci),
                           "member_single_communes": list(self.member_single_communes), "national": self.national},
                          ensure_ascii=False)


def _read(ref: Path, name: str) -> list[dict]:
    with open(ref / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=4)
def _tables(ref: Path):
    communes = {r["code_insee"]: r for r in _read(ref, "communes.csv")}
    epci = {r["epci_siren"]: r for r in _read(ref, "epci.csv")}
    tis = {r["id_ti"]: r for r in _read(ref, "territoires_industrie.csv")}
    members: dict[str, list[dict]] = {}
    for r in _read(ref, "territoires_industrie_membres.csv"):
        members.setdefault(r["id_ti"], []).append(r)
    ti_communes: dict[str, list[tuple[str, str, str]]] = {}   # id -> (commune, type_membre, code_membre)
    for r in _read(ref, "territoires_industrie_communes.csv"):
        ti_communes.setdefault(r["id_ti"], []).append((r["code_insee"], r["type_membre"], r["code_membre"]))
    return communes, epci, tis, members, ti_communes


def list_tis() -> list[tuple[str, str, int]]:
    """(id, name, number of members) of every TI of the reference, in id order."""
    _, _, tis, _, _ = _tables(reference_dir())
    return [(k, v["nom"], int(v["nb_membres"])) for k, v in sorted(tis.items())]


def resolve(spec: str | Path | None = None, national: bool = False) -> Perimeter:
    """The perimeter of a TI id (`ti-9304`), of a CSV file of EPCI SIREN, or of a stored JSON spec.

    `national`: the warehouse holds every commune of France (national analyses, benchmarks), the TI and
    its references staying what pages show by default."""
    p = _resolve(DEFAULT_TI if spec is None else spec)
    if national or '"national": true' in str(spec):
        communes = _tables(reference_dir())[0]
        p = replace(p, communes=frozenset(communes), national=True)
    return p


def _resolve(spec: str | Path) -> Perimeter:
    ref = reference_dir()
    tables = _tables(ref)
    communes, epci, tis, members, ti_communes = tables
    text = str(spec)
    if text.startswith("{"):
        stored = json.loads(text)
        return _build(stored["ti_code"], stored["ti_nom"], stored["member_epci"],
                      stored.get("member_single_communes", []), tables, ti_communes.get(stored["ti_code"], []))
    if text.lower().startswith("ti-") and not text.lower().endswith(".csv"):
        code = text.lower()
        if code not in tis:
            raise LoadError([Problem(text, None, None,
                                     f"Territoire d'industrie inconnu « {text} » : les identifiants de la liste ANCT "
                                     f"vont de {min(tis)} à {max(tis)} (python -m etl territoires les liste)")])
        epcis = [r["code"] for r in members[code] if r["type_membre"] in ("epci", "ept")]
        singles = [c for c, kind, _ in ti_communes.get(code, []) if kind == "commune" and c in communes]
        return _build(code, tis[code]["nom"], epcis, singles, tables, ti_communes.get(code, []))
    return _from_file(Path(spec), tables)


def _from_file(path: Path, tables) -> Perimeter:
    """A custom perimeter: a CSV whose column `siren` (or the first column) lists EPCI SIREN; optional
    columns `code` and `nom` on the first line name the territory (else the file's name)."""
    epci = tables[1]
    if not path.is_file():
        raise LoadError([Problem(path.name, None, None, "fichier de périmètre introuvable")])
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    rows = list(csv.reader(text.splitlines(), delimiter=";" if ";" in first else ","))
    if not rows:
        raise LoadError([Problem(path.name, None, None, "fichier de périmètre vide")])
    header = [h.strip().lower() for h in rows[0]]
    col = header.index("siren") if "siren" in header else 0
    start = 1 if not header[col].isdigit() else 0
    code = nom = None
    if start and "code" in header and len(rows) > 1:
        code = rows[1][header.index("code")].strip() or None
    if start and "nom" in header and len(rows) > 1:
        nom = rows[1][header.index("nom")].strip() or None
    sirens, problems, seen = [], [], {}
    for i, row in enumerate(rows[start:], start=start + 1):
        if not row or not row[col].strip():
            continue
        s = row[col].strip().replace(" ", "")
        if s not in epci:
            problems.append(Problem(path.name, i, header[col] if start else "1",
                                    f"« {s} » n'est pas le SIREN d'un EPCI à fiscalité propre de 2026"))
        elif s in seen:
            problems.append(Problem(path.name, i, header[col] if start else "1",
                                    f"EPCI {s} en double (déjà ligne {seen[s]})"))
        else:
            seen[s] = i
            sirens.append(s)
    if problems:
        raise LoadError(problems)
    if not sirens:
        raise LoadError([Problem(path.name, None, None, "aucun SIREN d'EPCI dans le fichier de périmètre")])
    return _build(code or f"perimetre-{path.stem}", nom or path.stem, sirens, [], tables, [])


def _build(code, nom, epcis, singles, tables, ti_commune_list) -> Perimeter:
    communes, epci, tis, _, all_ti_communes = tables
    by_epci: dict[str, list[str]] = {}
    for c, r in communes.items():
        by_epci.setdefault(r["epci_siren"], []).append(c)
    members = set(singles)
    for s in epcis:
        members.update(by_epci.get(s, []))
    # EPT (Grand Paris) are not EPCI à fiscalité propre: their communes come from the TI's commune list.
    ept = {s: [c for c, kind, m in ti_commune_list if kind == "ept" and m == s and c in communes] for s in epcis if s not in epci}
    for s, cs in ept.items():
        members.update(cs)
    pop: dict[str, int] = {}
    for c in members:
        d = communes[c]["departement"]
        pop[d] = pop.get(d, 0) + int(communes[c]["population"] or 0)
    total = sum(pop.values()) or 1
    ranked = sorted(pop, key=lambda d: (-pop[d], d))
    deps = tuple(d for i, d in enumerate(ranked) if i == 0 or pop[d] / total >= REFERENCE_MIN_SHARE)
    region_of = {communes[c]["departement"]: communes[c]["region"] for c in communes}
    regions = tuple(dict.fromkeys(region_of[d] for d in deps))
    in_deps = {c for c, r in communes.items() if r["departement"] in deps}
    epci_order = sorted(epcis, key=lambda s: epci[s]["nom_court"] if s in epci else s)
    unknown = [s for s in epcis if s not in epci and not ept.get(s)]
    if unknown:
        raise LoadError([Problem(nom, None, None, f"membre sans communes connues : {', '.join(unknown)}")])
    neighbours = sorted({communes[c]["epci_siren"] for c in in_deps
                         if communes[c]["epci_siren"] and communes[c]["epci_siren"] in epci} - set(epcis),
                        key=lambda s: epci[s]["nom_court"])
    held = members | in_deps
    for s in neighbours:
        held.update(by_epci.get(s, []))
    core = frozenset(held)
    others = {}
    for ti, rows in all_ti_communes.items():
        cs = [c for c, _, _ in rows if c in communes]
        if ti == code or not cs or ti not in tis:
            continue
        main_region = max(regions_count(cs, communes).items(), key=lambda kv: (kv[1], kv[0]))[0]
        if main_region in regions:
            others[ti] = (tis[ti]["nom"], tuple(sorted(cs)))
            held.update(cs)
    return Perimeter(code, nom, tuple(epci_order), frozenset(members), deps, regions, tuple(neighbours),
                     frozenset(held), tuple(sorted(singles)), tuple(d for d in ranked if d not in deps),
                     {s: tuple(sorted(cs)) for s, cs in ept.items()}, others, core)


def regions_count(cs, communes) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in cs:
        r = communes[c]["region"]
        out[r] = out.get(r, 0) + 1
    return out
