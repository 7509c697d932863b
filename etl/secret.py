"""Statistical secret of firm-level cells, computed once when the marts are built and stored in `mart.secret`.

Every mart row of a measure computed from firm rows (`marts.FIRM_MEASURES`) leaves the firm marts with
`secret = 'a_evaluer'` (turnover) and gets its status here: 'diffuse' (may be published), 'primaire' (fewer than
`min_firms` firms, or one firm holding `dominance` or more of it), 'secondaire' (complementary cell) or
'non_diffuse' (a level or category no output publishes: turnover by commune, outside the candidature's field, all
activities). The read side shows a firm-level value only when its row says 'diffuse' (indicators/query.py): a row
that was never evaluated is never shown. Counts of firms (entreprises, entreprises_tpe_pme) are not magnitude
data (the Sirene register publishes every firm): they are stored as 'diffuse'.

Model (per year). Every published cell — each territory of every level `ref_appartenance` lists (EPCI, TI,
département, région, France: read from the warehouse, never listed here) x each category of the groupings the
read side publishes (`PUBLISHED_GROUPINGS`: the candidature's sectors, their field total, filières cœur and
élargies) — is a sum of *atoms*: the turnover of one geographic piece (communes sharing the same territories at
every level) in one NAF piece (sous-classes sharing the same categories). An attacker sees the published cells,
knows the atoms are non-negative and that an atom without any firm is zero; the whole table set of a year (all
levels, all groupings: what pages, slides, CSVs and the annex can show, and every growth between two published
years) is audited at once, so no combination of outputs helps. The coalition considered on top of that: every
firm alone in another hidden cell knows that cell (and each of its atoms) exactly — all of them together, which
covers each one alone. A primary cell is protected when, for that attacker, linear programming (HiGHS) gives it
a feasible interval reaching at least `p` % of its value below and above it (τ-Argus's protection levels).

Complementary cells: for each primary cell and direction (up, down) that is not protected, a mixed-integer
program (HiGHS) chooses the set of published cells of least total value whose suppression lets the table move
that far (Fischetti-Salazar's model for one primary cell), then the audit is run again. Known zeros are never
complements. Tables linked only through margins that are fully published (France = sum of régions…) are
independent and solved apart; a margin stops being a separator as soon as one of its parts is hidden.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections import defaultdict
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

# Groupings of firm turnover that outputs publish (indicators/catalog.py); `total` is stored only for coverage.
PUBLISHED_GROUPINGS = ("secteur", "champ", "filiere_coeur", "filiere_elargi")
# Territorial level never published for turnover (the finest one, whose cells are the communes).
UNPUBLISHED_LEVEL = "commune"
MAGNITUDE_MEASURES = ("ca_eur",)
STATUSES = ("diffuse", "primaire", "secondaire", "non_diffuse")
# Counts of the last runs (complement searches solved exactly, by relaxation, cells hidden by the fallback).
STATS = {"milp": 0, "relaxed": 0, "fallback": 0}


@dataclass(frozen=True)
class Rules:
    min_firms: int = 3
    dominance: float = 0.85
    interval: float = 0.10

    @classmethod
    def from_env(cls) -> "Rules":
        return cls(int(os.environ.get("TI_SECRET_MIN_FIRMS", 3)), float(os.environ.get("TI_SECRET_DOMINANCE", 0.85)),
                   float(os.environ.get("TI_SECRET_INTERVAL", 0.10)))


# --- the linear model of one year -----------------------------------------------------------------

@dataclass
class Table:
    """Published cells of one year as sums of atoms. cells: DataFrame (niveau, code, groupement, groupe_code,
    valeur, nb_contrib, max_contrib); atoms: true values; members[k]: atom indices of cell k."""
    cells: pd.DataFrame
    atoms: np.ndarray
    members: list[np.ndarray]
    piece: np.ndarray | None = None     # geographic piece of each atom
    napiece: np.ndarray | None = None   # NAF piece of each atom


def _membership(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """commune -> geographic piece id; pieces' territory at each published level."""
    app = con.execute(f"""
        SELECT a.commune, a.niveau, a.code FROM ref_appartenance a
        WHERE a.niveau <> '{UNPUBLISHED_LEVEL}'
          AND EXISTS (SELECT 1 FROM ref_territoires t WHERE t.niveau = a.niveau AND t.code = a.code)""").fetchdf()
    return app


def _categories(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """sous-classe -> NAF piece id, and the published categories (groupement, groupe_code) of each piece."""
    m = con.execute("""
        SELECT m.naf_code AS sous_classe, m.groupement, m.groupe_code FROM ref_naf_map m
        SEMI JOIN ref_groupes g USING (groupement, groupe_code)
        WHERE m.naf_niveau = 'sous_classe' AND list_contains(?, m.groupement)""", [list(PUBLISHED_GROUPINGS)]).fetchdf()
    return m


def _year_tables(con: duckdb.DuckDBPyConnection, mesure: str) -> dict[int, Table]:
    """The model of every year: atoms from the firm rows, cells from the mart (same roll-up rules)."""
    app = _membership(con)
    cats = _categories(con)
    if app.empty or cats.empty:
        return {}
    # Geographic pieces: communes with the same territory at every published level.
    sig = (app.sort_values(["commune", "niveau"]).groupby("commune")
           .apply(lambda g: "|".join(g.niveau + ":" + g.code), include_groups=False))
    piece_of = pd.Series(pd.factorize(sig)[0], index=sig.index)
    piece_terr = (app.assign(piece=app.commune.map(piece_of))[["piece", "niveau", "code"]].drop_duplicates())
    # NAF pieces: sous-classes with the same published categories.
    csig = (cats.sort_values(["sous_classe", "groupement", "groupe_code"]).groupby("sous_classe")
            .apply(lambda g: "|".join(g.groupement + ":" + g.groupe_code), include_groups=False))
    napiece_of = pd.Series(pd.factorize(csig)[0], index=csig.index)
    napiece_cat = cats.assign(napiece=cats.sous_classe.map(napiece_of))[["napiece", "groupement", "groupe_code"]].drop_duplicates()
    con.register("s_piece", pd.DataFrame({"commune": piece_of.index, "piece": piece_of.values}))
    con.register("s_napiece", pd.DataFrame({"naf_code": napiece_of.index, "napiece": napiece_of.values}))
    atoms = con.execute("""
        SELECT f.annee, p.piece, n.napiece, sum(f.ca_eur) AS valeur
        FROM firmes f JOIN s_piece p USING (commune) JOIN s_napiece n USING (naf_code)
        JOIN ref_naf r ON r.sous_classe = f.naf_code JOIN ref_secteurs s ON s.section = r.section
        WHERE f.ca_eur IS NOT NULL GROUP BY ALL""").fetchdf()
    con.unregister("s_piece")
    con.unregister("s_napiece")
    cells = con.execute(f"""
        SELECT annee, niveau, code, groupement, groupe_code, valeur, nb_contrib, max_contrib FROM mart
        WHERE mesure = ? AND niveau <> '{UNPUBLISHED_LEVEL}' AND list_contains(?, groupement)
          AND EXISTS (SELECT 1 FROM ref_groupes g WHERE g.groupement = mart.groupement AND g.groupe_code = mart.groupe_code)
        ORDER BY annee, niveau, code, groupement, groupe_code""", [mesure, list(PUBLISHED_GROUPINGS)]).fetchdf()
    pieces_of_terr = piece_terr.groupby(["niveau", "code"]).piece.apply(lambda s: np.sort(s.to_numpy()))
    napieces_of_cat = napiece_cat.groupby(["groupement", "groupe_code"]).napiece.apply(lambda s: np.sort(s.to_numpy()))
    out = {}
    for annee, ya in atoms.groupby("annee"):
        yc = cells[cells.annee == annee].reset_index(drop=True)
        index = {(p, n): i for i, (p, n) in enumerate(zip(ya.piece.tolist(), ya.napiece.tolist()))}
        by_piece = defaultdict(list)
        for (p, n), i in index.items():
            by_piece[p].append((n, i))
        members = []
        for r in yc.itertuples():
            ps = pieces_of_terr.get((r.niveau, r.code), np.array([], dtype=int))
            ns = set(napieces_of_cat.get((r.groupement, r.groupe_code), np.array([], dtype=int)).tolist())
            members.append(np.array(sorted(i for p in ps.tolist() for n, i in by_piece.get(p, ()) if n in ns), dtype=np.int64))
        out[int(annee)] = Table(yc, ya.valeur.to_numpy(dtype=float), members, ya.piece.to_numpy(), ya.napiece.to_numpy())
    return out


# --- primary rule ----------------------------------------------------------------------------------

def primary(cells: pd.DataFrame, rules: Rules) -> np.ndarray:
    nb = cells.nb_contrib.fillna(0).to_numpy(dtype=float)
    v = cells.valeur.fillna(0).to_numpy(dtype=float)
    mx = cells.max_contrib.fillna(0).to_numpy(dtype=float)
    few = (nb > 0) & (nb < rules.min_firms)
    dominant = (nb >= rules.min_firms) & (v > 0) & (mx >= rules.dominance * v)
    return few | dominant


# --- audit and complements -------------------------------------------------------------------------

class _Problem:
    """One independent part of a year's table: cells, atoms, and what is hidden."""

    def __init__(self, table: Table, cells: np.ndarray, atoms: np.ndarray):
        self.cells = cells
        self.atoms = atoms
        local = {int(a): j for j, a in enumerate(atoms.tolist())}
        rows, cols = [], []
        for r, k in enumerate(cells.tolist()):
            for a in table.members[k].tolist():
                rows.append(r)
                cols.append(local[a])
        self.a = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(cells), len(atoms)))
        # Values scaled to about 1 (the solvers' tolerances are absolute): intervals are relative anyway.
        v = table.atoms[atoms]
        self.scale = float(v.max()) if len(v) and v.max() > 0 else 1.0
        self.v = v / self.scale
        self.values = np.asarray(self.a @ self.v).ravel()
        n_geo = int(table.piece.max()) + 1 if table.piece is not None and len(table.piece) else 1
        n_naf = int(table.napiece.max()) + 1 if table.napiece is not None and len(table.napiece) else 1
        geo = table.piece[atoms] if table.piece is not None else np.zeros(len(atoms), dtype=int)
        naf = table.napiece[atoms] if table.napiece is not None else np.zeros(len(atoms), dtype=int)
        one = np.ones(len(atoms))
        # Cells x geographic pieces and cells x NAF pieces they cover (to find a primary cell's neighbourhood).
        self.geo = (self.a @ sparse.csr_matrix((one, (np.arange(len(atoms)), geo)), shape=(len(atoms), n_geo))) > 0
        self.naf = (self.a @ sparse.csr_matrix((one, (np.arange(len(atoms)), naf)), shape=(len(atoms), n_naf))) > 0


def _interval(pb: _Problem, i: int, published: np.ndarray, fixed_atoms: np.ndarray, which: str) -> float:
    """Max (which='max') or min of cell i over the tables the attacker finds consistent."""
    u = _unit(pb, i)  # in units of cell i's value: the solvers' tolerances are absolute
    a_eq = pb.a[published]
    b_eq = pb.values[published] / u
    lb = np.where(fixed_atoms, pb.v / u, 0.0)
    ub = np.where(fixed_atoms, pb.v / u, np.inf)
    c = pb.a[i].toarray().ravel()
    res = linprog(-c if which == "max" else c, A_eq=a_eq if a_eq.shape[0] else None,
                  b_eq=b_eq if a_eq.shape[0] else None, bounds=np.column_stack([lb, ub]), method="highs")
    if res.status == 3:  # unbounded above
        return np.inf
    if res.status != 0:  # not solved (numerically): taken as not protected, so that complements are sought
        return pb.values[i]
    return (-res.fun if which == "max" else res.fun) * u


def _unit(pb: _Problem, i: int) -> float:
    return float(pb.values[i]) if pb.values[i] > 0 else 1.0


def _fixed_atoms(pb: _Problem, hidden: np.ndarray, lone: np.ndarray, i: int) -> np.ndarray:
    """Atoms the coalition knows: those of every hidden cell with one firm that shares no atom with cell i
    (a firm of cell i itself is what the primary rule protects against)."""
    mine = pb.a[i].toarray().ravel() > 0
    fixed = np.zeros(len(pb.atoms), dtype=bool)
    for j in np.flatnonzero(hidden & lone).tolist():
        if j == i:
            continue
        aj = pb.a[j].toarray().ravel() > 0
        if not (aj & mine).any():
            fixed |= aj
    return fixed


def _neighbourhood(pb: _Problem, i: int) -> np.ndarray:
    """Cells of the territories and activities around cell i: those covering a geographic piece and a NAF
    piece of a cell that shares atoms with i (its margins, its parts, the filières across it)."""
    near = _overlaps(pb, i)
    geo = np.asarray(pb.geo[near].sum(axis=0)).ravel() > 0
    naf = np.asarray(pb.naf[near].sum(axis=0)).ravel() > 0
    return (np.asarray(pb.geo[:, geo].sum(axis=1)).ravel() > 0) & (np.asarray(pb.naf[:, naf].sum(axis=1)).ravel() > 0)


def _complements(pb: _Problem, i: int, hidden: np.ndarray, fixed: np.ndarray, lone: np.ndarray,
                 direction: int, target: float) -> np.ndarray | None:
    """Published cells of least total value to hide so that cell i can move by `target` in `direction`:
    first among the cells around it, then, if that cannot work, among all."""
    near = _neighbourhood(pb, i)
    extra = _complements_among(pb, i, hidden, fixed, lone, direction, target, near)
    if extra is None and not near.all():
        extra = _complements_among(pb, i, hidden, fixed, lone, direction, target, np.ones(len(near), dtype=bool))
    return extra


def _complements_among(pb: _Problem, i: int, hidden: np.ndarray, fixed: np.ndarray, lone: np.ndarray,
                       direction: int, target: float, allowed: np.ndarray) -> np.ndarray | None:
    n_cells, n_atoms = pb.a.shape
    cand = np.flatnonzero(allowed & ~hidden & (pb.values > 0) & ~(lone & ~_overlaps(pb, i)))
    rest = np.flatnonzero(~hidden & ~np.isin(np.arange(n_cells), cand))
    n_c = len(cand)
    u = _unit(pb, i)  # in units of cell i's value
    target = target / u
    # Deviations are sought within one value of cell i (a pattern found so is a true one: the attacker's tables
    # are not bounded), which keeps the big-M links tight: a binary at its tolerance cannot let a cell move.
    cap = max(1.0, 2.0 * target)
    down = np.minimum(pb.values[cand] / u, cap)
    # Variables: y (atom deviations) then z (one binary per candidate cell).
    lb = np.concatenate([np.where(fixed, 0.0, -np.minimum(pb.v / u, cap)), np.zeros(n_c)])
    ub = np.concatenate([np.where(fixed, 0.0, cap), np.ones(n_c)])
    blocks, lo, hi = [], [], []
    if len(rest):
        blocks.append(sparse.hstack([pb.a[rest], sparse.csr_matrix((len(rest), n_c))]))
        lo.append(np.zeros(len(rest)))
        hi.append(np.zeros(len(rest)))
    if n_c:
        blocks.append(sparse.hstack([pb.a[cand], -sparse.diags(np.full(n_c, cap))]))   # y_k <= cap z_k
        lo.append(np.full(n_c, -np.inf))
        hi.append(np.zeros(n_c))
        blocks.append(sparse.hstack([pb.a[cand], sparse.diags(down)]))                  # y_k >= -min(v_k, cap) z_k
        lo.append(np.zeros(n_c))
        hi.append(np.full(n_c, np.inf))
    blocks.append(sparse.hstack([pb.a[[i]], sparse.csr_matrix((1, n_c))]))
    lo.append(np.array([target if direction > 0 else -np.inf]))
    hi.append(np.array([np.inf if direction > 0 else -target]))
    cost = np.concatenate([np.zeros(n_atoms), pb.values[cand] + 1e-6 * max(1.0, float(pb.values.max()))])
    constraints = LinearConstraint(sparse.vstack(blocks).tocsr(), np.concatenate(lo), np.concatenate(hi))
    with _quiet_stdout():
        res = milp(cost, constraints=constraints, integrality=np.concatenate([np.zeros(n_atoms), np.ones(n_c)]),
                   bounds=Bounds(lb, ub), options={"time_limit": 10, "mip_rel_gap": 0.02})
    if res.x is not None:
        STATS["milp"] += 1
        return cand[res.x[n_atoms:] > 0.5]
    if res.status == 2:  # infeasible: no set of these cells can protect it against this attacker
        return None
    # Out of time without a solution: the linear relaxation, every cell it uses (a feasible pattern).
    STATS["relaxed"] += 1
    res = milp(cost, constraints=constraints, integrality=np.zeros(n_atoms + n_c), bounds=Bounds(lb, ub))
    return cand[res.x[n_atoms:] > 1e-9] if res.x is not None else None


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS's MIP solver writes a debugging line on the process's standard output: sent to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _overlaps(pb: _Problem, i: int) -> np.ndarray:
    mine = pb.a[i].toarray().ravel() > 0
    return np.asarray((pb.a[:, mine].sum(axis=1) > 0)).ravel()


def protect_problem(pb: _Problem, prim: np.ndarray, lone: np.ndarray, p: float, hidden: np.ndarray) -> np.ndarray:
    """Hide complementary cells (in place in `hidden`) until every primary cell is protected."""
    order = np.flatnonzero(prim)
    order = order[np.argsort(-pb.values[order], kind="stable")]
    for i in order.tolist():
        for _ in range(50):
            fixed = _fixed_atoms(pb, hidden, lone, i)
            v = pb.values[i]
            need = p * v
            missing = []
            if _interval(pb, i, ~hidden, fixed, "max") < v + need - 1e-7 * v:
                missing.append(+1)
            if _interval(pb, i, ~hidden, fixed, "min") > v - need + 1e-7 * v:
                missing.append(-1)
            if not missing:
                break
            direction = missing[0]
            extra = _complements(pb, i, hidden, fixed, lone, direction, need)
            if extra is None or not len(extra):
                # No set of published cells can protect it against this attacker: hide what touches it.
                STATS["fallback"] += 1
                extra = np.flatnonzero(_overlaps(pb, i) & ~hidden & (pb.values > 0))
                if not len(extra):
                    break
            hidden[extra] = True
    return hidden


def _components(table: Table, hidden: np.ndarray) -> list[np.ndarray]:
    """Independent groups of cells: atoms linked by every cell except published margins that are the
    disjoint sum of published cells of one other level or grouping (implied by them)."""
    cells = table.cells
    n = len(cells)
    keys = list(zip(cells.niveau, cells.code, cells.groupement, cells.groupe_code))
    # For each (niveau, groupement, groupe_code) family of cells and (niveau, code, groupement), atom -> cell.
    owner_geo: dict[tuple, dict[int, int]] = defaultdict(dict)    # (niveau, groupement, groupe_code)
    owner_cat: dict[tuple, dict[int, int]] = defaultdict(dict)    # (niveau, code, groupement)
    for k, (niv, code, g, gc) in enumerate(keys):
        for a in table.members[k].tolist():
            owner_geo[(niv, g, gc)][a] = k
            owner_cat[(niv, code, g)][a] = k
    levels = sorted(set(cells.niveau))
    groupings = sorted(set(cells.groupement))
    redundant = np.zeros(n, dtype=bool)
    for k, (niv, code, g, gc) in enumerate(keys):
        mem = table.members[k]
        if hidden[k] or not len(mem):
            continue
        mset = set(mem.tolist())
        fams = [owner_geo[(l2, g, gc)] for l2 in levels if l2 != niv] + [owner_cat[(niv, code, g2)] for g2 in groupings if g2 != g]
        for fam in fams:
            parts = {fam.get(a) for a in mset}
            if None in parts or k in parts:
                continue
            # Only via smaller cells (fewer atoms, or as many and listed first): no two cells are each other's
            # proof (an EPCI that is a TI on its own has the same atoms as that TI).
            if any((len(table.members[j]), j) >= (len(mem), k) for j in parts):
                continue
            if any(hidden[j] for j in parts):
                continue
            total = sum(len(table.members[j]) for j in parts)
            if total == len(mset) and all(set(table.members[j].tolist()) <= mset for j in parts):
                redundant[k] = True
                break
    parent = list(range(len(table.atoms)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in range(n):
        mem = table.members[k]
        if redundant[k] or len(mem) < 2:
            continue
        r0 = find(int(mem[0]))
        for a in mem[1:].tolist():
            ra = find(a)
            if ra != r0:
                parent[ra] = r0
    root = np.array([find(a) for a in range(len(table.atoms))])
    groups: dict[int, list[int]] = defaultdict(list)
    for k in range(n):
        mem = table.members[k]
        if len(mem):
            groups[int(root[mem[0]])].append(k)
    return [np.array(sorted(ks)) for ks in groups.values()], redundant


def protect_table(table: Table, rules: Rules) -> np.ndarray:
    """Status of every cell of one year: 'primaire', 'secondaire' or 'diffuse'."""
    cells = table.cells
    n = len(cells)
    prim = primary(cells, rules)
    lone = cells.nb_contrib.fillna(0).to_numpy() == 1
    # A cell that is not the sum of its atoms (it should never happen) is withheld and left out of the model.
    sums = np.array([table.atoms[m].sum() for m in table.members])
    vals = cells.valeur.fillna(0).to_numpy(dtype=float)
    odd = np.abs(sums - vals) > 1e-6 * np.maximum(1.0, np.abs(vals))
    if odd.any():
        table = Table(cells, table.atoms, [np.array([], dtype=np.int64) if o else m for o, m in zip(odd, table.members)])
        prim = prim & ~odd
    hidden = prim.copy()
    if prim.any():
        for _ in range(20):
            before = hidden.copy()
            comps, _ = _components(table, hidden)
            for comp in comps:
                if not prim[comp].any():
                    continue
                atoms = np.unique(np.concatenate([table.members[k] for k in comp]))
                pb = _Problem(table, comp, atoms)
                h = hidden[comp].copy()
                protect_problem(pb, prim[comp], lone[comp], rules.interval, h)
                hidden[comp] = h
            comps_after, _ = _components(table, hidden)
            if (hidden == before).all() and len(comps_after) == len(comps):
                break
    return np.where(odd, "non_diffuse", np.where(prim, "primaire", np.where(hidden, "secondaire", "diffuse")))


def protect(con: duckdb.DuckDBPyConnection, rules: Rules | None = None) -> dict[str, int]:
    """Compute and store `mart.secret` for every firm-level row; returns the number of cells by status."""
    rules = rules or Rules.from_env()
    counts = {s: 0 for s in STATUSES}
    con.execute("CREATE OR REPLACE TEMP TABLE s_status (annee INTEGER, niveau VARCHAR, code VARCHAR, mesure VARCHAR, "
                "groupement VARCHAR, groupe_code VARCHAR, secret VARCHAR)")
    for mesure in MAGNITUDE_MEASURES:
        frames = []
        for annee, table in _year_tables(con, mesure).items():
            status = protect_table(table, rules)
            frames.append(table.cells[["niveau", "code", "groupement", "groupe_code"]].assign(
                annee=annee, mesure=mesure, secret=status))
        if frames:
            df = pd.concat(frames, ignore_index=True)[["annee", "niveau", "code", "mesure", "groupement", "groupe_code", "secret"]]
            con.register("s_status_df", df)
            con.execute("INSERT INTO s_status SELECT * FROM s_status_df")
            con.unregister("s_status_df")
        con.execute("""
            UPDATE mart SET secret = coalesce(s.secret, 'non_diffuse') FROM (
                SELECT m.rowid AS rid, st.secret FROM mart m LEFT JOIN s_status st
                USING (annee, niveau, code, mesure, groupement, groupe_code) WHERE m.mesure = ? AND m.secret = 'a_evaluer'
            ) s WHERE mart.rowid = s.rid""", [mesure])
    for s, c in con.execute("SELECT secret, count(*) FROM mart WHERE secret IS NOT NULL GROUP BY 1").fetchall():
        counts[s] = counts.get(s, 0) + c
    con.execute("DROP TABLE s_status")
    return counts
