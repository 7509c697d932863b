"""Foncier économique: CNIG « Sites économiques » inventories (loader, indicators, page, slide)."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl import demo_foncier
from etl.load import _init, check, load
from etl.sources import foncier as cnig
from etl.validate import LoadError
from indicators import format as fmt
from tests.conftest import ROOT, quiet

EXAMPLES = ROOT.parent / "shared" / "reference" / "cnig_sites_economiques"


def _examples() -> Path:
    if not (EXAMPLES / "site-eco.exemple-valide.csv").exists():
        pytest.skip("exemples du standard CNIG absents (../shared/reference/cnig_sites_economiques/)")
    return EXAMPLES


def _communes(warehouse: Path) -> pd.DataFrame:
    """The member communes of the warehouse's territory (those of its EPCI)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("""SELECT c.code AS code_insee, c.nom, c.epci_siren, e.nom AS epci_nom, c.population, c.departement
                              FROM ref_communes c JOIN ref_epci e ON e.siren = c.epci_siren
                              WHERE c.epci_siren IN (SELECT code FROM ref_territoires WHERE niveau = 'epci' AND role = 'membre')
                              ORDER BY c.code""").df()
    finally:
        con.close()


def _write_tables(data: dict, dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in cnig.TABLES:
        p = dest / f"{t}.csv"
        p.write_text(demo_foncier.csv_text(t, data[t]), encoding="utf-8")
        paths.append(p)
    return paths


def _snap(path: Path):
    from indicators.db import get_warehouse

    return get_warehouse(path).snapshot()


def test_cnig_valid_examples_pass_the_published_schemas_and_load_once_placed_in_the_perimeter(tmp_path, warehouse):
    ex = _examples()
    con = duckdb.connect()
    _init(con)
    for t in cnig.TABLES:
        staged = cnig.stage(con, ex / f"{t}.exemple-valide.csv")
        assert not staged.hard and staged.lignes_lues == 1, [str(p) for p in staged.problems]
    # The examples are in the Somme: refused as outside the perimeter, like any other source, naming the département.
    [report] = check([ex / "site-eco.exemple-valide.csv"])
    assert report.statut == "refusé" and "périmètre" in report.problems[0].message and "80" in report.problems[0].message
    # The same four tables, as a zipped package, with the site moved to a commune of the perimeter: they load.
    commune = _communes(warehouse).iloc[0]
    package = tmp_path / "exemple.zip"
    with zipfile.ZipFile(package, "w") as z:
        z.write(ex / "datapackage.json", "datapackage.json")
        for t in cnig.TABLES:
            text = (ex / f"{t}.exemple-valide.csv").read_text(encoding="utf-8")
            text = text.replace(";80024;", f";{commune.code_insee};").replace(";80718;", f";{commune.code_insee};")
            z.writestr(f"schema/{t}/exemple-valide.csv", text)
    [r] = load([package], warehouse, progress=quiet)
    assert r.kind == cnig.KIND and r.lignes_gardees == 4
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT site_id, commune, surf_brute_ha, surf_comm_dispo_ha FROM foncier_sites").fetchall() == [
            ("80024_SITE-ECO_00001", commune.code_insee, 37.2, 5.7)]
        assert con.execute("SELECT kind, millesime, demo FROM sources WHERE kind = ?", [cnig.KIND]).fetchall() == [
            (cnig.KIND, "2023-08-29", False)]
        # The EPCI SIREN of the example (Somme) disagrees with the reference: reported, the commune places the site.
        assert any("site_epci_siren" == p.colonne for p in r.problems if not p.grave)
    finally:
        con.close()


def test_a_file_breaking_the_schema_is_refused_in_french_naming_line_field_and_rule(tmp_path, warehouse):
    data = demo_foncier.tables(_communes(warehouse).head(40), seed=3)
    sites = data["site-eco"][:3]
    sites[1] = dict(sites[1], site_surf_brute="12,5")                   # decimal comma: not a Table Schema number
    sites[2] = dict(sites[2], site_voca_industrielle="peut-être", site_actu_date="12/03/2025")
    sites[2]["site_geomsurf"] = json.dumps({"type": "Polygon", "coordinates": [[[6.1, 44.5], [6.2, 44.5], [6.1, 44.5]]]})
    sites.append(dict(sites[0]))                                         # the same site_id twice
    path = tmp_path / "site-eco.csv"
    path.write_text(demo_foncier.csv_text("site-eco", sites), encoding="utf-8")
    before = warehouse.read_bytes()
    with pytest.raises(LoadError) as err:
        load([path], warehouse, progress=quiet)
    text = str(err.value)
    assert warehouse.read_bytes() == before
    assert "site-eco.csv, ligne 3, colonne « site_surf_brute » : valeur « 12,5 » : un nombre" in text
    assert "règle « type » : number" in text
    assert "ligne 4, colonne « site_voca_industrielle » : valeur « peut-être » hors de la liste autorisée (règle « enum » : oui, non)" in text
    assert "ligne 4, colonne « site_actu_date »" in text and "AAAA-MM-JJ" in text
    assert "ligne 4, colonne « site_geomsurf » : valeur « {\"type\": \"Polygon\"" in text   # a ring of 3 positions
    assert "une géométrie GeoJSON attendue (règle « type » : geojson)" in text
    assert f"ligne 5, colonne « site_id » : identifiant « {sites[0]['site_id']} » en double, déjà ligne 2 (règle « primaryKey »" in text
    # A required column missing from the header.
    bad = tmp_path / "terrain-eco.csv"
    names = [n for n in cnig.field_names("terrain-eco") if n != "terr_surf_brute"]
    bad.write_text(";".join(names) + ";site_id_x\n", encoding="utf-8")
    bad.write_text(";".join(names) + "\n" + ";".join("x" for _ in names) + "\n", encoding="utf-8")
    [r] = check([bad])
    assert r.statut == "refusé" and (r.problems[0].ligne, r.problems[0].colonne) == (1, "terr_surf_brute")
    assert "règle « required »" in r.problems[0].message


def test_fast_geojson_cells_get_frictionless_own_verdict():
    """The fast GeoJSON reader (etl/sources/geojson_field.py) accepts or refuses exactly the cells frictionless'
    own reader does: well-formed geometries and some 600 random damages of them (wrong nesting, a third or a
    missing coordinate, text, booleans, too short rings and lines, `bbox`, `crs`, other object types)."""
    import random

    from frictionless.fields import GeojsonField

    from etl.sources.geojson_field import FastGeojsonField, well_formed_geometry

    ring = [[6.1, 44.5], [6.2, 44.5], [6.2, 44.6], [6.1, 44.5]]
    valid = [{"type": "Point", "coordinates": [6.1, 44]}, {"type": "MultiPoint", "coordinates": ring},
             {"type": "LineString", "coordinates": ring[:2]}, {"type": "MultiLineString", "coordinates": [ring, ring]},
             {"type": "Polygon", "coordinates": [ring, ring]}, {"type": "MultiPolygon", "coordinates": [[ring], [ring, ring]]},
             {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}},
             {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]}]
    rng = random.Random(7)
    values = [1, 1.5, True, None, "6.1", [], [1], [1, 2], [1, 2, 3], [[1, 2]], {}]

    def damaged(obj):
        obj = json.loads(json.dumps(obj))
        for _ in range(rng.randint(1, 2)):
            action = rng.randrange(6)
            if action == 0:
                obj["type"] = rng.choice(["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                          "MultiPolygon", "Feature", "Circle", ["Polygon"], None])
            elif action == 1:
                obj.pop(rng.choice(["coordinates", "type"]), None)
            elif action == 2:
                obj[rng.choice(["bbox", "crs"])] = rng.choice([[0, 0, 1, 1], [0, "a"], {"type": "name", "properties": {}}, 5])
            else:   # somewhere in the coordinates, a value replaced or a list shortened
                node = obj.get("coordinates")
                while isinstance(node, list) and node and isinstance(node[0], list) and rng.random() < 0.7:
                    node = rng.choice(node)
                if isinstance(node, list) and node:
                    if rng.random() < 0.5:
                        node[rng.randrange(len(node))] = rng.choice(values)
                    else:
                        del node[rng.randrange(len(node)):]
        return obj

    cells = [json.dumps(v) for v in valid] + [json.dumps(damaged(rng.choice(valid))) for _ in range(600)]
    cells += ["pas du JSON", "[1, 2]", "5", ""]
    slow, fast = GeojsonField(name="g").create_value_reader(), FastGeojsonField(name="g").create_value_reader()
    verdicts = [(slow(c) is not None, fast(c) is not None) for c in cells]
    assert [c for c, (a, b) in zip(cells, verdicts) if a != b] == []
    accepted = sum(a for a, _ in verdicts)
    by_fast_path = sum(well_formed_geometry(json.loads(c)) for c in cells[:-4])
    assert 50 < by_fast_path <= accepted < len(cells) - 100, (by_fast_path, accepted)


def _recompute(data: dict, communes: pd.DataFrame, niveau_col: str) -> pd.DataFrame:
    """Independent recomputation, in pandas, from the CSV rows: per territory of `niveau_col`."""
    s = pd.DataFrame(data["site-eco"]).merge(communes, left_on="site_comm_insee", right_on="code_insee")
    num = lambda c: pd.to_numeric(s[c].replace("", np.nan))  # noqa: E731
    s = s.assign(brute=num("site_surf_brute"), dispo=num("site_surf_comm_dispo"), uf=num("site_uf_nbre"),
                 vac=num("site_uf_vacant_nbre"), emplois=num("site_nb_emploi"),
                 indus=np.where((s.site_voca_industrielle == "oui") | (s.site_vocadomi == "industrielle"), num("site_surf_brute"), 0))
    g = s.groupby(niveau_col)
    out = pd.DataFrame({"foncier_sites": g.size(), "foncier_surface_brute": g.brute.sum(),
                        "foncier_surface_disponible": g.dispo.sum(min_count=1), "foncier_emplois": g.emplois.sum(),
                        "foncier_surface_industrielle": g.indus.sum(), "foncier_taux_vacance": g.vac.sum() / g.uf.sum()})
    t = pd.DataFrame(data["terrain-eco"]).merge(s[["site_id", niveau_col]], on="site_id")
    t = t[t.terr_m2_prix.notna() & (t.terr_m2_prix != "")]
    prices = t.groupby(niveau_col).terr_m2_prix.agg(lambda x: np.median(pd.to_numeric(x)) if len(x) >= 3 else np.nan)
    out["foncier_prix_m2_median"] = prices
    return out


def test_held_out_inventory_loads_and_every_indicator_equals_a_pandas_recomputation(tmp_path, warehouse):
    from indicators import query

    communes = _communes(warehouse)
    data = demo_foncier.tables(communes, seed=11)     # not the demo's seed: a held-out inventory
    blank = data["site-eco"][1]["site_id"]
    data["site-eco"][1]["site_surf_comm_dispo"] = None            # one site leaves the field empty: partial aggregate
    outside = dict(data["site-eco"][0], site_id="80024_SITE-ECO_09999", site_comm_insee="80024")
    data["site-eco"].append(outside)                              # outside the perimeter: ignored, reported
    paths = _write_tables(data, tmp_path / "inventaire")          # four separate CSV files this time
    reports = load(paths, warehouse, progress=quiet)
    site_report = next(r for r in reports if r.fichier == "site-eco.csv")
    assert any("hors du périmètre" in p.message for p in site_report.problems)
    snap = _snap(warehouse)
    expected = _recompute(data, communes, "epci_siren")
    for name in expected.columns:
        got = query.get(snap, name, "epci").set_index("code")
        exp = expected[name].reindex(got.index)
        np.testing.assert_allclose(got.valeur.to_numpy(dtype=float), exp.to_numpy(dtype=float), rtol=1e-9, err_msg=name)
    dispo = query.get(snap, "foncier_surface_disponible", "epci").set_index("code")
    epci_blank = communes.set_index("code_insee").epci_siren[data["site-eco"][1]["site_comm_insee"]]
    assert dispo.statut[epci_blank] == "partiel" and "Champ renseigné pour" in dispo.note[epci_blank]
    members = sorted(set(communes.epci_siren))
    assert (dispo.loc[members].drop(index=epci_blank).statut == "ok").all()
    assert (dispo.drop(index=members).statut == "absent").all()       # EPCI of the warehouse with no inventory
    # The TI level (ref_appartenance 'ti'): every site of its member communes.
    ti = query.get(snap, "foncier_surface_brute", "ti").query("statut != 'absent'")
    assert len(ti) == 1 and ti.valeur.iat[0] == pytest.approx(expected.foncier_surface_brute.sum())
    # Fewer than 3 sales: « s », no reason given.
    by_site = query.get(snap, "foncier_prix_m2_median", "site")
    few = by_site[(by_site.n_renseignes > 0) & (by_site.n_renseignes < 3)]
    assert len(few) and (few.statut == "secret").all() and few.valeur.isna().all() and (few.note == "").all()
    assert blank in set(by_site.code)
    # The département: recomputed on its own communes.
    dep = _recompute(data, communes, "departement")
    got = query.get(snap, "foncier_surface_brute", "departement").set_index("code")
    for code in got.index.intersection(dep.index):
        assert got.valeur[code] == pytest.approx(dep.foncier_surface_brute[code])
    # The command line gives the same figures (CSV output).
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "indicators", "show", "foncier_surface_disponible", "--niveau", "epci",
                          "--warehouse", str(warehouse), "--format", "csv"], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True).stdout
    cli = pd.read_csv(io.StringIO(out), dtype={"code": str}, sep=None, engine="python", decimal=",").set_index("code")
    assert set(members) <= set(cli.index)     # the perimeter by default
    np.testing.assert_allclose(cli.valeur.loc[members].to_numpy(dtype=float), dispo.valeur.loc[members].to_numpy(dtype=float))


def test_a_new_level_of_ref_appartenance_is_covered_without_code_change(tmp_path, warehouse):
    from indicators import query

    communes = _communes(warehouse)
    data = demo_foncier.tables(communes, seed=5)
    load(_write_tables(data, tmp_path / "inv"), warehouse, progress=quiet)
    con = duckdb.connect(str(warehouse))
    try:   # a level the code has never heard of: two zones splitting the communes
        con.execute("""INSERT INTO ref_appartenance SELECT code, 'zone_test', CASE WHEN code < '05100' THEN 'Z1' ELSE 'Z2' END
                       FROM ref_communes""")
        con.execute("INSERT INTO ref_territoires (niveau, code, nom, nom_court, ordre) VALUES "
                    "('zone_test', 'Z1', 'Zone 1', 'Zone 1', 5), ('zone_test', 'Z2', 'Zone 2', 'Zone 2', 5)")
        con.execute("UPDATE meta SET valeur = 'test-zone' WHERE cle = 'version'")
    finally:
        con.close()
    got = query.get(_snap(warehouse), "foncier_surface_brute", "zone_test").set_index("code")
    communes["zone"] = np.where(communes.code_insee < "05100", "Z1", "Z2")
    exp = _recompute(data, communes, "zone").foncier_surface_brute
    assert got.valeur.to_dict() == pytest.approx(exp.to_dict())


def test_newer_rows_replace_older_ones_and_an_older_file_loaded_later_is_ignored(tmp_path, warehouse):
    from indicators import query

    data = demo_foncier.tables(_communes(warehouse), seed=2)
    site = dict(data["site-eco"][0])

    def write(name: str, **kw) -> Path:
        (tmp_path / name).write_text(demo_foncier.csv_text("site-eco", [dict(site, **kw)]), encoding="utf-8")
        return tmp_path / name
    load([write("a.csv", site_actu_date="2024-05-01", site_surf_brute=10.0)], warehouse, progress=quiet)
    load([write("b.csv", site_actu_date="2025-05-01", site_surf_brute=12.0)], warehouse, progress=quiet)
    [older] = load([write("c.csv", site_actu_date="2023-05-01", site_surf_brute=8.0)], warehouse, progress=quiet)
    assert any("plus récente" in p.message for p in older.problems)
    got = query.get(_snap(warehouse), "foncier_surface_brute", "site").set_index("code")
    assert got.valeur[site["site_id"]] == 12.0 and got.annee[site["site_id"]] == 2025
    con = duckdb.connect(str(warehouse), read_only=True)
    try:   # the first file's only row was replaced: it leaves the lineage
        assert [r[0] for r in con.execute("SELECT fichier FROM sources WHERE kind = ? ORDER BY 1", [cnig.KIND]).fetchall()] \
            == ["b.csv", "c.csv"]
    finally:
        con.close()


def test_template_writes_empty_conformant_tables_that_load_once_filled(tmp_path, warehouse):
    from etl import template_foncier

    communes = _communes(warehouse)
    siren = communes.epci_siren.iat[0]
    dest = template_foncier.write(tmp_path / "modele", siren)
    for t in cnig.TABLES:
        assert (dest / f"{t}.csv").read_text(encoding="utf-8").strip().split(";") == cnig.field_names(t)
    assert len(pd.read_csv(dest / "champs.csv", sep=";")) == sum(len(cnig.field_names(t)) for t in cnig.TABLES)
    [empty] = check([dest / "site-eco.csv"])
    assert empty.statut == "refusé" and "aucune ligne" in empty.problems[0].message
    row = demo_foncier.tables(communes[communes.epci_siren == siren])["site-eco"][0]
    with open(dest / "site-eco.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerow(["" if row.get(n) is None else row[n] for n in cnig.field_names("site-eco")])
    archive = shutil.make_archive(str(tmp_path / "modele_rempli"), "zip", dest)
    [r] = load([Path(archive)], warehouse, progress=quiet)
    assert r.lignes_gardees == 1


def test_page_slide_and_annex_say_the_same(demo_warehouse, use_warehouse, snap):
    """The Foncier page shows the content layer's findings; the deck and the annex render the same objects."""
    from openpyxl import load_workbook
    from pptx import Presentation
    from streamlit.testing.v1 import AppTest

    from indicators.content import foncier as content
    from indicators.export import slides
    from indicators.export.annex import build_annex
    from indicators.export.deck import build_deck

    use_warehouse(demo_warehouse)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/views/foncier.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Foncier économique"
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Données de démonstration" in text
    assert "champ " not in " ".join(c.value for c in at.caption)        # CNIG field names: Sources page only
    kinds = [json.loads(el.proto.spec)["data"][0]["type"] for el in at.get("plotly_chart")]
    assert kinds.count("bar") == 3 and "scattergeo" in kinds
    found = slides.build(snap, slides.Selection(), list(content.KEYS))
    assert [s.key for s in found] == content.KEYS
    subheaders = [h.value for h in at.subheader]
    for s in found:
        assert s.titre in subheaders and s.phrase in text, s.key
    assert any(m.label.startswith("Disponible à la vente") for m in at.metric)
    listed = next(m.value for m in at.markdown if " sur " in m.value and "disponible" in m.value)
    assert "site(s)" not in listed and "sites sur" in listed
    prs = Presentation(io.BytesIO(build_deck(snap, slides.Selection(), keys=list(content.KEYS))))
    for s, sl in zip(found, prs.slides):
        assert any(sh.has_text_frame and s.titre in sh.text_frame.text for sh in sl.shapes), s.key
    disp = found[1]
    chart = next(sh.chart for sh in prs.slides[1].shapes if sh.has_chart)
    assert list(chart.plots[0].series[0].values) == pytest.approx(disp.chart_rows().valeur.tolist())
    wb = load_workbook(io.BytesIO(build_annex(snap, slides.Selection(), list(content.KEYS))), read_only=True)
    for s in found:
        rows = list(wb[content.SHEETS[s.key]].iter_rows(values_only=True))
        assert rows[0][0] == s.titre and rows[1][0] == s.phrase
    # The plan's axe 1 actions lead to these indicators, with the page's key figures.
    at.switch_page("pages/views/plan_actions.py").run()
    assert not at.exception, [e.value for e in at.exception]
    plan = " ".join([m.value for m in at.markdown] + [c.value for c in at.caption]).replace("\\", "").replace(fmt.NNBSP, " ")
    assert "Repères du foncier économique (inventaire" in plan


def test_page_without_inventory_says_what_to_load(reference_warehouse, use_warehouse):
    from streamlit.testing.v1 import AppTest

    use_warehouse(reference_warehouse)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/views/foncier.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("CNIG" in i.value for i in at.info)
    assert [h.value for h in at.subheader] == ["Foncier économique\u202f: aucun inventaire des zones d'activités chargé"]


def test_a_year_before_the_inventory_shows_no_figure_of_it(demo_warehouse, use_warehouse, snap):
    """An inventory is dated by its latest update: for an earlier year the page and the slide say so in one
    finding, with no figure of another year and no instruction to the user."""
    from streamlit.testing.v1 import AppTest

    from indicators.content import foncier as content
    from indicators.export import slides

    use_warehouse(demo_warehouse)
    years = content.inventory_years(query_members(snap, "foncier_sites"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/views/foncier.py").run()
    before = max(int(y) for y in at.selectbox(key="annee").options if y.isdigit() and int(y) < min(years))
    at.selectbox(key="annee").set_value(str(before)).run()
    assert not at.exception, [e.value for e in at.exception]
    found = slides.build(snap, slides.Selection(annee=before), list(content.KEYS))
    assert len(found) == 1
    [s] = found
    assert [h.value for h in at.subheader] == [s.titre] and f"postérieurs à {before}" in s.titre
    assert s.phrase in " ".join(m.value for m in at.markdown) and "Choisissez" not in s.phrase
    assert not at.get("plotly_chart") and not len(s.table) and s.spec is None
    # The plan page's axe 1 line follows the same rule.
    at.switch_page("pages/views/plan_actions.py").run()
    plan = " ".join([m.value for m in at.markdown] + [c.value for c in at.caption]).replace("\\", "").replace(fmt.NNBSP, " ")
    assert f"Repères du foncier économique : inventaires {' et '.join(map(str, years))}, postérieurs à {before}" in plan


def query_members(snap, name: str) -> pd.DataFrame:
    from indicators import perimeter, query

    return query.get(snap, name, "epci", territoires=[t.code for t in perimeter.load(snap).members])


def test_a_total_over_inventories_of_several_years_is_never_dated_to_one_year(tmp_path, warehouse):
    """EPCIs update their inventories in different years: the TI's total says every year it holds (title,
    sentence, source line, table), each EPCI keeps its own year (table, chart category, cited values), and
    the part of the total from the earlier inventories is given."""
    from indicators import charts
    from indicators.content import Selection, context, foncier as content, registry

    communes = _communes(warehouse)
    data = demo_foncier.tables(communes, seed=11)
    load(_write_tables(data, tmp_path / "inv"), warehouse, progress=quiet)
    sites = pd.DataFrame(data["site-eco"]).merge(communes, left_on="site_comm_insee", right_on="code_insee")
    year_of = pd.to_datetime(sites.site_actu_date).groupby(sites.epci_siren).max().dt.year
    years = sorted(set(year_of))
    assert len(years) > 1, "the generator dates one EPCI in four a year earlier"
    snap = _snap(warehouse)
    ctx = context(snap, Selection())
    found = {f.key: f for f in registry.build(ctx, "foncier")}
    label = f"inventaires {' et '.join(map(str, years))}" if len(years) == 2 else f"inventaires {years[0]} à {years[-1]}"
    for f in found.values():
        assert label in f.titre, f.titre
        assert not any(f" en {y}" in f.titre for y in years), f.titre
        assert label in f.source and set(f.years) == set(years)
        mine = f.table[f.table.code == ctx.home.code]
        assert len(mine) and mine.annee.isna().all() and mine.note.str.contains(label).all(), f.key
        drawn = f.chart_rows()
        if len(drawn):
            assert (drawn.annee.astype(int).to_numpy() == year_of.reindex(drawn.code).to_numpy()).all()
            assert all(c.endswith(f"({int(a)})") for c, a in zip(drawn.categorie, drawn.annee))
    disp = found["foncier_disponible"]
    drawn = disp.chart_rows()
    early = drawn[drawn.annee < years[-1]]
    expected = f"{fmt_ha(early.valeur.sum())} datent des inventaires de {years[0]}"
    assert expected in disp.phrase, disp.phrase
    top = drawn.dropna(subset=["valeur"]).iloc[0]
    assert f"{top.territoire} ({fmt_ha(top.valeur)}, inventaire {int(top.annee)})" in disp.phrase
    # An EPCI of the latest year: its own figures carry that one year, the EPCIs it is compared with theirs.
    latest = year_of[year_of == years[-1]].index[0]
    one = {f.key: f for f in registry.build(context(snap, Selection(focus=latest)), "foncier")}
    assert one["foncier_disponible"].titre.endswith(f"(inventaire {years[-1]})")
    assert f"inventaires {years[0]}" not in one["foncier_chiffres"].titre
    # Axis ticks in French with their unit (U+202F), hovers without raw statuses.
    for key, unit in (("foncier_disponible", "\u202fha"), ("foncier_vacance", "\u202f%"), ("foncier_prix", "\u202f€/m²")):
        fig = charts.figure(found[key])
        ticks = [t for t in fig.layout.xaxis.ticktext if t != "0"]
        assert ticks and all(t.endswith(unit) for t in ticks), (key, fig.layout.xaxis.ticktext)
        hovers = [h for tr in fig.data for h in (tr.hovertext or [])]
        assert hovers and not any(h.endswith("ok") or "<br>ok" in h for h in hovers)


def fmt_ha(v) -> str:
    from indicators import format as fmt

    return f"{fmt.number(v, 1)}{fmt.NNBSP}ha"
