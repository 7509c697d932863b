"""Maps: contours of every reference commune, EPCI outlines as the union of their communes,
classes, and the figure a page draws — against a real warehouse built from the reference data."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely

from etl import geo
from etl.load import build
from indicators import maps
from indicators.db import Warehouse

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("carte") / "warehouse.duckdb"
    build(path, demo=False, progress=lambda _: None)
    return path


@pytest.fixture(scope="module")
def con(warehouse):
    c = duckdb.connect(str(warehouse), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def snap(warehouse):
    return Warehouse(warehouse).snapshot()


def _shapes(con, niveau, partie="entier") -> dict:
    return {code: shapely.from_geojson(g) for code, g in con.execute(
        "SELECT code, geojson FROM ref_contours WHERE niveau = ? AND partie = ?", [niveau, partie]).fetchall()}


def test_every_reference_commune_has_a_contour(con):
    communes = {r[0] for r in con.execute("SELECT code FROM ref_communes").fetchall()}
    contours = _shapes(con, "commune")
    assert set(contours) == communes
    for code, g in contours.items():
        assert g.is_valid and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon"), code
        # d3-geo (plotly) needs clockwise exterior rings, or a commune fills the whole globe
        for poly in getattr(g, "geoms", [g]):
            assert not poly.exterior.is_ccw, code
    n05 = con.execute("SELECT count(*) FROM ref_communes WHERE departement = '05'").fetchall()[0][0]
    assert n05 == 162


def test_epci_outlines_are_the_union_of_their_communes(con):
    communes = _shapes(con, "commune")
    members = {}
    for code, epci, dep in con.execute("SELECT code, epci_siren, departement FROM ref_communes").fetchall():
        members.setdefault(epci, []).append((code, dep))
    epci, inside, outside = _shapes(con, "epci"), _shapes(con, "epci", "dans_reference"), _shapes(con, "epci", "hors_reference")
    assert set(epci) == set(members)
    assert set(inside) == {e for e, codes in members.items() if any(d == "05" for _, d in codes)} and len(inside) == 9
    # the four EPCIs of 05 reaching into 04 and 26, and the EPCIs of the other départements held
    assert set(outside) == {e for e, codes in members.items() if any(d != "05" for _, d in codes)}
    assert len(set(inside) & set(outside)) == 4
    for siren, codes in members.items():
        union = shapely.union_all([communes[c] for c, _ in codes])
        total = sum(communes[c].area for c, _ in codes)
        assert epci[siren].area == pytest.approx(union.area, rel=1e-4), siren
        assert epci[siren].area == pytest.approx(total, rel=1e-4), siren
        assert epci[siren].symmetric_difference(union).area / union.area < 1e-4, siren
        parts = inside.get(siren, shapely.Polygon()).area + (outside[siren].area if siren in outside else 0.0)
        assert parts == pytest.approx(epci[siren].area, rel=1e-4), siren
        assert (siren in outside) == any(dep != "05" for _, dep in codes)
    dep = _shapes(con, "departement")["05"]
    union05 = shapely.union_all([communes[c] for codes in members.values() for c, d in codes if d == "05"])
    assert dep.area == pytest.approx(union05.area, rel=1e-4)


def _features(path: Path, drop: set[str] = frozenset()) -> list[dict]:
    return [f for f in json.loads(path.read_text(encoding="utf-8"))["features"]
            if (f["properties"].get("code_insee") or f["properties"].get("code")) not in drop]


def test_contours_of_an_older_vintage_are_mapped_through_commune_changes(con):
    path = REAL / "geo" / "communes-05-hautes-alpes-2018.geojson"
    if not path.exists():
        pytest.skip(f"../shared/real absent: {path.name} not available")
    communes = {c: (d, e) for c, d, e in con.execute("SELECT code, departement, epci_siren FROM ref_communes").fetchall()}
    changes = dict(con.execute("SELECT ancien_code, nouveau_code FROM ref_communes_changements").fetchall())
    geoms, origins, ignored = geo.commune_geometries(_features(path), communes, changes)
    assert not ignored
    codes05 = {c for c, (d, _) in communes.items() if d == "05"}
    assert set(geoms) == codes05                       # the 162 current communes of 05, all drawn
    assert origins["05001"] == ["05001", "05120"]     # Ristolas (2018) merged into Abriès-Ristolas
    abries = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in _features(path)
                                if f["properties"]["code"] in ("05001", "05120")])
    assert geoms["05001"].area == pytest.approx(abries.area, rel=1e-6)


def test_communes_without_contour_are_named(con):
    communes = {c: (d, e) for c, d, e in con.execute("SELECT code, departement, epci_siren FROM ref_communes").fetchall()}
    features = [f for f in geo.read_features({d for d, _ in communes.values()}) if f["properties"]["code"] != "05061"]
    communes = {c: (d, e, False) for c, (d, e) in communes.items()}
    rows = geo.build_rows(features, communes, {})
    drawn = {r[1] for r in rows if r[0] == "commune"}
    assert set(communes) - drawn == {"05061"}


def test_missing_contour_sentence(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    c = duckdb.connect(str(copy))
    c.execute("DELETE FROM ref_contours WHERE niveau = 'commune' AND code = '05061'")
    c.execute("UPDATE meta SET valeur = 'test-manquant' WHERE cle = 'version'")
    c.close()
    s = Warehouse(copy).snapshot()
    assert maps.missing_sentence(s) == "1 commune(s) sans contour, non dessinée(s) : Gap (05061)."
    fig, df = maps.map_figure(s, "population", "commune")
    assert not df.set_index("code").at["05061", "dessinee"]
    assert "05061" not in {loc for t in fig.data if t.type == "choropleth" and t.meta != "hors_ti" for loc in t.locations}


def test_jenks_and_quantiles():
    values = [1, 2, 3, 10, 11, 12, 20, 21, 22, np.nan]
    assert maps.jenks_breaks(values, 3) == [3.0, 12.0, 22.0]
    assert maps.jenks_breaks([5, 5, 5], 4) == [5.0]
    assert maps.quantile_breaks([1, 2, 3, 4, 5, 6], 3) == [2.0, 4.0, 6.0]
    c = maps.classify(values, str, "jenks", k=3)
    assert c.index.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, -1]
    # contiguous, half-open classes cut at round values between two classes
    assert c.labels == ["moins de 10.0", "de 10.0 à moins de 20.0", "20.0 et plus"]
    assert maps.round_cut(0.052, 0.107) == 0.1 and maps.round_cut(5.5, 5.6) == 5.6


def test_diverging_classes_centre_on_the_departement_value():
    c = maps.classify([0.0, 0.02, 0.10, 0.12, 0.30], lambda x: f"{x * 100:.0f} %", "divergente", centre=0.11,
                      minimum=0.0)
    assert c.centre == 0.11
    # values below the centre get the three blue classes, above it the three red ones
    assert all(i < 3 for i in c.index[:3]) and all(i >= 3 for i in c.index[3:])
    assert c.colours[:3] == maps.DIVERGING_BELOW and c.colours[3:] == maps.DIVERGING_ABOVE
    # shares are never negative: no "de -9 % à 1 %"
    assert not any("-" in lab for lab in c.labels) and c.labels[0] == ""
    assert c.labels[-1].endswith("et plus")


def test_commune_map_draws_every_commune_and_the_eight_epci(snap, con):
    fig, df = maps.map_figure(snap, "population", "commune", selection="200067452")
    locs = [loc for t in fig.data if t.type == "choropleth" and t.meta != "hors_ti" for loc in t.locations]
    members = "SELECT code FROM ref_territoires WHERE niveau = 'commune' AND role = 'membre'"
    assert sorted(locs) == sorted(r[0] for r in con.execute(members).fetchall())
    assert len(df) == 131 and df.dessinee.all() and df.valeur.notna().all()
    # member communes outside the reference département faded; every figure trace is drawable offline
    opac = {loc: o for t in fig.data if t.type == "choropleth" and t.meta != "hors_ti" for loc, o in zip(t.locations, t.marker.opacity)}
    outside = {r[0] for r in con.execute(f"SELECT code FROM ref_communes WHERE hors_departement AND code IN ({members})").fetchall()}
    assert {c for c, o in opac.items() if o < 1} == outside and len(outside) == 5
    assert {t.type for t in fig.data} <= {"choropleth", "scattergeo"}
    assert fig.layout.geo.visible is False and maps.PLOTLY_CONFIG["topojsonURL"].startswith("data:")
    labels = [t for t in fig.data if t.type == "scattergeo" and t.meta == "numeros"][0]
    assert labels.text == tuple(str(i) for i in range(1, 9))     # numbered discs; names in the legend's key
    names = {t.name.replace("<br>", " ") for t in fig.data if t.name}
    assert {"EPCI sélectionné", "Limite de département (Hautes-Alpes)", "Limite d'EPCI"} <= names
    # hover: name, value, statut, source
    gap = df.index[df.code == "05061"][0]
    hover = [h for t in fig.data if t.type == "choropleth" and t.meta != "hors_ti" for loc, h in zip(t.locations, t.hovertext) if loc == "05061"][0]
    assert "Gap" in hover and "Source\u202f:" in hover and "Statut" not in hover and "publié" not in hover
    assert df.at[gap, "classe"] and df.at[gap, "epci"] == con.execute(
        "SELECT epci_siren FROM ref_communes WHERE code = '05061'").fetchall()[0][0]


def test_epci_map_and_absent_values(snap):
    fig, df = maps.map_figure(snap, "population", "epci")
    locs = [loc for t in fig.data if t.type == "choropleth" and t.meta != "hors_ti" for loc in t.locations]
    assert len([l for l in locs if ":" not in l]) == 8 and len([l for l in locs if l.endswith(":hors")]) == 3
    assert all(isinstance(t.customdata[0], str) and len(t.customdata[0]) == 9 for t in fig.data if t.type == "choropleth" and t.meta != "hors_ti")
    # an indicator with no loaded file: every EPCI absent, drawn grey with its meaning in the legend
    fig, df = maps.map_figure(snap, "ca_total", "epci")
    assert (df.statut == "absent").all() and df.valeur.isna().all()
    assert [t.name for t in fig.data if t.type == "choropleth" and not t.name.startswith("Hors du")] == \
        ["–\u202f: aucune donnée (8)"]


def test_secret_cells_are_hatched():
    square = shapely.box(6.0, 44.5, 6.1, 44.6)
    lon, lat = maps._hatch([square], 0.02)
    pts = [(x, y) for x, y in zip(lon, lat) if x is not None]
    assert len(pts) >= 10
    assert all(square.buffer(1e-9).contains(shapely.Point(p)) for p in pts)
