"""Real browser (Debian's Chromium driven by Playwright) against `python dashboard.py`.

Each page is opened by its own URL in a new session; a deep link is also opened first on a new server:
Streamlit's legacy `pages/` discovery would otherwise take deep links over before st.navigation has run once.
"""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from indicators.content import registry
from tests.browser_support import CHROMIUM, FLAGS, require_browser, server

PAGES = {p.path: p.title for p in registry.PAGES}


require_browser()
pytestmark = pytest.mark.slow   # real browser (Chromium): python -m pytest -m "not slow" leaves it out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _visit(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    outside = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", None)
            and not r.url.startswith(("data:", "blob:")) else None)
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.wait_for_timeout(500)
    return page, outside


@pytest.fixture(scope="module")
def url(demo_warehouse):
    with server(demo_warehouse) as opened:
        yield opened


def _check_page(browser, url: str, path: str, title: str) -> None:
    page, outside = _visit(browser, f"{url}/{path}")
    assert page.title() == title
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Page not found").count() == 0, "lien direct pris par la navigation héritée"
    assert page.locator("h1").first.inner_text().strip()
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Chiffres clés" in nav and "chiffres_cles" not in nav, "navigation héritée du dossier pages/"
    assert outside == [], f"requêtes hors de 127.0.0.1 : {outside}"
    page.close()


@pytest.mark.parametrize("path,title", list(PAGES.items()))
def test_each_page_by_its_own_url_in_a_new_session(path, title, browser, url):
    _check_page(browser, url, path, title)


def test_a_deep_link_is_the_first_request_of_a_new_server(browser, demo_warehouse):
    p = registry.page("industrie")
    with server(demo_warehouse) as fresh:
        _check_page(browser, fresh, p.path, p.title)


def test_a_copied_url_restores_the_view(browser, url):
    page, outside = _visit(browser, f"{url}/chiffre-affaires?territoire=200067452&annee=2022&ca_debut=2019")
    heads = " ".join(page.locator("h3").all_inner_texts())
    assert "Guillestrois-Queyras" in heads and "2019" in heads
    assert "territoire=200067452" in page.url  # the codes stay in the address, not the labels
    assert outside == []
    page.close()
    page, _ = _visit(browser, f"{url}/filieres?definition=elargi&mesure=effectifs_filiere")
    assert "effectifs salariés" in " ".join(page.locator("h3").all_inner_texts())
    assert "definition=elargi" in page.url and "mesure=effectifs_filiere" in page.url
    page.close()
