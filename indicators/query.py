"""get(): one indicator as a tidy DataFrame, for pages, exports and the command line alike.

Columns: code, nom, niveau, annee, [secteur_code, secteur | filiere_code, filiere], valeur, statut,
note, source, demo (+ hors_departement for communes, annee_base for growths). A secret or absent
value is NaN, never 0. Firm-level cells (mart rows of a measure computed from firm rows) are shown only
when the load found them publishable (`mart.secret`, computed by etl/secret.py): reads only filter.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from . import secret
from .catalog import Indicator, get as get_indicator
from .db import Snapshot

NIVEAUX = ["commune", "epci", "epci_partie", "ti", "departement", "region", "france"]
NIVEAU_LABELS = {"commune": "commune", "epci": "EPCI", "epci_partie": "partie d'EPCI dans un département de référence",
                 "ti": "Territoire d'industrie", "departement": "département",
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


def territories_with_data(snap: Snapshot, niveaux: list[str]) -> set[tuple[str, str]]:
    """(niveau, code) of the territories of these levels that have at least one figure in the marts."""
    df = _reference(snap, ("with_data", tuple(niveaux)),
                    "SELECT DISTINCT niveau, code FROM mart WHERE list_contains(?, niveau) AND valeur IS NOT NULL",
                    [list(niveaux)])
    return set(zip(df.niveau, df.code))


def ti_of_epci(snap: Snapshot, code: str) -> list[str]:
    """The TI (codes) whose communes include this EPCI's."""
    return _reference(snap, ("ti_of", code), """SELECT DISTINCT t.code FROM ref_appartenance e
                          JOIN ref_appartenance t ON t.commune = e.commune AND t.niveau = 'ti'
                          WHERE e.niveau = 'epci' AND e.code = ? ORDER BY 1""", [code]).code.tolist()


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
    if ind.kind in _DERIVED:  # the years both operands have
        a, b = (years(snap, o, niveau, definition) for o in ind.operandes)
        return sorted(set(a) & set(b))
    return _mart_years(snap, ind.mesure, [_groupement(ind, definition)], [niveau])


# A firm-level mart row (one of a measure computed from firm rows: it has a `secret` status, or contributor
# counts) is withheld unless the load marked it publishable; a row never evaluated is withheld too.
_WITHHELD = "(m.secret IS DISTINCT FROM 'diffuse' AND (m.secret IS NOT NULL OR m.nb_contrib IS NOT NULL))"
# A warehouse built before the status was stored (rebuilt at its next load): every firm-level row is withheld.
_WITHHELD_UNEVALUATED = "(m.nb_contrib IS NOT NULL)"


def _withheld(snap: Snapshot) -> str:
    stored = bool(_reference(snap, ("secret_stocke",), """
        SELECT count(*) AS n FROM duckdb_columns() WHERE database_name = current_database()
        AND table_name = 'mart' AND column_name = 'secret'""", []).n.iat[0])
    return _WITHHELD if stored else _WITHHELD_UNEVALUATED


_NO_POPULATION = "NULL::BIGINT AS pop_couverte, NULL::BIGINT AS pop_membres"


def _population(snap: Snapshot) -> str:
    """The mart's inhabitants covered and held per aggregate (etl/marts.py), or NULLs in a mart built before."""
    stored = bool(_reference(snap, ("population_couverte",), """
        SELECT count(*) AS n FROM duckdb_columns() WHERE database_name = current_database()
        AND table_name = 'mart' AND column_name = 'pop_couverte'""", []).n.iat[0])
    return "m.pop_couverte, m.pop_membres" if stored else _NO_POPULATION


def _thousands(column: str) -> str:
    """An integer with U+202F between thousands, as indicators/format.py writes counts, for notes built in SQL."""
    return f"replace(format('{{:,}}', {column}), ',', '\u202f')"


class _Sql:
    """One statement over the mart for one measure (and optionally some territory codes): its named
    parameters (DuckDB `$name`) and its mart scans, one per level and grouping, shared by every part of
    the statement and written as CTEs in front of it (`statement`)."""

    def __init__(self, mesure: str, codes: list[str] | None):
        self.params: dict = {}
        self.mesure, self.codes = mesure, codes
        self.scans: dict[tuple[str, str], list] = {}   # (niveau, groupement) -> [name, years, groupes or None]
        self.withheld = _WITHHELD
        self.population = _NO_POPULATION   # inhabitants covered by a partial aggregate (older marts: none)

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
                SELECT m.niveau, m.code, m.annee, m.groupement, m.groupe_code,
                       CASE WHEN {self.withheld} THEN NULL ELSE m.valeur END AS valeur,
                       CASE WHEN {self.withheld} THEN 'secret' ELSE m.statut END AS statut, m.statut AS couverture,
                       m.n_couvertes, m.n_membres, {self.population}, m.source_id
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
               annees: list[int], groupes: list[str] | None = None) -> str:
    """A SELECT of mart values for every territory (q.codes) x year x category asked (columns niveau, code,
    annee, yi, gi, groupement, groupe_code, valeur, statut, note, source_id; yi and
    gi are the positions in `annees` and in the categories): zero-filled where a source covers the
    territory-year for the measure (a missing category there is a true zero), absent elsewhere; firm-level
    cells withheld by the statistical secret (stored at load) as secret. Several groupings or levels take
    every category of each grouping."""
    groupements = [groupement] if isinstance(groupement, str) else list(groupement)
    niveaux = [niveau] if isinstance(niveau, str) else list(niveau)
    cats = [(gr, gc) for gr in groupements
            for gc in (groupes if groupes is not None else categories(snap, gr).groupe_code.tolist())]
    a = f"CAST({q([int(x) for x in annees])} AS BIGINT[])"
    gg, gc = f"CAST({q([c[0] for c in cats])} AS VARCHAR[])", f"CAST({q([c[1] for c in cats])} AS VARCHAR[])"
    values = " UNION ALL ".join(f"SELECT * FROM {q.scan(n, gr, annees, groupes)}" for n in niveaux for gr in groupements)
    covered = " UNION ALL ".join(f"SELECT niveau, code, annee, couverture AS statut, source_id FROM {q.scan(n, 'total', annees)}"
                                 for n in niveaux)
    # Join keys: level and grouping only when there are several (fewer keys, cheaper joins).
    keys_m = ["code", "annee", "groupe_code"] + (["niveau"] if len(niveaux) > 1 else []) + (["groupement"] if len(groupements) > 1 else [])
    on_m = " AND ".join(f"m.{k} = {'y' if k == 'annee' else 'g' if k in ('groupe_code', 'groupement') else 't'}.{k}" for k in keys_m)
    on_c = "c.code = t.code AND c.annee = y.annee" + (" AND c.niveau = t.niveau" if len(niveaux) > 1 else "")
    zero = "m.statut IS NULL AND c.statut IS NOT NULL"
    sql = f"""
        SELECT v.*, CASE
                   WHEN statut = 'partiel' AND n_couvertes < n_membres
                        THEN 'Agrégat partiel : ' || n_couvertes || ' communes sur ' || n_membres
                             || coalesce(' (' || {_thousands('pop_couverte')} || ' habitants sur ' || {_thousands('pop_membres')} || ')', '')
                             || ' couvertes par le fichier'
                   WHEN statut = 'partiel' THEN 'Agrégat partiel : certaines valeurs communales sont en secret statistique'
                   WHEN statut = 'secret' THEN {q(secret.NOTE)}
                   WHEN statut = 'absent' AND niveau IN ('region', 'france')
                        THEN 'Non calculable sans le fichier national (toutes les communes de France)'
                   WHEN statut = 'absent' THEN 'Aucune donnée chargée : charger ' || {q(ind.source_hint)}
                   ELSE '' END AS note
        FROM (
            SELECT t.niveau, t.code, y.annee, y.yi, g.gi, g.groupement, g.groupe_code,
                   CASE WHEN {zero} THEN 0.0 ELSE m.valeur END AS valeur,
                   coalesce(m.statut, c.statut, 'absent') AS statut,
                   m.n_couvertes, m.n_membres, m.pop_couverte, m.pop_membres,
                   CASE WHEN {zero} THEN c.source_id ELSE m.source_id END AS source_id
            FROM (SELECT niveau, code FROM ref_territoires WHERE {_in(q, 'niveau', niveaux)}{q.codes_filter('code')}) t
            CROSS JOIN (SELECT i AS yi, {a}[i] AS annee FROM range(1, len({a}) + 1) r(i)) y
            CROSS JOIN (SELECT i AS gi, {gg}[i] AS groupement, {gc}[i] AS groupe_code FROM range(1, len({gg}) + 1) r(i)) g
            LEFT JOIN ({values}) m ON {on_m}
            LEFT JOIN ({covered}) c ON {on_c}
        ) v"""
    return sql


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
    if ind.kind in _DERIVED:
        return _derived(snap, ind, niveau, annee, annees, territoires, definition)
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
    q.withheld = _withheld(snap)
    q.population = _population(snap)
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
_DERIVED = ("solde", "taux")


def _derived(snap: Snapshot, ind: Indicator, niveau: str, annee: int | None, annees: list[int] | None,
             territoires: list[str] | None, definition: str) -> pd.DataFrame:
    """A `solde` (first - second) or `taux` (first / second, absent when the second is 0) of two indicators
    read by get(), cell by cell: the worse statut of the two and its note; rows and source of the first."""
    if annees is None and annee is None:
        annee = latest_year(snap, ind.name, niveau, definition) or latest_year(snap, ind.name, "departement", definition)
    first, second = (get(snap, o, niveau, annee=annee, annees=annees, territoires=territoires, definition=definition)
                     for o in ind.operandes)
    keys = ["code", "annee"] + ([f"{ind.dimension}_code"] if ind.dimension else [])
    m = first.merge(second[keys + ["valeur", "statut", "note"]], on=keys, how="left", suffixes=("", "_b"))
    m["statut_b"] = m.statut_b.fillna("absent")
    if ind.kind == "solde":
        valeur = m.valeur - m.valeur_b
    else:
        valeur = m.valeur / m.valeur_b.where(m.valeur_b > 0)
        m.loc[m.valeur_b.eq(0) & m.statut_b.eq("ok"), "statut_b"] = "absent"
    worse = m.statut_b.map(_STATUT_RANK) > m.statut.map(_STATUT_RANK)
    out = m[first.columns].copy()
    out["statut"] = m.statut.where(~worse, m.statut_b)
    out["note"] = m.note.where(~worse, m.note_b.fillna(""))
    out["valeur"] = valeur.where(~out.statut.isin(["secret", "absent"]))
    return out


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


def custom_territories(snap: Snapshot) -> list[str]:
    """Name of the warehouse's own TI when it is outside the official list (a custom perimeter), whose turnover is
    published only as sums of published canonical cells (etl/secret.py). An official TI held in part (its
    communes shared with a custom one) follows the same rule but is not named: it is in the official list."""
    rows = snap.rows("SELECT valeur FROM meta WHERE cle = 'secret_sur_mesure'")
    codes = [code for niveau, code in json.loads(rows[0][0])] if rows else []
    return [r[0] for r in snap.rows("SELECT nom FROM ref_territoires WHERE niveau = 'ti' AND role = 'membre' "
                                    "AND list_contains(?, code) ORDER BY ordre", [codes])] if codes else []


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


def _has_table(snap: Snapshot, name: str) -> bool:
    return bool(snap.rows("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?", [name]))
