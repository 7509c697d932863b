"""Speed a user feels, in a real browser (Playwright + Chromium) on a warehouse (the demo one by default).

    python bench/feel.py [--warehouse PATH] [--rounds 3] [--fresh 3] [--json OUT]

- page switch through the sidebar navigation on a warm server: from the click to the new page drawn (its
  run finished, every chart drawn), each page of PAGES in turn, `rounds` times; p50 / p95;
- first page of a fresh server: from the server answering its health check to the home page drawn, on
  `fresh` new servers; p50 / p95;
- the same two figures for an empty two-page Streamlit app (bench/empty_app.py) served the same way, in the
  same run, and the ratio;
- where the time goes, server side: each page's findings and figures built in-process (ms), the size of its
  figures' JSON (kB).

The machine may be shared: the empty app's figures, measured in the same run, say how loaded it was.
It never runs in the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser_support import CHROMIUM, FLAGS, server  # noqa: E402

PAGES = [("chiffres-cles", "Chiffres clés"), ("chiffre-affaires", "Chiffre d'affaires"), ("industrie", "Industrie"),
         ("filieres", "Filières"), ("comparer", "Comparer les EPCI"), ("", "Accueil")]
EMPTY_PAGES = [("deux", "Deux"), ("", "Un")]
RAN = """(page) => {
  const m = document.querySelector('[data-testid=ti-version]');
  const app = document.querySelector('[data-testid=stApp]');
  return !!(m && m.dataset.page === page && app && app.dataset.testScriptState === 'notRunning');
}"""
DRAWN = """(page) => {
  const m = document.querySelector('[data-testid=ti-version]');
  const app = document.querySelector('[data-testid=stApp]');
  if (!m || m.dataset.page !== page || !app || app.dataset.testScriptState !== 'notRunning') return false;
  const charts = document.querySelectorAll('[data-testid=stPlotlyChart]').length;
  return document.querySelectorAll('.js-plotly-plot .main-svg').length >= charts;
}"""


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _stats(xs: list[float]) -> dict:
    return {"n": len(xs), "p50_s": round(statistics.median(xs), 3), "p95_s": round(_pct(xs, 0.95), 3),
            "max_s": round(max(xs), 3)}


def _wait_drawn(page, name: str, timeout_s: float = 120) -> None:
    page.wait_for_function(DRAWN, arg=name, timeout=timeout_s * 1000, polling=20)


def _link(page, path: str):
    return page.locator(f"[data-testid=stSidebarNav] a[href$='/{path}']").first


def switches(browser, url: str, pages: list[tuple[str, str]], rounds: int) -> dict[str, list[float]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page.goto(url)
    _wait_drawn(page, "accueil" if pages is PAGES else "un")
    for path, title in pages:            # warm-up: every page once
        _link(page, path).click()
        _wait_drawn(page, path or ("accueil" if pages is PAGES else "un"))
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for path, title in pages:
            link = _link(page, path)
            name = path or ("accueil" if pages is PAGES else "un")
            t0 = time.perf_counter()
            link.click()
            page.wait_for_function(RAN, arg=name, timeout=120_000, polling=20)
            t1 = time.perf_counter()
            _wait_drawn(page, name)
            t2 = time.perf_counter()
            times.setdefault(title, []).append(t2 - t0)
            times.setdefault("_ran", []).append(t1 - t0)     # the script's run and its messages
            times.setdefault("_drawn", []).append(t2 - t1)   # the charts drawn after the run
    page.close()
    return times


def first_page(browser, warehouse: Path, app: str | None, fresh: int) -> list[float]:
    out = []
    for _ in range(fresh):
        with server(warehouse, app=app) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
            t0 = time.perf_counter()
            page.goto(url)
            _wait_drawn(page, "accueil" if app is None else "un")
            out.append(time.perf_counter() - t0)
            page.close()
    return out


def server_side(warehouse: Path) -> dict:
    """Findings and figures of each page built in-process (the second, warm build), and their JSON size."""
    from indicators import charts
    from indicators.content import Selection, context, registry
    from indicators.db import get_warehouse

    snap = get_warehouse(warehouse).snapshot()
    out = {}
    for page in [p.key for p in registry.PAGES if p.build is not None and p.key != "accueil"]:
        for warm in (False, True):
            t0 = time.perf_counter()
            found = registry.build(context(snap, Selection()), page)
            t1 = time.perf_counter()
            figs = [charts.figure(f) for f in found]
            t2 = time.perf_counter()
            size = sum(len(f.to_json()) for f in figs if f is not None)
            t3 = time.perf_counter()
        out[page] = {"findings_ms": round((t1 - t0) * 1000), "figures_ms": round((t2 - t1) * 1000),
                     "to_json_ms": round((t3 - t2) * 1000), "json_kb": round(size / 1000)}
    return out


def run(warehouse: Path, rounds: int = 3, fresh: int = 3) -> dict:
    from playwright.sync_api import sync_playwright

    empty = str(ROOT / "bench" / "empty_app.py")
    res: dict = {"warehouse": str(warehouse), "rounds": rounds, "fresh": fresh, "load_1min": os.getloadavg()[0]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        with server(warehouse) as url:
            sw = switches(browser, url, PAGES, rounds)
        with server(warehouse, app=empty) as url:
            sw_empty = switches(browser, url, EMPTY_PAGES, rounds)
        first = first_page(browser, warehouse, None, fresh)
        first_empty = first_page(browser, warehouse, empty, fresh)
        browser.close()
    split = {k: _stats(sw.pop(k)) for k in ("_ran", "_drawn")}
    sw_empty.pop("_ran"), sw_empty.pop("_drawn")
    every = [t for ts in sw.values() for t in ts]
    every_empty = [t for ts in sw_empty.values() for t in ts]
    res["switch"] = {**_stats(every), "by_page_p95_s": {k: round(_pct(v, 0.95), 3) for k, v in sw.items()},
                     "script_run_and_messages": split["_ran"], "charts_drawn_after": split["_drawn"]}
    res["switch_empty"] = _stats(every_empty)
    res["first_page"] = _stats(first)
    res["first_page_empty"] = _stats(first_empty)
    res["ratio_switch_p95"] = round(res["switch"]["p95_s"] / res["switch_empty"]["p95_s"], 1)
    res["ratio_first_page_p95"] = round(res["first_page"]["p95_s"] / res["first_page_empty"]["p95_s"], 1)
    res["targets"] = {"switch_p95_s": 1.0, "first_page_p95_s": 2.5,
                      "switch_ok": res["switch"]["p95_s"] <= 1.0, "first_page_ok": res["first_page"]["p95_s"] <= 2.5}
    res["server_side"] = server_side(warehouse)
    res["load_1min_end"] = os.getloadavg()[0]
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Vitesse ressentie dans un navigateur (bascule de page, première page).")
    ap.add_argument("--warehouse", type=Path, help="entrepôt (défaut : un entrepôt de démonstration construit pour l'occasion)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fresh", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    wh = a.warehouse
    if wh is None:
        import tempfile

        from etl.load import build
        wh = Path(tempfile.mkdtemp()) / "demo.duckdb"
        build(wh, demo=True, progress=lambda *x, **k: None)
    res = run(wh, a.rounds, a.fresh)
    text = json.dumps(res, ensure_ascii=False, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
