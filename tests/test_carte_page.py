"""The Carte page: AppTest on the figure it sends, and a real browser on a fresh server with no network.

Both run on a warehouse built from the committed reference data only (what a fresh machine has).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from etl.load import build

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("carte_page") / "warehouse.duckdb"
    build(path, demo=False, progress=lambda _: None)
    return path


def _plotly_specs(at) -> list[dict]:
    found = []

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "spec") and getattr(proto, "spec", ""):
            found.append(json.loads(proto.spec))

    walk(at._tree)
    return found


def test_carte_page_draws_the_tis_131_communes_and_8_epci(warehouse, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TI_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/views/carte.py").run()
    at.selectbox(key="indicateur").set_value("population").run()
    at.radio(key="carte_niveau").set_value("commune").run()
    assert not at.exception
    maps_ = [s for s in _plotly_specs(at) if any(t["type"] == "choropleth" for t in s["data"])]
    assert len(maps_) == 1
    spec = maps_[0]
    locations = {loc for t in spec["data"] if t["type"] == "choropleth" and t.get("meta") != "hors_ti" for loc in t["locations"]}
    # The département's communes outside the TI: one shaded area, named from the warehouse (its other TI).
    outside = [t for t in spec["data"] if t.get("meta") == "hors_ti"]
    assert len(outside) == 1 and outside[0]["hovertext"][0].startswith("Hors du TI") and "(TI Val de Durance)" in outside[0]["hovertext"][0]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        members = {r[0] for r in con.execute(
            "SELECT code FROM ref_territoires WHERE niveau = 'commune' AND role = 'membre'").fetchall()}
        epci = {r[0] for r in con.execute("SELECT nom_court FROM ref_territoires WHERE niveau = 'epci' AND role = 'membre'").fetchall()}
    finally:
        con.close()
    assert len(members) == 131 and locations == members
    labels = [t for t in spec["data"] if t["type"] == "scattergeo" and t.get("meta") == "numeros"][0]["text"]
    key = [t["name"].replace("<br>", " ") for t in spec["data"] if t.get("legendgroup") == "cle"]
    assert labels == [str(i) for i in range(1, 9)] and {k.split("  ", 1)[1] for k in key} == epci
    # every feature drawn has its geometry in the figure itself (nothing to fetch)
    ids = {f["id"] for t in spec["data"] if t["type"] == "choropleth" for f in t["geojson"]["features"]}
    assert ids == locations | {loc for t in outside for loc in t["locations"]}
    assert spec["layout"]["geo"]["visible"] is False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(warehouse):
    if not CHROMIUM.exists():
        pytest.skip("Chromium absent (/usr/bin/chromium): browser test skipped")
    port = _free_port()
    env = {**os.environ, "TI_WAREHOUSE": str(warehouse)}
    proc = subprocess.Popen([sys.executable, "dashboard.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("le serveur Streamlit n'a pas démarré")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow   # real browser
def test_browser_carte_offline_and_click_selects_epci(server):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            # A deep link on the fresh server, with the indicator's code in the URL.
            page.goto(f"{server}/carte?indicateur=population")
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60000)
            page.wait_for_selector("path.choroplethlocation", timeout=30000)
            # EPCI, their parts outside 05, and the département's area outside the TI
            assert page.locator("path.choroplethlocation").count() == 8 + 3 + 1
            assert not page.locator('[role="dialog"]').count()
            # a click on an EPCI selects it in the sidebar (and in the URL)
            page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
            point = page.evaluate("""() => {
                // the centre of the first territory that contains its own bounding-box centre, in screen pixels
                for (const path of document.querySelectorAll('path.choroplethlocation')) {
                    const b = path.getBBox();
                    const p = new DOMPoint(b.x + b.width / 2, b.y + b.height / 2);
                    if (path.isPointInFill(p)) {
                        const s = p.matrixTransform(path.getScreenCTM());
                        return [s.x, s.y];
                    }
                }
                return null; }""")
            assert point, "aucun territoire cliquable sur la carte"
            for attempt in range(3):   # the first run of a fresh server may redraw the chart under the mouse
                page.wait_for_timeout(1000)
                page.mouse.click(*point)
                try:
                    page.wait_for_function("() => /territoire=[0-9]{9}/.test(window.location.search)", timeout=8000)
                    break
                except Exception:
                    if attempt == 2:
                        raise
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60000)
            page.wait_for_selector("path.choroplethlocation", timeout=30000)
            page.wait_for_function("() => [...document.querySelectorAll('g.legend')].some("
                                   "g => g.textContent.includes('EPCI sélectionné'))", timeout=30000)
            assert re.search(r"territoire=[0-9]{9}", page.url), page.url   # an EPCI's SIREN, not the département
        finally:
            browser.close()
    outside = sorted({u for u in requests if not (u.startswith("http://127.0.0.1") or u.startswith("ws://127.0.0.1")
                                                   or u.startswith("data:") or u.startswith("blob:"))})
    assert requests and not outside, f"requêtes hors de 127.0.0.1 : {outside}"
