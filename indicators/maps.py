"""Choropleth maps by EPCI or by commune, drawn offline from the warehouse's contours.

`map_figure(snap, name, niveau, annee, ...)` returns the plotly figure and the table behind it
(the same rows the annex exports). Geometries come from `ref_contours` (built by etl/geo.py at
build time: communes, EPCI outlines as the union of their communes, département outline).

Offline: a plotly geo subplot fetches a world topojson from cdn.plot.ly as soon as a choropleth
is drawn, even with the base map hidden. Pass PLOTLY_CONFIG (or TOPOJSON_URL to kaleido): it
points plotly.js to an empty topology inside a data: URL, so nothing leaves the machine.

Classes: Jenks natural breaks (default) or quantiles for counts and amounts; for shares and
growth rates, a diverging scale centred on the département's value (on zero for changes in
euros). Secret cells are grey and hatched, absent ones light grey; both are in the legend.
"""
from __future__ import annotations

import json
import math
import re
import threading
import urllib.parse
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely

from . import perimeter, format as fmt, query
from .catalog import get as get_indicator
from .charts import FONT
from .db import Snapshot

_EMPTY_TOPOLOGY = {"type": "Topology", "arcs": [], "objects": {
    k: {"type": "GeometryCollection", "geometries": []}
    for k in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")}}
# plotly.js asks for `topojsonURL + name + ".json"`: after the '#', the name is a fragment, not fetched.
TOPOJSON_URL = "data:application/json," + urllib.parse.quote(json.dumps(_EMPTY_TOPOLOGY, separators=(",", ":"))) + "#"
PLOTLY_CONFIG = {"displaylogo": False, "locale": "fr", "topojsonURL": TOPOJSON_URL, "scrollZoom": False}

SEQUENTIAL = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]     # ColorBrewer YlGnBu
DIVERGING_BELOW = ["#2166ac", "#67a9cf", "#d1e5f0"]                      # ColorBrewer RdBu
DIVERGING_ABOVE = ["#fddbc7", "#ef8a62", "#b2182b"]
SECRET_COLOUR, ABSENT_COLOUR, HATCH_COLOUR = "#b0b0b0", "#e6e6e6", "#444444"
OUTSIDE_OPACITY = 0.6
METHODES = {"jenks": "Seuils naturels (Jenks)", "quantiles": "Quantiles (effectifs égaux)"}
STATUT_TEXT = {"ok": "publié", "partiel": "partiel", "secret": "s : secret statistique", "absent": "– : aucune donnée"}


class MapUnavailable(RuntimeError):
    """The warehouse has no contours (built before maps existed): rebuild it."""


# --- geometries ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Geometries:
    features: dict[str, dict]          # location id -> GeoJSON geometry (communes: code; EPCI: SIREN, SIREN:hors)
    shapes: dict[str, object]          # same ids + "epci:SIREN" outlines + "dep:CODE" -> shapely geometry
    communes: pd.DataFrame             # code, nom, departement, epci_siren, epci_nom, hors_departement, dessinee
    epci: pd.DataFrame                 # code, nom_court, label_lon, label_lat, hors (has communes outside 05)

    @property
    def missing(self) -> pd.DataFrame:
        """Reference communes with no contour (e.g. created by a split after the contours' vintage)."""
        return self.communes[~self.communes.dessinee]


_cache: dict[str, Geometries] = {}
_cache_lock = threading.Lock()


def geometries(snap: Snapshot) -> Geometries:
    """Parsed once per data version and process."""
    with _cache_lock:
        if snap.version in _cache:
            return _cache[snap.version]
    # A map draws the territory's perimeter (its EPCIs and all their communes), whatever else the warehouse
    # holds: only those contours are read and parsed.
    own = {niveau: query.perimeter(snap, niveau) for niveau in ("commune", "epci", "departement")}
    try:
        rows = snap.df("""SELECT niveau, code, partie, geojson, label_lon, label_lat FROM ref_contours
                          WHERE (niveau = 'commune' AND list_contains(?, code)) OR (niveau = 'epci' AND list_contains(?, code))
                             OR (niveau = 'departement' AND list_contains(?, code))""",
                       [own["commune"], own["epci"], own["departement"]])
    except Exception as exc:  # table missing: warehouse built before the maps
        raise MapUnavailable("les contours des communes manquent dans l'entrepôt : reconstruisez-le "
                             "(commande « python -m etl build »)") from exc
    if rows.empty:
        raise MapUnavailable("le référentiel chargé ne contient aucun contour des communes du territoire "
                             "(dossier data/reference/contours/)")
    communes = snap.df("""SELECT c.code, c.nom, c.departement, c.epci_siren, e.nom_court AS epci_nom, c.hors_departement,
                                 k.code IS NOT NULL AS dessinee
                          FROM ref_communes c JOIN ref_epci e ON e.siren = c.epci_siren
                          LEFT JOIN ref_contours k ON k.niveau = 'commune' AND k.code = c.code ORDER BY c.code""")
    communes = communes[communes.code.isin(own["commune"])].reset_index(drop=True)
    features, shapes = {}, {}
    for r in rows.itertuples():
        key = {("commune", "entier"): r.code, ("epci", "dans_reference"): r.code, ("epci", "hors_reference"): f"{r.code}:hors",
               ("epci", "entier"): f"epci:{r.code}", ("departement", "entier"): f"dep:{r.code}"}.get((r.niveau, r.partie))
        if key is None:
            continue
        if key == "dep" and key in shapes:  # several reference départements: every outline is drawn
            shapes[key] = shapely.MultiPolygon([*shapely.get_parts(shapes[key]), *shapely.get_parts(shapely.from_geojson(r.geojson))])
            continue
        shapes[key] = shapely.from_geojson(r.geojson)
        if r.niveau != "departement" and r.partie != "entier" or r.niveau == "commune":
            features[key] = json.loads(r.geojson)
    labels = rows[(rows.niveau == "epci") & (rows.partie == "dans_reference")][["code", "label_lon", "label_lat"]]
    epci = snap.df("SELECT siren AS code, nom_court, ordre FROM ref_epci ORDER BY ordre").merge(labels, on="code", how="left")
    epci = epci[epci.code.isin(own["epci"])].reset_index(drop=True)
    epci["hors"] = epci.code.isin(rows[rows.partie == "hors_reference"].code)
    geo = Geometries(features, shapes, communes, epci)
    with _cache_lock:
        if len(_cache) > 4:
            _cache.clear()
        _cache[snap.version] = geo
    return geo


def _lines(geom) -> tuple[list, list]:
    """Rings of a (multi)polygon as lon/lat lists with None between rings (for a line trace)."""
    lon, lat = [], []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xs, ys = ring.xy
            lon += list(xs) + [None]
            lat += list(ys) + [None]
    return lon, lat


def _hatch(geoms: list, spacing: float, rising: bool = True) -> tuple[list, list]:
    """Diagonal hatching lines clipped to the geometries (rising: / ; else \\)."""
    lon, lat = [], []
    for g in geoms:
        minx, miny, maxx, maxy = g.bounds
        h = maxy - miny
        starts = np.arange(minx - h, maxx + h, spacing)
        lines = shapely.MultiLineString([[(x, miny), (x + h, maxy)] if rising else [(x, miny), (x - h, maxy)]
                                         for x in starts])
        clipped = lines.intersection(g)
        for part in getattr(clipped, "geoms", [clipped]):
            if part.geom_type == "LineString" and not part.is_empty:
                xs, ys = part.xy
                lon += list(xs) + [None]
                lat += list(ys) + [None]
    return lon, lat


# --- classes ---------------------------------------------------------------------------------------

def jenks_breaks(values, k: int) -> list[float]:
    """Fisher-Jenks natural breaks: upper bound of each of k classes minimising within-class variance."""
    x = np.sort(np.asarray(values, dtype=float))
    x = x[~np.isnan(x)]
    k = min(k, len(np.unique(x)))
    if k <= 1:
        return [float(x[-1])] if len(x) else []
    n = len(x)
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])
    cost = np.full((k + 1, n + 1), np.inf)
    back = np.zeros((k + 1, n + 1), dtype=int)
    cost[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):          # first j values in c classes; the last class is x[i:j]
            i = np.arange(c - 1, j)
            ssd = (s2[j] - s2[i]) - (s1[j] - s1[i]) ** 2 / (j - i)
            total = cost[c - 1, i] + ssd
            best = int(np.argmin(total))
            cost[c, j], back[c, j] = total[best], i[best]
    bounds, j = [], n
    for c in range(k, 0, -1):
        bounds.append(float(x[j - 1]))
        j = back[c, j]
    return sorted(set(bounds))


def quantile_breaks(values, k: int) -> list[float]:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if not len(x):
        return []
    return sorted(set(float(q) for q in np.quantile(x, np.linspace(0, 1, k + 1)[1:], method="inverted_cdf")))


def round_cut(a: float, b: float) -> float:
    """The roundest number c with a < c <= b (a class ends below c, the next one starts at c)."""
    if b <= a:
        return b
    p = math.floor(math.log10(b - a)) + 1 if b - a > 0 else 0
    for e in range(p, p - 12, -1):
        for m in (10, 5, 2, 1):
            step = m * 10.0 ** (e - 1)
            c = round(math.floor(b / step + 1e-9) * step, 12)
            if a < c <= b:
                return round(c, 12)
    return b


def _nice(step: float) -> float:
    if step <= 0 or not math.isfinite(step):
        return 1.0
    exp = math.floor(math.log10(step))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exp >= step:
            return m * 10 ** exp
    return 10 ** (exp + 1)


@dataclass
class Classes:
    methode: str                  # jenks, quantiles, divergente
    labels: list[str]
    colours: list[str]
    index: np.ndarray             # class of each value, -1 when missing
    centre: float | None = None


def classify(values, formatter, methode: str = "jenks", centre: float | None = None, k: int = 5,
             minimum: float | None = None) -> Classes:
    """Classes of the values (NaN -> -1) with French labels made by `formatter`.

    minimum: the smallest possible value (0 for shares), so that no label reads "de −5 % à 0 %"."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    index = np.full(len(v), -1)
    if methode == "divergente":
        c = 0.0 if centre is None or not math.isfinite(centre) else float(centre)
        dev = np.abs(v[ok] - c)
        spread = float(np.quantile(dev, 0.9)) if len(dev) else 0.0
        s = _nice(spread / 2 if spread > 0 else (float(dev.max()) if len(dev) and dev.max() > 0 else abs(c) / 10 or 1.0))
        edges = [c - 2 * s, c - s, c, c + s, c + 2 * s]
        index[ok] = np.searchsorted(edges, v[ok], side="right")
        f = [formatter(e) for e in edges]
        labels = ["" if minimum is not None and edges[0] <= minimum else f"moins de {f[0]}"]   # "": cannot occur
        for i in range(1, 5):
            # Shares cannot be negative: below the lowest meaningful edge the class is "moins de".
            floor = minimum is not None and edges[i - 1] <= minimum
            labels.append(f"moins de {f[i]}" if floor else f"de {f[i - 1]} à moins de {f[i]}")
        labels.append(f"{f[4]} et plus")
        return Classes("divergente", labels, DIVERGING_BELOW + DIVERGING_ABOVE, index, c)
    n_unique = len(np.unique(v[ok]))
    k = max(1, min(k, n_unique if n_unique < 6 else k, max(2, n_unique // 2)))
    bounds = (quantile_breaks if methode == "quantiles" else jenks_breaks)(v[ok], k)
    if not bounds:
        return Classes(methode, [], [], index)
    first = np.minimum(np.searchsorted(bounds, v[ok], side="left"), len(bounds) - 1)
    # Contiguous, half-open classes: a round cut between the largest value of a class and the smallest of
    # the next (« de 5,5 % à moins de 10,5 % »), so that no value falls between two classes.
    cuts = []
    for i in range(len(bounds) - 1):
        hi_i, lo_next = v[ok][first == i], v[ok][first == i + 1]
        if len(hi_i) and len(lo_next):
            cuts.append(round_cut(float(hi_i.max()), float(lo_next.min())))
    index[ok] = np.searchsorted(cuts, v[ok], side="right")
    colours = [SEQUENTIAL[int(round(i))] for i in np.linspace(0, len(SEQUENTIAL) - 1, len(cuts) + 1)] if cuts \
        else [SEQUENTIAL[2]]
    if not cuts:
        lo, hi = float(v[ok].min()), float(v[ok].max())
        labels = [formatter(lo) if lo == hi else f"de {formatter(lo)} à {formatter(hi)}"]
    else:
        labels = [f"moins de {formatter(cuts[0])}"]
        labels += [f"de {formatter(a)} à moins de {formatter(b)}" for a, b in zip(cuts, cuts[1:])]
        labels.append(f"{formatter(cuts[-1])} et plus")
    return Classes(methode, labels, colours, index)


# --- the figure ------------------------------------------------------------------------------------

def _formatter(ind):
    if ind.kind == "taux_croissance":
        return lambda x: fmt.growth(x, 1)
    if ind.kind == "croissance":
        return lambda x: fmt.euros(x, sign=True)
    if ind.unite == "part":
        return lambda x: fmt.percent(x, 1)
    return lambda x: fmt.value(x, ind.unite)


def _unit_label(ind) -> str:
    if ind.kind == "taux_croissance":
        return "évolution en %"
    if ind.unite == "part":
        return "en %"
    if ind.unite == "€":
        return "en euros"
    return f"en {ind.unite}"


def default_method(name: str) -> str:
    ind = get_indicator(name)
    return "divergente" if ind.unite == "part" or ind.kind in ("croissance", "taux_croissance") else "jenks"


def categories(snap: Snapshot, name: str, definition: str = "coeur") -> pd.DataFrame:
    """Categories (groupe_code, libelle) an indicator with a dimension is split by; empty otherwise."""
    ind = get_indicator(name)
    if not ind.dimension:
        return pd.DataFrame(columns=["groupe_code", "libelle"])
    return query.categories(snap, query._groupement(ind, definition))[["groupe_code", "libelle"]]


def _pick(df: pd.DataFrame, ind, categorie: str | None) -> tuple[pd.DataFrame, str | None]:
    if not ind.dimension:
        return df, None
    col = f"{ind.dimension}_code"
    codes = df[col].dropna().unique().tolist()
    if not codes:
        return df, None
    if categorie not in codes:
        categorie = next((c for c in ("BE", "industrie") if c in codes), codes[0] if codes else None)
    return df[df[col] == categorie].reset_index(drop=True), categorie


def _short(name: str, width: int = 13) -> str:
    """Break a long EPCI name on two or more lines for its label (after spaces or hyphens)."""
    if len(name) <= width:
        return name
    tokens = re.findall(r"[^ -]+-|[^ -]+", name)    # "Gap-Tallard-Durance" -> "Gap-", "Tallard-", "Durance"
    lines, line = [], ""
    for t in tokens:
        sep = "" if line.endswith("-") or not line else " "
        if line and len(line) + len(sep) + len(t) > width:
            lines.append(line)
            line = t
        else:
            line = f"{line}{sep}{t}"
    return "<br>".join(lines + [line])


def _label_positions(lon: list[float], lat: list[float], texts: list[str]) -> list[str]:
    """Centred labels, except pairs whose boxes would overlap: the northern one then goes above its
    point, the southern one below (box sizes in degrees, for the département-wide view)."""
    pos = ["middle center"] * len(texts)
    size = [(max(len(t) for t in x.split("<br>")) * 0.022, x.count("<br>") * 0.06 + 0.06) for x in texts]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if (abs(lon[i] - lon[j]) < (size[i][0] + size[j][0]) / 2
                    and abs(lat[i] - lat[j]) < (size[i][1] + size[j][1]) / 2):
                north, south = (i, j) if lat[i] >= lat[j] else (j, i)
                pos[north], pos[south] = "top center", "bottom center"
    return pos


def map_figure(snap: Snapshot, name: str, niveau: str = "epci", annee: int | None = None, definition: str = "coeur",
               categorie: str | None = None, annee_base: int | None = None, methode: str | None = None,
               selection: str | None = None, height: int = 640) -> tuple[go.Figure, pd.DataFrame]:
    """Choropleth of a catalogue indicator by EPCI or commune, and the table behind it.

    selection: SIREN of an EPCI drawn with a thick outline. methode: jenks, quantiles or divergente
    (default: divergente for shares and growths, jenks otherwise).
    """
    if niveau not in ("epci", "commune"):
        raise ValueError(f"carte par EPCI ou par commune seulement (niveau « {niveau} »)")
    ind = get_indicator(name)
    geo = geometries(snap)
    if annee is None:
        annee = query.latest_year(snap, name, niveau, definition) or query.latest_year(snap, name, "departement", definition)
    if annee is None:   # nothing loaded for this indicator: every territory drawn as absent
        df = query.territories(snap, niveau, perimetre=True).drop(columns=["ordre", "perimetre"]).assign(
            niveau=niveau, annee=np.nan, valeur=np.nan, statut="absent", source="", demo=False,
            note=f"Aucune donnée chargée : charger {ind.source_hint}")
        if ind.dimension:
            df[f"{ind.dimension}_code"], df[ind.dimension] = None, None
        if niveau != "commune":
            df = df.drop(columns=["hors_departement"])
    else:
        df = query.get(snap, name, niveau, annee=annee, territoires=query.perimeter(snap, niveau), definition=definition,
                       annee_base=annee_base)
    df, categorie = _pick(df, ind, categorie)
    per = perimeter.load(snap)
    deps_names = ", ".join(t.nom for t in per.references_of("departement"))
    # The classes are centred on the value of the TI as a whole (the map shows its EPCI and communes).
    dep, _ = _pick(query.get(snap, name, "ti", annee=annee, territoires=[per.ti.code], definition=definition,
                             annee_base=annee_base), ind, categorie)
    dep_value = dep.valeur.iat[0] if len(dep) else float("nan")
    methode = methode or default_method(name)
    if methode == "divergente" and ind.kind != "croissance" and not np.isfinite(dep_value):
        methode = "jenks"   # no département value to centre on
    centre = 0.0 if ind.kind == "croissance" else dep_value
    f = _formatter(ind)
    classes = classify(df.valeur.to_numpy(), f, methode, centre, minimum=0.0 if ind.kind == "part" else None)

    if niveau == "commune":
        info = geo.communes.set_index("code")
        df["epci"] = df.code.map(info.epci_siren)
        df["epci_nom"] = df.code.map(info.epci_nom)
        df["departement"] = df.code.map(info.departement)
        outside = df.hors_departement.fillna(False).astype(bool).to_numpy()
        df["dessinee"] = df.code.isin(geo.features)
        locations = df.code.tolist()
    else:
        df["epci"] = df.code
        df["dessinee"] = df.code.isin(geo.features)
        outside = np.zeros(len(df), dtype=bool)
        locations = df.code.tolist()
    df["classe"] = [classes.labels[i] if i >= 0 else ("s (secret statistique)" if s == "secret" else "aucune donnée")
                    for i, s in zip(classes.index, df.statut)]

    def hover(r) -> str:
        where = r.nom
        if niveau == "commune":
            where += f"<br>{r.epci_nom}" + (f" (hors {deps_names}, {r.departement})" if r.hors_departement else "")
        value = fmt.value(r.valeur, ind.unite, r.statut) if ind.kind != "taux_croissance" or r.statut in ("secret", "absent") \
            else fmt.growth(r.valeur, 1)
        period = (f" ({int(r.annee_base)}–{int(r.annee)})" if pd.notna(getattr(r, "annee_base", None))
                  else (f" ({int(r.annee)})" if pd.notna(r.annee) else ""))
        text = f"<b>{where}</b><br>{value}{period}<br>Statut : {STATUT_TEXT.get(r.statut, r.statut)}"
        if r.note:
            text += f"<br>{r.note}"
        return text + (f"<br><i>Source : {r.source}</i>" if r.source else "")

    hovers = [hover(r) for r in df.itertuples()]
    fig = go.Figure()
    line_width = 0.6 if niveau == "commune" else 1.5
    groups = [(i, lab, col) for i, (lab, col) in enumerate(zip(classes.labels, classes.colours))]
    groups += [(-1, "s : secret statistique (hachuré)", SECRET_COLOUR), (-2, "– : aucune donnée", ABSENT_COLOUR)]
    cls = classes.index.copy()
    cls[(cls < 0) & (df.statut != "secret").to_numpy()] = -2
    for i, label, colour in groups:
        members = np.flatnonzero((cls == i) & df.dessinee.to_numpy())
        if not len(members):
            continue
        locs = []
        opac = []
        hov = []
        cdata = []
        for m in members:
            keys = [locations[m]] + ([f"{locations[m]}:hors"] if niveau == "epci" and f"{locations[m]}:hors" in geo.features else [])
            for key in keys:
                locs.append(key)
                opac.append(OUTSIDE_OPACITY if outside[m] or key.endswith(":hors") else 1.0)
                hov.append(hovers[m])
                cdata.append(df.epci.iat[m])
        features = {"type": "FeatureCollection",
                    "features": [{"type": "Feature", "id": key, "geometry": geo.features[key]} for key in locs]}
        fig.add_trace(go.Choropleth(
            geojson=features, locations=locs, z=[1] * len(locs), colorscale=[[0, colour], [1, colour]], zmin=0, zmax=1,
            showscale=False, marker=dict(line=dict(color="white", width=line_width), opacity=opac),
            hovertext=hov, hoverinfo="text", customdata=cdata, name=f"{label} ({len(members)})", showlegend=True,
            legendrank=100 + (i if i >= 0 else 50 - i)))

    # Communes outside the département: faded and crossed by white lines, so it shows on any colour.
    outside_keys = [k for k in (geo.features if niveau == "epci" else [])
                    if k.endswith(":hors")] if niveau == "epci" else \
        [locations[m] for m in np.flatnonzero(outside) if locations[m] in geo.shapes]
    if outside_keys:
        lon, lat = _hatch([geo.shapes[k] for k in outside_keys], 0.02, rising=False)
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="white", width=1.2),
                                    hoverinfo="skip", showlegend=False))
    # Hatching of secret cells, outlines, labels.
    secret_keys = [k for m in np.flatnonzero(cls == -1) for k in
                   [locations[m]] + ([f"{locations[m]}:hors"] if niveau == "epci" else []) if k in geo.shapes]
    if secret_keys:
        lon, lat = _hatch([geo.shapes[k] for k in secret_keys], 0.012 if niveau == "epci" else 0.008)
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color=HATCH_COLOUR, width=0.8),
                                    hoverinfo="skip", showlegend=False))
    if niveau == "commune":
        lon, lat = [], []
        for code in geo.epci.code:
            if f"epci:{code}" in geo.shapes:
                a, b = _lines(geo.shapes[f"epci:{code}"])
                lon += a
                lat += b
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="#555555", width=1.6),
                                    hoverinfo="skip", name="Limite d'EPCI", showlegend=True, legendrank=300))
    deps = [k for k in geo.shapes if k.startswith("dep:")]
    for i, k in enumerate(deps):
        lon, lat = _lines(geo.shapes[k])
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="#111111", width=2.6),
                                    hoverinfo="skip", name=f"Limite de département ({deps_names})", showlegend=i == 0,
                                    legendgroup="dep", legendrank=301))
    if geo.epci.hors.any():
        fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="markers", hoverinfo="skip", legendrank=302,
                                    marker=dict(symbol="square", size=14, color="#7f7f7f", opacity=OUTSIDE_OPACITY),
                                    name=f"Hors {deps_names} : teinte atténuée, rayée"))
    if selection and f"epci:{selection}" in geo.shapes:
        lon, lat = _lines(geo.shapes[f"epci:{selection}"])
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="#000000", width=4.5),
                                    hoverinfo="skip", name="EPCI sélectionné", showlegend=True, legendrank=303))
    lab = geo.epci.dropna(subset=["label_lon"])
    texts = [_short(n) for n in lab.nom_court]
    fig.add_trace(go.Scattergeo(
        lon=lab.label_lon, lat=lab.label_lat, mode="text", text=texts,
        textposition=_label_positions(lab.label_lon.tolist(), lab.label_lat.tolist(), texts),
        textfont=dict(family=FONT["family"], size=13 if niveau == "commune" else 14, color="#111111",
                      shadow="1px 1px 2px #ffffff, -1px -1px 2px #ffffff, 1px -1px 2px #ffffff, -1px 1px 2px #ffffff"),
        hoverinfo="skip", showlegend=False))

    title = ind.titre + (f" – {df[ind.dimension].iat[0]}" if ind.dimension and len(df) else "")
    legend_title = f"<b>{_unit_label(ind).capitalize()}</b>"
    if classes.methode == "divergente":
        legend_title += ("<br>centré sur 0" if ind.kind == "croissance"
                         else f"<br>{per.ti.nom} (TI) : {f(dep_value)}")
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="white")
    fig.update_layout(
        font=FONT, height=height, margin=dict(l=0, r=0, t=10, b=0), paper_bgcolor="white", separators=fmt.PLOTLY_SEPARATORS,
        hoverlabel=dict(font_size=15), dragmode=False,
        legend=dict(title=dict(text=legend_title), x=1.0, xanchor="left", y=0.98, yanchor="top", font=dict(size=14),
                    itemclick=False, itemdoubleclick=False, bgcolor="rgba(255,255,255,0.85)"),
        meta=dict(titre=title, niveau=niveau, annee=annee, methode=classes.methode, reference_nom=per.name,
                  reference=None if not np.isfinite(dep_value) else float(dep_value)),
    )
    keep = [c for c in df.columns if c not in ("nom_court",)] if niveau == "commune" else list(df.columns)
    return fig, df[keep]


def title(name: str, df: pd.DataFrame) -> str:
    """The indicator's title, with the category shown on the map (sector, filière) when there is one."""
    ind = get_indicator(name)
    if ind.dimension and ind.dimension in df and len(df) and pd.notna(df[ind.dimension].iat[0]):
        return f"{ind.titre.split(' par ')[0].split(' des filières')[0]} – {df[ind.dimension].iat[0]}"
    return ind.titre


def sentence(name: str, df: pd.DataFrame, fig: go.Figure) -> str:
    """Highest and lowest territory, the département's value, and how many cells are secret or absent."""
    ind = get_indicator(name)
    f = _formatter(ind)
    d = df.dropna(subset=["valeur"]).sort_values("valeur", ascending=False)
    epci_level = (df.niveau == "epci").all()

    def unit(n: int) -> str:
        return "EPCI" if epci_level else ("commune" if n == 1 else "communes")
    if "nom_court" in d:
        d = d.assign(nom=d.nom_court)
    if d.empty:
        return "Aucune valeur diffusable sur cette carte."
    text = f"Valeur la plus forte : {d.nom.iat[0]} ({f(d.valeur.iat[0])}) ; la plus faible : {d.nom.iat[-1]} ({f(d.valeur.iat[-1])})."
    ref = (fig.layout.meta or {}).get("reference")
    if ref is not None:
        text += f" {(fig.layout.meta or {}).get('reference_nom', 'Référence')} : {f(ref)}."
    n_secret, n_absent = int((df.statut == "secret").sum()), int((df.statut == "absent").sum())
    if n_secret:
        text += f" {n_secret} {unit(n_secret)} en secret statistique (« s », hachuré)."
    if n_absent:
        text += f" {n_absent} {unit(n_absent)} sans donnée (gris clair)."
    return text


def missing_sentence(snap: Snapshot) -> str:
    """Which reference communes could not be drawn (no contour), in French; empty when all are drawn."""
    miss = geometries(snap).missing
    if miss.empty:
        return ""
    names = ", ".join(f"{r.nom} ({r.code})" for r in miss.itertuples())
    return f"{len(miss)} commune(s) sans contour, non dessinée(s) : {names}."


def to_png(fig: go.Figure, width: int = 1400, height: int = 900, scale: float = 1.0) -> bytes:
    """PNG of a map for the deck (kaleido + the system Chromium), offline."""
    import kaleido

    return kaleido.calc_fig_sync(fig, opts=dict(format="png", width=width, height=height, scale=scale),
                                 topojson=TOPOJSON_URL)
