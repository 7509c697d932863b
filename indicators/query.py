"""get(): one indicator as a tidy DataFrame, for pages, exports and the command line alike.

Columns: code, nom, niveau, annee, [secteur_code, secteur | filiere_code, filiere], valeur, statut,
note, source, demo (+ hors_departement for communes, annee_base for growths). A secret or absent
value is NaN, never 0. Firm-level figures go through the secret rules here, before returning.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from . import secret
from .catalog import Indicator, get as get_indicator
from .db import Snapshot

NIVEAUX = ["commune", "epci", "ti", "departement", "region", "france"]
NIVEAU_LABELS = {"commune": "commune", "epci": "EPCI", "ti": "Territoire d'industrie", "departement": "département",
                 "region": "région", "france": "France"}
_STATUT_RANK = {"ok": 0, "partiel": 1, "absent": 2, "secret": 3}


def _groupement(ind: Indicator, definition: str) -> str:
    if ind.groupement == "filiere":
        if definition not in ("coeur", "elargi"):
            raise ValueError(f"définition de filière inconnue « {definition} » (coeur ou elargi)")
        return f"filiere_{definition}"
    return ind.groupement


_REF: dict[tuple, pd.DataFrame] = {}


def _reference(snap: Snapshot, key: tuple, sql: str, params: list) -> pd.DataFrame:
    """Reference tables change only with the data version: read once per version (a copy is returned)."""
    k = (snap.version, *key)
    df = _REF.get(k)
    if df is None:
        df = snap.df(sql, params)
        if len(_REF) > 256:
            _REF.clear()
        _REF[k] = df
    return df.copy()


def territories(snap: Snapshot, niveau: str, codes: list[str] | None = None, perimetre: bool = False) -> pd.DataFrame:
    """Territories of a level in reference order. `perimetre`: only the territory's perimeter (column
    `perimetre`: the TI, its member EPCI and communes, its reference départements, régions and France;
    column `role`: membre, reference, voisin or empty, see indicators/perimeter.py)."""
    if niveau not in NIVEAUX:
        raise ValueError(f"niveau inconnu « {niveau} » ({', '.join(NIVEAUX)})")
    df = _reference(snap, ("territoires", niveau), """
        SELECT t.code, t.nom, t.nom_court, t.ordre, c.hors_departement, t.perimetre, t.role
        FROM ref_territoires t LEFT JOIN ref_communes c ON t.niveau = 'commune' AND c.code = t.code
        WHERE t.niveau = ? ORDER BY t.ordre, t.code""", [niveau])
    if perimetre:
        df = df[df.perimetre].reset_index(drop=True)
    if codes is not None:
        df = df[df.code.isin(list(codes))].reset_index(drop=True)
    return df


def perimeter(snap: Snapshot, niveau: str) -> list[str]:
    """Codes of the territory's perimeter at that level, in reference order (what pages show by default)."""
    return territories(snap, niveau, perimetre=True).code.tolist()


def categories(snap: Snapshot, groupement: str) -> pd.DataFrame:
    return _reference(snap, ("categories", groupement),
                      "SELECT groupe_code, libelle, ordre FROM ref_groupes WHERE groupement = ? ORDER BY ordre, groupe_code",
                      [groupement])


_YEARS: dict[tuple, list[int]] = {}


def _mart_years(snap: Snapshot, mesure: str, groupements: list[str], niveaux: list[str]) -> list[int]:
    """Years the mart has for a measure (read once per data version; the mart is stored sorted by
    measure, grouping and level, so this filtered read skips most of it)."""
    k = (snap.version, mesure, tuple(groupements), tuple(niveaux))
    out = _YEARS.get(k)
    if out is None:
        out = [int(r[0]) for r in snap.rows(
            "SELECT DISTINCT annee FROM mart WHERE mesure = ? AND list_contains(?, groupement) AND list_contains(?, niveau) "
            "ORDER BY 1", [mesure, list(groupements), list(niveaux)])]
        if len(_YEARS) > 1024:
            _YEARS.clear()
        _YEARS[k] = out
    return list(out)


def years(snap: Snapshot, name: str, niveau: str = "departement", definition: str = "coeur") -> list[int]:
    """Years for which the indicator has at least one value at that level."""
    ind = get_indicator(name)
    if ind.kind == "foncier":  # inventories of economic zones: one state, the year of its latest update
        from . import foncier_query
        return foncier_query.years(snap)
    return _mart_years(snap, ind.mesure, [_groupement(ind, definition)], [niveau])


class _Sql:
    """One statement over the mart for one measure (and optionally some territory codes): its named
    parameters (DuckDB `$name`) and its mart scans, one per level and grouping, shared by every part of
    the statement and written as CTEs in front of it (`statement`)."""

    def __init__(self, mesure: str, codes: list[str] | None):
        self.params: dict = {}
        self.mesure, self.codes = mesure, codes
        self.scans: dict[tuple[str, str], list] = {}   # (niveau, groupement) -> [name, years, groupes or None]

    def __call__(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return "$" + name

    def scan(self, niveau: str, groupement: str, annees: list[int], groupes: list[str] | None = None) -> str:
        """Name of the CTE holding the mart rows of that level and grouping for those years (and categories;
        None: all of them)."""
        s = self.scans.setdefault((niveau, groupement), [f"scan{len(self.scans)}", set(), set()])
        s[1].update(int(a) for a in annees)
        s[2] = None if groupes is None or s[2] is None else s[2] | set(groupes)
        return s[0]

    def codes_filter(self, column: str) -> str:
        return f" AND list_contains(CAST({self(list(self.codes))} AS VARCHAR[]), {column})" if self.codes is not None else ""

    def statement(self, sql: str) -> str:
        # One plain scan per level and grouping: equalities let DuckDB skip the mart's other row groups
        # (the mart is stored sorted by measure, grouping and level); each is read once (MATERIALIZED).
        ctes = []
        for (niveau, groupement), (name, years, groupes) in self.scans.items():
            where = (f"m.mesure = {self(self.mesure)} AND m.niveau = {self(niveau)} AND m.groupement = {self(groupement)} "
                     f"AND {_in(self, 'm.annee', sorted(years))}{self.codes_filter('m.code')}")
            if groupes is not None:
                where += f" AND {_in(self, 'm.groupe_code', sorted(groupes))}"
            ctes.append(f"""{name} AS MATERIALIZED (
                SELECT m.niveau, m.code, m.annee, m.groupement, m.groupe_code, m.valeur, m.statut, m.nb_contrib,
                       m.max_contrib, m.n_couvertes, m.n_membres, m.source_id
                FROM mart m JOIN sources s USING (source_id) WHERE {where})""")
        return ("WITH " + ",\n".join(ctes) + "\n" if ctes else "") + sql


def _in(q: _Sql, column: str, values: list) -> str:
    """`column = $p` or `column IN ($p, ...)`: plain comparisons let DuckDB skip row groups (min/max)."""
    if not values:
        return "false"
    if len(values) == 1:
        return f"{column} = {q(values[0])}"
    return f"{column} IN ({', '.join(q(v) for v in values)})"


def _level_sql(q: _Sql, snap: Snapshot, ind: Indicator, groupement: str | list[str], niveau: str | list[str],
               annees: list[int], groupes: list[str] | None = None, protect: bool = True) -> str:
    """A SELECT of mart values for every territory (q.codes) x year x category asked (columns niveau, code,
    annee, yi, gi, groupement, groupe_code, valeur, statut, note, source_id, nb_contrib, max_contrib; yi and
    gi are the positions in `annees` and in the categories): zero-filled where a source covers the
    territory-year for the measure (a missing category there is a true zero), absent elsewhere; firm-level
    values after the primary secret, and after the secondary one unless `protect` is False (one level and
    grouping). Several groupings or levels (the secret's tables) take every category of each grouping."""
    groupements = [groupement] if isinstance(groupement, str) else list(groupement)
    niveaux = [niveau] if isinstance(niveau, str) else list(niveau)
    cats = [(gr, gc) for gr in groupements
            for gc in (groupes if groupes is not None else categories(snap, gr).groupe_code.tolist())]
    a = f"CAST({q([int(x) for x in annees])} AS BIGINT[])"
    gg, gc = f"CAST({q([c[0] for c in cats])} AS VARCHAR[])", f"CAST({q([c[1] for c in cats])} AS VARCHAR[])"
    values = " UNION ALL ".join(f"SELECT * FROM {q.scan(n, gr, annees, groupes)}" for n in niveaux for gr in groupements)
    covered = " UNION ALL ".join(f"SELECT niveau, code, annee, statut, source_id FROM {q.scan(n, 'total', annees)}"
                                 for n in niveaux)
    # Join keys: level and grouping only when there are several (fewer keys, cheaper joins).
    keys_m = ["code", "annee", "groupe_code"] + (["niveau"] if len(niveaux) > 1 else []) + (["groupement"] if len(groupements) > 1 else [])
    on_m = " AND ".join(f"m.{k} = {'y' if k == 'annee' else 'g' if k in ('groupe_code', 'groupement') else 't'}.{k}" for k in keys_m)
    on_c = "c.code = t.code AND c.annee = y.annee" + (" AND c.niveau = t.niveau" if len(niveaux) > 1 else "")
    zero = "m.statut IS NULL AND c.statut IS NOT NULL"
    sql = f"""
        SELECT v.*, CASE
                   WHEN statut = 'partiel' AND n_couvertes < n_membres
                        THEN 'Agrégat partiel : ' || n_couvertes || ' communes sur ' || n_membres || ' couvertes par le fichier'
                   WHEN statut = 'partiel' THEN 'Agrégat partiel : certaines valeurs communales sont en secret statistique'
                   WHEN statut = 'secret' THEN 'Secret statistique (valeur non diffusée par le producteur)'
                   WHEN statut = 'absent' AND niveau IN ('region', 'france')
                        THEN 'Non calculable : seul un fichier national (toutes leurs communes) donne la région et la France'
                   WHEN statut = 'absent' THEN 'Aucune donnée chargée : charger ' || {q(ind.source_hint)}
                   ELSE '' END AS note
        FROM (
            SELECT t.niveau, t.code, y.annee, y.yi, g.gi, g.groupement, g.groupe_code,
                   CASE WHEN {zero} THEN 0.0 ELSE m.valeur END AS valeur,
                   coalesce(m.statut, c.statut, 'absent') AS statut,
                   CAST(CASE WHEN {zero} THEN 0 ELSE m.nb_contrib END AS DOUBLE) AS nb_contrib,
                   CAST(m.max_contrib AS DOUBLE) AS max_contrib, m.n_couvertes, m.n_membres,
                   CASE WHEN {zero} THEN c.source_id ELSE m.source_id END AS source_id
            FROM (SELECT niveau, code FROM ref_territoires WHERE {_in(q, 'niveau', niveaux)}{q.codes_filter('code')}) t
            CROSS JOIN (SELECT i AS yi, {a}[i] AS annee FROM range(1, len({a}) + 1) r(i)) y
            CROSS JOIN (SELECT i AS gi, {gg}[i] AS groupement, {gc}[i] AS groupe_code FROM range(1, len({gg}) + 1) r(i)) g
            LEFT JOIN ({values}) m ON {on_m}
            LEFT JOIN ({covered}) c ON {on_c}
        ) v"""
    if not ind.firm_level:
        return sql
    sql = secret.primary_sql(sql, q, secret.Rules.from_env())
    if protect:
        assert len(niveaux) == 1 and len(groupements) == 1, "secondary secret: one level and one grouping"
        sql = _secondary_sql(q, snap, ind, groupements[0], niveaux[0], annees, q.codes, sql)
    return sql


# --- secondary secret: one suppression pattern per table family and year ----------------------------

# Firm-level tables published with margins: groupement -> (family, row margin (groupement, code) or None).
# The candidature's sectors add up to the 'champ' total of each territory; filières are not added up
# (élargi filières overlap and no output publishes their sum), their only margin is the département.
_FAMILY = {"secteur": ("secteur", ("champ", "CHAMP")), "champ": ("secteur", ("champ", "CHAMP")),
           "filiere_coeur": ("filiere_coeur", None), "filiere_elargi": ("filiere_elargi", None)}
_MARGIN_NIVEAUX = ("epci", "ti", "departement")
# Levels published as sums of EPCI (their parts outside them taken as known): the TI and the département.
_PARENT_NIVEAUX = ("ti", "departement")


def _family(groupement: str) -> tuple[str, tuple[str, str] | None]:
    return _FAMILY.get(groupement, (groupement, None))


def secret_universe(snap: Snapshot, ind: Indicator, groupement: str, annee: int | None = None,
                    territoires: dict[str, list[str]] | None = None) -> tuple[pd.DataFrame, list]:
    """The largest table any output publishes for that family (and year), with its additive relations.

    Cells: every EPCI and département x every category (+ the row margin), for every year (or
    `annee`; `territoires`: only those codes, by niveau). Relations, within a year: margin = sum of
    categories for each territory; TI or département = sum of the EPCIs for each category (the EPCIs' part
    outside it is taken as known, to be safe). Returns the cells (after the primary rule:
    primary cells have NaN values, `primary` True) and the relations as (total index, [part indices]).
    """
    family, margin = _family(groupement)
    groupements = [family] + ([margin[0]] if margin and margin[0] != family else [])
    annees = [int(annee)] if annee is not None else _universe_years(snap, ind.mesure, groupements)
    codes = None if territoires is None else [c for niveau in _MARGIN_NIVEAUX for c in territoires.get(niveau, [])]
    q = _Sql(ind.mesure, codes)  # EPCI SIRENs and département codes never collide: one list for both levels
    sql = _level_sql(q, snap, ind, groupements, list(_MARGIN_NIVEAUX), annees, None, protect=False)
    cells = snap.df(q.statement(f"SELECT niveau, code, annee, groupement, groupe_code, valeur, statut, note, nb_contrib, "
                                f"max_contrib FROM ({sql}) l ORDER BY annee, groupement, niveau, code, groupe_code"), q.params)
    absent = cells.statut.eq("absent")
    cells.loc[absent, "valeur"] = 0.0      # no file covers it: nothing in the totals either
    cells.loc[absent, "nb_contrib"] = 0
    cells["primary"] = cells.statut.eq("secret")
    keys = list(zip(cells.annee.tolist(), cells.niveau.tolist(), cells.code.tolist(), cells.groupement.tolist(),
                    cells.groupe_code.tolist()))
    # A TI or a département is the sum of the EPCIs with communes in it (their part outside it taken as known).
    deps = _departements_of(snap)
    parts_of_margin: dict[tuple, list[int]] = {}
    parts_of_dep: dict[tuple, list[int]] = {}
    for i, (annee_, niveau, code, g, gc) in enumerate(keys):
        if margin and g == family:
            parts_of_margin.setdefault((annee_, niveau, code), []).append(i)
        if niveau == "epci":
            for d in deps.get(code, ()):
                parts_of_dep.setdefault((annee_, *d, g, gc), []).append(i)
    relations = []
    for i, (annee_, niveau, code, g, gc) in enumerate(keys):
        if margin and (g, gc) == margin:
            relations.append((i, parts_of_margin.get((annee_, niveau, code), [])))
        if niveau in _PARENT_NIVEAUX:
            relations.append((i, parts_of_dep.get((annee_, niveau, code, g, gc), [])))
    return cells, relations


def _universe_years(snap: Snapshot, mesure: str, groupements: list[str]) -> list[int]:
    return _mart_years(snap, mesure, groupements, list(_MARGIN_NIVEAUX))


def _epci_departements(snap: Snapshot) -> pd.DataFrame:
    return _reference(snap, ("epci_parents",), """
        SELECT DISTINCT e.code AS epci, d.niveau, d.code AS parent
        FROM ref_appartenance e JOIN ref_appartenance d USING (commune)
        WHERE e.niveau = 'epci' AND d.niveau IN ('ti', 'departement') ORDER BY ALL""", [])


_DEPS: dict[str, dict[str, list[str]]] = {}


def _departements_of(snap: Snapshot) -> dict[str, list[str]]:
    """EPCI -> the (niveau, code) of the TI and départements it has communes in; once per data version."""
    deps = _DEPS.get(snap.version)
    if deps is None:
        deps = {}
        members = _epci_departements(snap)
        for e, n, d in zip(members.epci.tolist(), members.niveau.tolist(), members.parent.tolist()):
            deps.setdefault(e, []).append((n, d))
        if len(_DEPS) > 8:
            _DEPS.clear()
        _DEPS[snap.version] = deps
    return deps


def _find(parent: list[int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _components(n: int, relations: list) -> list[np.ndarray]:
    """Cells linked by the relations (union-find): each group can be protected on its own."""
    parent = list(range(n))
    for total, parts in relations:
        rt = _find(parent, total)
        for p in parts:
            rp = _find(parent, p)
            if rp != rt:
                parent[rp] = rt
    roots = np.array([_find(parent, i) for i in range(n)])
    return [np.flatnonzero(roots == r) for r in np.unique(roots)]


def protect_cells(cells: pd.DataFrame, relations: list, groupement: str, deps: dict[str, list[str]]) -> pd.DataFrame:
    """The cells with their suppression pattern: each independent group (cells the relations link) is
    protected on its own. Adds masque ('primaire', 'secondaire', ''), conseil and comp (group number).
    `deps`: EPCI -> départements (see _departements_of)."""
    n = len(cells)
    comps = _components(n, relations)
    comp_of = np.zeros(n, dtype=np.int64)
    for k, comp in enumerate(comps):
        comp_of[comp] = k
    by_comp: list[list] = [[] for _ in comps]
    for t, parts in relations:
        by_comp[comp_of[t]].append((t, parts))
    values = cells.valeur.to_numpy(dtype=float)
    primary = cells.primary.to_numpy(dtype=bool)
    contrib = cells.nb_contrib.astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    masque = np.full(n, "", dtype=object)
    conseil = np.full(n, "", dtype=object)
    for k, cell in enumerate(comps):
        if not primary[cell].any():  # nothing secret in a group: nothing to protect
            continue
        pos = {int(g): i for i, g in enumerate(cell)}
        rels = [(pos[t], [pos[p] for p in parts]) for t, parts in by_comp[k]]
        extra = secret.suppress(values[cell], primary[cell], rels, contrib[cell])
        sub = cells.iloc[cell].copy()
        sub["masque"] = np.where(primary[cell], "primaire", np.where(extra, "secondaire", ""))
        masque[cell] = sub.masque.to_numpy()
        conseil[cell] = _coarser(sub, groupement, deps).to_numpy()
    return cells.assign(masque=masque, conseil=conseil, comp=comp_of)


class _Family:
    """Secondary secret of one table family for one data version and rule set, computed group by group.

    A group is one year and one cluster of territories: a département and the EPCIs with communes in
    it, joined transitively when an EPCI spans two départements (no relation links two clusters, so at
    national scale one département never needs the rest of France). A group's cells are read from the
    mart filtered to it, the first time one of its cells is asked for.
    """

    def __init__(self, snap: Snapshot, ind: Indicator, groupement: str):
        family, margin = _family(groupement)
        self.groupement = groupement
        self.years = set(_universe_years(snap, ind.mesure, [family] + ([margin[0]] if margin and margin[0] != family else [])))
        self.deps = _departements_of(snap)
        nodes = [(n, c) for n, c in snap.rows("SELECT niveau, code FROM ref_territoires WHERE niveau IN ('epci', 'ti', 'departement')")]
        index = {node: i for i, node in enumerate(nodes)}
        parent = list(range(len(nodes)))
        for e, ds in self.deps.items():
            for d in ds:
                if ("epci", e) in index and d in index:
                    ra, rb = _find(parent, index[("epci", e)]), _find(parent, index[d])
                    if ra != rb:
                        parent[ra] = rb
        self.cluster_of = {node: _find(parent, i) for node, i in index.items()}
        self.clusters: dict[int, dict[str, list[str]]] = {}
        for (niveau, code), k in self.cluster_of.items():
            self.clusters.setdefault(k, {n: [] for n in _MARGIN_NIVEAUX})[niveau].append(code)
        self.done: set[tuple[int, int]] = set()
        self.table = pd.DataFrame()    # computed cells, with masque, conseil and comp (group number)
        self.n_comps = 0
        self.masked = pd.DataFrame()   # the masked ones (what the outputs need)
        self.lock = threading.Lock()

    def _wanted(self, niveau: str | None, codes: list[str] | None, annees: list[int] | None):
        niveaux = _MARGIN_NIVEAUX if niveau is None else [niveau]
        clusters = {k for (n, c), k in self.cluster_of.items() if n in niveaux} if codes is None else \
            {self.cluster_of[(n, c)] for n in niveaux for c in set(codes) if (n, c) in self.cluster_of}
        years = self.years if annees is None else self.years & {int(a) for a in annees}
        return sorted(years), clusters

    def ensure(self, snap: Snapshot, ind: Indicator, niveau: str | None, codes: list[str] | None,
               annees: list[int] | None) -> None:
        """Compute the groups holding the cells asked for (once: later calls find them done)."""
        years, clusters = self._wanted(niveau, codes, annees)
        if all((y, k) in self.done for y in years for k in clusters):
            return
        with self.lock:
            frames = [self.table]
            for y in years:
                todo = sorted(k for k in clusters if (y, k) not in self.done)
                if not todo:
                    continue
                terr = None
                if len(todo) < len(self.clusters):
                    terr = {n: [c for k in todo for c in self.clusters[k][n]] for n in _MARGIN_NIVEAUX}
                cells, relations = secret_universe(snap, ind, self.groupement, y, terr)
                cells = protect_cells(cells, relations, self.groupement, self.deps)
                cells["comp"] += self.n_comps
                self.n_comps = int(cells.comp.max()) + 1 if len(cells) else self.n_comps
                frames.append(cells)
                self.done.update((y, k) for k in todo)
            self.table = pd.concat([f for f in frames if len(f)], ignore_index=True)
            self.masked = self.table[self.table.masque.ne("")][
                ["niveau", "groupement", "code", "annee", "groupe_code", "masque", "conseil"]].reset_index(drop=True)

    def pattern(self, niveau: str | None, codes: list[str] | None, annees: list[int] | None) -> pd.DataFrame:
        """Every cell of the groups that hold the cells asked for."""
        t = self.table
        if t.empty:
            return pd.DataFrame(columns=["niveau", "code", "annee", "groupement", "groupe_code", "valeur", "statut",
                                         "masque", "conseil"])
        wanted = np.ones(len(t), dtype=bool)
        if niveau is not None:
            wanted &= t.niveau.eq(niveau).to_numpy()
        if codes is not None:
            wanted &= t.code.isin(list(codes)).to_numpy()
        if annees is not None:
            wanted &= t.annee.isin([int(a) for a in annees]).to_numpy()
        rows = t.comp.isin(np.unique(t.comp.to_numpy()[wanted])).to_numpy()
        out = t.loc[rows].sort_values(["annee", "groupement", "niveau", "code", "groupe_code"])
        return out[["niveau", "code", "annee", "groupement", "groupe_code", "valeur", "statut", "masque", "conseil"]]


_FAMILIES: dict[tuple, _Family] = {}
_FAMILIES_LOCK = threading.Lock()


def _family_state(snap: Snapshot, ind: Indicator, groupement: str) -> _Family:
    rules = secret.Rules.from_env()
    key = (snap.version, rules, ind.mesure, _family(groupement)[0])
    with _FAMILIES_LOCK:
        fam = _FAMILIES.get(key)
        if fam is None:
            if len(_FAMILIES) > 64:
                _FAMILIES.clear()
            fam = _FAMILIES[key] = _Family(snap, ind, groupement)
    return fam


def secret_pattern(snap: Snapshot, ind: Indicator, groupement: str, niveau: str | None = None,
                   codes: list[str] | None = None, annees: list[int] | None = None) -> pd.DataFrame:
    """Cells of the family's table that are masked, every year: masque in {'primaire', 'secondaire', ''}.

    The table is protected as a whole, group by group: cells of different years, or of territories no
    relation links (at national scale, the départements and their EPCIs), are independent. With
    niveau / codes / annees, only the groups holding those cells are computed (and returned).
    """
    fam = _family_state(snap, ind, groupement)
    fam.ensure(snap, ind, niveau, codes, annees)
    return fam.pattern(niveau, codes, annees)


def _coarser(cells: pd.DataFrame, groupement: str, deps: dict[str, list[str]]) -> pd.Series:
    """Where a masked cell's information is published at a coarser level (sector total, its département).
    `deps`: EPCI -> départements it has communes in."""
    family, margin = _family(groupement)
    shown = cells[cells.masque.eq("")]
    shown_keys = set(zip(shown.annee, shown.niveau, shown.code, shown.groupement, shown.groupe_code))
    out = []
    for r in cells.itertuples():
        tips = []
        if r.masque and margin and r.groupement == family and (r.annee, r.niveau, r.code, *margin) in shown_keys:
            tips.append("le total tous secteurs du territoire est diffusé")
        if r.masque and r.niveau == "epci" and any((r.annee, *d, r.groupement, r.groupe_code) in shown_keys
                                                   for d in deps.get(r.code, [])):
            tips.append("la valeur du territoire englobant est diffusée")
        out.append(" ; ".join(tips))
    return pd.Series(out, index=cells.index, dtype=object)


def _secondary_sql(q: _Sql, snap: Snapshot, ind: Indicator, groupement: str, niveau: str, annees: list[int],
                   codes: list[str] | None, sql: str) -> str:
    """The secondary secret over a level SELECT: turnover hidden below the EPCI; at EPCI and département
    level, the cells masked by the table family's pattern (computed for the groups asked, see _Family)."""
    if niveau == "commune":
        # Turnover is not published below the EPCI: only known zeros stay.
        hide = "(coalesce(nb_contrib, 0) > 0 AND statut <> 'secret')"
        return f"""SELECT * REPLACE (CASE WHEN {hide} THEN NULL ELSE valeur END AS valeur,
                                     CASE WHEN {hide} THEN 'secret' ELSE statut END AS statut,
                                     CASE WHEN {hide} THEN {q(secret.NOTE_COMMUNE)} ELSE note END AS note)
                   FROM ({sql}) l"""
    if niveau not in _MARGIN_NIVEAUX:
        return sql
    fam = _family_state(snap, ind, groupement)
    fam.ensure(snap, ind, niveau, codes, annees)
    # Only masked cells change (a few per cent of the cells): they are passed to the statement.
    m = fam.masked
    if not m.empty:
        m = m[m.niveau.eq(niveau) & m.groupement.eq(groupement) & m.annee.isin([int(a) for a in annees])]
        if codes is not None:
            m = m[m.code.isin(list(codes))]
    if m.empty:
        return sql
    cols = {c: q(m[c].tolist()) for c in ("code", "annee", "groupe_code", "masque", "conseil")}
    second = "k.masque = 'secondaire'"
    return f"""
        SELECT l.* REPLACE (CASE WHEN {second} THEN NULL ELSE l.valeur END AS valeur,
                            CASE WHEN {second} THEN 'secret' ELSE l.statut END AS statut,
                            CASE WHEN {second} THEN {q(secret.NOTE_SECONDARY)} ELSE l.note END
                            || CASE WHEN coalesce(k.masque, '') <> '' AND coalesce(k.conseil, '') <> ''
                                    THEN ' ; ' || k.conseil ELSE '' END AS note)
        FROM ({sql}) l LEFT JOIN (
            SELECT unnest(CAST({cols['code']} AS VARCHAR[])) AS code, unnest(CAST({cols['annee']} AS BIGINT[])) AS annee,
                   unnest(CAST({cols['groupe_code']} AS VARCHAR[])) AS groupe_code,
                   unnest(CAST({cols['masque']} AS VARCHAR[])) AS masque, unnest(CAST({cols['conseil']} AS VARCHAR[])) AS conseil
        ) k ON k.code = l.code AND k.annee = l.annee AND k.groupe_code = l.groupe_code"""


_RANK_SQL = "CASE {} " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in _STATUT_RANK.items()) + " END"


def _worst_sql(a: str, b: str) -> str:
    """The worse of two statuts (the first one on a tie)."""
    return f"CASE WHEN {_RANK_SQL.format(a)} >= {_RANK_SQL.format(b)} THEN {a} ELSE {b} END"


def latest_year(snap: Snapshot, name: str, niveau: str, definition: str = "coeur") -> int | None:
    ys = years(snap, name, niveau, definition)
    return ys[-1] if ys else None


def get(snap: Snapshot, name: str, niveau: str = "epci", annee: int | None = None, annees: list[int] | None = None,
        territoires: list[str] | None = None, definition: str = "coeur", annee_base: int | None = None) -> pd.DataFrame:
    """One indicator, tidy. Without annee/annees: the latest year the indicator has at that level."""
    ind = get_indicator(name)
    if ind.kind == "foncier":  # inventories of economic zones (indicators/foncier_query.py): their latest state
        from . import foncier_query
        return foncier_query.get(snap, ind, niveau, territoires)
    groupement = _groupement(ind, definition)
    if annees is None:
        if annee is None:
            annee = latest_year(snap, name, niveau, definition) or latest_year(snap, name, "departement", definition)
        annees = [annee] if annee is not None else []
    annees = [int(a) for a in annees]
    groupes = [ind.numerateur] if ind.numerateur else None
    if not annees:  # nothing loaded for this indicator: every cell is absent
        df = territories(snap, niveau, territoires).merge(
            pd.DataFrame({"groupe_code": groupes or categories(snap, groupement).groupe_code.tolist()}), how="cross")
        df = df.assign(annee=pd.NA, valeur=np.nan, statut="absent", source="", demo=False,
                       note=f"Aucune donnée chargée : charger {ind.source_hint}")
        return _tidy(snap, df, ind, niveau, groupement)
    q = _Sql(ind.mesure, territoires)
    if ind.kind == "niveau":
        body = _level_sql(q, snap, ind, groupement, niveau, annees, groupes)
        body = f"SELECT code, annee, yi, gi, groupe_code, valeur, statut, note, source_id FROM ({body}) l"
    elif ind.kind == "part":
        num = _level_sql(q, snap, ind, groupement, niveau, annees, groupes)
        den = _level_sql(q, snap, ind, "total", niveau, annees, ["_T"])
        worst = _worst_sql("n.statut", "d.statut")
        body = f"""SELECT n.code, n.annee, n.yi, n.gi, n.groupe_code,
                          CASE WHEN d.valeur > 0 THEN n.valeur / d.valeur END AS valeur,
                          CASE WHEN d.valeur = 0 THEN 'absent' ELSE {worst} END AS statut,
                          CASE WHEN {worst} = n.statut THEN n.note ELSE d.note END AS note, n.source_id
                   FROM ({num}) n JOIN ({den}) d ON d.code = n.code AND d.annee = n.annee"""
    else:  # croissance, taux_croissance: between annee_base (default: the year before) and each year
        bases = sorted({annee_base if annee_base is not None else a - 1 for a in annees})
        cur = _level_sql(q, snap, ind, groupement, niveau, annees, None)
        base = _level_sql(q, snap, ind, groupement, niveau, bases, None)
        base_of = f"CAST({q(int(annee_base))} AS BIGINT)" if annee_base is not None else "c.annee - 1"
        valeur = ("c.valeur - b.valeur" if ind.kind == "croissance"
                  else "CASE WHEN b.valeur > 0 THEN c.valeur / b.valeur - 1 END")
        worst = _worst_sql("c.statut", "b.statut")
        body = f"""SELECT c.code, c.annee, c.yi, c.gi, c.groupe_code, b.annee AS annee_base, {valeur} AS valeur,
                          {worst} AS statut, CASE WHEN {worst} = c.statut THEN c.note ELSE b.note END AS note, c.source_id
                   FROM ({cur}) c JOIN ({base}) b ON b.code = c.code AND b.annee = {base_of} AND b.groupe_code = c.groupe_code"""
    n = q(niveau)
    dim = ind.dimension
    rupture = _rupture_sql(snap, q, groupement)
    # Every integer column below is non-NULL (years come from the years asked): Arrow is safe here.
    df = snap.arrow_df(q.statement(f"""
        SELECT r.code, t.nom, t.nom_court, {n} AS niveau, r.annee{', r.annee_base' if ind.kind in _GROWTH else ''}
               {f', r.groupe_code AS "{dim}_code", k.libelle AS "{dim}"' if dim else ''},
               CAST(CASE WHEN r.statut IN ('secret', 'absent') THEN NULL ELSE r.valeur END AS DOUBLE) AS valeur,
               r.statut, {rupture[0] if rupture else 'r.note'} AS note, coalesce(s.libelle, '') AS source, coalesce(s.demo, false) AS demo
               {', rc.hors_departement' if niveau == 'commune' else ''}
        FROM ({body}) r JOIN ref_territoires t ON t.niveau = {n} AND t.code = r.code
        LEFT JOIN sources s ON s.source_id = r.source_id
        {rupture[1] if rupture else ''}
        {f'LEFT JOIN ref_groupes k ON k.groupement = {q(groupement)} AND k.groupe_code = r.groupe_code' if dim else ''}
        {'LEFT JOIN ref_communes rc ON rc.code = r.code' if niveau == 'commune' else ''}
        ORDER BY t.ordre, r.code, r.annee{', k.ordre' if dim else ''}, r.yi, r.gi"""), q.params)
    return df


_GROWTH = ("croissance", "taux_croissance")


# >>> NAF 2025: break in series (etl/nomenclature.py) ----------------------------------------------
_HAS_RUPTURES: dict[str, bool] = {}


def _rupture_sql(snap: Snapshot, q: _Sql, groupement: str) -> tuple[str, str] | None:
    """(note expression, joins): a figure from a source coded in NAF 2025, in a category whose content is not
    the same in both nomenclatures, carries the break note with the first NAF 2025 year of the result. None
    for a warehouse built before NAF 2025 (no such tables)."""
    if snap.version not in _HAS_RUPTURES:
        _HAS_RUPTURES[snap.version] = len(snap.rows(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
            "AND table_name IN ('source_nomenclature', 'ref_naf_ruptures')")) == 2
    if not _HAS_RUPTURES[snap.version]:
        return None
    first = "min(CASE WHEN rp.note IS NOT NULL THEN r.annee END) OVER ()"
    note = (f"CASE WHEN rp.note IS NOT NULL THEN concat_ws(' ; ', nullif(r.note, ''), "
            f"replace(rp.note, 'Rupture de série au passage', 'Rupture de série en ' || {first} || ', au passage')) "
            "ELSE r.note END")
    joins = (f"LEFT JOIN source_nomenclature sn ON sn.source_id = r.source_id AND sn.nomenclature = 'NAF2025' "
             f"LEFT JOIN ref_naf_ruptures rp ON sn.source_id IS NOT NULL AND rp.statut = 'modifie' "
             f"AND rp.groupement = {q(groupement)} AND rp.groupe_code = r.groupe_code")
    return note, joins


_GROUPEMENT_LABELS = ("CASE r.groupement WHEN 'a5' THEN 'A5 (grands secteurs)' WHEN 'a10' THEN 'A10' WHEN 'a17' THEN 'A17' "
                      "WHEN 'a38' THEN 'A38' WHEN 'a88' THEN 'A88 (divisions)' WHEN 'section' THEN 'Sections' "
                      "WHEN 'secteur' THEN 'Secteurs de la candidature' WHEN 'champ' THEN 'Champ marchand' "
                      "WHEN 'filiere_coeur' THEN 'Filières (cœur)' WHEN 'filiere_elargi' THEN 'Filières (périmètre élargi)' END")
_GROUPEMENT_ORDER = ("list_position(['a5', 'secteur', 'champ', 'filiere_coeur', 'filiere_elargi', 'section', 'a10', 'a17', "
                     "'a38', 'a88'], r.groupement)")
_NAF_TABLES = {
    # Which nomenclature each loaded source's activity codes use.
    "nomenclature_sources": """
        SELECT s.libelle AS "Source", s.fichier AS "Fichier", s.annees AS "Années",
               CASE n.nomenclature WHEN 'NAF2025' THEN 'NAF 2025' WHEN 'NAF2008' THEN 'NAF rév. 2'
                    ELSE 'sans code d''activité' END AS "Nomenclature des activités"
        FROM sources s LEFT JOIN source_nomenclature n USING (source_id) ORDER BY s.source_id""",
    "naf_synthese": f"""
        SELECT {_GROUPEMENT_LABELS} AS "Regroupement", count(*) FILTER (WHERE statut = 'identique') AS "Catégories identiques",
               count(*) FILTER (WHERE statut = 'modifie') AS "Catégories modifiées",
               coalesce(string_agg(groupe_code, ', ' ORDER BY groupe_code) FILTER (WHERE statut = 'identique'), '') AS "Identiques"
        FROM ref_naf_ruptures r GROUP BY r.groupement ORDER BY {_GROUPEMENT_ORDER}""",
    "naf_ruptures": f"""
        SELECT {_GROUPEMENT_LABELS} AS "Regroupement", r.groupe_code AS "Code", r.libelle AS "Catégorie",
               r.n_naf2008_sortants AS "Sous-classes NAF rév. 2 en partie classées ailleurs", r.naf2008_sortants AS "Lesquelles",
               r.n_naf2025_entrants AS "Sous-classes NAF 2025 recevant d'autres activités", r.naf2025_entrants AS "Lesquelles (NAF 2025)"
        FROM ref_naf_ruptures r WHERE r.statut = 'modifie' AND r.groupement IN ('a5', 'secteur', 'champ', 'filiere_coeur', 'filiere_elargi', 'section')
        ORDER BY {_GROUPEMENT_ORDER}, r.groupe_code""",
    "secteurs_naf2025": """
        SELECT secteur_libelle AS "Secteur", string_agg(section || ' ' || libelle_section, ' ; ' ORDER BY section) AS "Sections NAF 2025",
               string_agg(DISTINCT section_naf_rev2, ', ' ORDER BY section_naf_rev2) AS "Sections NAF rév. 2 équivalentes"
        FROM ref_secteurs_naf2025 GROUP BY secteur_libelle, ordre ORDER BY ordre""",
    "filieres_naf2025": """
        SELECT filiere_libelle AS "Filière", naf_sous_classe AS "Code NAF 2025", libelle_naf2025 AS "Activité",
               CASE perimetre WHEN 'coeur' THEN 'cœur' WHEN 'elargi' THEN 'élargi' ELSE 'non retenue' END AS "Périmètre proposé",
               CASE decision WHEN 'reprise' THEN 'reprise' WHEN 'decidee' THEN 'décidée' ELSE 'à arbitrer' END AS "Décision",
               codes_naf2008_filiere AS "Codes NAF rév. 2 de la filière", codes_naf2008_hors_filiere AS "Autres codes NAF rév. 2 reçus",
               note AS "Note"
        FROM ref_filieres_naf2025 ORDER BY decision, filiere, naf_sous_classe""",
    "filieres_decisions": """
        SELECT filiere_libelle AS "Filière", count(*) FILTER (WHERE decision = 'reprise') AS "Sous-classes NAF 2025 reprises",
               count(*) FILTER (WHERE decision = 'a_arbitrer') AS "Sous-classes à arbitrer"
        FROM ref_filieres_naf2025 GROUP BY filiere_libelle ORDER BY 1""",
}


def _naf_reference_table(snap: Snapshot, name: str) -> pd.DataFrame:
    """A NAF 2025 documentation table of the Sources page; empty for a warehouse built before NAF 2025."""
    needed = {"nomenclature_sources": "source_nomenclature", "secteurs_naf2025": "ref_secteurs_naf2025",
              "filieres_naf2025": "ref_filieres_naf2025", "filieres_decisions": "ref_filieres_naf2025"}.get(name, "ref_naf_ruptures")
    if not _has_table(snap, needed):
        return pd.DataFrame()
    return snap.df(_NAF_TABLES[name])
# <<< NAF 2025 ---------------------------------------------------------------------------------------


def _tidy(snap: Snapshot, df: pd.DataFrame, ind: Indicator, niveau: str, groupement: str) -> pd.DataFrame:
    """Output columns and order of a frame built in pandas (every cell absent: nothing loaded)."""
    df["niveau"] = niveau
    cols = ["code", "nom", "nom_court", "niveau", "annee"]
    sort = ["ordre", "code", "annee"]
    if ind.dimension:
        labels = categories(snap, groupement).rename(columns={"libelle": ind.dimension, "groupe_code": f"{ind.dimension}_code",
                                                              "ordre": "ordre_cat"})
        df = df.merge(labels, left_on="groupe_code", right_on=f"{ind.dimension}_code", how="left")
        cols += [f"{ind.dimension}_code", ind.dimension]
        sort.append("ordre_cat")
    cols += ["valeur", "statut", "note", "source", "demo"]
    if niveau == "commune":
        cols.append("hors_departement")
    df = df.sort_values(sort).reset_index(drop=True)
    out = df[cols].copy()
    out["valeur"] = out.valeur.astype(float)
    return out


def built_at(snap: Snapshot):
    from datetime import datetime
    rows = snap.rows("SELECT valeur FROM meta WHERE cle = 'construit_le'")
    return datetime.fromisoformat(rows[0][0]) if rows else None


def published(snap: Snapshot) -> pd.DataFrame:
    """The candidature's key figures as published (to show beside the recomputed ones)."""
    return snap.df("SELECT * FROM ref_candidature")      # a warehouse built before may lack the year columns


def reference_table(snap: Snapshot, name: str, filiere: str | None = None) -> pd.DataFrame:
    """Documentation tables of the Sources page: sources, filières, secteurs, problèmes (and the NAF 2025 ones)."""
    if name in _NAF_TABLES:
        return _naf_reference_table(snap, name)
    sql = {
        "sources": """SELECT libelle AS "Source", producteur AS "Producteur", fichier AS "Fichier", millesime AS "Millésime",
                             annees AS "Années", couverture AS "Départements couverts", licence AS "Licence",
                             lignes_gardees AS "Lignes gardées", strftime(charge_le, '%d/%m/%Y %H:%M') AS "Chargé le",
                             CASE WHEN demo THEN 'oui' ELSE '' END AS "Démonstration"
                      FROM sources ORDER BY source_id""",
        "filieres": """SELECT f.filiere_libelle AS "Filière", f.sous_classe AS "Code NAF", n.libelle AS "Activité",
                              CASE f.perimetre WHEN 'coeur' THEN 'cœur' ELSE 'élargi' END AS "Périmètre", f.note AS "Note"
                       FROM ref_filieres f JOIN ref_naf n USING (sous_classe)
                       WHERE (CAST(? AS VARCHAR) IS NULL OR f.filiere = ?) AND n.nomenclature = 'NAF2008'
                       ORDER BY f.filiere, f.perimetre, f.sous_classe""",
        "secteurs": """SELECT s.secteur_libelle AS "Secteur",
                              string_agg(s.section || ' ' || n.libelle_section, ' ; ' ORDER BY s.section) AS "Sections NAF"
                       FROM ref_secteurs s JOIN (SELECT DISTINCT section, libelle_section FROM ref_naf) n USING (section)
                       GROUP BY s.secteur_libelle, s.ordre ORDER BY s.ordre""",
        "problemes": """SELECT s.fichier AS "Fichier", p.message AS "Remarque" FROM problemes p JOIN sources s USING (source_id)
                        WHERE NOT p.grave ORDER BY s.source_id""",
    }[name]
    return snap.df(sql, [filiere, filiere] if name == "filieres" else [])


# --- Plan d'actions (the candidature's fiches actions, from data/plan_actions.xlsx) ---------------

PLAN_STATUTS = ["à lancer", "en cours", "réalisé", "abandonné"]


def _has_table(snap: Snapshot, name: str) -> bool:
    return bool(snap.rows("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?", [name]))


def plan_actions(snap: Snapshot, axes: list[int] | None = None, statuts: list[str] | None = None,
                 territoire: str | None = None, filiere: str | None = None) -> pd.DataFrame:
    """The fiches actions as followed in the plan store (indicators/suivi.py), by axe then workbook order.
    `territoire`: an EPCI SIREN (actions of the whole territory included); `filiere`: a filière code. Lists of
    codes in `territoires` / `filieres`, their names in `territoires_noms` / `filieres_noms`. An unknown amount
    is NaN, never 0. `montant_eur` is the estimated amount."""
    from . import suivi

    df = suivi.actions(snap)
    if axes is not None:
        df = df[df.axe_num.isin([int(a) for a in axes])]
    if statuts is not None:
        df = df[df.statut.isin(list(statuts))]
    if territoire is not None:
        whole = suivi.whole_territory(snap)[1]
        df = df[[territoire in t or whole in t for t in df.territoires]]
    if filiere is not None:
        df = df[[filiere in f for f in df.filieres]]
    return df.reset_index(drop=True)


def plan_labels(snap: Snapshot) -> dict[str, str]:
    """Names of the codes an action refers to: EPCI SIREN and the whole territory -> short name, filière code -> label."""
    from . import suivi

    return suivi.labels(snap)


def plan_binomes(snap: Snapshot) -> pd.DataFrame:
    """The binômes élu-industriel, one row per EPCI in the workbook's order (blank: not yet named)."""
    from . import suivi

    return suivi.binomes(snap)


def plan_axes(snap: Snapshot) -> pd.DataFrame:
    """The axes present in the plan (number, label), in order."""
    df = plan_actions(snap)
    return df.groupby("axe_num", as_index=False).axe.min().sort_values("axe_num").reset_index(drop=True)
