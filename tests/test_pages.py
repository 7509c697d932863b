"""Every page, server side (AppTest): renders, and shows the warehouse's figures."""
from __future__ import annotations

import base64
import json

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from indicators import format as fmt, query
from tests.conftest import ROOT

PAGES = ["accueil", "chiffres_cles", "chiffre_affaires", "industrie", "filieres", "comparer", "sources"]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    if page != "accueil":
        at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def arr(value) -> list:
    """Plotly 7 sends numeric arrays as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_demo_data(page, demo_warehouse, use_warehouse):
    use_warehouse(demo_warehouse)
    at = open_page(page)
    assert at.title, "page sans titre"
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    if page not in ("sources",):
        assert "Données de démonstration" in text


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_demo_data(page, reference_warehouse, use_warehouse):
    use_warehouse(reference_warehouse)
    at = open_page(page)
    assert at.title
    if page in ("chiffre_affaires", "industrie", "filieres"):
        assert any("aucune donnée" in i.value.lower() for i in at.info), "la page doit dire quoi charger"


def test_chiffres_cles_shows_4772_and_12_percent_from_the_warehouse(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("chiffres_cles")
    metrics = {m.label: m.value for m in at.metric}
    ca = query.get(snap, "ca_total", "departement", annee=2022, territoires=["05"]).valeur.iat[0]
    rate = query.get(snap, "taux_croissance_ca", "departement", annee=2022, territoires=["05"]).valeur.iat[0]
    assert metrics["Chiffre d'affaires 2022"] == fmt.euros(ca) == f"4{fmt.NBSP}772{fmt.NBSP}M€"
    assert metrics["Évolution sur un an"] == fmt.growth(rate) == f"+12{fmt.NBSP}%"
    assert metrics["TPE et PME marchandes 2022"] == f"14{fmt.NBSP}866"
    assert metrics["Hébergement-restauration"] == f"+74{fmt.NBSP}%"
    pop = query.get(snap, "population", "commune", territoires=["05061"]).valeur.iat[0]
    assert metrics["Gap (préfecture)"] == fmt.number(pop)
    # The published value is shown beside a recomputed one that differs, with the reason.
    assert any("Candidature : **41 659 habitants**" in c.value for c in at.caption)


def test_industrie_chart_values_are_the_warehouse_values(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("industrie")
    fig = figures(at)[0]
    bars = fig["data"][0]
    expected = query.get(snap, "part_industrie_etablissements", "epci", territoires=query.perimeter(snap, "epci"))
    shown = dict(zip(arr(bars["y"]), arr(bars["x"])))
    for r in expected.itertuples():
        assert shown[r.nom_court] == pytest.approx(r.valeur)


def test_filieres_chart_values_are_the_warehouse_values(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("filieres")
    at.radio(key="definition").set_value("elargi")
    at.selectbox(key="mesure").set_value("effectifs_filiere")
    at.run()
    expected = query.get(snap, "effectifs_filiere", "epci", definition="elargi", territoires=query.perimeter(snap, "epci"))
    traces = {t["name"]: dict(zip(arr(t["y"]), arr(t["x"]))) for t in figures(at)[0]["data"]}
    for r in expected.dropna(subset=["valeur"]).itertuples():
        assert traces[r.filiere][r.nom_court] == pytest.approx(r.valeur)


def test_comparer_table_has_the_chosen_epcis_and_ranks(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("comparer")
    at.multiselect(key="epci").set_value(["200067452", "240500439"])
    at.run()
    table = at.dataframe[0].value
    # The two EPCI, and by default the TI and its département as references.
    assert set(table.index) == {"Guillestrois-Queyras", "Briançonnais", "TI Hautes-Alpes", "Hautes-Alpes"}
    pop = query.get(snap, "population", "epci", territoires=["240500439"]).valeur.iat[0]
    col = [c for c in table.columns if c.startswith("Population")][0]
    assert table.loc["Briançonnais", col].startswith(fmt.number(pop))


def test_chiffre_affaires_growth_chart_is_the_warehouse_growth(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("chiffre_affaires")
    bars = figures(at)[0]["data"][0]
    shown = dict(zip(arr(bars["y"]), arr(bars["x"])))
    # By default the whole TI, its latest year against the one before.
    expected = query.get(snap, "taux_croissance_ca_secteur", "ti", annee=2022, territoires=query.perimeter(snap, "ti"))
    assert len(shown) == len(expected) == 5
    for r in expected.itertuples():
        assert shown[r.secteur] == pytest.approx(r.valeur)
    total = query.get(snap, "taux_croissance_ca", "ti", annee=2022, territoires=query.perimeter(snap, "ti")).valeur.iat[0]
    assert any(fmt.growth(total) in s.value for s in at.subheader)
