"""Statistical secret of firm-level cells, computed once when the marts are built and stored in `mart.secret`.

Every mart row of a measure computed from firm rows (`marts.FIRM_MEASURES`) leaves the firm marts with
`secret = 'a_evaluer'` (turnover) and gets its status here: 'diffuse' (may be published), 'primaire' (fewer than
`min_firms` firms, or one firm holding `dominance` or more of it), 'secondaire' (complementary cell, or a custom
territory's cell that no sum of published canonical cells gives) or
'non_diffuse' (a level or category no output publishes: turnover by commune, outside the candidature's field, all
activities). The read side shows a firm-level value only when its row says 'diffuse' (indicators/query.py): a row
that was never evaluated is never shown. Counts of firms (entreprises, entreprises_tpe_pme) are not magnitude
data (the Sirene register publishes every firm): they are stored as 'diffuse'.

Model: one protection per chamber file, whatever the warehouse's perimeter. The statuses are decided on a canonical
table set built from every firm row of the files loaded (`firmes_fichier`, all communes of the reference) and the
reference alone: every EPCI of the file's communes, whole and by département when it spans several, every TI of the
official list they touch, their départements (the levels any warehouse publishes turnover at), each crossed with
the groupings the read side publishes (`PUBLISHED_GROUPINGS`). Each cell is a sum of *atoms*: one commune's
turnover in one NAF piece (sous-classes sharing the same categories). An attacker sees the published cells, knows
the atoms are non-negative and that an atom without any firm is zero; the whole table set of a year is audited at
once (what pages, slides, CSVs and the annex can show, and every growth between two published years). Implicit
cells — sets of firms that differences of published cells isolate without publishing them (an EPCI minus its
part in a département, a TI minus a member or its part in a département, a filière élargie minus its cœur, each
commune) — are audited like primary cells when the primary rule makes them sensitive, and never published. The
coalition considered on top of that: every firm alone in another hidden cell knows that cell (and each of its
atoms) exactly — all of them together, which covers each one alone. A primary cell is protected when, for that
attacker, linear programming (HiGHS) gives it a feasible interval reaching at least `p` % of its value below and
above it (τ-Argus's protection levels).

The statuses are stored with the files' key (their sha256 in load order, the rules, the reference, the model:
`file_key`) in `secret_fichier` and in a cache directory shared by the warehouses of a machine; every warehouse
built from the same files applies them (`_apply`): a territory holding exactly a canonical territory's communes
takes its statuses; any other (a custom perimeter) is published only as a sum of published canonical cells.

Complementary cells: for each primary cell and direction (up, down) that is not protected, a mixed-integer
program (HiGHS) chooses the set of published cells of least total value whose suppression lets the table move
that far (Fischetti-Salazar's model for one primary cell), then the audit is run again. Known zeros are never
complements. Tables linked only through margins that are fully published are independent and solved apart; a
margin stops being a separator as soon as one of its parts is hidden. The searches are bounded in work (nodes),
not in time: the same files give the same statuses on any machine.

Speed (the national benchmark's chamber file: ~13 000 published cells a year, ~6 000 of them primary): each
part keeps one HiGHS model for all its audits (only the objective and bounds change, warm-started from the last
basis), and the years of a large file are protected in parallel processes.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import highspy
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .base import csv_sql as _csv, reference_dir

# Groupings of firm turnover that outputs publish (indicators/catalog.py); `total` is stored only for coverage.
PUBLISHED_GROUPINGS = ("secteur", "champ", "filiere_coeur", "filiere_elargi")
# Territorial level never published for turnover (the finest one, whose cells are the communes).
UNPUBLISHED_LEVEL = "commune"
MAGNITUDE_MEASURES = ("ca_eur",)
STATUSES = ("diffuse", "primaire", "secondaire", "non_diffuse")
# Total cells of a measure (all years) from which its years are protected in parallel processes.
PARALLEL_MIN_CELLS = 20_000
# Bumped when the model changes (in the cache key: statuses of another model are never reused).
MODEL_VERSION = "fichier-1"
# Directory of the protections already computed, by file key (empty: none kept); default data/cache/secret.
CACHE_ENV = "TI_SECRET_CACHE"
# Branch-and-bound nodes of one complement search: a limit of work, not of time, so that the same file gives the
# same complements on a busy machine as on an idle one (the time limit is only a safety net).
MILP_NODES = 2000
# Counts of the last runs (complement searches solved exactly, by relaxation, cells hidden by the fallback).
STATS = {"milp": 0, "relaxed": 0, "fallback": 0}
# Seconds spent by the last computations (not read from a cache): the canonical tables, then their protection;
# the benchmark reports the protection apart from the ingest.
TIMINGS = {"tables_s": 0.0, "protection_s": 0.0}


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


def _canonical_sql(held: str) -> str:
    """commune, niveau, code of every canonical territory of the communes the condition `held` keeps: its EPCI
    (and EPT), its part in each département when the EPCI spans several, every TI of the official list and its
    département: every level a warehouse publishes turnover at, whatever its perimeter (firms roll up to no
    région nor France: see etl/reference.py, ref_appartenance). Read from the reference, never from the
    warehouse's perimeter."""
    return f"""
        WITH ref AS (SELECT code_insee AS commune, departement, epci_siren FROM {_csv('communes.csv')}),
        held AS (SELECT * FROM ref WHERE {held}),
        multi AS (SELECT epci_siren FROM ref WHERE epci_siren <> '' GROUP BY 1 HAVING count(DISTINCT departement) > 1),
        ti AS (SELECT code_insee AS commune, id_ti, type_membre, code_membre FROM {_csv('territoires_industrie_communes.csv')})
        SELECT commune, 'epci' AS niveau, epci_siren AS code FROM held WHERE epci_siren <> ''
        UNION SELECT t.commune, 'epci', t.code_membre FROM ti t SEMI JOIN held h USING (commune) WHERE t.type_membre = 'ept'
        UNION SELECT commune, 'epci_partie', epci_siren || ':' || departement FROM held WHERE epci_siren IN (SELECT * FROM multi)
        UNION SELECT t.commune, 'ti', t.id_ti FROM ti t SEMI JOIN held h USING (commune)
        UNION SELECT commune, 'departement', departement FROM held"""


def _canonical_membership(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """commune -> every canonical territory holding it, for the communes of the file's firm rows."""
    held = "commune IN (SELECT DISTINCT commune FROM firmes_fichier)"
    return con.execute(f"SELECT * FROM ({_canonical_sql(held)}) ORDER BY ALL").fetchdf()


def _categories(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """sous-classe -> the published categories (groupement, groupe_code) holding it."""
    return con.execute("""
        SELECT m.naf_code AS sous_classe, m.groupement, m.groupe_code FROM ref_naf_map m
        SEMI JOIN ref_groupes g USING (groupement, groupe_code)
        WHERE m.naf_niveau = 'sous_classe' AND list_contains(?, m.groupement)
        ORDER BY ALL""", [list(PUBLISHED_GROUPINGS)]).fetchdf()


def _year_tables(con: duckdb.DuckDBPyConnection, rules: Rules) -> dict[int, Table]:
    """The canonical model of every year: atoms and cells from the file's firm rows (`firmes_fichier`) over the
    canonical territories, plus the primary implicit cells (see `_implicit`)."""
    app = _canonical_membership(con)
    cats = _categories(con)
    if app.empty or cats.empty:
        return {}
    # Geographic pieces: communes with the same territory at every published level.
    sig = (app.assign(k=app.niveau + ":" + app.code).sort_values(["commune", "niveau", "code"])
           .groupby("commune").k.agg("|".join))
    piece_of = pd.Series(pd.factorize(sig)[0], index=sig.index)
    piece_terr = (app.assign(piece=app.commune.map(piece_of))[["piece", "niveau", "code"]].drop_duplicates())
    # NAF pieces: sous-classes with the same published categories.
    csig = (cats.assign(k=cats.groupement + ":" + cats.groupe_code)
            .sort_values(["sous_classe", "groupement", "groupe_code"]).groupby("sous_classe").k.agg("|".join))
    napiece_of = pd.Series(pd.factorize(csig)[0], index=csig.index)
    napiece_cat = cats.assign(napiece=cats.sous_classe.map(napiece_of))[["napiece", "groupement", "groupe_code"]].drop_duplicates()
    con.register("s_piece", pd.DataFrame({"commune": piece_of.index, "piece": piece_of.values}))
    con.register("s_napiece", pd.DataFrame({"naf_code": napiece_of.index, "napiece": napiece_of.values}))
    # Per firm and atom (what the primary rule of an implicit cell needs); ordered: the same model at every run.
    firm_atoms = con.execute("""
        SELECT f.annee, f.siren, f.commune, p.piece, n.napiece, sum(f.ca_eur) AS ca
        FROM firmes_fichier f JOIN s_piece p USING (commune) JOIN s_napiece n USING (naf_code)
        JOIN ref_naf r ON r.sous_classe = f.naf_code JOIN ref_secteurs s ON s.section = r.section
        WHERE f.ca_eur IS NOT NULL GROUP BY ALL ORDER BY ALL""").fetchdf()
    con.unregister("s_piece")
    con.unregister("s_napiece")
    # Published cells: per firm in each territory and category, then summed (firms are SIREN, as in the marts).
    con.register("s_app", app)
    con.register("s_cat", cats)
    cells = con.execute("""
        WITH per_firm AS (
            SELECT a.niveau, a.code, f.annee, c.groupement, c.groupe_code, f.siren, sum(f.ca_eur) AS ca
            FROM firmes_fichier f JOIN s_app a USING (commune) JOIN s_cat c ON c.sous_classe = f.naf_code
            JOIN ref_naf r ON r.sous_classe = f.naf_code JOIN ref_secteurs s ON s.section = r.section
            WHERE f.ca_eur IS NOT NULL GROUP BY ALL)
        SELECT annee, niveau, code, groupement, groupe_code, sum(ca) AS valeur, count(*) AS nb_contrib,
               max(ca) AS max_contrib, false AS implicite
        FROM per_firm GROUP BY ALL ORDER BY annee, niveau, code, groupement, groupe_code""").fetchdf()
    con.unregister("s_app")
    con.unregister("s_cat")
    # Incidence of territories on geographic pieces and of categories on NAF pieces: cell k holds atom (p, n)
    # when its territory covers p and its category covers n.
    terr, tp = _incidence(piece_terr, ["niveau", "code"], "piece", len(piece_of))
    cat, cn = _incidence(napiece_cat, ["groupement", "groupe_code"], "napiece", len(napiece_of))
    out = {}
    for annee, fa in firm_atoms.groupby("annee"):
        # Atoms: one commune's turnover in one NAF piece (the finest set an attacker can aim at: a commune
        # cell is never published, but it is « s » and must not be bounded either).
        ya = fa.groupby(["commune", "piece", "napiece"], as_index=False).ca.sum()
        yc = cells[cells.annee == annee].reset_index(drop=True)
        piece, napiece = ya.piece.to_numpy(), ya.napiece.to_numpy()
        t_idx = terr.get_indexer(pd.MultiIndex.from_frame(yc[["niveau", "code"]]))
        c_idx = cat.get_indexer(pd.MultiIndex.from_frame(yc[["groupement", "groupe_code"]]))
        # A cell of a territory or category without any piece (-1) holds no atom.
        m = _rows(tp, t_idx)[:, piece].multiply(_rows(cn, c_idx)[:, napiece]).tocsr()
        atom_of = pd.MultiIndex.from_frame(ya[["commune", "napiece"]]).get_indexer(pd.MultiIndex.from_frame(fa[["commune", "napiece"]]))
        firm = sparse.csr_matrix((fa.ca.to_numpy(dtype=float), (pd.factorize(fa.siren)[0], atom_of)),
                                 shape=(fa.siren.nunique(), len(ya)))
        commune = pd.factorize(ya.commune)[0]
        imp, m_imp = _implicit(yc, m, tp, cn, t_idx, c_idx, piece, napiece, commune, firm, rules)
        yc = pd.concat([yc, imp.assign(annee=annee)], ignore_index=True)
        m = sparse.vstack([m, m_imp]).tocsr()
        m.sort_indices()
        members = [idx.astype(np.int64) for idx in np.split(m.indices, m.indptr[1:-1])]
        out[int(annee)] = Table(yc, ya.ca.to_numpy(dtype=float), members, piece, napiece)
    return out


def _implicit(cells: pd.DataFrame, m: sparse.csr_matrix, tp: sparse.csr_matrix, cn: sparse.csr_matrix,
              t_idx: np.ndarray, c_idx: np.ndarray, piece: np.ndarray, napiece: np.ndarray, commune: np.ndarray,
              firm: sparse.csr_matrix, rules: Rules) -> tuple[pd.DataFrame, sparse.csr_matrix]:
    """Implicit cells (τ-Argus's linked tables, INSEE's « différenciation géographique »): sets of firms that are
    never published but that differences of published cells isolate. Those the primary rule makes sensitive are
    audited like primary cells and never published. Geographic sets, in every published category: a territory
    minus one it contains (an EPCI minus its part in a département, a TI minus a member, a département minus an
    EPCI…), a TI's part inside and outside each département or région it straddles, and each geographic piece
    (communes no published difference can split); each commune. In every published territory: a category minus
    one it contains (filière élargie minus cœur, field minus one sector)."""
    ok = (t_idx >= 0) & (c_idx >= 0)
    stats = pd.DataFrame({"t": t_idx[ok], "c": c_idx[ok], "v": cells.valeur.to_numpy(dtype=float)[ok],
                          "nb": cells.nb_contrib.to_numpy(dtype=float)[ok], "mx": cells.max_contrib.to_numpy(dtype=float)[ok]})

    def differences(pairs: pd.DataFrame, outer: str, inner: str, fixed: str) -> pd.DataFrame:
        """Published cell pairs (outer minus inner) whose difference may be sensitive: a difference of fewer
        firms than the outer cell's minus the inner one's (a lower bound), or which the outer cell's largest
        firm (an upper bound of the difference's) may dominate; the others cannot be primary."""
        one = stats.rename(columns={"t" if fixed == "c" else "c": outer, "v": "v1", "nb": "nb1", "mx": "mx1"})
        two = stats.rename(columns={"t" if fixed == "c" else "c": inner, "v": "v2", "nb": "nb2", "mx": "mx2"})
        x = pairs.merge(one, on=outer).merge(two, on=[inner, fixed], how="left").fillna({"v2": 0.0, "nb2": 0.0})
        dv, dnb = x.v1 - x.v2, x.nb1 - x.nb2
        return x[(dv > 1e-9 * x.v1) & ((dnb < rules.min_firms) | (x.mx1 >= rules.dominance * dv))]

    # NAF sets: the categories, then each category minus one strictly inside it.
    csize = np.asarray(cn.sum(axis=1)).ravel()
    cov = (cn @ cn.T).tocoo()
    cin = (cov.data == csize[cov.col]) & (csize[cov.col] < csize[cov.row])
    cat = differences(pd.DataFrame({"c1": cov.row[cin], "c2": cov.col[cin]}), "c1", "c2", "t")
    n_c = cn.shape[0]
    nafsets = sparse.vstack([cn, cn[cat.c1.to_numpy()] - cn[cat.c2.to_numpy()]]).tocsr()
    # Atoms by (geographic piece, NAF set) and by (commune, NAF set): every set below is a sum of their rows.
    n_pieces, n_communes = tp.shape[1], int(commune.max(initial=-1)) + 1
    by_piece, by_commune = (_atoms_by(u, n, napiece, nafsets) for u, n in ((piece, n_pieces), (commune, n_communes)))
    used_c = np.unique(c_idx[c_idx >= 0])
    # Territories: inner strictly inside outer, or overlapping it in part.
    size = np.asarray(tp.sum(axis=1)).ravel()
    ov = (tp @ tp.T).tocoo()
    inside = (ov.data == size[ov.col]) & (size[ov.col] < size[ov.row])
    geo = differences(pd.DataFrame({"t1": ov.row[inside], "t2": ov.col[inside]}), "t1", "t2", "c")
    partial = (ov.data > 0) & (ov.data < size[ov.col]) & (ov.data < size[ov.row])
    a, b = tp[ov.row[partial]], tp[ov.col[partial]]
    sets = [(tp[geo.t1.to_numpy()] - tp[geo.t2.to_numpy()], geo.c.to_numpy()),   # a territory minus one inside it
            (tp[cat.t.to_numpy()], n_c + np.arange(len(cat)))]                      # a category minus one inside it
    for g in (a.multiply(b), a - a.multiply(b)):                                     # both sides of a boundary
        sets.append((g[np.repeat(np.arange(g.shape[0]), len(used_c))], np.tile(used_c, g.shape[0])))
    n_sets = nafsets.shape[0]
    rows = [_union(g.tocsr(), j, n_sets) @ by_piece for g, j in sets]
    # Each geographic piece and each commune, in every published category.
    for n_units, mat in ((n_pieces, by_piece), (n_communes, by_commune)):
        rows.append(mat[(np.arange(n_units)[:, None] * n_sets + used_c[None, :]).ravel()])
    cand = sparse.vstack(rows).tocsr()
    cand.data = (cand.data > 0).astype(float)
    cand.eliminate_zeros()
    cand = cand[np.diff(cand.indptr) > 0]
    # The primary rule, exactly, on the firms of each set (a firm is a SIREN, as in the marts).
    per_firm = (firm @ cand.T).tocsc()
    nb = np.diff(per_firm.indptr)
    top = per_firm.max(axis=0).toarray().ravel()
    value = np.asarray(per_firm.sum(axis=0)).ravel()
    sensitive = ((nb > 0) & (nb < rules.min_firms)) | ((nb >= rules.min_firms) & (value > 0) & (top >= rules.dominance * value))
    # The same set as a published cell, or twice: once (sets compared by two random projections of their atoms).
    weights = np.random.default_rng(0).random((cand.shape[1], 2))

    def sig(x: sparse.csr_matrix) -> list[tuple]:
        return [tuple(r) for r in np.asarray(x @ weights)]

    published = set(sig(m))
    first = pd.Series(sig(cand)).duplicated().to_numpy()
    known = np.array([k in published for k in sig(cand[np.flatnonzero(sensitive)])], dtype=bool)
    idx = np.flatnonzero(sensitive)[~known & ~first[sensitive]]
    imp = pd.DataFrame({"niveau": "implicite", "code": [f"i{k}" for k in range(len(idx))], "groupement": "implicite",
                        "groupe_code": "", "valeur": value[idx], "nb_contrib": nb[idx], "max_contrib": top[idx],
                        "implicite": True})
    return imp, cand[idx].tocsr()


def _atoms_by(unit: np.ndarray, n_units: int, napiece: np.ndarray, nafsets: sparse.csr_matrix) -> sparse.csr_matrix:
    """(unit x NAF set) x atoms: atom a in row unit[a] * J + j for every NAF set j holding its NAF piece."""
    n_sets = nafsets.shape[0]
    sel = nafsets.T.tocsr()[napiece]           # atoms x NAF sets holding them
    sel.eliminate_zeros()
    atoms = np.repeat(np.arange(len(napiece)), np.diff(sel.indptr))
    return sparse.csr_matrix((np.ones(len(atoms)), (unit[atoms] * n_sets + sel.indices, atoms)),
                             shape=(n_units * n_sets, len(napiece)))


def _union(g: sparse.csr_matrix, j: np.ndarray, n_sets: int) -> sparse.csr_matrix:
    """Rows picking, for set k, the (unit, NAF set j[k]) rows of every unit in g[k]."""
    g.eliminate_zeros()
    cols = g.indices * n_sets + np.repeat(j, np.diff(g.indptr))
    return sparse.csr_matrix((np.ones(len(cols)), cols, g.indptr), shape=(g.shape[0], g.shape[1] * n_sets))


def _incidence(df: pd.DataFrame, keys: list[str], piece: str, n_pieces: int) -> tuple[pd.MultiIndex, sparse.csr_matrix]:
    """The distinct keys of df (territories or categories) and their pieces, as a keys x pieces matrix."""
    index = pd.MultiIndex.from_frame(df[keys])
    distinct = index.unique()
    rows = distinct.get_indexer(index)
    return distinct, sparse.csr_matrix((np.ones(len(df)), (rows, df[piece].to_numpy())), shape=(len(distinct), n_pieces))


def _rows(m: sparse.csr_matrix, idx: np.ndarray) -> sparse.csr_matrix:
    """Rows idx of m, an empty row where idx is -1."""
    pick = sparse.csr_matrix((np.ones(int((idx >= 0).sum())), (np.flatnonzero(idx >= 0), idx[idx >= 0])),
                             shape=(len(idx), m.shape[0]))
    return (pick @ m).tocsc()


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
        mem = [table.members[k] for k in cells.tolist()]
        cols = np.searchsorted(atoms, np.concatenate(mem)) if mem else np.zeros(0, dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum([len(m) for m in mem])]).astype(np.int64)
        self.a = sparse.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(cells), len(atoms)))
        self.at = self.a.T.tocsr()   # atoms x cells
        # Values scaled to about 1 (the solvers' tolerances are absolute): intervals are relative anyway.
        v = table.atoms[atoms]
        self.scale = float(v.max()) if len(v) and v.max() > 0 else 1.0
        self.v = v / self.scale
        self.values = np.asarray(self.a @ self.v).ravel()
        self._table = table
        self.touch = (self.a @ self.a.T).tocsr()   # cells sharing at least one atom

    def overlaps(self, i: int) -> np.ndarray:
        """Cells sharing an atom with cell i (i among them when it has atoms)."""
        out = np.zeros(len(self.cells), dtype=bool)
        out[self.touch.indices[self.touch.indptr[i]:self.touch.indptr[i + 1]]] = True
        return out

    @functools.cached_property
    def pieces(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Cells x geographic pieces and cells x NAF pieces they cover (a primary cell's neighbourhood)."""
        out = []
        for piece in (self._table.piece, self._table.napiece):
            col = piece[self.atoms] if piece is not None else np.zeros(len(self.atoms), dtype=np.int64)
            m = sparse.csr_matrix((np.ones(len(col)), (np.arange(len(col)), col)),
                                  shape=(len(col), int(col.max(initial=0)) + 1))
            out.append((self.a @ m).tocsr() > 0)
        return out[0], out[1]

    @functools.cached_property
    def lp(self) -> "_AuditLp":
        return _AuditLp(self.a, self.v, self.values)


class _AuditLp:
    """The attacker's linear program of one problem, kept between audits: from one audit to the next only the
    objective (the cell audited), the rows' bounds (published or hidden) and the columns' bounds (atoms the
    coalition knows) change, and HiGHS starts from the last optimal basis instead of from scratch."""

    def __init__(self, a: sparse.csr_matrix, v: np.ndarray, values: np.ndarray):
        self.a, self.v, self.values = a, v, values
        n_rows, n_cols = a.shape
        csc = a.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, n_rows
        lp.col_cost_ = np.zeros(n_cols)
        lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), np.full(n_cols, highspy.kHighsInf)
        lp.row_lower_, lp.row_upper_ = np.full(n_rows, -highspy.kHighsInf), np.full(n_rows, highspy.kHighsInf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
        with _quiet_stdout():   # the licence banner
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp)
        self.published = np.zeros(n_rows, dtype=bool)
        self.fixed = np.zeros(n_cols, dtype=bool)
        self.objective: int | None = None

    def extreme(self, i: int, published: np.ndarray, fixed: np.ndarray, which: str) -> float | None:
        """Max or min of cell i (in the problem's scaled units), inf when unbounded, None when not solved."""
        h = self.h
        rows = np.flatnonzero(published != self.published)
        if len(rows):
            on = published[rows]
            h.changeRowsBounds(len(rows), rows.astype(np.int32), np.where(on, self.values[rows], -highspy.kHighsInf),
                               np.where(on, self.values[rows], highspy.kHighsInf))
            self.published = published.copy()
        cols = np.flatnonzero(fixed != self.fixed)
        if len(cols):
            on = fixed[cols]
            h.changeColsBounds(len(cols), cols.astype(np.int32), np.where(on, self.v[cols], 0.0),
                               np.where(on, self.v[cols], highspy.kHighsInf))
            self.fixed = fixed.copy()
        if self.objective != i:
            for k, c in ((self.objective, 0.0), (i, 1.0)):
                if k is not None:
                    idx = self.a.indices[self.a.indptr[k]:self.a.indptr[k + 1]].astype(np.int32)
                    h.changeColsCost(len(idx), idx, np.full(len(idx), c))
            self.objective = i
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if which == "max" else highspy.ObjSense.kMinimize)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return h.getInfo().objective_function_value
        if status == highspy.HighsModelStatus.kUnbounded:
            return np.inf
        return None


def _missing(pb: _Problem, i: int, hidden: np.ndarray, fixed: np.ndarray, p: float) -> list[int]:
    """Directions (+1 up, -1 down) in which cell i cannot move by p of its value for the attacker."""
    v = pb.values[i]
    out = []
    for direction, which in ((+1, "max"), (-1, "min")):
        target = v + direction * p * v
        x = pb.lp.extreme(i, ~hidden, fixed, which)
        # The persistent LP works in units of the problem's largest atom and HiGHS's tolerances are absolute:
        # an answer that close to the target is decided again by a LP in units of the cell itself.
        if x is None or abs(x - target) <= 1e-6 + 1e-6 * v:
            x = _interval(pb, i, ~hidden, fixed, which)
        if direction * (x - target) < -1e-7 * v:
            out.append(direction)
    return out


def _interval(pb: _Problem, i: int, published: np.ndarray, fixed_atoms: np.ndarray, which: str) -> float:
    """Max (which='max') or min of cell i over the tables the attacker finds consistent, solved afresh."""
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
    known = hidden & lone & ~pb.overlaps(i)
    known[i] = False
    return pb.at @ known.astype(float) > 0


def _neighbourhood(pb: _Problem, i: int) -> np.ndarray:
    """Cells of the territories and activities around cell i: those covering a geographic piece and a NAF
    piece of a cell that shares atoms with i (its margins, its parts, the filières across it)."""
    near = pb.overlaps(i)
    pgeo, pnaf = pb.pieces
    geo = np.asarray(pgeo[near].sum(axis=0)).ravel() > 0
    naf = np.asarray(pnaf[near].sum(axis=0)).ravel() > 0
    return (np.asarray(pgeo[:, geo].sum(axis=1)).ravel() > 0) & (np.asarray(pnaf[:, naf].sum(axis=1)).ravel() > 0)


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
    cand = np.flatnonzero(allowed & ~hidden & (pb.values > 0) & ~(lone & ~pb.overlaps(i)))
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
                   bounds=Bounds(lb, ub), options={"node_limit": MILP_NODES, "time_limit": 60, "mip_rel_gap": 0.02})
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


def protect_problem(pb: _Problem, prim: np.ndarray, lone: np.ndarray, p: float, hidden: np.ndarray) -> np.ndarray:
    """Hide complementary cells (in place in `hidden`) until every primary cell is protected."""
    order = np.flatnonzero(prim)
    order = order[np.argsort(-pb.values[order], kind="stable")]
    swaps = _Swaps(pb)
    for i in order.tolist():
        for _ in range(50):
            fixed = _fixed_atoms(pb, hidden, lone, i)
            if swaps.protects(i, hidden, fixed, p):
                break
            missing = _missing(pb, i, hidden, fixed, p)
            if not missing:
                break
            extra = _complements(pb, i, hidden, fixed, lone, missing[0], p * pb.values[i])
            if extra is None or not len(extra):
                # No set of published cells can protect it against this attacker: hide what touches it.
                STATS["fallback"] += 1
                extra = np.flatnonzero(pb.overlaps(i) & ~hidden & (pb.values > 0))
                if not len(extra):
                    break
            hidden[extra] = True
    return hidden


class _Swaps:
    """A certificate that spares most audits their linear programs: atoms that lie in exactly the same published
    cells can trade value without changing any of them, so cell i can move up by the value of such partners
    outside it, and down by the value of its atoms that have one (partners the coalition knows excluded).
    Sufficient, not necessary: when it does not reach p, the linear program decides."""

    def __init__(self, pb: _Problem):
        self.pb = pb
        rng = np.random.default_rng(0)
        self.weights = rng.integers(1, 2**62, size=pb.a.shape[0], dtype=np.uint64)
        self.hidden: np.ndarray | None = None

    def _groups(self, hidden: np.ndarray) -> np.ndarray:
        if self.hidden is None or (hidden != self.hidden).any():
            # Each atom's published cells, hashed (sums of random 62-bit weights, modulo 2^64).
            a = self.pb.at.tocsr()
            w = np.where(hidden, np.uint64(0), self.weights)
            vals = np.concatenate([w[a.indices], np.zeros(1, np.uint64)])
            sig = np.add.reduceat(vals, np.minimum(a.indptr[:-1], len(a.indices)))
            sig[np.diff(a.indptr) == 0] = 0
            self.group = pd.factorize(sig)[0]
            self.hidden = hidden.copy()
        return self.group

    def protects(self, i: int, hidden: np.ndarray, fixed: np.ndarray, p: float) -> bool:
        pb = self.pb
        group = self._groups(hidden)
        mine = np.zeros(len(group), dtype=bool)
        mine[pb.a.indices[pb.a.indptr[i]:pb.a.indptr[i + 1]]] = True
        n = group.max(initial=-1) + 1
        inside = np.bincount(group[mine], weights=pb.v[mine], minlength=n)
        free = ~mine & ~fixed
        outside = np.bincount(group[free], weights=pb.v[free], minlength=n)
        up = outside[inside > 0].sum()
        down = inside[outside > 0].sum()
        return bool(min(up, down) >= p * pb.values[i] * (1 + 1e-9))


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
    implicit = cells.implicite.to_numpy(dtype=bool) if "implicite" in cells else np.zeros(n, dtype=bool)
    # Implicit cells are all primary (only the sensitive ones are in the table) and never published.
    prim = primary(cells, rules) | implicit
    lone = cells.nb_contrib.fillna(0).to_numpy() == 1
    # A cell that is not the sum of its atoms (it should never happen) is withheld and left out of the model.
    sums = np.array([table.atoms[m].sum() for m in table.members])
    vals = cells.valeur.fillna(0).to_numpy(dtype=float)
    odd = np.abs(sums - vals) > 1e-6 * np.maximum(1.0, np.abs(vals))
    if odd.any():
        table = Table(cells, table.atoms, [np.array([], dtype=np.int64) if o else m for o, m in zip(odd, table.members)],
                      table.piece, table.napiece)
        prim = prim & ~odd
    hidden = prim.copy()
    # Hiding a complement can link parts that were apart, or tell the coalition more: every part is audited
    # again until a whole pass changes nothing (hidden only grows, so this ends); a part whose cells and
    # hidden cells are those of a part already audited without change is not audited twice.
    stable: set[bytes] = set()
    while prim.any():
        before = hidden.copy()
        for comp in _components(table, hidden)[0]:
            key = comp.tobytes() + hidden[comp].tobytes()
            if not prim[comp].any() or key in stable:
                continue
            atoms = np.unique(np.concatenate([table.members[k] for k in comp]))
            h = hidden[comp].copy()
            protect_problem(_Problem(table, comp, atoms), prim[comp], lone[comp], rules.interval, h)
            if (h == hidden[comp]).all():
                stable.add(key)
            hidden[comp] = h
        if (hidden == before).all():
            break
    status = np.where(odd, "non_diffuse", np.where(prim, "primaire", np.where(hidden, "secondaire", "diffuse")))
    return status[~implicit]


def _protect_year(table: Table, rules: Rules) -> tuple[np.ndarray, dict[str, int]]:
    before = dict(STATS)
    status = protect_table(table, rules)
    return status, {k: STATS[k] - before[k] for k in STATS}


def _protect_years(tables: list[Table], rules: Rules) -> list[np.ndarray]:
    """Years are independent: those of a large file are protected in parallel, in fresh interpreters (this
    process holds DuckDB's threads, which a fork would copy mid-flight); a small file stays here, where starting
    them would cost more than its whole protection."""
    workers = min(os.cpu_count() or 1, len(tables))
    if workers < 2 or sum(len(t.cells) for t in tables) < PARALLEL_MIN_CELLS:
        return [protect_table(t, rules) for t in tables]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_protect_year, tables, [rules] * len(tables)))
    for _, stats in results:   # the workers' counts
        for k, n in stats.items():
            STATS[k] += n
    return [status for status, _ in results]


def _cache_dir() -> Path | None:
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return Path(env) if env else None
    return Path(__file__).resolve().parents[1] / "data" / "cache" / "secret"


def _reference_digest() -> str:
    """What the canonical model reads of the reference: the communes' territories, the TI, the NAF categories."""
    h = hashlib.sha256()
    for path in sorted(reference_dir().glob("*.csv")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def file_key(con: duckdb.DuckDBPyConnection, rules: Rules) -> str:
    """The protection's identity: the chamber files (sha256, in load order), the rules, the reference, the model."""
    shas = [r[0] for r in con.execute("""SELECT sha256 FROM sources WHERE source_id IN (SELECT DISTINCT source_id
                                         FROM firmes_fichier) ORDER BY source_id""").fetchall()]
    doc = {"fichiers": shas, "regles": [rules.min_firms, rules.dominance, rules.interval], "modele": MODEL_VERSION,
           "reference": _reference_digest()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def file_statuses(con: duckdb.DuckDBPyConnection, mesure: str, rules: Rules) -> pd.DataFrame:
    """Status of every canonical cell of the chamber files loaded (annee, niveau, code, groupement, groupe_code,
    secret): from the warehouse when it holds the protection of the same files, else from the cache directory,
    else computed (deterministic: the same files give the same statuses, whatever the perimeter)."""
    key = file_key(con, rules)
    con.execute("CREATE TABLE IF NOT EXISTS secret_fichier (cle VARCHAR, mesure VARCHAR, annee INTEGER, niveau VARCHAR, "
                "code VARCHAR, groupement VARCHAR, groupe_code VARCHAR, secret VARCHAR)")
    held = con.execute("SELECT * EXCLUDE (cle, mesure) FROM secret_fichier WHERE cle = ? AND mesure = ?",
                       [key, mesure]).fetchdf()
    if not held.empty:
        return held
    cache = _cache_dir()
    path = cache / f"{key}-{mesure}.parquet" if cache else None
    if path is not None and path.exists():
        df = pd.read_parquet(path)
    else:
        frames = []
        t0 = time.perf_counter()
        tables = _year_tables(con, rules)
        t1 = time.perf_counter()
        statuses = _protect_years(list(tables.values()), rules)
        TIMINGS["tables_s"] += t1 - t0
        TIMINGS["protection_s"] += time.perf_counter() - t1
        for (annee, table), status in zip(tables.items(), statuses):
            cells = table.cells[~table.cells.implicite.to_numpy(dtype=bool)]
            frames.append(cells[["niveau", "code", "groupement", "groupe_code"]].assign(annee=annee, secret=status))
        cols = ["annee", "niveau", "code", "groupement", "groupe_code", "secret"]
        df = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
        df["annee"] = df.annee.astype("int32")
        if path is not None:   # written aside then renamed: a concurrent build never reads half a file
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                df.to_parquet(tmp, index=False)
                os.replace(tmp, path)
    con.execute("DELETE FROM secret_fichier WHERE mesure = ?", [mesure])
    con.register("s_file_df", df)
    con.execute("INSERT INTO secret_fichier SELECT ?, ?, annee, niveau, code, groupement, groupe_code, secret FROM s_file_df",
                [key, mesure])
    con.unregister("s_file_df")
    return df


def _apply(con: duckdb.DuckDBPyConnection, mesure: str) -> None:
    """The file's statuses onto the warehouse's cells. A territory holding exactly the communes of a canonical one
    takes its statuses; any other (a custom perimeter, an EPCI held in part) is published only as the sum of
    canonical cells that are all published — whole EPCIs, else their parts in a département — otherwise « s »."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_full AS   -- every canonical territory over all communes of the reference
        SELECT niveau, code, count(*) AS n FROM ({_canonical_sql('true')}) GROUP BY ALL""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_decomp AS   -- warehouse territory -> canonical cells it is the sum of
        WITH ref AS (SELECT code_insee AS commune, departement, epci_siren FROM {_csv('communes.csv')}),
        held AS (SELECT a.niveau, a.code, r.epci_siren, r.departement, count(*) AS n
                 FROM ref_appartenance a JOIN ref r USING (commune) GROUP BY ALL),
        whole AS (SELECT h.niveau, h.code, h.epci_siren, sum(h.n) = any_value(e.n) AS whole FROM held h
                  JOIN s_full e ON e.niveau = 'epci' AND e.code = h.epci_siren GROUP BY ALL),
        same AS (SELECT o.niveau, o.code FROM (SELECT niveau, code, count(*) AS n FROM ref_appartenance GROUP BY ALL) o
                 JOIN s_full f USING (niveau, code) WHERE o.n = f.n),
        units AS (
            SELECT niveau, code, niveau AS u_niveau, code AS u_code, true AS ok FROM same
            UNION ALL
            SELECT h.niveau, h.code, CASE WHEN w.whole THEN 'epci' ELSE 'epci_partie' END,
                   CASE WHEN w.whole THEN h.epci_siren ELSE h.epci_siren || ':' || h.departement END,
                   coalesce(w.whole OR h.n = p.n, false)
            FROM held h LEFT JOIN whole w USING (niveau, code, epci_siren)
            LEFT JOIN s_full p ON p.niveau = 'epci_partie' AND p.code = h.epci_siren || ':' || h.departement
            WHERE (h.niveau, h.code) NOT IN (SELECT niveau, code FROM same))
        SELECT DISTINCT niveau, code, u_niveau, u_code FROM units
        WHERE (niveau, code) NOT IN (SELECT niveau, code FROM units WHERE NOT ok)""")
    con.execute("""
        UPDATE mart SET secret = s.secret FROM (
            SELECT m.rowid AS rid,
                   CASE WHEN bool_and(coalesce(f.secret, 'diffuse') = 'diffuse') THEN 'diffuse'
                        WHEN count(*) = 1 THEN any_value(f.secret) ELSE 'secondaire' END AS secret
            FROM mart m JOIN s_decomp d USING (niveau, code)
            LEFT JOIN secret_fichier f ON f.mesure = m.mesure AND f.annee = m.annee AND f.niveau = d.u_niveau
                 AND f.code = d.u_code AND f.groupement = m.groupement AND f.groupe_code = m.groupe_code
            WHERE m.mesure = ? AND m.secret = 'a_evaluer' AND m.niveau <> ? AND list_contains(?, m.groupement)
              AND EXISTS (SELECT 1 FROM ref_groupes g WHERE g.groupement = m.groupement AND g.groupe_code = m.groupe_code)
            GROUP BY m.rowid) s
        WHERE mart.rowid = s.rid""", [mesure, UNPUBLISHED_LEVEL, list(PUBLISHED_GROUPINGS)])
    # What no canonical cell can vouch for is « s » (a cell of a published level and category) or never shown.
    con.execute("""
        UPDATE mart SET secret = CASE WHEN niveau <> ? AND list_contains(?, groupement)
                                           AND EXISTS (SELECT 1 FROM ref_groupes g WHERE g.groupement = mart.groupement
                                                       AND g.groupe_code = mart.groupe_code)
                                      THEN 'secondaire' ELSE 'non_diffuse' END
        WHERE mesure = ? AND secret = 'a_evaluer'""", [UNPUBLISHED_LEVEL, list(PUBLISHED_GROUPINGS), mesure])
    # Territories that are not canonical (a custom perimeter's TI, an EPCI held in part), said once on the Sources
    # page; never which of their cells the rule withheld.
    custom = con.execute("""SELECT DISTINCT niveau, code FROM ref_appartenance WHERE (niveau, code) NOT IN
                            (SELECT f.niveau, f.code FROM s_full f JOIN (SELECT niveau, code, count(*) AS n FROM ref_appartenance
                             GROUP BY ALL) o USING (niveau, code) WHERE o.n = f.n) ORDER BY ALL""").fetchall()
    con.execute("INSERT OR REPLACE INTO meta VALUES ('secret_sur_mesure', ?)", [json.dumps(custom)])
    con.execute("DROP TABLE s_full")
    con.execute("DROP TABLE s_decomp")


def protect(con: duckdb.DuckDBPyConnection, rules: Rules | None = None) -> dict[str, int]:
    """Compute and store `mart.secret` for every firm-level row; returns the number of cells by status."""
    rules = rules or Rules.from_env()
    # A warehouse loaded before the file's rows were kept whole: its firm rows stand for the file.
    con.execute("""CREATE TABLE IF NOT EXISTS firmes_fichier (source_id INTEGER NOT NULL, siret VARCHAR NOT NULL,
                   siren VARCHAR NOT NULL, naf_code VARCHAR NOT NULL, commune VARCHAR NOT NULL, annee INTEGER NOT NULL,
                   ca_eur DOUBLE)""")
    if con.execute("SELECT count(*) FROM firmes_fichier").fetchall()[0][0] == 0:
        con.execute("INSERT INTO firmes_fichier SELECT source_id, siret, siren, naf_code, commune, annee, ca_eur FROM firmes")
    for mesure in MAGNITUDE_MEASURES:
        file_statuses(con, mesure, rules)
        _apply(con, mesure)
    counts = {s: 0 for s in STATUSES}
    for s, c in con.execute("SELECT secret, count(*) FROM mart WHERE secret IS NOT NULL GROUP BY 1").fetchall():
        counts[s] = counts.get(s, 0) + c
    return counts
