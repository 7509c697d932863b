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

NIVEAUX = ["commune", "epci", "departement", "region", "france"]
NIVEAU_LABELS = {"commune": "commune", "epci": "EPCI", "departement": "département", "region": "région", "france": "France"}
_STATUT_RANK = {"ok": 0, "partiel": 1, "absent": 2, "secret": 3}
# Display order of the reference territories after the EPCIs.
REFERENCE_CODES = {"departement": "05", "region": "93", "france": "FR"}


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


def territories(snap: Snapshot, niveau: str, codes: list[str] | None = None) -> pd.DataFrame:
    if niveau not in NIVEAUX:
        raise ValueError(f"niveau inconnu « {niveau} » ({', '.join(NIVEAUX)})")
    df = _reference(snap, ("territoires", niveau), """
        SELECT t.code, t.nom, t.nom_court, t.ordre, c.hors_departement
        FROM ref_territoires t LEFT JOIN ref_communes c ON t.niveau = 'commune' AND c.code = t.code
        WHERE t.niveau = ? ORDER BY t.ordre, t.code""", [niveau])
    if codes is not None:
        df = df[df.code.isin(list(codes))].reset_index(drop=True)
    return df


def categories(snap: Snapshot, groupement: str) -> pd.DataFrame:
    return _reference(snap, ("categories", groupement),
                      "SELECT groupe_code, libelle, ordre FROM ref_groupes WHERE groupement = ? ORDER BY ordre, groupe_code",
                      [groupement])


def years(snap: Snapshot, name: str, niveau: str = "departement", definition: str = "coeur") -> list[int]:
    """Years for which the indicator has at least one value at that level."""
    ind = get_indicator(name)
    available = _reference(snap, ("years",), "SELECT DISTINCT mesure, groupement, niveau, annee FROM mart ORDER BY ALL", [])
    sel = available[(available.mesure == ind.mesure) & (available.groupement == _groupement(ind, definition))
                    & (available.niveau == niveau)]
    return [int(a) for a in sel.annee]


def _levels(snap: Snapshot, ind: Indicator, groupement: str, niveau: str, annees: list[int],
            codes: list[str] | None, groupes: list[str] | None, protect: bool = True) -> pd.DataFrame:
    """Mart values for every territory x year x category asked, zero-filled where covered, absent elsewhere.

    One SQL statement builds the grid, joins the values and the coverage (a source that covers the
    territory-year for the measure: a missing category there is a true zero), and writes the notes; rows
    come in the output order (territory order, year, category order).
    """
    if groupes is None:
        groupes = categories(snap, groupement).groupe_code.tolist()
    params = {"niveau": niveau, "mesure": ind.mesure, "groupement": groupement, "hint": ind.source_hint,
              "annees": [int(a) for a in annees], "groupes": list(groupes)}
    in_codes = ""
    if codes is not None:
        in_codes = " AND list_contains($codes, {}.code)"
        params["codes"] = list(codes)
    commune = niveau == "commune"
    df = snap.df(f"""
        WITH t AS (SELECT t.code, t.nom, t.nom_court, t.ordre FROM ref_territoires t
                   WHERE t.niveau = $niveau{in_codes.format('t')}),
        y AS (SELECT i AS yi, CAST($annees[i] AS BIGINT) AS annee FROM range(1, len($annees) + 1) r(i)),
        g AS (SELECT i AS gi, $groupes[i] AS groupe_code FROM range(1, len($groupes) + 1) r(i)),
        m AS (SELECT m.code, m.annee, m.groupe_code, m.valeur, m.statut, m.nb_contrib, m.max_contrib,
                     m.n_couvertes, m.n_membres, s.libelle AS source, s.demo
              FROM mart m JOIN sources s USING (source_id)
              WHERE m.mesure = $mesure AND m.groupement = $groupement AND m.niveau = $niveau
                AND list_contains($annees, m.annee) AND list_contains($groupes, m.groupe_code){in_codes.format('m')}),
        c AS (SELECT m.code, m.annee, m.statut, s.libelle AS source, s.demo
              FROM mart m JOIN sources s USING (source_id)
              WHERE m.mesure = $mesure AND m.groupement = 'total' AND m.niveau = $niveau
                AND list_contains($annees, m.annee){in_codes.format('m')}),
        v AS (SELECT t.code, t.nom, t.nom_court, t.ordre, y.yi, y.annee, g.gi, g.groupe_code,
                     m.statut IS NULL AND c.statut IS NOT NULL AS zero, m.valeur, m.statut, m.nb_contrib,
                     m.max_contrib, m.n_couvertes, m.n_membres, m.source, m.demo, c.statut AS c_statut,
                     c.source AS c_source, c.demo AS c_demo
              FROM t CROSS JOIN y CROSS JOIN g
              LEFT JOIN m ON m.code = t.code AND m.annee = y.annee AND m.groupe_code = g.groupe_code
              LEFT JOIN c ON c.code = t.code AND c.annee = y.annee),
        w AS (SELECT code, nom, nom_court, ordre, yi, annee, gi, groupe_code,
                     CASE WHEN zero THEN 0.0 ELSE valeur END AS valeur,
                     coalesce(statut, c_statut, 'absent') AS statut,
                     CAST(CASE WHEN zero THEN 0 ELSE nb_contrib END AS DOUBLE) AS nb_contrib,
                     CAST(max_contrib AS DOUBLE) AS max_contrib, n_couvertes, n_membres,
                     CASE WHEN zero THEN c_source ELSE source END AS source,
                     coalesce(CASE WHEN zero THEN c_demo ELSE demo END, false) AS demo
              FROM v)
        SELECT w.code, w.nom, w.nom_court, w.ordre, {'rc.hors_departement, ' if commune else ''}
               w.annee, w.groupe_code, w.valeur, w.statut, w.nb_contrib, w.max_contrib, w.source, w.demo,
               CASE WHEN w.statut = 'partiel' AND w.n_couvertes < w.n_membres
                         THEN 'Agrégat partiel : ' || w.n_couvertes || ' communes sur ' || w.n_membres
                              || ' couvertes par le fichier'
                    WHEN w.statut = 'partiel' THEN 'Agrégat partiel : certaines valeurs communales sont en secret statistique'
                    WHEN w.statut = 'secret' THEN 'Secret statistique (valeur non diffusée par le producteur)'
                    WHEN w.statut = 'absent' THEN 'Aucune donnée chargée : charger ' || $hint
                    ELSE '' END AS note
        FROM w{' LEFT JOIN ref_communes rc ON rc.code = w.code' if commune else ''}
        ORDER BY w.ordre, w.code, w.yi, w.gi""", params)
    if ind.firm_level:
        df = secret.apply_primary(df)
        if protect:
            df = _apply_secondary(snap, ind, groupement, niveau, df)
    return df


# --- secondary secret: one suppression pattern per table family and year ----------------------------

# Firm-level tables published with margins: groupement -> (family, row margin (groupement, code) or None).
# The candidature's sectors add up to the 'champ' total of each territory; filières are not added up
# (élargi filières overlap and no output publishes their sum), their only margin is the département.
_FAMILY = {"secteur": ("secteur", ("champ", "CHAMP")), "champ": ("secteur", ("champ", "CHAMP")),
           "filiere_coeur": ("filiere_coeur", None), "filiere_elargi": ("filiere_elargi", None)}
_MARGIN_NIVEAUX = ("epci", "departement")


def _family(groupement: str) -> tuple[str, tuple[str, str] | None]:
    return _FAMILY.get(groupement, (groupement, None))


def secret_universe(snap: Snapshot, ind: Indicator, groupement: str, annee: int | None = None,
                    territoires: dict[str, list[str]] | None = None) -> tuple[pd.DataFrame, list]:
    """The largest table any output publishes for that family (and year), with its additive relations.

    Cells: every EPCI and département x every category (+ the row margin), for every year (or
    `annee`; `territoires`: only those codes, by niveau). Relations, within a year: margin = sum of
    categories for each territory; département = sum of the EPCIs for each category (the EPCIs' part
    outside the département is taken as known, to be safe). Returns the cells (after the primary rule:
    primary cells have NaN values, `primary` True) and the relations as (total index, [part indices]).
    """
    family, margin = _family(groupement)
    groupements = [family] + ([margin[0]] if margin and margin[0] != family else [])
    annees = [int(annee)] if annee is not None else _universe_years(snap, ind.mesure, groupements)
    frames = []
    for g in groupements:
        for niveau in _MARGIN_NIVEAUX:
            codes = territoires.get(niveau, []) if territoires is not None else None
            lv = _levels(snap, ind, g, niveau, annees, codes, None, protect=False)
            frames.append(lv.assign(niveau=niveau, groupement=g))
    cells = pd.concat(frames, ignore_index=True)[
        ["niveau", "code", "annee", "groupement", "groupe_code", "valeur", "statut", "note", "nb_contrib", "max_contrib"]]
    cells = cells.sort_values(["annee", "groupement", "niveau", "code", "groupe_code"]).reset_index(drop=True)
    absent = cells.statut.eq("absent")
    cells.loc[absent, "valeur"] = 0.0      # no file covers it: nothing in the totals either
    cells.loc[absent, "nb_contrib"] = 0
    cells["primary"] = cells.statut.eq("secret")
    pos = pd.Series(np.arange(len(cells)), index=cells.index)
    parts_of_margin = {}
    if margin:
        fam = cells[cells.groupement == family]
        parts_of_margin = {k: v.tolist() for k, v in pos[fam.index].groupby([fam.annee, fam.niveau, fam.code])}
    # A département is the sum of the EPCIs with communes in it (their part outside it taken as known).
    members = _epci_departements(snap)
    epci = cells[cells.niveau == "epci"].assign(_pos=pos[cells.niveau == "epci"])
    epci = epci.merge(members, left_on="code", right_on="epci", how="inner").sort_values("_pos")
    parts_of_dep = {k: v.tolist() for k, v in epci.groupby(["annee", "departement", "groupement", "groupe_code"])._pos}
    relations = []
    for i, (annee_, niveau, code, g, gc) in enumerate(zip(cells.annee, cells.niveau, cells.code, cells.groupement,
                                                          cells.groupe_code)):
        if margin and (g, gc) == margin:
            relations.append((i, parts_of_margin.get((annee_, niveau, code), [])))
        if niveau == "departement":
            relations.append((i, parts_of_dep.get((annee_, code, g, gc), [])))
    return cells, relations


def _universe_years(snap: Snapshot, mesure: str, groupements: list[str]) -> list[int]:
    return [r[0] for r in snap.rows("SELECT DISTINCT annee FROM mart WHERE mesure = ? AND list_contains(?, groupement) "
                                    "AND list_contains(?, niveau) ORDER BY 1", [mesure, groupements, list(_MARGIN_NIVEAUX)])]


def _epci_departements(snap: Snapshot) -> pd.DataFrame:
    return _reference(snap, ("epci_departements",), """
        SELECT DISTINCT e.code AS epci, d.code AS departement
        FROM ref_appartenance e JOIN ref_appartenance d USING (commune)
        WHERE e.niveau = 'epci' AND d.niveau = 'departement' ORDER BY ALL""", [])


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


def protect_cells(cells: pd.DataFrame, relations: list, groupement: str, members: pd.DataFrame) -> pd.DataFrame:
    """The cells with their suppression pattern: each independent group (cells the relations link) is
    protected on its own. Adds masque ('primaire', 'secondaire', ''), conseil and comp (group number)."""
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
        conseil[cell] = _coarser(sub, groupement, members).to_numpy()
    return cells.assign(masque=masque, conseil=conseil, comp=comp_of)


class _Family:
    """Secondary secret of one table family for one data version and rule set, computed group by group.

    A group is one year and one cluster of territories: a département and the EPCIs with communes in
    it, joined transitively when an EPCI spans two départements (no relation links two clusters, so at
    national scale the Hautes-Alpes never need the rest of France). A group's cells are read from the
    mart filtered to it, the first time one of its cells is asked for.
    """

    def __init__(self, snap: Snapshot, ind: Indicator, groupement: str):
        family, margin = _family(groupement)
        self.groupement = groupement
        self.years = set(_universe_years(snap, ind.mesure, [family] + ([margin[0]] if margin and margin[0] != family else [])))
        self.members = _epci_departements(snap)
        nodes = [(niveau, c) for niveau in _MARGIN_NIVEAUX for c in territories(snap, niveau).code]
        index = {node: i for i, node in enumerate(nodes)}
        parent = list(range(len(nodes)))
        for e, d in zip(self.members.epci, self.members.departement):
            if ("epci", e) in index and ("departement", d) in index:
                ra, rb = _find(parent, index[("epci", e)]), _find(parent, index[("departement", d)])
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
                cells = protect_cells(cells, relations, self.groupement, self.members)
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


def _coarser(cells: pd.DataFrame, groupement: str, members: pd.DataFrame) -> pd.Series:
    """Where a masked cell's information is published at a coarser level (sector total, its département)."""
    family, margin = _family(groupement)
    shown = cells[cells.masque.eq("")]
    shown_keys = set(zip(shown.annee, shown.niveau, shown.code, shown.groupement, shown.groupe_code))
    deps = members.groupby("epci").departement.agg(list).to_dict()
    out = []
    for r in cells.itertuples():
        tips = []
        if r.masque and margin and r.groupement == family and (r.annee, r.niveau, r.code, *margin) in shown_keys:
            tips.append("le total tous secteurs du territoire est diffusé")
        if r.masque and r.niveau == "epci" and any((r.annee, "departement", d, r.groupement, r.groupe_code) in shown_keys
                                                   for d in deps.get(r.code, [])):
            tips.append("la valeur du département est diffusée")
        out.append(" ; ".join(tips))
    return pd.Series(out, index=cells.index, dtype=object)


def _apply_secondary(snap: Snapshot, ind: Indicator, groupement: str, niveau: str, df: pd.DataFrame) -> pd.DataFrame:
    if niveau == "commune":
        df = df.copy()
        # Turnover is not published below the EPCI: only known zeros stay.
        hide = df.nb_contrib.fillna(0).gt(0) & ~df.statut.eq("secret")
        df.loc[hide, "valeur"] = np.nan
        df.loc[hide, "statut"] = "secret"
        df.loc[hide, "note"] = secret.NOTE_COMMUNE
        return df
    if niveau not in _MARGIN_NIVEAUX or df.empty:
        return df
    fam = _family_state(snap, ind, groupement)
    codes, annees = df.code.unique().tolist(), df.annee.dropna().unique().tolist()
    fam.ensure(snap, ind, niveau, codes, annees)
    # Only masked cells change: look up those of the groups asked for (a few per cent of the cells).
    m = fam.masked
    if m.empty:
        return df
    m = m[m.niveau.eq(niveau) & m.groupement.eq(groupement)]
    m = m[m.annee.isin([int(a) for a in annees]) & m.code.isin(codes)]
    if m.empty:
        return df
    df = df.merge(m[["code", "annee", "groupe_code", "masque", "conseil"]], on=["code", "annee", "groupe_code"], how="left")
    second = df.masque.eq("secondaire").fillna(False).to_numpy(dtype=bool)
    df.loc[second, "valeur"] = np.nan
    df.loc[second, "statut"] = "secret"
    df.loc[second, "note"] = secret.NOTE_SECONDARY
    tip = df.masque.fillna("").ne("") & df.conseil.fillna("").ne("")
    df.loc[tip, "note"] = df.loc[tip, "note"] + " ; " + df.loc[tip, "conseil"]
    return df.drop(columns=["masque", "conseil"])


def _worst(a: pd.Series, b: pd.Series) -> pd.Series:
    ra, rb = a.map(_STATUT_RANK), b.map(_STATUT_RANK)
    return a.where(ra >= rb, b)


def latest_year(snap: Snapshot, name: str, niveau: str, definition: str = "coeur") -> int | None:
    ys = years(snap, name, niveau, definition)
    return ys[-1] if ys else None


def get(snap: Snapshot, name: str, niveau: str = "epci", annee: int | None = None, annees: list[int] | None = None,
        territoires: list[str] | None = None, definition: str = "coeur", annee_base: int | None = None) -> pd.DataFrame:
    """One indicator, tidy. Without annee/annees: the latest year the indicator has at that level."""
    ind = get_indicator(name)
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
    if ind.kind == "niveau":
        df = _levels(snap, ind, groupement, niveau, annees, territoires, groupes)
    elif ind.kind == "part":
        num = _levels(snap, ind, groupement, niveau, annees, territoires, groupes)
        den = _levels(snap, ind, "total", niveau, annees, territoires, ["_T"])
        df = num.merge(den[["code", "annee", "valeur", "statut", "note"]], on=["code", "annee"], suffixes=("", "_den"))
        df["valeur"] = np.where(df.valeur_den > 0, df.valeur / df.valeur_den, np.nan)
        worst = _worst(df.statut, df.statut_den)
        df["note"] = np.where(worst == df.statut, df.note, df.note_den)
        df["statut"] = worst
        df.loc[df.valeur_den.eq(0), "statut"] = "absent"
    else:  # croissance, taux_croissance: between annee_base (default: the year before) and each year
        bases = {a: (annee_base if annee_base is not None else a - 1) for a in annees}
        cur = _levels(snap, ind, groupement, niveau, annees, territoires, None)
        base = _levels(snap, ind, groupement, niveau, sorted(set(bases.values())), territoires, None)
        cur["annee_base"] = cur.annee.map(bases)
        df = cur.merge(base[["code", "annee", "groupe_code", "valeur", "statut", "note"]]
                       .rename(columns={"annee": "annee_base"}), on=["code", "annee_base", "groupe_code"], suffixes=("", "_base"))
        if ind.kind == "croissance":
            df["valeur"] = df.valeur - df.valeur_base
        else:
            df["valeur"] = np.where(df.valeur_base > 0, df.valeur / df.valeur_base - 1, np.nan)
        worst = _worst(df.statut, df.statut_base)
        df["note"] = np.where(worst == df.statut, df.note, df.note_base)
        df["statut"] = worst
    df.loc[df.statut.isin(["secret", "absent"]), "valeur"] = np.nan
    return _tidy(snap, df, ind, niveau, groupement)


def _tidy(snap: Snapshot, df: pd.DataFrame, ind: Indicator, niveau: str, groupement: str) -> pd.DataFrame:
    """Output columns and order; `df` carries the territory columns of _levels (nom, nom_court, ordre...)."""
    df["niveau"] = niveau
    cols = ["code", "nom", "nom_court", "niveau", "annee"]
    if "annee_base" in df:
        cols.append("annee_base")
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
    df["source"] = df.source.fillna("")
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
    return snap.df("SELECT cle, libelle, valeur_publiee, texte_publie, explication FROM ref_candidature")


def reference_table(snap: Snapshot, name: str, filiere: str | None = None) -> pd.DataFrame:
    """Documentation tables of the Sources page: sources, filières, secteurs, problèmes."""
    sql = {
        "sources": """SELECT libelle AS "Source", producteur AS "Producteur", fichier AS "Fichier", millesime AS "Millésime",
                             annees AS "Années", couverture AS "Départements couverts", licence AS "Licence",
                             lignes_gardees AS "Lignes gardées", strftime(charge_le, '%d/%m/%Y %H:%M') AS "Chargé le",
                             CASE WHEN demo THEN 'oui' ELSE '' END AS "Démonstration"
                      FROM sources ORDER BY source_id""",
        "filieres": """SELECT f.filiere_libelle AS "Filière", f.sous_classe AS "Code NAF", n.libelle AS "Activité",
                              CASE f.perimetre WHEN 'coeur' THEN 'cœur' ELSE 'élargi' END AS "Périmètre", f.note AS "Note"
                       FROM ref_filieres f JOIN ref_naf n USING (sous_classe)
                       WHERE (CAST(? AS VARCHAR) IS NULL OR f.filiere = ?) ORDER BY f.filiere, f.perimetre, f.sous_classe""",
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
    """The fiches actions, by axe then workbook order. `territoire`: an EPCI SIREN (actions of the whole
    département included); `filiere`: a filière code. Lists of codes in `territoires` / `filieres`,
    their names in `territoires_noms` / `filieres_noms`. An unknown amount is NaN, never 0."""
    cols = ["numero", "axe_num", "axe", "intitule", "porteurs", "territoires", "territoires_noms", "filieres",
            "filieres_noms", "montant_eur", "financements", "statut", "date_debut", "date_fin", "indicateur_suivi",
            "notes", "source", "fichier", "charge_le"]
    if not _has_table(snap, "plan_actions"):
        return pd.DataFrame(columns=cols)
    sql = """
        SELECT a.numero, a.axe_num, a.axe, a.intitule, a.porteurs, a.territoires, a.filieres, a.montant_eur, a.financements, a.statut, a.date_debut, a.date_fin, a.indicateur_suivi, a.notes,
               s.libelle AS source, s.fichier, s.charge_le
        FROM plan_actions a JOIN sources s USING (source_id)
        WHERE true"""
    params: list = []
    if axes is not None:
        sql += " AND list_contains(?, a.axe_num)"
        params.append([int(a) for a in axes])
    if statuts is not None:
        sql += " AND list_contains(?, a.statut)"
        params.append(list(statuts))
    if territoire is not None:
        sql += " AND (list_contains(a.territoires, ?) OR list_contains(a.territoires, '05'))"
        params.append(territoire)
    if filiere is not None:
        sql += " AND list_contains(a.filieres, ?)"
        params.append(filiere)
    df = snap.df(sql + " ORDER BY a.axe_num, a.ordre", params)
    names = plan_labels(snap)
    for col in ("territoires", "filieres"):
        df[col] = [list(v) if v is not None else [] for v in df[col]]
        df[f"{col}_noms"] = [" ; ".join(names.get(c, c) for c in v) or None for v in df[col]]
    df["montant_eur"] = df.montant_eur.astype(float)
    return df[cols]


def plan_labels(snap: Snapshot) -> dict[str, str]:
    """Names of the codes an action refers to: EPCI SIREN and '05' -> short name, filière code -> label."""
    rows = snap.rows("""SELECT code, nom_court FROM ref_territoires WHERE niveau IN ('epci', 'departement')
                        UNION ALL SELECT groupe_code, libelle FROM ref_groupes WHERE groupement = 'filiere_coeur'""")
    return dict(rows)


def plan_binomes(snap: Snapshot) -> pd.DataFrame:
    """The binômes élu-industriel, one row per EPCI in the workbook's order (blank: not yet named)."""
    if not _has_table(snap, "plan_binomes"):
        return pd.DataFrame(columns=["code", "epci", "elu", "industriel"])
    return snap.df("""SELECT b.epci_siren AS code, e.nom_court AS epci, b.elu, b.industriel
                      FROM plan_binomes b JOIN ref_epci e ON e.siren = b.epci_siren ORDER BY b.ligne""")


def plan_axes(snap: Snapshot) -> pd.DataFrame:
    """The axes present in the plan (number, label), in order."""
    if not _has_table(snap, "plan_actions"):
        return pd.DataFrame(columns=["axe_num", "axe"])
    return snap.df("SELECT axe_num, min(axe) AS axe FROM plan_actions GROUP BY axe_num ORDER BY axe_num")
