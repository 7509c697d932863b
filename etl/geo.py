"""Map geometries: commune contours mapped to the current communes, EPCI and département outlines.

Built once per warehouse build into `ref_contours` (GeoJSON text), so the read side never
unions polygons while a page is drawn and every map reads the same vintage as the figures.

The contours are committed in a compact form, one file per département
(`data/reference/contours/DD.json.gz`, written by scripts/build_reference.py): for each commune,
its polygons as rings of integer coordinates in units of `quantum` degrees, the first point
absolute and the others as differences from the previous one. Only the départements of the
communes in `ref_communes` are read.

The contours and the statistics may use different COG vintages. A contour whose code is no
longer a commune is mapped through `ref_communes_changements` (former code -> commune
nouvelle) and merged into the current commune; a current commune that gets no contour at all
(e.g. one created by a split after the contours' vintage) is simply absent from
`ref_contours`: the read side lists those communes as "not drawn".
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.ops import polylabel

from .base import REFERENCE_DIR, reference_dir

CONTOURS_DIR = REFERENCE_DIR / "contours"
CONTOURS_FORMAT = "communes-quantifiees-v1"
# Gaps between simplified neighbouring contours leave tiny holes in a union; holes smaller than
# this (in square degrees, about 0.09 km² at 44.6° N) are slivers, not enclaves.
SLIVER_DEG2 = 1e-5


def _code(props: dict) -> str | None:
    code = props.get("code_insee") or props.get("code")
    return str(code) if code else None


def _drop_slivers(geom):
    """Remove interior rings smaller than SLIVER_DEG2 (artefacts of simplified contours)."""
    def clean(poly):
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= SLIVER_DEG2]
        return shapely.Polygon(poly.exterior, holes)
    if geom.geom_type == "Polygon":
        return clean(geom)
    if geom.geom_type == "MultiPolygon":
        # Small islands are kept (coastal EPCI): only the holes are slivers of neighbouring contours.
        return shapely.MultiPolygon([clean(p) for p in geom.geoms])
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return _drop_slivers(shapely.union_all(polys)) if polys else geom


def _label_point(geom, precise: bool = True) -> tuple[float, float]:
    """A point well inside the largest polygon (pole of inaccessibility): where a label reads best."""
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    p = polylabel(largest, tolerance=0.002) if precise else largest.representative_point()
    return round(p.x, 5), round(p.y, 5)


def _area_km2(geom) -> float:
    """Approximate area (equirectangular at the geometry's latitude): enough for checks and ratios."""
    import math
    lat = geom.centroid.y
    return geom.area * 111.32 ** 2 * math.cos(math.radians(lat))


def commune_geometries(features: list[dict], communes: dict[str, str], changes: dict[str, str]) -> tuple[dict, dict, list]:
    """Assign each contour to a current commune.

    communes: current commune code -> anything (the reference communes); changes: former code -> new code.
    Returns (code -> shapely geometry, code -> sorted contour codes merged into it, contour codes ignored).
    """
    pieces: dict[str, list] = {}
    origins: dict[str, list[str]] = {}
    ignored = []
    for f in features:
        code = _code(f.get("properties") or {})
        target = code
        seen = set()
        while target is not None and target not in communes and target not in seen:
            seen.add(target)
            target = changes.get(target)
        if target is None or target not in communes or f.get("geometry") is None:
            ignored.append(code)
            continue
        geom = shape(f["geometry"])
        if not geom.is_valid:  # quantised rings may touch themselves: repaired, polygonal parts kept
            geom = shapely.make_valid(geom)
            if geom.geom_type == "GeometryCollection":
                geom = shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
        pieces.setdefault(target, []).append(geom)
        origins.setdefault(target, []).append(code)
    geoms = {c: (g[0] if len(g) == 1 else _drop_slivers(shapely.union_all(g))) for c, g in pieces.items()}
    return geoms, {c: sorted(o) for c, o in origins.items()}, ignored


def build_rows(features: list[dict], communes: dict[str, tuple], changes: dict[str, str]) -> list[tuple]:
    """Rows of ref_contours: (niveau, code, partie, geojson, label_lon, label_lat, aire_km2, codes_contours).

    communes: code -> (departement, epci_siren, hors_departement). partie: 'entier', 'dans_reference' (the
    part of an EPCI inside the reference départements) or 'hors_reference' (its member communes outside
    them). One outline per reference département (a département of communes not `hors_departement`).
    """
    geoms, origins, _ = commune_geometries(features, communes, changes)
    rows = []

    def add(niveau, code, partie, geom, origin=""):
        lon, lat = _label_point(geom, precise=niveau != "commune")
        # d3-geo (plotly's geo maps) reads rings on the sphere: an exterior ring must run clockwise,
        # or the polygon is taken as the whole globe minus the commune.
        geom = shapely.orient_polygons(geom, exterior_cw=True)
        rows.append((niveau, code, partie, shapely.to_geojson(geom), lon, lat, round(_area_km2(geom), 3), origin))

    for code in sorted(geoms):
        add("commune", code, "entier", geoms[code], " ".join(origins[code]))
    by_epci: dict[str, list[str]] = {}
    for code in geoms:
        if communes[code][1]:
            by_epci.setdefault(communes[code][1], []).append(code)
    for siren, codes in sorted(by_epci.items()):
        add("epci", siren, "entier", _drop_slivers(shapely.union_all([geoms[c] for c in codes])))
        inside = [geoms[c] for c in codes if not communes[c][2]]
        outside = [geoms[c] for c in codes if communes[c][2]]
        if inside:
            add("epci", siren, "dans_reference", _drop_slivers(shapely.union_all(inside)))
        if outside:
            add("epci", siren, "hors_reference", _drop_slivers(shapely.union_all(outside)))
    by_dep: dict[str, list] = {}
    for code, geom in geoms.items():
        if not communes[code][2]:
            by_dep.setdefault(communes[code][0], []).append(geom)
    for dep, parts in sorted(by_dep.items()):
        add("departement", dep, "entier", _drop_slivers(shapely.union_all(parts)))
    return rows


def decode_contours(doc: dict) -> list[dict]:
    """GeoJSON features (properties `code`) of one compact département file (see the module docstring)."""
    if doc.get("format") != CONTOURS_FORMAT:
        raise ValueError(f"format de contours inconnu : {doc.get('format')!r}")
    quantum = float(doc["quantum"])
    features = []
    for code, polys in doc["communes"].items():
        coords = []
        for poly in polys:
            rings = []
            for ring in poly:
                pts = np.cumsum(np.asarray(ring, dtype=np.int64).reshape(-1, 2), axis=0) * quantum
                pts = np.vstack([pts, pts[:1]]).round(6)
                rings.append(pts.tolist())
            coords.append(rings)
        geometry = {"type": "Polygon", "coordinates": coords[0]} if len(coords) == 1 else \
            {"type": "MultiPolygon", "coordinates": coords}
        features.append({"type": "Feature", "properties": {"code": code}, "geometry": geometry})
    return features


def read_features(departements, directory: Path | None = None) -> list[dict]:
    """Contour features of the communes of these départements (files that do not exist are skipped)."""
    directory = Path(directory or reference_dir() / CONTOURS_DIR.name)
    features = []
    for dep in sorted(set(departements)):
        path = directory / f"{dep}.json.gz"
        if path.exists():
            features.extend(decode_contours(json.loads(gzip.decompress(path.read_bytes()))))
    return features


def load_contours(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
    """Create ref_contours (after ref_communes and ref_communes_changements).

    path: a directory of compact département files (default: the reference's `contours/`), or a
    GeoJSON FeatureCollection of communes (properties `code_insee` or `code`).
    """
    path = Path(path) if path else reference_dir() / CONTOURS_DIR.name
    con.execute("""CREATE OR REPLACE TABLE ref_contours (niveau VARCHAR, code VARCHAR, partie VARCHAR, geojson VARCHAR,
                   label_lon DOUBLE, label_lat DOUBLE, aire_km2 DOUBLE, codes_contours VARCHAR)""")
    if not path.exists():
        return
    communes = {c: (d, e, bool(h)) for c, d, e, h in con.execute(
        "SELECT code, departement, epci_siren, hors_departement FROM ref_communes").fetchall()}
    if path.is_dir():
        features = read_features({d for d, _, _ in communes.values()}, path)
    else:
        features = json.loads(path.read_text(encoding="utf-8")).get("features", [])
    changes = dict(con.execute("SELECT ancien_code, nouveau_code FROM ref_communes_changements").fetchall())
    rows = build_rows(features, communes, changes)
    if rows:
        cols = ["niveau", "code", "partie", "geojson", "label_lon", "label_lat", "aire_km2", "codes_contours"]
        con.from_df(pd.DataFrame(rows, columns=cols)).insert_into("ref_contours")
