"""Concurrent refresh: 8 browser sessions go through every page while the ETL rebuilds the warehouse 3 times.

A real Streamlit server reads a copy of the demo warehouse; `python -m etl build` replaces that
file 3 times, alternating the demo build and the reference-only build (`--no-demo`), so two
consecutive vintages show different figures. The rebuilds run ahead of the server (and of the browser where
the system lets a priority be raised), so that they fit in about a minute and a half on two cores while the
sessions keep reading. Each page draws, at its end, the data version its
run read (`ui.version_marker`). After every page view of every session:
- no exception box, and the server logged no traceback;
- the version is one the ETL really wrote (never a mix or a half-written file);
- the page's figures belong to that version: a demo vintage shows the demo label on every page
  with figures, a reference-only vintage shows it nowhere and says what to load.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time

import pytest

from indicators.content import registry
from tests.browser_support import CHROMIUM, FLAGS, require_browser, server
from tests.conftest import ROOT, query

SESSIONS = 8
REBUILDS = 3        # reference-only, demo, reference-only: each demo build loads six files and their secret
THINK_MS = 3000   # a reader looks at a page before clicking the next one
PAGE_MS = 180_000
PAGES = [p.path for p in registry.PAGES]   # every page of the navigation, by its URL path
DEMO_LABEL = "Données de démonstration"
NO_FIGURES = ["chiffre-affaires", "industrie", "filieres", "foncier"]   # reference-only: these pages say what to load
WITHOUT_DEMO_LABEL = {"sources", "importer"}                # no figure with a caption on these pages
READY = """page => {
  const app = document.querySelector('[data-testid="stApp"]');
  const marks = document.querySelectorAll('[data-testid="ti-version"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
         && marks.length === 1 && marks[0].dataset.page === page;
}"""


require_browser()
# Slow, and one at a time on one xdist worker: each runs its own pool of processes sized for the machine's
# cores and judges timings (kills, rebuilds, time limits) that another such test would distort.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stress")]


def _version(warehouse) -> str:
    return query(warehouse, "SELECT valeur FROM meta WHERE cle = 'version'")[0][0]


def _before_readers() -> None:
    """The rebuild runs ahead of the readers where raising a priority is allowed (it is not for every user)."""
    try:
        os.nice(-10)
    except PermissionError:
        pass


def _rebuild_loop(warehouse, vintages: dict, log: list) -> None:
    """The refreshes: demo and reference-only builds in turn (the copy starts as a demo vintage)."""
    for i in range(REBUILDS):
        demo = i % 2 == 1
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "etl", "build", "--warehouse", str(warehouse)]
                             + ([] if demo else ["--no-demo"]), cwd=ROOT, capture_output=True, text=True, timeout=300,
                             preexec_fn=_before_readers)
        assert out.returncode == 0, out.stderr[-2000:]
        vintages[_version(warehouse)] = "demo" if demo else "reference"
        log.append(time.perf_counter() - t0)


async def _session(browser, url: str, n: int, etl_done: asyncio.Event, views: list, started: asyncio.Event,
                   ready: list) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900}, locale="fr-FR")
    context.set_default_timeout(PAGE_MS)   # under this load a page can take a minute to answer, a click as long
    page = await context.new_page()
    order = PAGES[n % len(PAGES):] + PAGES[:n % len(PAGES)]   # sessions start on different pages
    visits = 0
    # Pages in turn until every one has been seen and the rebuilds are over (not to the end of a round).
    while visits < len(order) or not etl_done.is_set():
        path = order[visits % len(order)]
        expected = path or "accueil"
        t0 = time.monotonic()
        if visits == 0:
            await page.goto(f"{url}/{path}")
        else:
            await page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()
        await page.wait_for_function(READY, arg=expected)
        mark = page.locator('[data-testid="ti-version"]')
        views.append({"session": n, "page": expected, "version": await mark.get_attribute("data-version"),
                      "exceptions": await page.locator('[data-testid="stException"]').count(),
                      "text": await page.locator('[data-testid="stMain"]').inner_text(),
                      "seconds": time.monotonic() - t0})
        if not started.is_set():
            ready.append(n)
            if len(ready) == SESSIONS:
                started.set()
        visits += 1
        await page.wait_for_timeout(THINK_MS)
    await context.close()


async def _run(url: str, warehouse, vintages: dict, build_times: list, views: list) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        etl_done, started, ready = asyncio.Event(), asyncio.Event(), []

        async def refreshes():
            await started.wait()        # every session has a page on screen before the first swap
            try:
                await asyncio.to_thread(_rebuild_loop, warehouse, vintages, build_times)
            finally:
                etl_done.set()

        await asyncio.gather(refreshes(), *[_session(browser, url, n, etl_done, views, started, ready)
                                            for n in range(SESSIONS)])
        await browser.close()


def test_sessions_during_rebuilds(demo_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    vintages = {_version(warehouse): "demo"}
    build_times, views = [], []
    log = tmp_path / "server.log"
    t0 = time.perf_counter()
    with server(warehouse, log, nice=10) as url:
        asyncio.run(_run(url, warehouse, vintages, build_times, views))
    elapsed = time.perf_counter() - t0

    assert len(build_times) == REBUILDS and len(vintages) == REBUILDS + 1
    assert {v["session"] for v in views} == set(range(SESSIONS))
    for n in range(SESSIONS):
        assert {v["page"] for v in views if v["session"] == n} == {p or "accueil" for p in PAGES}
    errors = [(v["session"], v["page"]) for v in views if v["exceptions"]]
    assert errors == [], f"boîtes d'erreur : {errors}"
    traceback = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in traceback, traceback[-3000:]
    unknown = [v["version"] for v in views if v["version"] not in vintages]
    assert unknown == [], "version de données inconnue affichée"
    mixed = []
    for v in views:
        demo = vintages[v["version"]] == "demo"
        if demo and v["page"] not in WITHOUT_DEMO_LABEL and DEMO_LABEL not in v["text"]:
            mixed.append((v["page"], "démo attendue"))
        if not demo and DEMO_LABEL in v["text"]:
            mixed.append((v["page"], "démo inattendue"))
        if not demo and v["page"] in NO_FIGURES and "aucune donnée" not in v["text"].lower():
            mixed.append((v["page"], "« aucune donnée » attendu"))
    assert mixed == [], f"chiffres d'un autre millésime que la version affichée : {mixed[:10]}"
    shown = {v["version"] for v in views}
    assert len(shown) >= 3, "les sessions ont vu plusieurs millésimes pendant les reconstructions"
    waits = sorted(v["seconds"] for v in views)
    print(f"\n{SESSIONS} sessions, {len(views)} pages affichées, {REBUILDS} reconstructions "
          f"({sum(build_times):.0f} s d'ETL), {len(shown)} versions vues, 0 erreur, affichage médian "
          f"{waits[len(waits) // 2]:.1f} s (max {waits[-1]:.1f} s), {elapsed:.0f} s au total")
