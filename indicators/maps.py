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
from .content.carte import is_stock
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
STATUT_TEXT = {"partiel": "valeur partielle", "secret": "s : secret statistique", "absent": "– : aucune donnée"}
STOCK_FILL, CIRCLE_COLOUR, OUTSIDE_TI_COLOUR = "#f1efe8", "#2c7fb8", "#f4f4f4"


class MapUnavailable(RuntimeError):
    """The warehouse has no contours (built before maps existed): rebuild it."""


# --- geometries ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Geometries:
    features: dict[str, dict]          # location id -> GeoJSON geometry (communes: code; EPCI: SIREN, SIREN:hors)
    shapes: dict[str, object]          # same ids + "epci:SIREN" outlines + "dep:CODE" -> shapely geometry
    communes: pd.DataFrame             # code, nom, departement, epci_siren, epci_nom, hors_departement, dessinee
    epci: pd.DataFrame                 # code, nom_court, label_lon, label_lat, hors (has communes outside 05)
    outside_ti: tuple = ()             # (shape, label): parts of the reference départements outside the TI

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
    geo = Geometries(features, shapes, communes, epci, _outside_ti(snap, shapes))
    with _cache_lock:
        if len(_cache) > 4:
            _cache.clear()
        _cache[snap.version] = geo
    return geo


def _outside_ti(snap: Snapshot, shapes: dict) -> tuple:
    """The reference départements minus the TI's EPCIs (a hole inside the outline otherwise), named by the
    EPCIs that hold those communes and the TI they belong to, read from the warehouse."""
    deps = [v for k, v in shapes.items() if k.startswith("dep:")]
    inside = [v for k, v in shapes.items() if not k.startswith(("dep:", "epci:")) and ":" not in k and k.isdigit()
              and len(k) == 9]
    if not deps or not inside:
        return ()
    rest = shapely.difference(shapely.union_all(deps), shapely.union_all(inside).buffer(1e-6))
    parts = [g for g in shapely.get_parts(rest) if g.area > 1e-4]
    if not parts:
        return ()
    per = perimeter.load(snap)
    names = snap.df("""
        SELECT DISTINCT e.nom_court AS epci, t.nom_court AS ti
        FROM ref_appartenance d
        JOIN ref_appartenance m ON m.commune = d.commune AND m.niveau = 'epci'
        JOIN ref_territoires e ON e.niveau = 'epci' AND e.code = m.code
        LEFT JOIN ref_appartenance a ON a.commune = d.commune AND a.niveau = 'ti'
        LEFT JOIN ref_territoires t ON t.niveau = 'ti' AND t.code = a.code
        WHERE d.niveau = 'departement' AND list_contains(?, d.code)
          AND d.commune NOT IN (SELECT commune FROM ref_appartenance WHERE niveau = 'ti' AND code = ?)
        ORDER BY 1""", [[t.code for t in per.references_of("departement")], per.ti.code if per.ti else ""])
    label = ", ".join(f"{r.epci} ({r.ti})" if isinstance(r.ti, str) else r.epci for r in names.itertuples())
    return ((shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0], label or "autres EPCI"),)


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


# --- layout: where things are in pixels (the same arithmetic as plotly's mercator projection) ----------

GEO_RIGHT = 0.58                # the map's share of the figure's width; the legend and the key take the rest
LEGEND_X = 0.6
LEGEND_CHARS = 34               # legend lines wrapped: a wider legend would shrink the whole map (automargin)
TOP_MARGIN = 10
PAGE_HEIGHT = 600
PRESENTATION_SIZE = (1210, 380)  # the chart at 1280×720 in presentation mode (title, sentence and source around)
DISC, NUMBER_FONT, LEGEND_FONT = 26, 15, 16     # page sizes (px); presentation and slide scale them up
CIRCLE_MAX = 64                 # diameter of the largest proportional circle on the page (px)
_REFERENCE_AREA = (500, 430)    # the smallest map area the numbers are spread for (geo domain, px)


def _wrap(text: str, width: int = LEGEND_CHARS) -> str:
    """A legend line broken after spaces (<br>) so that no line is longer than `width` characters."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line])


def _merc(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return np.radians(lon), np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def _unmerc(x, y):
    return np.degrees(x), np.degrees(2 * np.arctan(np.exp(y)) - np.pi / 2)


def _scale(extent, w: float, h: float) -> float:
    """Pixels per mercator unit when the extent (lon0, lat0, lon1, lat1) is fitted into a w × h area."""
    x0, y0 = _merc(extent[0], extent[1])
    x1, y1 = _merc(extent[2], extent[3])
    return float(min(w / (x1 - x0), h / (y1 - y0)))


def to_pixels(fig: go.Figure, width: int, height: int, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Screen position (px from the figure's top left) of points of a map drawn by `map_figure`."""
    geo = fig.layout.geo
    extent = (geo.lonaxis.range[0], geo.lataxis.range[0], geo.lonaxis.range[1], geo.lataxis.range[1])
    m = fig.layout.margin
    ax0 = (m.l or 0) + (width - (m.l or 0) - (m.r or 0)) * geo.domain.x[0]
    aw = (width - (m.l or 0) - (m.r or 0)) * (geo.domain.x[1] - geo.domain.x[0])
    ah = (height - (m.t or 0) - (m.b or 0)) * (geo.domain.y[1] - geo.domain.y[0])
    k = _scale(extent, aw, ah)
    x0, y0 = _merc(extent[0], extent[1])
    x1, y1 = _merc(extent[2], extent[3])
    x, y = _merc(lon, lat)
    left = ax0 + (aw - k * (x1 - x0)) / 2
    top = (m.t or 0) + (ah - k * (y1 - y0)) / 2
    return left + k * (x - x0), top + k * (y1 - y)


def label_boxes(fig: go.Figure, width: int, height: int) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, y0, x1, y1) of every label the map writes (the numbered discs), in px: the disc or the
    text's box (0.62 em a character, 1.2 em high), whichever is larger."""
    out = []
    for t in fig.data:
        if t.type != "scattergeo" or not t.mode or "text" not in t.mode:
            continue
        size = float(t.textfont.size or LEGEND_FONT)
        disc = float(t.marker.size or 0) if "markers" in t.mode else 0.0
        xs, ys = to_pixels(fig, width, height, t.lon, t.lat)
        for text, x, y in zip(t.text, xs, ys):
            lines = str(text).split("<br>")
            w = max(disc, 0.62 * size * max(len(s) for s in lines))
            h = max(disc, 1.2 * size * len(lines))
            out.append((str(text), x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    return out


def overlaps(boxes) -> list[tuple[str, str]]:
    """Pairs of label boxes that overlap."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
                found.append((a[0], b[0]))
    return found


def _spread(lon, lat, extent, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Move apart the label points closer than `gap` px on the smallest map drawn (simple repulsion, the
    points that moved get a leader line to their territory): no two numbered discs overlap."""
    k = _scale(extent, *_REFERENCE_AREA)
    x, y = _merc(lon, lat)
    px, py = x * k, y * k
    for _ in range(200):
        moved = False
        for i in range(len(px)):
            for j in range(i + 1, len(px)):
                dx, dy = px[j] - px[i], py[j] - py[i]
                d = math.hypot(dx, dy)
                if d >= gap:
                    continue
                if d < 1e-6:
                    dx, dy, d = 0.0, 1.0, 1.0
                push = (gap - d) / 2 + 0.5
                px[i] -= dx / d * push
                py[i] -= dy / d * push
                px[j] += dx / d * push
                py[j] += dy / d * push
                moved = True
        if not moved:
            break
    return _unmerc(px / k, py / k)


# --- the figure ------------------------------------------------------------------------------------

def _hover(r, niveau: str, ind, deps_names: str) -> str:
    where = f"<b>{r.nom_court if isinstance(getattr(r, 'nom_court', None), str) and r.nom_court else r.nom}</b>"
    if niveau == "commune":
        where = f"<b>{r.nom}</b><br>{r.epci_nom}" + (f" (hors {deps_names}, {r.departement})" if r.hors_departement else "")
    value = fmt.value(r.valeur, ind.unite, r.statut) if ind.kind != "taux_croissance" or r.statut in ("secret", "absent") \
        else fmt.growth(r.valeur, 1)
    period = (f" ({int(r.annee_base)}–{int(r.annee)})" if pd.notna(getattr(r, "annee_base", None))
              else (f" ({int(r.annee)})" if pd.notna(r.annee) else ""))
    text = f"{where}<br>{value}{period}"
    if r.statut in STATUT_TEXT:    # « ok » says nothing: only the other statuses are written
        text += f"<br>{STATUT_TEXT[r.statut]}"
    if r.note:
        text += f"<br>{r.note}"
    return fmt.typeset(text + (f"<br><i>Source : {r.source}</i>" if r.source else ""))


def map_figure(snap: Snapshot, name: str, niveau: str = "epci", annee: int | None = None, definition: str = "coeur",
               categorie: str | None = None, annee_base: int | None = None, methode: str | None = None,
               selection: str | None = None, height: int = PAGE_HEIGHT) -> tuple[go.Figure, pd.DataFrame]:
    """Map of a catalogue indicator by EPCI or commune, and the table behind it: a choropleth for shares and
    rates, proportional circles for counts and amounts (`is_stock`). EPCIs are numbered on the map (north
    to south) and named, with their value, in the legend's key: names written on the map overlap.

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
    ti_short = per.ti.nom_court if per.ti else per.name
    # The classes are centred on the value of the TI as a whole (the map shows its EPCI and communes).
    dep, _ = _pick(query.get(snap, name, "ti", annee=annee, territoires=[per.ti.code], definition=definition,
                             annee_base=annee_base), ind, categorie)
    dep_value = dep.valeur.iat[0] if len(dep) else float("nan")
    stock = is_stock(ind)
    methode = methode or default_method(name)
    if methode == "divergente" and ind.kind != "croissance" and not np.isfinite(dep_value):
        methode = "jenks"   # no département value to centre on
    centre = 0.0 if ind.kind == "croissance" else dep_value
    f = _formatter(ind)
    classes = classify(df.valeur.to_numpy(), f, methode, centre, minimum=0.0 if ind.kind == "part" else None)
    if stock:    # one class: the value is the circle, not the colour
        classes = Classes("cercles", ["valeur diffusée"], [STOCK_FILL],
                          np.where(df.valeur.notna().to_numpy(), 0, -1))

    if niveau == "commune":
        info = geo.communes.set_index("code")
        df["epci"] = df.code.map(info.epci_siren)
        df["epci_nom"] = df.code.map(info.epci_nom)
        df["departement"] = df.code.map(info.departement)
        outside = df.hors_departement.fillna(False).astype(bool).to_numpy()
    else:
        df["epci"] = df.code
        outside = np.zeros(len(df), dtype=bool)
    df["dessinee"] = df.code.isin(geo.features)
    locations = df.code.tolist()
    df["classe"] = [classes.labels[i] if i >= 0 else ("s (secret statistique)" if s == "secret" else "aucune donnée")
                    for i, s in zip(classes.index, df.statut)]

    hovers = [_hover(r, niveau, ind, deps_names) for r in df.itertuples()]
    fig = go.Figure()
    line_width = 0.6 if niveau == "commune" else 1.5
    groups = [(i, lab, col) for i, (lab, col) in enumerate(zip(classes.labels, classes.colours))]
    groups += [(-1, "s : secret statistique (hachuré)", SECRET_COLOUR), (-2, "– : aucune donnée", ABSENT_COLOUR)]
    cls = classes.index.copy()
    cls[(cls < 0) & (df.statut != "secret").to_numpy()] = -2
    drawn_keys = []
    for i, label, colour in groups:
        members = np.flatnonzero((cls == i) & df.dessinee.to_numpy())
        if not len(members):
            continue
        locs, opac, hov, cdata = [], [], [], []
        for m in members:
            keys = [locations[m]] + ([f"{locations[m]}:hors"] if niveau == "epci" and f"{locations[m]}:hors" in geo.features else [])
            for key in keys:
                locs.append(key)
                opac.append(OUTSIDE_OPACITY if outside[m] or key.endswith(":hors") else 1.0)
                hov.append(hovers[m])
                cdata.append(df.epci.iat[m])
        drawn_keys += locs
        features = {"type": "FeatureCollection",
                    "features": [{"type": "Feature", "id": key, "geometry": geo.features[key]} for key in locs]}
        fig.add_trace(go.Choropleth(
            geojson=features, locations=locs, z=[1] * len(locs), colorscale=[[0, colour], [1, colour]], zmin=0, zmax=1,
            showscale=False, marker=dict(line=dict(color="white", width=line_width), opacity=opac),
            hovertext=hov, hoverinfo="text", customdata=cdata, name=_wrap(fmt.typeset(f"{label} ({len(members)})")),
            showlegend=not stock or i < 0, legendrank=100 + (i if i >= 0 else 50 - i)))

    # Communes outside the département: faded and crossed by white lines, so it shows on any colour.
    outside_keys = [k for k in geo.features if k.endswith(":hors")] if niveau == "epci" else \
        [locations[m] for m in np.flatnonzero(outside) if locations[m] in geo.shapes]
    if outside_keys:
        lon, lat = _hatch([geo.shapes[k] for k in outside_keys], 0.02, rising=False)
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="white", width=1.2),
                                    hoverinfo="skip", showlegend=False))
    # The reference département's communes outside the TI (another TI's EPCI): shaded, named in the legend.
    for j, (shape, label) in enumerate(geo.outside_ti):
        g = shapely.geometry.mapping(shapely.orient_polygons(shape, exterior_cw=True))
        text = f"Hors du {ti_short} : {label}"
        fig.add_trace(go.Choropleth(
            geojson={"type": "FeatureCollection", "features": [{"type": "Feature", "id": f"horsti{j}", "geometry": g}]},
            locations=[f"horsti{j}"], z=[1], colorscale=[[0, OUTSIDE_TI_COLOUR], [1, OUTSIDE_TI_COLOUR]], zmin=0, zmax=1,
            showscale=False, marker=dict(line=dict(color="white", width=0.5)), hovertext=[fmt.typeset(text)],
            hoverinfo="text", name=_wrap(fmt.typeset(text)), showlegend=True, legendrank=304, meta="hors_ti"))
        lon, lat = _hatch([shape], 0.015)
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="#9a9a9a", width=0.6),
                                    hoverinfo="skip", showlegend=False))
    # Hatching of secret cells, outlines.
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
                                    hoverinfo="skip", name=_wrap(f"Limite de département ({deps_names})"), showlegend=i == 0,
                                    legendgroup="dep", legendrank=301))
    if geo.epci.hors.any():
        fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="markers", hoverinfo="skip", legendrank=302,
                                    marker=dict(symbol="square", size=14, color="#7f7f7f", opacity=OUTSIDE_OPACITY),
                                    name=_wrap(fmt.typeset(f"Hors {deps_names} : teinte atténuée, rayée"))))
    if selection and f"epci:{selection}" in geo.shapes:
        lon, lat = _lines(geo.shapes[f"epci:{selection}"])
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line=dict(color="#000000", width=4.5),
                                    hoverinfo="skip", name="EPCI sélectionné", showlegend=True, legendrank=303))

    # Extent: everything drawn, fitted by us (not by plotly's fitbounds) so that label boxes can be computed.
    bounds = np.array([geo.shapes[k].bounds for k in drawn_keys if k in geo.shapes]
                      + [s.bounds for s, _ in geo.outside_ti] + [geo.shapes[k].bounds for k in deps])
    pad = 0.02 * max(bounds[:, 2].max() - bounds[:, 0].min(), bounds[:, 3].max() - bounds[:, 1].min())
    extent = (bounds[:, 0].min() - pad, bounds[:, 1].min() - pad, bounds[:, 2].max() + pad, bounds[:, 3].max() + pad)

    if stock:   # proportional circles at each territory's label point (area proportional to the value)
        pts = df[df.valeur.notna() & df.dessinee].copy()
        if niveau == "epci":
            where = geo.epci.set_index("code")
            pts["lon"], pts["lat"] = pts.code.map(where.label_lon), pts.code.map(where.label_lat)
        else:
            reps = {c: shapely.point_on_surface(geo.shapes[c]) for c in pts.code}
            pts["lon"], pts["lat"] = [reps[c].x for c in pts.code], [reps[c].y for c in pts.code]
        pts = pts.dropna(subset=["lon"]).sort_values("valeur", ascending=False)   # small circles drawn on top
        vmax = float(pts.valeur.max()) if len(pts) else 0.0
        if vmax > 0:
            sizes = [max(3.0, CIRCLE_MAX * math.sqrt(max(v, 0.0) / vmax)) for v in pts.valeur]
            fig.add_trace(go.Scattergeo(
                lon=pts.lon, lat=pts.lat, mode="markers", hovertext=[hovers[i] for i in pts.index], hoverinfo="text",
                customdata=pts.epci.tolist(), meta="cercles",
                marker=dict(size=sizes, sizemode="diameter", color=CIRCLE_COLOUR, opacity=0.8,
                            line=dict(color="white", width=1)),
                name=_wrap(fmt.typeset(f"Cercle : surface proportionnelle à la valeur (le plus grand : {f(vmax)})")),
                showlegend=True, legendrank=99))

    # EPCI numbers, north to south, spread so that no two discs overlap; the names are in the legend's key.
    lab = geo.epci.dropna(subset=["label_lon"]).copy()
    lab = lab.assign(_y=-lab.label_lat.round(2), _x=lab.label_lon).sort_values(["_y", "_x"]).reset_index(drop=True)
    lab["numero"] = range(1, len(lab) + 1)
    lon, lat = _spread(lab.label_lon.to_numpy(), lab.label_lat.to_numpy(), extent, DISC + 6)
    moved = np.hypot(*(np.subtract(_merc(lon, lat), _merc(lab.label_lon, lab.label_lat)))) > 1e-5
    if moved.any():    # leader lines from a moved disc to its territory's point
        llon, llat = [], []
        for m in np.flatnonzero(moved):
            llon += [lab.label_lon.iat[m], lon[m], None]
            llat += [lab.label_lat.iat[m], lat[m], None]
        fig.add_trace(go.Scattergeo(lon=llon, lat=llat, mode="lines", line=dict(color="#111111", width=1.2),
                                    hoverinfo="skip", showlegend=False))
    values = df.set_index("code")
    key_text = []
    for r in lab.itertuples():
        text = f"{r.numero}  {r.nom_court}"
        if niveau == "epci" and r.code in values.index:
            v = values.loc[r.code]
            text += " : " + (fmt.value(v.valeur, ind.unite, v.statut) if ind.kind != "taux_croissance"
                             or v.statut in ("secret", "absent") else fmt.growth(v.valeur, 1))
        key_text.append(fmt.typeset(text))
    fig.add_trace(go.Scattergeo(
        lon=lon, lat=lat, mode="markers+text", text=[str(n) for n in lab.numero], textposition="middle center",
        marker=dict(size=DISC, color="white", line=dict(color="#111111", width=1.5)), meta="numeros",
        textfont=dict(family=FONT["family"], size=NUMBER_FONT, color="#111111", weight="bold"),
        hovertext=[fmt.typeset(t) for t in key_text], hoverinfo="text", customdata=lab.code.tolist(), showlegend=False))
    for i, text in enumerate(key_text):
        fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="markers", marker=dict(size=1, opacity=0),
                                    name=_wrap(text), legendgroup="cle", legendrank=400 + i, hoverinfo="skip",
                                    legendgrouptitle=dict(text="<b>EPCI</b>") if i == 0 else None))

    title = ind.titre + (f" – {df[ind.dimension].iat[0]}" if ind.dimension and len(df) else "")
    legend_title = f"<b>{_unit_label(ind).capitalize()}</b>"
    if classes.methode == "divergente":
        legend_title += ("<br>centré sur 0" if ind.kind == "croissance" else f"<br>{ti_short} : {f(dep_value)}")
    elif stock and np.isfinite(dep_value):
        legend_title += f"<br>{ti_short} : {f(dep_value)}"
    fig.update_geos(fitbounds=False, visible=False, projection_type="mercator", bgcolor="white",
                    lonaxis_range=[extent[0], extent[2]], lataxis_range=[extent[1], extent[3]],
                    domain=dict(x=[0, GEO_RIGHT], y=[0, 1]))
    fig.update_layout(
        font=FONT, height=height, margin=dict(l=0, r=0, t=TOP_MARGIN, b=0), paper_bgcolor="white",
        separators=fmt.PLOTLY_SEPARATORS, hoverlabel=dict(font_size=15), dragmode=False,
        legend=dict(title=dict(text=fmt.typeset(legend_title), font=dict(size=LEGEND_FONT)), x=LEGEND_X, xanchor="left",
                    y=1.0, yanchor="top", font=dict(size=LEGEND_FONT), itemclick=False, itemdoubleclick=False,
                    tracegroupgap=10, grouptitlefont=dict(size=LEGEND_FONT), bgcolor="rgba(255,255,255,0.85)"),
        meta=dict(titre=title, niveau=niveau, annee=annee, methode=classes.methode, reference_nom=per.name,
                  reference=None if not np.isfinite(dep_value) else float(dep_value)),
    )
    keep = [c for c in df.columns if c not in ("nom_court",)] if niveau == "commune" else list(df.columns)
    return fig, df[keep]


SLIDE_SIZE, SLIDE_FONT = (1616, 700), 24     # the deck's free area at 130 px an inch (export/deck.py), projector type
PRESENTATION_FONT = 16
PRESENTATION_LEGEND = 14    # the classes and the numbered key fit the map's height (chart labels: 14 px at least)


def finding_figure(snap: Snapshot, spec: dict) -> tuple[go.Figure, pd.DataFrame]:
    """The map of a map finding (indicators/content/carte.py: `extra["carte"]`), from the same query."""
    return map_figure(snap, **spec)


def present(fig: go.Figure, width: int, height: int, font: int, legend: int | None = None) -> go.Figure:
    """A copy of the map for a bigger screen (projector, slide): its height, type of `font` px (the legend's
    `legend` px, when given), discs and circles scaled with the map itself."""
    fig = go.Figure(fig)
    geo = fig.layout.geo
    extent = (geo.lonaxis.range[0], geo.lataxis.range[0], geo.lonaxis.range[1], geo.lataxis.range[1])
    k = _scale(extent, width * GEO_RIGHT, height - TOP_MARGIN) / _scale(extent, *_REFERENCE_AREA)
    ratio = font / LEGEND_FONT
    small = legend or font
    fig.update_layout(height=height, font_size=font, legend_font_size=small, legend_title_font_size=small,
                      legend_grouptitlefont_size=small, hoverlabel_font_size=font)
    if legend:
        fig.update_layout(legend_tracegroupgap=4)
    chars = max(LEGEND_CHARS, int((width * (1 - LEGEND_X) - 50) / (0.55 * small)))   # the legend's room, in characters
    for t in fig.data:
        if t.name:
            t.name = _wrap(t.name.replace("<br>", " "), chars)
        if t.legendgroup == "dep":     # the black outline needs no legend line on a projector: room for the key
            t.showlegend = False
        if t.type == "scattergeo" and t.meta == "numeros":
            t.marker.size = DISC * max(1.0, min(k, ratio * 1.1))
            t.textfont.size = NUMBER_FONT * ratio
        elif t.type == "scattergeo" and t.meta == "cercles":
            t.marker.size = [s * k for s in t.marker.size]
    return fig


def missing_sentence(snap: Snapshot) -> str:
    """Which reference communes could not be drawn (no contour), in French; empty when all are drawn."""
    miss = geometries(snap).missing
    if miss.empty:
        return ""
    names = ", ".join(f"{r.nom} ({r.code})" for r in miss.itertuples())
    return f"{len(miss)} commune(s) sans contour, non dessinée(s) : {names}."
