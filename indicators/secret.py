"""Statistical secret on firm-level aggregates, applied before anything leaves the warehouse.

Primary rule (INSEE's rule for business statistics): an aggregate of firm values is
secret when fewer than `min_firms` firms contribute, or when one firm contributes
`dominance` or more of it. Thresholds are configuration (environment variables
TI_SECRET_MIN_FIRMS and TI_SECRET_DOMINANCE), defaulting to 3 and 0.85.

Secondary rule: a table published with its margins (parts -> total) must not let anyone
recompute a secret cell from the published cells. `suppress()` takes the cells of such a
table set and its additive relations, audits which hidden cells are determined by the
published ones (linear algebra: a hidden cell is recomputable when every solution of the
relations gives it the same value), and masks complementary cells, smallest first, until
no primary secret cell is recomputable, neither by the public nor by a firm that is alone
in another hidden cell (it knows that cell's value: its own figure). See METHODE.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rules:
    min_firms: int = 3
    dominance: float = 0.85

    @classmethod
    def from_env(cls) -> "Rules":
        return cls(int(os.environ.get("TI_SECRET_MIN_FIRMS", 3)), float(os.environ.get("TI_SECRET_DOMINANCE", 0.85)))


NOTE_FEW = "Secret statistique : moins de {n} entreprises contribuent à ce chiffre"
NOTE_DOMINANT = "Secret statistique : une entreprise représente au moins {p} % de ce chiffre"


def primary_sql(sql: str, param, rules: Rules | None = None) -> str:
    """The primary rule over a SELECT of firm-level aggregates (columns valeur, statut, note, nb_contrib,
    max_contrib): secret cells get a NULL value, statut 'secret' and the reason; same columns out.

    `param(value)` returns the placeholder of a statement parameter. Cells with no contributing firm
    (a true zero) are not secret.
    """
    rules = rules or Rules.from_env()
    lo, top = param(int(rules.min_firms)), param(float(rules.dominance))
    few = f"(nb_contrib > 0 AND nb_contrib < {lo})"
    dominant = f"(nb_contrib >= {lo} AND valeur > 0 AND max_contrib >= {top} * valeur)"
    return f"""
        SELECT * REPLACE (CASE WHEN {few} OR {dominant} THEN NULL ELSE valeur END AS valeur,
                          CASE WHEN {few} OR {dominant} THEN 'secret' ELSE statut END AS statut,
                          CASE WHEN {few} THEN {param(NOTE_FEW.format(n=rules.min_firms))}
                               WHEN {dominant} THEN {param(NOTE_DOMINANT.format(p=round(rules.dominance * 100)))}
                               ELSE note END AS note)
        FROM ({sql}) p"""


# --- secondary suppression ------------------------------------------------------------------------

NOTE_SECONDARY = ("Secret statistique (secret secondaire) : valeur masquée pour qu'aucune valeur secrète "
                  "ne puisse être recalculée par différence")
NOTE_COMMUNE = "Chiffre d'affaires non diffusé à l'échelle de la commune (secret statistique) : voir l'EPCI"

METHODE = """\
**Secret secondaire.** Masquer une cellule ne suffit pas quand le tableau publie aussi ses totaux : la valeur
cachée se retrouverait par soustraction. Pour chaque année, le tableau complet du chiffre d'affaires (les 9 EPCI et
le département, chacun par secteur et pour l'ensemble du champ ; de même les filières par EPCI et pour le
département) est protégé en une seule fois, et toutes les pages, exports et commandes en montrent des parties :
on ne peut donc pas non plus recouper deux pages. Les relations prises en compte sont : la somme des secteurs
= le total du champ de chaque territoire ; la somme des EPCI = le département pour chaque secteur, total et
filière (la part des EPCI située hors des Hautes-Alpes est supposée connue, par prudence). Les filières ne sont
pas additionnées entre elles (les filières élargies se recouvrent et leur somme n'est publiée nulle part) : leur
seule marge est le département. Un calcul d'algèbre linéaire vérifie qu'aucune valeur secrète n'est déterminée
par les valeurs publiées, y compris pour une entreprise seule dans une autre cellule masquée (elle connaît son
propre chiffre). Tant que ce n'est pas le cas, on masque en complément la plus petite cellule qui protège la
valeur secrète (la moindre perte d'information), sinon la plus petite des cellules qui la déterminent, puis on
recommence ; à la fin, toute cellule complémentaire devenue inutile est rendue. Les cellules sans aucune entreprise (zéros connus) ne servent jamais de complément. Une évolution
entre deux années est masquée dès que l'un de ses deux niveaux l'est. À l'échelle des communes, le chiffre
d'affaires n'est pas diffusé. Les dénombrements d'établissements et d'effectifs de l'INSEE et de l'URSSAF
arrivent déjà protégés par leurs producteurs : leurs marques de secret sont reprises telles quelles.
"""


def relation_matrix(n: int, relations: list[tuple[int, list[int]]]) -> np.ndarray:
    """One row per relation `total = sum(parts)`: +1 on the total, -1 on each part."""
    a = np.zeros((len(relations), n))
    for r, (total, parts) in enumerate(relations):
        a[r, total] += 1.0
        for p in parts:
            a[r, p] -= 1.0
    return a


def determined(a: np.ndarray, unknown) -> set[int]:
    """Unknown cells whose value is fixed by the relations once every other cell is known.

    The unknowns solve A_U x = b; x_i is fixed iff every vector of the null space of A_U is 0 at i.
    """
    unknown = sorted(set(unknown))
    if not unknown:
        return set()
    sub = a[:, unknown]
    sub = sub[np.abs(sub).sum(axis=1) > 0]
    if sub.shape[0] == 0:
        return set()
    _, sv, vt = np.linalg.svd(sub)
    rank = int((sv > 1e-9 * max(1.0, sv.max())).sum())
    null = vt[rank:].T  # len(unknown) x nullity
    free = np.abs(null).sum(axis=1) > 1e-9 if null.size else np.zeros(len(unknown), dtype=bool)
    return {u for u, f in zip(unknown, free) if not f}


def exposed(a: np.ndarray, hidden: set[int], primary: set[int], single: set[int]) -> set[int]:
    """Primary cells recomputable by the public, or by the firm alone in another hidden cell."""
    out = determined(a, hidden) & primary
    for u in sorted(single & hidden):
        out |= (determined(a, hidden - {u}) & primary) - {u}
    return out


def suppress(values, primary, relations: list[tuple[int, list[int]]], nb_contrib=None,
             guard_single_firms: bool = True) -> np.ndarray:
    """Complementary cells to mask (boolean array) so that no primary cell can be recomputed.

    values: cell values (NaN = not published anyway); primary: the primary secret cells;
    relations: (total, parts) index lists, `total = sum(parts)` for every published table;
    nb_contrib: contributing firms (0 = a known zero, never used as a complement; 1 = the firm
    knows that cell's value, so it is treated as known when auditing the other cells).
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    primary_mask = np.asarray(primary, dtype=bool)
    contrib = (np.asarray(nb_contrib, dtype=float) if nb_contrib is not None
               else np.where(values > 0, np.inf, 0.0))
    contrib = np.nan_to_num(contrib, nan=np.inf)
    a = relation_matrix(n, relations)
    prim = set(np.flatnonzero(primary_mask).tolist())
    hidden = prim | set(np.flatnonzero(np.isnan(values)).tolist())
    single = set(np.flatnonzero(contrib == 1).tolist()) if guard_single_firms else set()
    usable = {i for i in range(n) if not np.isnan(values[i]) and contrib[i] > 0 and values[i] > 0}
    rel_of: dict[int, list[int]] = {i: [] for i in range(n)}
    for r, (total, parts) in enumerate(relations):
        for c in [total, *parts]:
            rel_of[c].append(r)
    cells_of = [[total, *parts] for total, parts in relations]
    complements: set[int] = set()
    memo: dict = {}  # the same sets of hidden cells are audited many times

    def det(unknown: frozenset) -> set[int]:
        out = memo.get(unknown)
        if out is None:
            out = memo[unknown] = determined(a, unknown)
        return out

    # exposed(), and two questions about it answered with fewer audits (same answers): is p exposed,
    # is anything exposed. An audit that hides no primary cell cannot expose one: skipped.
    def exposed_(cells: set[int]) -> set[int]:
        cells = frozenset(cells)
        out = det(cells) & prim if cells & prim else set()
        for u in sorted(single & cells):
            if (cells & prim) - {u}:
                out |= (det(cells - {u}) & prim) - {u}
        return out

    def p_exposed(cells: set[int], p: int) -> bool:
        cells = frozenset(cells)
        return p in det(cells) or any(p in det(cells - {u}) for u in sorted(single & cells) if u != p)

    def any_exposed(cells: set[int]) -> bool:
        cells = frozenset(cells)
        if not cells & prim:
            return False
        if det(cells) & prim:
            return True
        return any((cells & prim) - {u} and (det(cells - {u}) & prim) - {u} for u in sorted(single & cells))

    def key(i):
        return (values[i], i)

    for _ in range(n):
        bad = exposed_(hidden)
        if not bad:
            break
        p = min(bad)
        # Cells of the relations around p's hidden neighbourhood, smallest first.
        near: set[int] = set()
        frontier, seen = [p], {p}
        while frontier:
            c = frontier.pop()
            for r in rel_of[c]:
                for d in cells_of[r]:
                    if d in hidden and d not in seen:
                        seen.add(d)
                        frontier.append(d)
                    near.add(d)
        cands = sorted((near & usable) - hidden, key=key)
        if not cands:
            cands = sorted(usable - hidden, key=key)
        if not cands:
            break  # nothing left to mask
        chosen = next((c for c in cands if not p_exposed(hidden | {c}, p)), None)
        if chosen is None:
            # Two cells (a rectangle's missing corners): the pair of smallest total that protects p.
            pairs = sorted(((values[c] + values[d], c, d) for i, c in enumerate(cands) for d in cands[i + 1:]),
                           key=lambda x: (x[0], x[1], x[2]))
            pair = next(((c, d) for _, c, d in pairs[:400] if not p_exposed(hidden | {c, d}, p)), None)
            if pair is not None:
                hidden.update(pair)
                complements.update(pair)
                continue
            # No single cell protects p: take the smallest cell of a relation that pins it.
            fixed = det(frozenset(hidden)) | (set(range(n)) - hidden)
            pinning = [r for r in rel_of[p] if all(c == p or c in fixed for c in cells_of[r])]
            pool = sorted({c for r in (pinning or rel_of[p]) for c in cells_of[r]} & set(cands), key=key)
            chosen = (pool or cands)[0]
        hidden.add(chosen)
        complements.add(chosen)
    # Clean-up: give back any complement that is not needed any more (largest first: most information).
    for c in sorted(complements, key=key, reverse=True):
        if not any_exposed(hidden - {c}):
            hidden.discard(c)
            complements.discard(c)
    return np.array([i in complements for i in range(n)], dtype=bool)
