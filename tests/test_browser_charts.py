"""Charts in a real browser at 1280 px: French formats, palettes, no label outside its chart; the
presentation mode (one switch in the URL, one finding at a time, « Suivant » and the arrow keys)."""
from __future__ import annotations

import re

import pytest

from indicators import palettes
from tests.browser_support import chromium, require_browser

require_browser()
pytestmark = pytest.mark.slow   # real browser (Chromium): python -m pytest -m "not slow" leaves it out

# Every text of every chart: its box, the box of its chart, and the fill of bars by trace name.
_TEXTS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((plot) => {
  const box = plot.getBoundingClientRect();
  return [...plot.querySelectorAll('.main-svg text')].filter((t) => t.textContent.trim() && t.getBBox().width > 0)
    .map((t) => { const r = t.getBoundingClientRect();
      return {text: t.textContent, l: r.left - box.left, r: r.right - box.left, t: r.top - box.top,
              b: r.bottom - box.top, w: box.width, h: box.height}; });
})"""
_FILLS = """() => [...document.querySelectorAll('.js-plotly-plot .trace.bars .point path')].map((p) => p.style.fill)"""
BAD_FORMATS = re.compile(r"\d[%€]|\d\s?[MG]\s€|\dG\b|\d\s?G€|\d [%€]|\d\.\d|-\d")


@pytest.fixture(scope="module")
def site(demo_warehouse):
    with chromium(demo_warehouse) as opened:
        yield opened


def _open(browser, url, width=1280, height=3000):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="fr-FR")
    page.goto(url)
    _settle(page)
    return page


def _settle(page):
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot .main-svg text", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                           "document.querySelectorAll('[data-testid=stPlotlyChart]').length", timeout=30_000)
    page.wait_for_timeout(800)


def _hex_to_rgb(h: str) -> str:
    h = h.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


@pytest.mark.parametrize("path", ["chiffre-affaires", "filieres", "comparer"])
def test_french_formats_and_no_label_outside_its_chart(site, path):
    browser, url = site
    page = _open(browser, f"{url}/{path}")
    texts = page.evaluate(_TEXTS)
    assert len(texts) > 30
    bad = [t["text"] for t in texts if BAD_FORMATS.search(t["text"].replace("\u202f", "\u2009"))]
    assert bad == [], f"formats non français : {bad[:10]}"
    if path != "filieres":   # counts only there
        assert any("\u202f" in t["text"] and t["text"].endswith(("%", "M€", "Md€")) for t in texts)
    clipped = [t["text"] for t in texts if t["l"] < -1 or t["t"] < -1 or t["r"] > t["w"] + 1 or t["b"] > t["h"] + 1]
    assert clipped == [], f"étiquettes hors du graphique : {clipped[:10]}"
    if path == "filieres":   # the filières' own hues, not the territories' nor the sectors'
        fills = set(page.evaluate(_FILLS))
        assert {_hex_to_rgb(c) for c in palettes.FILIERES.values()} <= fills
        assert not fills & {_hex_to_rgb(c) for c in palettes.SECTORS.values()}
    page.close()


def test_presentation_mode_steps_through_the_findings(site):
    browser, url = site
    page = _open(browser, f"{url}/industrie?presentation=1", height=720)
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert page.locator("[data-testid='stDownloadButton']:visible").count() == 0
    heads = page.locator("[data-testid='stMain'] h3:visible")
    assert heads.count() == 1
    first = heads.first.inner_text()
    chart = page.locator(".js-plotly-plot").first.bounding_box()
    assert chart["y"] + chart["height"] <= 720, "le graphique dépasse l'écran de 1280×720"
    page.get_by_role("button", name="Suivant").click()
    _settle(page)
    assert "diapo=2" in page.url and "presentation=1" in page.url
    assert page.locator("[data-testid='stMain'] h3:visible").first.inner_text() != first
    page.keyboard.press("ArrowLeft")
    _settle(page)
    assert "diapo=1" in page.url and page.locator("[data-testid='stMain'] h3:visible").first.inner_text() == first
    page.get_by_role("button", name="Quitter la présentation").click()
    page.locator("[data-testid='stSidebar']").wait_for(state="visible", timeout=30_000)
    assert "presentation" not in page.url and page.locator("[data-testid='stSidebar']").is_visible()
    page.close()
