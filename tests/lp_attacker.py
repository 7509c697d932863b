"""An interval attack on everything the read side publishes, written apart from etl/secret.py.

The attacker reads what `query.get` returns (what pages, CLI, CSVs, slides and the annex show) for every
turnover indicator, level and year, the public reference (communes' territories, NAF -> categories) and,
as a coalition, what every firm alone in a hidden cell knows of itself (from the warehouse's firm rows).
Unknowns: the turnover of each commune in each NAF piece (sous-classes with the same categories), >= 0,
0 where the commune's published value for a category containing it is 0. Each published cell is one linear
equation. For each primary secret cell (recomputed here from the firm rows), linear programming gives the
interval of values consistent with all that; the test asserts it reaches p % below and above the truth.
"""
from __future__ import annotations

from collections import defaultdict

import duckdb
import highspy
import numpy as np
import pandas as pd
from scipy import sparse

from indicators import query

INDICATORS = [("ca_secteur", "coeur", "secteur"), ("ca_total", "coeur", "champ"),
              ("ca_filiere", "coeur", "filiere_coeur"), ("ca_filiere", "elargi", "filiere_elargi")]
GROWTHS = ["croissance_ca_secteur", "taux_croissance_ca_secteur", "taux_croissance_ca"]


class _LP:
    """The published equations A x = b, x in [lb, ub], loaded once into HiGHS: each target's interval changes
    only the objective (and the coalition's bounds), and the simplex restarts from the last basis."""

    def __init__(self, a, b):
        a = sparse.csc_matrix(a)
        self.n = a.shape[1]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n), np.full(self.n, highspy.kHighsInf)
        lp.row_lower_ = lp.row_upper_ = np.asarray(b, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(lp)
        self.cols = np.arange(self.n, dtype=np.int32)
        self.cost = np.zeros(self.n)

    def interval(self, obj, lb=None, ub=None) -> tuple[float, float]:
        """(min, max) of obj . x; max is inf when unbounded."""
        h = self.h
        if lb is not None:
            h.changeColsBounds(self.n, self.cols, lb, np.where(np.isinf(ub), highspy.kHighsInf, ub))
        changed = np.flatnonzero(obj != self.cost).astype(np.int32)
        h.changeColsCost(len(changed), changed, obj[changed].astype(float))
        self.cost = obj.copy()
        out = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            h.changeObjectiveSense(sense)
            h.run()
            status = h.getModelStatus()
            if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded):
                h.clearSolver()     # a restart from a basis of other bounds can end badly: solve afresh
                h.run()
                status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                out.append(h.getInfo().objective_function_value)
            else:
                assert sense == highspy.ObjSense.kMaximize and status in (
                    highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible), status
                out.append(np.inf)
        return out[0], out[1]


def published(snap, years: list[int]) -> pd.DataFrame:
    """Every turnover cell any output can show: niveau, code, annee, groupement, groupe_code, valeur, statut."""
    frames = []
    levels = [n for n in query.NIVEAUX
              if snap.rows("SELECT 1 FROM ref_territoires WHERE niveau = ? LIMIT 1", [n])]
    for niveau in levels:
        for name, definition, groupement in INDICATORS:
            df = query.get(snap, name, niveau, annees=years, definition=definition)
            cat = next((c for c in ("secteur_code", "filiere_code") if c in df), None)
            frames.append(pd.DataFrame({"niveau": niveau, "code": df.code, "annee": df.annee.astype(int),
                                        "groupement": groupement,
                                        "groupe_code": df[cat] if cat else "CHAMP",
                                        "valeur": df.valeur, "statut": df.statut}))
    return pd.concat(frames, ignore_index=True)


def growth_leaks(snap, years: list[int]) -> list:
    """Published growths whose base or current level is secret (they would give one from the other)."""
    cells = published(snap, years).set_index(["niveau", "code", "annee", "groupement", "groupe_code"]).statut
    out = []
    for niveau in ("epci", "departement"):
        for name in GROWTHS:
            for y in years[1:]:
                g = query.get(snap, name, niveau, annee=y)
                cat = "secteur_code" if "secteur_code" in g else None
                grp = "secteur" if cat else "champ"
                for r in g[g.statut.ne("secret") & g.statut.ne("absent")].itertuples():
                    gc = getattr(r, cat) if cat else "CHAMP"
                    for yy in (y, r.annee_base):
                        if cells.get((niveau, r.code, int(yy), grp, gc)) == "secret":
                            out.append((name, niveau, r.code, y, gc))
    return out


def truth(warehouse, rules=(3, 0.85)) -> pd.DataFrame:
    """Per published-level cell: true turnover, contributing firms, largest firm; primary per the rules."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        df = con.execute("""
            WITH cells AS (
                SELECT a.niveau, a.code, f.annee, m.groupement, m.groupe_code, f.siren, sum(f.ca_eur) AS ca
                FROM firmes f JOIN ref_appartenance a ON a.commune = f.commune
                JOIN ref_naf_map m ON m.naf_niveau = 'sous_classe' AND m.naf_code = f.naf_code
                WHERE f.ca_eur IS NOT NULL AND m.groupement IN ('secteur', 'champ', 'filiere_coeur', 'filiere_elargi')
                GROUP BY ALL)
            SELECT niveau, code, annee, groupement, groupe_code, sum(ca) AS valeur, count(*) AS n, max(ca) AS top,
                   CASE WHEN count(*) = 1 THEN any_value(siren) END AS seule
            FROM cells GROUP BY ALL""").fetchdf()
    finally:
        con.close()
    df["primary"] = (df.n < rules[0]) | (df.top >= rules[1] * df.valeur)
    return df


def firm_atoms(warehouse) -> pd.DataFrame:
    """Each firm's turnover by commune and sous-classe (what a firm knows of itself)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("""SELECT siren, annee, commune, naf_code, sum(ca_eur) AS ca FROM firmes
                              WHERE ca_eur IS NOT NULL GROUP BY ALL""").fetchdf()
    finally:
        con.close()


class Attacker:
    def __init__(self, snap, warehouse, years: list[int], cells: pd.DataFrame | None = None):
        self.cells = published(snap, years) if cells is None else cells
        self.warehouse = warehouse
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            self.app = con.execute("SELECT commune, niveau, code FROM ref_appartenance").fetchdf()
            cats = con.execute("""SELECT naf_code, groupement, groupe_code FROM ref_naf_map WHERE naf_niveau = 'sous_classe'
                                  AND groupement IN ('secteur', 'champ', 'filiere_coeur', 'filiere_elargi')""").fetchdf()
        finally:
            con.close()
        shown = set(zip(self.cells.groupement, self.cells.groupe_code))
        cats = cats[[(g, c) in shown for g, c in zip(cats.groupement, cats.groupe_code)]]
        sig = cats.groupby("naf_code").apply(lambda g: frozenset(zip(g.groupement, g.groupe_code)), include_groups=False)
        self.piece_of_naf = {naf: s for naf, s in sig.items()}
        self.pieces = sorted(set(sig), key=sorted)
        self.terr = defaultdict(set)   # (niveau, code) -> communes
        for c, n, t in zip(self.app.commune, self.app.niveau, self.app.code):
            self.terr[(n, t)].add(c)
        self.firms = firm_atoms(warehouse)
        self.truth = truth(warehouse)

    def year(self, annee: int):
        cells = self.cells[self.cells.annee == annee]
        communes = sorted(set(self.app.commune))
        zero = cells[(cells.niveau == "commune") & (cells.valeur == 0)]
        zero = set(zip(zero.code, zero.groupement, zero.groupe_code))
        var = {}
        for c in communes:
            for p in self.pieces:
                if not any((c, g, gc) in zero for g, gc in p):
                    var[(c, p)] = len(var)
        rows, cols, keys, vals, hidden = [], [], [], [], []
        for r in cells[cells.niveau != "commune"].itertuples():
            if r.statut == "absent":
                continue
            members = [var[(c, p)] for c in self.terr[(r.niveau, r.code)] for p in self.pieces
                       if (r.groupement, r.groupe_code) in p and (c, p) in var]
            k = len(keys)
            keys.append((r.niveau, r.code, r.groupement, r.groupe_code))
            rows += [k] * len(members)
            cols += members
            vals.append(r.valeur)
            hidden.append(r.statut == "secret")
        a = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(keys), len(var)))
        return var, keys, a, np.array(vals, dtype=float), np.array(hidden, dtype=bool)

    def intervals(self, annee: int, coalition: bool = True) -> list[dict]:
        """The feasible interval of every primary secret cell of that year."""
        var, keys, a, vals, hidden = self.year(annee)
        t = self.truth[self.truth.annee == annee].set_index(["niveau", "code", "groupement", "groupe_code"])
        firms = self.firms[self.firms.annee == annee]
        pub = ~hidden
        a_eq, b_eq = a[pub], vals[pub]
        out, lp = [], _LP(a_eq, b_eq)
        known: dict[int, tuple] = {}
        lone = [k for k, h in enumerate(hidden) if h and keys[k] in t.index and t.loc[keys[k]].n == 1]
        for i in np.flatnonzero(hidden).tolist():
            if keys[i] not in t.index or not t.loc[keys[i]].primary:
                continue
            true = float(t.loc[keys[i]].valeur)
            lb, ub = np.zeros(len(var)), np.full(len(var), np.inf)
            if coalition:
                # Every firm alone in another hidden cell, not itself in cell i, knows its own figures.
                members_i = set(firms_in(self, keys[i], firms))
                for j in lone:
                    siren = t.loc[keys[j]].seule
                    if j == i or siren in members_i:
                        continue
                    idx, v = known.get(j) or known.setdefault(j, self._known(keys[j], siren, firms, var))
                    lb[idx] = ub[idx] = v
            lo, hi = lp.interval(a[i].toarray().ravel(), lb, ub)
            out.append({"cell": keys[i], "annee": annee, "valeur": true, "min": lo, "max": hi})
        return out


    def _known(self, key, siren, firms, var):
        """What the firm alone in cell `key` knows: its own turnover in each unknown of that cell."""
        mine = defaultdict(float)
        for r in firms[firms.siren == siren].itertuples():
            p = self.piece_of_naf.get(r.naf_code)
            if p is not None:
                mine[(r.commune, p)] += r.ca
        niveau, code, g, gc = key
        cells = [(c, p) for c in self.terr[(niveau, code)] for p in self.pieces if (g, gc) in p and (c, p) in var]
        return np.array([var[k] for k in cells], dtype=np.int64), np.array([mine.get(k, 0.0) for k in cells])


def firms_in(att: Attacker, key, firms: pd.DataFrame) -> list[str]:
    niveau, code, g, gc = key
    communes = att.terr[(niveau, code)]
    f = firms[firms.commune.isin(communes)]
    return [s for s, naf in zip(f.siren, f.naf_code) if (g, gc) in att.piece_of_naf.get(naf, frozenset())]


class JointAttacker:
    """Everything several warehouses built from one chamber file publish, attacked together: each published
    cell of each warehouse is an equation over its own territory's communes (a custom perimeter's TI too).
    Unknowns: each commune's turnover in each NAF piece, >= 0, 0 where a warehouse publishes the commune's
    category as 0. Targets: every sensitive set of firms (primary rule) among the « s » cells of any warehouse
    and the commune cells (commune x category, never published)."""

    def __init__(self, warehouses: list, years: list[int], rules=(3, 0.85)):
        from indicators.db import get_warehouse

        self.years, self.rules = years, rules
        self.cells, self.terr = [], defaultdict(set)
        for w, path in enumerate(warehouses):
            cells = published(get_warehouse(path).snapshot(), years)
            self.cells.append(cells.assign(w=w))
            con = duckdb.connect(str(path), read_only=True)
            try:
                for c, n, t in con.execute("SELECT commune, niveau, code FROM ref_appartenance").fetchall():
                    self.terr[(w, n, t)].add(c)
                if w == 0:
                    cats = con.execute("""SELECT naf_code, groupement, groupe_code FROM ref_naf_map
                                          WHERE naf_niveau = 'sous_classe' AND groupement IN
                                          ('secteur', 'champ', 'filiere_coeur', 'filiere_elargi')""").fetchdf()
                    self.firms = con.execute("""SELECT siren, annee, commune, naf_code, sum(ca_eur) AS ca FROM firmes_fichier
                                                WHERE ca_eur IS NOT NULL GROUP BY ALL""").fetchdf()
            finally:
                con.close()
        for (w, n, t), cs in list(self.terr.items()):
            if n == "epci":
                for c in cs:
                    self.terr[(w, "commune", c)].add(c)
        self.cells = pd.concat(self.cells, ignore_index=True)
        shown = set(zip(self.cells.groupement, self.cells.groupe_code))
        cats = cats[[(g, c) in shown for g, c in zip(cats.groupement, cats.groupe_code)]]
        sig = cats.groupby("naf_code").apply(lambda g: frozenset(zip(g.groupement, g.groupe_code)), include_groups=False)
        self.piece_of_naf = dict(sig.items())
        self.pieces = sorted(set(sig), key=sorted)
        self.firms = self.firms[self.firms.naf_code.isin(self.piece_of_naf)]

    def _truth(self, annee: int, communes, g: str, gc: str) -> tuple[float, int, float]:
        f = self.firms[(self.firms.annee == annee) & self.firms.commune.isin(communes)]
        f = f[[(g, gc) in self.piece_of_naf[n] for n in f.naf_code]]
        per = f.groupby("siren").ca.sum()
        return float(per.sum()), len(per), float(per.max()) if len(per) else 0.0

    def intervals(self, annee: int) -> list[dict]:
        cells = self.cells[self.cells.annee == annee]
        zero = cells[(cells.niveau == "commune") & (cells.valeur == 0)]
        zero = set(zip(zero.code, zero.groupement, zero.groupe_code))
        communes = sorted(set(self.firms.commune))   # a commune without any firm is a published zero anyway
        var = {(c, p): None for c in communes for p in self.pieces if not any((c, g, gc) in zero for g, gc in p)}
        var = {k: i for i, k in enumerate(var)}

        def row(cs, g, gc):
            return [var[(c, p)] for c in cs for p in self.pieces if (g, gc) in p and (c, p) in var]

        eq_rows, eq_cols, b, targets = [], [], [], {}
        for r in cells[(cells.niveau != "commune") & (cells.statut != "absent")].itertuples():
            cs = self.terr[(r.w, r.niveau, r.code)]
            if r.statut == "secret":
                targets.setdefault((frozenset(cs), r.groupement, r.groupe_code), (r.w, r.niveau, r.code))
                continue
            k = len(b)
            members = row(cs, r.groupement, r.groupe_code)
            eq_rows += [k] * len(members)
            eq_cols += members
            b.append(r.valeur)
        for c in communes:
            for g, gc in sorted({k for p in self.pieces for k in p}):
                targets.setdefault((frozenset([c]), g, gc), ("commune", c))
        a = sparse.csr_matrix((np.ones(len(eq_rows)), (eq_rows, eq_cols)), shape=(len(b), len(var)))
        out, lp = [], _LP(a, b)
        for (cs, g, gc), label in targets.items():
            value, n, top = self._truth(annee, cs, g, gc)
            if not (0 < n < self.rules[0] or (n >= self.rules[0] and value > 0 and top >= self.rules[1] * value)):
                continue   # not sensitive
            obj = np.zeros(len(var))
            obj[row(cs, g, gc)] = 1.0
            lo, hi = lp.interval(obj)
            out.append({"cell": (label, g, gc), "annee": annee, "valeur": value, "min": lo, "max": hi})
        return out
