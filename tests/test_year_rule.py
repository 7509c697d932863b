"""One year rule (indicators/content `Context.year` / `Context.span`), on the pages as a user meets it.

The sidebar's year is the only chosen year; every block of a page, and its slide button, shows that year or
the latest before it, never a later one, and a page changed from one year to another says what a fresh
session on that year says (AppTest drives the pages as tests/test_pages.py does).
"""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from indicators import ui
from indicators.content import context, registry
from tests.conftest import ROOT

YEAR = re.compile(r"\b(20\d\d)\b")


def _session(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _choose(at: AppTest, year: str) -> AppTest:
    at.sidebar.selectbox(key="annee").set_value(year).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _titles(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


@pytest.fixture()
def slides(monkeypatch):
    """The selections the page's slide button was given, in order (the deck itself is not built)."""
    seen = []

    def record(selection, keys):
        seen.append((selection, keys))
        return lambda: b""
    monkeypatch.setattr(ui, "_deck_builder", record)
    return seen


def _slide_titles(snap, selection) -> list[str]:
    return [f.titre for f in registry.build(context(snap, selection), "chiffre_affaires")]


def test_chiffre_affaires_at_2013_after_the_latest_says_no_data_as_a_fresh_session(demo_warehouse, use_warehouse,
                                                                                   slides, snap):
    use_warehouse(demo_warehouse)
    at = _session("chiffre_affaires")
    assert any("entre 2021 et 2022" in t for t in _titles(at))
    _choose(at, "2013")
    fresh = _session("chiffre_affaires", annee="2013")
    assert _titles(at) == _titles(fresh)
    assert all("pas de donnée en 2013" in t for t in _titles(at)), _titles(at)
    assert not any(set(YEAR.findall(t)) - {"2013"} for t in _titles(at)), _titles(at)
    page_slide = [s for s, keys in slides if keys is not None][-1]
    assert page_slide.annee == 2013
    assert _slide_titles(snap, page_slide) == _titles(at)


def test_chiffre_affaires_2020_then_2018_shows_2018_as_a_fresh_session(demo_warehouse, use_warehouse, slides, snap):
    use_warehouse(demo_warehouse)
    at = _session("chiffre_affaires")
    _choose(at, "2020")
    assert any("entre 2019 et 2020" in t for t in _titles(at))
    _choose(at, "2018")
    fresh = _session("chiffre_affaires", annee="2018")
    assert _titles(at) == _titles(fresh)
    assert not any("2019" in t or "2020" in t for t in _titles(at)), _titles(at)
    page_slide = [s for s, keys in slides if keys is not None][-1]
    assert page_slide.annee == 2018
    assert _slide_titles(snap, page_slide) == _titles(at)


def test_the_base_year_is_in_the_url_and_the_selection(demo_warehouse, use_warehouse, slides, snap):
    use_warehouse(demo_warehouse)
    at = _session("chiffre_affaires", annee="2022", ca_debut="2019")
    assert any("entre 2019 et 2022" in t for t in _titles(at)), _titles(at)
    page_slide = [s for s, keys in slides if keys is not None][-1]
    assert (page_slide.annee, page_slide.annee_base) == (2022, 2019)
    assert _slide_titles(snap, page_slide) == _titles(at)
    # A base year that does not precede the new end year gives way to the year before it.
    _choose(at, "2019")
    assert any("entre 2018 et 2019" in t for t in _titles(at)), _titles(at)
    assert "ca_fin" not in at.session_state


def test_industrie_at_2013_shows_no_map_of_a_later_year(demo_warehouse, use_warehouse):
    use_warehouse(demo_warehouse)
    at = _session("industrie")
    _choose(at, "2013")
    titles = _titles(at)
    # No later year (an earlier one may be named: « solde +9, le plus haut depuis 2010 »).
    assert not any(int(y) > 2013 for t in titles for y in YEAR.findall(t)), titles
    assert not any("par EPCI" in t or "L'industrie pèse" in t for t in titles), titles
    said = " ".join(m.value for m in at.markdown)       # the map's finding says it has no figure that year
    assert "pas de donnée en 2013" in said
    assert not [s for s in at.get("plotly_chart") if '"choropleth"' in s.proto.spec]   # and draws no map
