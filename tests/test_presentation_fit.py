"""Presentation mode fits a projector, measured in Chromium at 1280 × 720: every step of every page of the
registry, reached with « Suivant » as a presenter does, shows without scrolling, body text ≥ 18 px, chart
text ≥ 14 px, key figures ≥ 36 px, charts the full width of the page; a long table is paged over steps."""
from __future__ import annotations

import pytest

from indicators.content import registry
from tests.browser_support import chromium, require_browser

require_browser()
pytestmark = pytest.mark.slow

W, H = 1280, 720
BODY_PX, LABEL_PX, FIGURE_PX, FULL_WIDTH = 18, 14, 36, 0.9

# What the step shows, as the projector does: scroll overflow of the main area, the smallest body text, caption,
# chart text and key figure among visible elements, and each chart's width against the page's.
MEASURE = r"""() => {
  const main = document.querySelector("[data-testid='stMain']");
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
    && getComputedStyle(e).visibility !== "hidden"; };
  const px = (e) => parseFloat(getComputedStyle(e).fontSize);
  const min = (xs) => xs.length ? Math.min(...xs) : null;
  const texts = [...main.querySelectorAll("[data-testid='stMarkdownContainer'] p, [data-testid='stMarkdownContainer'] li, "
                                          + "[data-testid='stTable'] td, [data-testid='stTable'] th")]
    .filter((e) => shown(e) && e.textContent.trim() && !e.closest("button, [data-testid='stCaptionContainer'], "
                                                                   + "[data-testid='stMetricLabel']"));
  const body = texts.filter((e) => !e.closest("[data-testid='stMetricValue']"));
  const figures = [...main.querySelectorAll("[data-testid='stMetricValue']")].filter(shown)
    .map((e) => Math.max(...[e, ...e.querySelectorAll("*")].filter((x) => x.textContent.trim()).map(px)));
  const captions = [...main.querySelectorAll("[data-testid='stCaptionContainer'] p")].filter(shown).map(px);
  const labels = [...main.querySelectorAll(".js-plotly-plot .main-svg text")]
    .filter((t) => t.textContent.trim() && t.getBBox().width > 0 && shown(t)).map(px);
  const block = main.querySelector("[data-testid='stMainBlockContainer']");
  const cs = getComputedStyle(block);
  const inner = block.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const charts = [...main.querySelectorAll("[data-testid='stPlotlyChart']")].filter(shown)
    .map((e) => e.getBoundingClientRect().width / inner);
  return {overflow: main.scrollHeight - main.clientHeight, body: min(body.map(px)), caption: min(captions),
          labels: min(labels), figures: min(figures), charts: min(charts),
          title: (main.querySelector("h2, h3") || {}).textContent || "",
          step: ((document.querySelector("[class*='st-key-presentation-']") || {}).className || "")
                  .match(/st-key-presentation-(\S+)/)?.[1] || ""};
}"""


STABLE = r"""(k) => {
  const counter = [...document.querySelectorAll("[data-testid='stMain'] p strong")]
    .some((e) => e.textContent.trim().startsWith(k + " / "));
  const plots = [...document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot")];
  const charts = document.querySelectorAll("[data-testid='stPlotlyChart']").length;
  const laid = plots.length >= charts && plots.every((p) => p._fullLayout && p.querySelector(".main-svg")
    && Math.abs(p.querySelector(".main-svg").getBoundingClientRect().height - p._fullLayout.height) < 1);
  const h = document.querySelector("[data-testid='stMain']").scrollHeight;
  const w = window.__tiStable = window.__tiStable || {h: -1, n: 0};
  w.n = (counter && laid && h === w.h) ? w.n + 1 : 0;
  w.h = h;
  return w.n >= 3;
}"""


def _group(key: str):
    return pytest.mark.xdist_group("presentation_fit")



@pytest.fixture(scope="module")
def browser(demo_warehouse):
    with chromium(demo_warehouse) as opened:
        yield opened


def _settle(page, k: int) -> None:
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('diapo') === '{k}'", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    # Under load a step can be measured half drawn: wait until its counter « k / n » is on screen, every chart is
    # drawn at its layout's height and the page's height has not moved for 3 checks in a row.
    page.evaluate("() => { window.__tiStable = null; }")
    page.wait_for_function(STABLE, arg=k, timeout=30_000, polling=150)


@pytest.mark.parametrize("key", [pytest.param(p.key, marks=_group(p.key), id=p.key) for p in registry.PAGES])
def test_every_step_fits_1280_by_720(browser, key):
    b, url = browser
    p = registry.page(key)
    page = b.new_page(viewport={"width": W, "height": H}, locale="fr-FR")
    page.goto(f"{url}/{p.url}?presentation=1&diapo=1")
    _settle(page, 1)
    bad, k = [], 1
    while True:
        m = page.evaluate(MEASURE)
        where = f"{key} étape {k} ({m['step']}) « {m['title'][:60]} »"
        if m["overflow"] > 1:
            bad.append(f"{where} : {m['overflow']:.0f} px sous l'écran")
        if m["body"] is not None and m["body"] < BODY_PX:
            bad.append(f"{where} : texte de {m['body']:.1f} px")
        for name, lim in (("caption", LABEL_PX), ("labels", LABEL_PX)):
            if m[name] is not None and m[name] < lim:
                bad.append(f"{where} : {name} de {m[name]:.1f} px")
        if m["figures"] is not None and m["figures"] < FIGURE_PX:
            bad.append(f"{where} : chiffres clés de {m['figures']:.1f} px")
        if m["charts"] is not None and m["charts"] < FULL_WIDTH:
            bad.append(f"{where} : graphique sur {m['charts']:.0%} de la largeur")
        nxt = page.get_by_role("button", name="Suivant")
        if not nxt.count() or nxt.is_disabled():
            break
        nxt.click()
        k += 1
        _settle(page, k)
    page.close()
    assert not bad, "\n".join(bad)
