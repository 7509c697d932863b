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


def territories(snap: Snapshot, niveau: str, codes: list[str] | None = None, perimetre: bool = False) -> pd.DataFrame:
    """Territories of a level in reference order. `perimetre`: only the territory's perimeter (column
    `perimetre`: the département 05, région 93, France, the EPCIs with communes in 05 and their communes)."""
    if niveau not in NIVEAUX:
        raise ValueError(f"niveau inconnu « {niveau} » ({', '.join(NIVEAUX)})")
    if _perimeter_stored(snap):
        df = _reference(snap, ("territoires", niveau), """
            SELECT t.code, t.nom, t.nom_court, t.ordre, c.hors_departement, t.perimetre
            FROM ref_territoires t LEFT JOIN ref_communes c ON t.niveau = 'commune' AND c.code = t.code
            WHERE t.niveau = ? ORDER BY t.ordre, t.code""", [niveau])
    else:  # warehouse built before the perimeter was stored (etl/reference.py): the same rule, on read
        dep = REFERENCE_CODES["departement"]
        df = _reference(snap, ("territoires", niveau), """
            SELECT t.code, t.nom, t.nom_court, t.ordre, c.hors_departement,
                   CASE t.niveau WHEN 'epci' THEN t.code IN (SELECT epci_siren FROM ref_communes WHERE departement = ?)
                                 WHEN 'commune' THEN c.epci_siren IN (SELECT epci_siren FROM ref_communes WHERE departement = ?)
                                 WHEN 'departement' THEN t.code = ? WHEN 'region' THEN t.code = ? ELSE t.code = ? END AS perimetre
            FROM ref_territoires t LEFT JOIN ref_communes c ON t.niveau = 'commune' AND c.code = t.code
            WHERE t.niveau = ? ORDER BY t.ordre, t.code""",
                         [dep, dep, dep, REFERENCE_CODES["region"], REFERENCE_CODES["france"], niveau])
    if perimetre:
        df = df[df.perimetre].reset_index(drop=True)
    if codes is not None:
        df = df[df.code.isin(list(codes))].reset_index(drop=True)
    return df


def _perimeter_stored(snap: Snapshot) -> bool:
    return bool(_reference(snap, ("perimetre_stocke",), """
        SELECT count(*) AS n FROM duckdb_columns() WHERE database_name = current_database()
        AND table_name = 'ref_territoires' AND column_name = 'perimetre'""", []).n.iat[0])


def perimeter(snap: Snapshot, niveau: str) -> list[str]:
    """Codes of the territory's perimeter at that level, in reference order (what pages show by default)."""
    return territories(snap, niveau, perimetre=True).code.tolist()


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


def _mart(snap: Snapshot, mesure: str, groupement: str, niveau: str, annees: list[int] | None,
          codes: list[str] | None, groupes: list[str] | None) -> pd.DataFrame:
    sql = """
        SELECT m.code, m.annee, m.groupe_code, m.valeur, m.statut, m.nb_contrib, m.max_contrib,
               m.n_couvertes, m.n_membres, s.libelle AS source, s.demo
        FROM mart m JOIN sources s USING (source_id)
        WHERE m.mesure = ? AND m.groupement = ? AND m.niveau = ?"""
    params: list = [mesure, groupement, niveau]
    if annees is not None:
        sql += " AND list_contains(?, m.annee)"
        params.append([int(a) for a in annees])
    if codes is not None:
        sql += " AND list_contains(?, m.code)"
        params.append(list(codes))
    if groupes is not None:
        sql += " AND list_contains(?, m.groupe_code)"
        params.append(list(groupes))
    return snap.df(sql, params)


def _covered(snap: Snapshot, mesure: str, niveau: str, annees: list[int] | None) -> pd.DataFrame:
    """Territory-years that a source covers for the measure (a missing category there is a true zero)."""
    sql = """SELECT m.code, m.annee, m.statut, s.libelle AS source, s.demo FROM mart m JOIN sources s USING (source_id)
             WHERE m.mesure = ? AND m.groupement = 'total' AND m.niveau = ?"""
    params: list = [mesure, niveau]
    if annees is not None:
        sql += " AND list_contains(?, m.annee)"
        params.append([int(a) for a in annees])
    return snap.df(sql, params)


def _notes(df: pd.DataFrame, hint: str) -> pd.Series:
    note = pd.Series("", index=df.index, dtype=object)
    part = df.statut.eq("partiel")
    cov = df.get("n_couvertes")
    if cov is not None:
        incomplete = part & df.n_couvertes.notna() & (df.n_couvertes < df.n_membres)
        note[incomplete] = ("Agrégat partiel : " + df.n_couvertes[incomplete].astype("Int64").astype(str) + " communes sur "
                            + df.n_membres[incomplete].astype("Int64").astype(str) + " couvertes par le fichier")
    note[part & note.eq("")] = "Agrégat partiel : certaines valeurs communales sont en secret statistique"
    note[df.statut.eq("secret")] = "Secret statistique (valeur non diffusée par le producteur)"
    note[df.statut.eq("absent")] = f"Aucune donnée chargée : charger {hint}"
    return note


def _levels(snap: Snapshot, ind: Indicator, groupement: str, niveau: str, annees: list[int],
            codes: list[str] | None, groupes: list[str] | None, protect: bool = True) -> pd.DataFrame:
    """Mart values for every territory x year x category asked, zero-filled where covered, absent elsewhere."""
    terr = territories(snap, niveau, codes)
    if groupes is None:
        groupes = categories(snap, groupement).groupe_code.tolist()
    grid = (terr[["code"]].merge(pd.DataFrame({"annee": annees}), how="cross")
            .merge(pd.DataFrame({"groupe_code": groupes}), how="cross"))
    data = _mart(snap, ind.mesure, groupement, niveau, annees, codes, groupes)
    df = grid.merge(data, on=["code", "annee", "groupe_code"], how="left")
    cov = _covered(snap, ind.mesure, niveau, annees).rename(columns={"statut": "cov_statut", "source": "cov_source", "demo": "cov_demo"})
    df = df.merge(cov, on=["code", "annee"], how="left")
    zero = df.statut.isna() & df.cov_statut.notna()
    df.loc[zero, "valeur"] = 0.0
    df.loc[zero, "statut"] = df.loc[zero, "cov_statut"]
    df.loc[zero, "source"] = df.loc[zero, "cov_source"]
    df.loc[zero, "demo"] = df.loc[zero, "cov_demo"]
    df.loc[zero, "nb_contrib"] = 0
    df["statut"] = df.statut.fillna("absent")
    df["demo"] = df.demo.astype("boolean").fillna(False).astype(bool)
    df["note"] = _notes(df, ind.source_hint)
    if ind.firm_level:
        df = secret.apply_primary(df)
        if protect:
            df = _apply_secondary(snap, ind, groupement, niveau, df)
    return df.drop(columns=["cov_statut", "cov_source", "cov_demo"])


# --- secondary secret: one suppression pattern per table family and year ----------------------------

# Firm-level tables published with margins: groupement -> (family, row margin (groupement, code) or None).
# The candidature's sectors add up to the 'champ' total of each territory; filières are not added up
# (élargi filières overlap and no output publishes their sum), their only margin is the département.
_FAMILY = {"secteur": ("secteur", ("champ", "CHAMP")), "champ": ("secteur", ("champ", "CHAMP")),
           "filiere_coeur": ("filiere_coeur", None), "filiere_elargi": ("filiere_elargi", None)}
_MARGIN_NIVEAUX = ("epci", "departement")


def _family(groupement: str) -> tuple[str, tuple[str, str] | None]:
    return _FAMILY.get(groupement, (groupement, None))


def secret_universe(snap: Snapshot, ind: Indicator, groupement: str, annee: int | None = None) -> tuple[pd.DataFrame, list]:
    """The largest table any output publishes for that family (and year), with its additive relations.

    Cells: every EPCI and the département x every category (+ the row margin), for every year
    (or `annee`). Relations, within a year: margin = sum of categories for each territory;
    département = sum of the EPCIs for each category (the EPCIs' part outside the département
    is taken as known, to be safe). Returns the cells (after the primary rule: primary cells
    have NaN values, `primary` True) and the relations as (total index, [part indices]).
    """
    family, margin = _family(groupement)
    groupements = [family] + ([margin[0]] if margin and margin[0] != family else [])
    annees = [int(annee)] if annee is not None else None
    if annees is None:
        annees = [r[0] for r in snap.rows("SELECT DISTINCT annee FROM mart WHERE mesure = ? AND list_contains(?, groupement) "
                                          "AND list_contains(?, niveau) ORDER BY 1", [ind.mesure, groupements, list(_MARGIN_NIVEAUX)])]
    frames = []
    for g in groupements:
        for niveau in _MARGIN_NIVEAUX:
            lv = _levels(snap, ind, g, niveau, annees, None, None, protect=False)
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


def _epci_departements(snap: Snapshot) -> pd.DataFrame:
    return _reference(snap, ("epci_departements",), """
        SELECT DISTINCT e.code AS epci, d.code AS departement
        FROM ref_appartenance e JOIN ref_appartenance d USING (commune)
        WHERE e.niveau = 'epci' AND d.niveau = 'departement' ORDER BY ALL""", [])


def _components(n: int, relations: list) -> list[np.ndarray]:
    """Cells linked by the relations (union-find): each group can be protected on its own."""
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for total, parts in relations:
        rt = find(total)
        for p in parts:
            rp = find(p)
            if rp != rt:
                parent[rp] = rt
    roots = np.array([find(i) for i in range(n)])
    return [np.flatnonzero(roots == r) for r in np.unique(roots)]


class _Universe:
    """A family's cells split into independent groups (a year, and the territories its relations link);
    each group's suppression pattern is computed the first time one of its cells is asked for."""

    def __init__(self, cells: pd.DataFrame, relations: list, groupement: str, members: pd.DataFrame):
        self.cells = cells
        self.groupement, self.members = groupement, members
        self.masque = np.full(len(cells), "", dtype=object)
        self.conseil = np.full(len(cells), "", dtype=object)
        n = len(cells)
        self.extra = np.zeros(n, dtype=bool)
        self.comp_of = np.zeros(n, dtype=np.int64)
        self.groups: list[tuple[np.ndarray, list]] = []
        year_of = cells.annee.to_numpy()
        for annee in np.unique(year_of):
            idx = np.flatnonzero(year_of == annee)
            local = {int(g): i for i, g in enumerate(idx)}
            rels = [(local[t], [local[p] for p in parts]) for t, parts in relations if t in local]
            comps = _components(len(idx), rels)
            comp_of = np.zeros(len(idx), dtype=np.int64)
            for k, comp in enumerate(comps):
                comp_of[comp] = k
            by_comp: list[list] = [[] for _ in comps]
            for t, parts in rels:
                by_comp[comp_of[t]].append((t, parts))
            for k, comp in enumerate(comps):
                pos = {int(g): i for i, g in enumerate(comp)}
                sub_rels = [(pos[t], [pos[p] for p in parts]) for t, parts in by_comp[k]]
                self.comp_of[idx[comp]] = len(self.groups)
                self.groups.append((idx[comp], sub_rels))
        self.done = np.zeros(len(self.groups), dtype=bool)
        self.lock = threading.Lock()
        self.values = cells.valeur.to_numpy(dtype=float)
        self.primary = cells.primary.to_numpy(dtype=bool)
        self.contrib = cells.nb_contrib.astype("Float64").fillna(np.inf).to_numpy(dtype=float)

    def protect(self, wanted: np.ndarray) -> np.ndarray:
        """Compute the groups of the wanted cells (boolean mask); returns the mask of those groups' cells."""
        needed = np.unique(self.comp_of[wanted])
        with self.lock:
            for g in needed:
                if self.done[g]:
                    continue
                cell, rels = self.groups[g]
                if self.primary[cell].any():  # nothing secret in a group: nothing to protect
                    self.extra[cell] = secret.suppress(self.values[cell], self.primary[cell], rels, self.contrib[cell])
                    sub = self.cells.iloc[cell].copy()
                    sub["masque"] = np.where(self.primary[cell], "primaire", np.where(self.extra[cell], "secondaire", ""))
                    self.masque[cell] = sub.masque.to_numpy()
                    self.conseil[cell] = _coarser(sub, self.groupement, self.members).to_numpy()
                self.done[g] = True
        return np.isin(self.comp_of, needed)


_UNIVERSES: dict[tuple, _Universe] = {}
_UNIVERSES_LOCK = threading.Lock()


def secret_pattern(snap: Snapshot, ind: Indicator, groupement: str, niveau: str | None = None,
                   codes: list[str] | None = None, annees: list[int] | None = None) -> pd.DataFrame:
    """Cells of the family's table that are masked, every year: masque in {'primaire', 'secondaire', ''}.

    The table is protected as a whole, group by group: cells of different years, or of territories no
    relation links (at national scale, the départements and their EPCIs), are independent. With
    niveau / codes / annees, only the groups holding those cells are computed (and returned).
    """
    rules = secret.Rules.from_env()
    family, _ = _family(groupement)
    key = (snap.version, rules, ind.mesure, family)
    with _UNIVERSES_LOCK:
        uni = _UNIVERSES.get(key)
    if uni is None:
        uni = _Universe(*secret_universe(snap, ind, groupement), groupement, _epci_departements(snap))
        with _UNIVERSES_LOCK:
            if len(_UNIVERSES) > 64:
                _UNIVERSES.clear()
            uni = _UNIVERSES.setdefault(key, uni)
    cells = uni.cells
    wanted = np.ones(len(cells), dtype=bool)
    if niveau is not None:
        wanted &= cells.niveau.eq(niveau).to_numpy()
    if codes is not None:
        wanted &= cells.code.isin(list(codes)).to_numpy()
    if annees is not None:
        wanted &= cells.annee.isin([int(a) for a in annees]).to_numpy()
    rows = uni.protect(wanted)
    out = cells.loc[rows, ["niveau", "code", "annee", "groupement", "groupe_code", "valeur", "statut"]]
    return out.assign(masque=uni.masque[rows], conseil=uni.conseil[rows])


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
    df = df.copy()
    if niveau == "commune":
        # Turnover is not published below the EPCI: only known zeros stay.
        hide = df.nb_contrib.fillna(0).gt(0) & ~df.statut.eq("secret")
        df.loc[hide, "valeur"] = np.nan
        df.loc[hide, "statut"] = "secret"
        df.loc[hide, "note"] = secret.NOTE_COMMUNE
        return df
    if niveau not in _MARGIN_NIVEAUX or df.empty:
        return df
    pats = secret_pattern(snap, ind, groupement, niveau, df.code.unique().tolist(), df.annee.dropna().unique().tolist())
    pats = pats[(pats.niveau == niveau) & (pats.groupement == groupement)][["code", "annee", "groupe_code", "masque", "conseil"]]
    df = df.merge(pats, on=["code", "annee", "groupe_code"], how="left")
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
        df = territories(snap, niveau, territoires)[["code"]].merge(
            pd.DataFrame({"groupe_code": groupes or categories(snap, groupement).groupe_code.tolist()}), how="cross")
        df = df.assign(annee=pd.NA, valeur=np.nan, statut="absent", source="", demo=False,
                       note=f"Aucune donnée chargée : charger {ind.source_hint}")
        return _tidy(snap, df, ind, niveau, groupement, territoires)
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
    return _tidy(snap, df, ind, niveau, groupement, territoires)


def _tidy(snap: Snapshot, df: pd.DataFrame, ind: Indicator, niveau: str, groupement: str,
          territoires_: list[str] | None) -> pd.DataFrame:
    terr = territories(snap, niveau, territoires_)
    df = df.merge(terr, on="code", how="left")
    df["niveau"] = niveau
    cols = ["code", "nom", "nom_court", "niveau", "annee"]
    if "annee_base" in df:
        cols.append("annee_base")
    if ind.dimension:
        labels = categories(snap, groupement).rename(columns={"libelle": ind.dimension, "groupe_code": f"{ind.dimension}_code"})
        df = df.merge(labels, left_on="groupe_code", right_on=f"{ind.dimension}_code", how="left")
        cols += [f"{ind.dimension}_code", ind.dimension]
    cols += ["valeur", "statut", "note", "source", "demo"]
    if niveau == "commune":
        cols.append("hors_departement")
    df["source"] = df.source.fillna("")
    sort = ["ordre", "code", "annee"] + (["ordre_cat"] if ind.dimension else [])
    if ind.dimension:
        df = df.rename(columns={"ordre_y": "ordre_cat", "ordre_x": "ordre"}) if "ordre_y" in df else df
    df = df.sort_values([c for c in sort if c in df]).reset_index(drop=True)
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
