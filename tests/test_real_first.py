"""Real data first: an official file replaces the demo data of its kind where it applies, and coverage is counted
from the rows of the file, year by year.

The warehouse is the TI Axe Seine's (a perimeter whose reference département, Seine-Maritime, the real URSSAF
sample of ../shared/real/ covers in part: a dozen of its 707 communes): reference tables, then the demo URSSAF
file of that perimeter loaded as demo, then the real sample loaded as `etl load` does.
"""
from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl import demo, load, marts, perimeter
from tests.conftest import ROOT, quiet, real_file
from tests.test_marts_equivalence import _differences

# Warehouses built with the demo then a real file: the full suite only (the quick tier stays under 4 minutes).
pytestmark = pytest.mark.slow

TI = "ti-2802"
SAMPLE = "urssaf_commune_x_ape_sample_dep76_first60lines.csv"


def _sample() -> pd.DataFrame:
    """The real sample, long: (commune, annee, effectifs) for every non-empty cell."""
    raw = pd.read_csv(real_file(SAMPLE), sep=";", dtype=str, encoding="utf-8-sig")
    cols = [c for c in raw.columns if c.startswith("Effectifs salariés ")]
    long = raw.melt(id_vars=["Code commune"], value_vars=cols, var_name="v", value_name="n").dropna(subset=["n"])
    long["annee"] = long.v.str[-4:].astype(int)
    return long.rename(columns={"Code commune": "commune"})[["commune", "annee", "n"]]


def _demo_urssaf(per, path):
    """The demo URSSAF file of the perimeter, as etl.demo.generate writes it, without the other demo files (the
    chamber file and the Sirene stock of a TI of 1.3 million inhabitants take minutes to generate)."""
    rng = np.random.default_rng(demo.SEED)
    communes, naf = demo._reference(per)
    cal = demo._calibration(per, communes)
    communes["profil"] = [cal["profils_epci"].get(e, {}) for e in communes.epci_siren]
    demo._skip_former_base_comparateur(rng, communes)
    demo._urssaf(rng, communes, naf, path)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(warehouse with demo URSSAF only, the same after the real sample, the load's reports)."""
    sample = real_file(SAMPLE)
    per = perimeter.resolve(TI)
    base = tmp_path_factory.mktemp("real_first")
    demo_wh = base / "demo.duckdb"
    load.build(demo_wh, demo=False, progress=quiet, perimeter=per, embedded=False)
    urssaf_demo = _demo_urssaf(per, base / "urssaf_commune_ape_2024_demo.csv")
    with load._writer_lock(demo_wh), load._new_version(demo_wh, demo_wh) as con:   # as `build` loads its demo files
        load._ingest(con, [urssaf_demo], None, True, quiet)
        load._finish(con, quiet)
    real_wh = base / "real.duckdb"
    shutil.copyfile(demo_wh, real_wh)
    reports = load.load([sample], real_wh, progress=quiet)
    return demo_wh, real_wh, reports


def _q(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_real_file_replaces_the_demo_for_the_communes_and_years_it_gives(built):
    demo_wh, real_wh, reports = built
    raw = _sample()
    held = {r[0] for r in _q(real_wh, "SELECT code FROM ref_communes")}
    given = raw[raw.commune.isin(held) & raw.annee.between(2015, 2024)]
    assert reports[0].remplacements == [
        f"données de démonstration URSSAF remplacées pour {given.annee.min()}-{given.annee.max()} "
        f"({given.commune.nunique()} communes)"]
    # No demo fact left for a (commune, year) the file gives; the demo stays for the others.
    left = _q(real_wh, """SELECT count(*) FROM facts f JOIN sources s USING (source_id)
                          WHERE s.demo AND s.kind = 'urssaf' AND f.mesure = 'effectifs_salaries'
                            AND (f.territoire_code, f.annee) IN (SELECT unnest(?), unnest(?))""",
              [given.commune.tolist(), given.annee.tolist()])
    assert left == [(0,)]
    assert _q(real_wh, "SELECT count(*) FROM facts f JOIN sources s USING (source_id) WHERE s.demo AND f.annee = 2024") > [(0,)]
    # The real years the demo shadowed before are in: 2006-2022 of the file, every one of them.
    years = _q(real_wh, "SELECT annees, licence FROM sources WHERE kind = 'urssaf' AND NOT demo")
    assert years == [("2006-2022", "ODbL 1.0 (open data Urssaf)")]
    # Commune figures of those years come from the real file: no demo mark on them.
    marks = _q(real_wh, """SELECT DISTINCT s.demo FROM mart m JOIN sources s USING (source_id)
                           WHERE m.niveau = 'commune' AND m.mesure = 'effectifs_salaries' AND m.groupement = 'total'
                             AND list_contains(?, m.code) AND m.annee BETWEEN 2015 AND 2022""",
               [sorted(given.commune.unique())])
    assert marks == [(False,)]


def test_coverage_is_counted_from_the_rows_year_by_year(built):
    """The département is partial (the sample's communes of 76 among its 707), with the communes and inhabitants
    the rows cover; so is the TI (its member communes in the file, not every commune of 76)."""
    _, real_wh, _ = built
    raw = _sample()
    ref = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str, keep_default_na=False)
    ref = ref.assign(population=pd.to_numeric(ref.population))
    dep76 = ref[ref.departement == "76"]
    members = pd.read_csv(ROOT / "data" / "reference" / "territoires_industrie_communes.csv", dtype=str)
    ti = set(members[members.id_ti == TI].code_insee)
    for year in (2006, 2022):
        present = set(raw[raw.annee == year].commune)
        row = _q(real_wh, """SELECT m.statut, m.n_couvertes, m.n_membres, m.pop_couverte, m.pop_membres
                             FROM mart m JOIN sources s USING (source_id) WHERE NOT s.demo AND m.mesure = 'effectifs_salaries'
                               AND m.groupement = 'total' AND m.niveau = 'departement' AND m.code = '76' AND m.annee = ?""",
                 [year])
        covered = dep76[dep76.code_insee.isin(present)]
        assert row == [("partiel", len(covered), len(dep76), int(covered.population.sum()), int(dep76.population.sum()))]
        ti_row = _q(real_wh, """SELECT statut, n_couvertes, n_membres FROM mart WHERE mesure = 'effectifs_salaries'
                                AND groupement = 'total' AND niveau = 'ti' AND code = ? AND annee = ?""", [TI, year])
        assert ti_row == [("partiel", len(present & ti), len(ti))]


def test_incremental_load_over_demo_equals_a_full_rebuild(built, tmp_path):
    _, real_wh, _ = built
    full = tmp_path / "full.duckdb"
    shutil.copyfile(real_wh, full)
    con = duckdb.connect(str(full))
    try:
        marts.build_marts(con)
        con.execute(f"ATTACH '{real_wh.as_posix()}' AS inc (READ_ONLY)")
        con.execute("CREATE TEMP TABLE inc_mart AS SELECT * FROM inc.mart")
        assert _differences(con, "inc_mart", "mart") == (0, 0)
    finally:
        con.close()


def test_accueil_says_what_is_loaded_and_what_is_missing(built):
    from indicators import query
    from indicators.content import Selection, accueil, chiffres_cles, context
    from indicators.db import get_warehouse

    demo_wh, real_wh, _ = built
    snap = get_warehouse(real_wh).snapshot()
    ctx = context(snap, Selection())
    figures = chiffres_cles.figures(ctx)
    sources = query.reference_table(snap, "sources")
    text = accueil.status(figures, sources)
    assert "URSSAF, établissements et effectifs salariés (commune x APE) (2006-2022)" in text
    assert "export CCI / CMA (fichier d'entreprises avec chiffre d'affaires) à charger" in text
    assert "URSSAF, établissements et effectifs salariés (commune x APE) (2015-2024)" in accueil.demo_left(sources)


def test_browser_shows_no_demo_figure_for_what_the_file_covers_and_draws_the_break(built):
    """In Chromium, on the demo warehouse given the real sample: the Industrie page's evolution chart of the TI
    draws the break mark between the real years and the demo ones and says so in its notes; in 2022 (a year the
    file gives) the TI's figure carries no demo mark, it is partial with its communes and inhabitants."""
    from playwright.sync_api import sync_playwright

    from indicators import format as fmt, query
    from indicators.db import get_warehouse
    from tests.browser_support import CHROMIUM, FLAGS, require_browser, server

    require_browser()
    demo_wh, real_wh, _ = built
    # The TI's share in 2022 as the real file gives it (partial) and as the demo gave it: the page shows the first.
    shares = {}
    for wh in (demo_wh, real_wh):
        df = query.get(get_warehouse(wh).snapshot(), "part_industrie_effectifs", "ti", annee=2022, territoires=[TI])
        shares[wh] = (fmt.percent(float(df.valeur.iat[0])), df.statut.iat[0], bool(df.demo.iat[0]))
    assert shares[real_wh][1:] == ("partiel", False) and shares[demo_wh][2]
    real, demo_value = shares[real_wh][0], shares[demo_wh][0]
    with server(real_wh) as url, sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = b.new_page(viewport={"width": 1400, "height": 900}, locale="fr-FR")
            page.goto(f"{url}/industrie")
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
            page.wait_for_selector(".js-plotly-plot .main-svg text", timeout=60_000)
            charts = page.locator("[data-testid='stPlotlyChart']")
            page.wait_for_function("n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                                   arg=charts.count(), timeout=30_000)
            evolution = charts.nth(charts.count() - 1)
            evolution.scroll_into_view_if_needed()
            assert "2023 : changement de source, rupture de série" in evolution.inner_text()
            main = page.inner_text("[data-testid='stMain']")
            assert "rupture de série en 2023, données de démonstration après les données réelles" in main
            page.goto(f"{url}/industrie?annee=2022")
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
            page.wait_for_selector(".js-plotly-plot .main-svg text", timeout=60_000)
            main = page.inner_text("[data-testid='stMain']")
            first = main.split("Tableau et téléchargement")[0]    # the first block: the TI's share in 2022
            assert f"Territoire d'industrie Axe Seine{fmt.NNBSP}: {real}" in first and demo_value not in first
        finally:
            b.close()
