"""Every page, server side (AppTest): renders, and shows the warehouse's figures."""
from __future__ import annotations

import base64
import json
import re

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from indicators import format as fmt, query
from indicators.content import Selection, context, people_table, registry
from tests.conftest import ROOT

PAGES = [p.key for p in registry.PAGES]
WITHOUT_DEMO_LABEL = {"sources", "importer"}     # no figure with a caption on these pages
STAFF_TEXT = {"importer", "plan_actions"}        # the staff's page, and the plan's help for its administrator


def ui_findings(snap, page: str):
    return registry.build(context(snap, Selection()), page)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    if page != "accueil":
        at.switch_page(registry.page(page).script).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def arr(value) -> list:
    """Plotly 7 sends numeric arrays as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value)


# An ordinary or no-break space before « : ; % ? ! » where French typography wants U+202F (not inside a URL).
LOOSE = re.compile(r"[\S][ \u00a0][:;%?!](?!//)")


def shown_texts(at: AppTest) -> list[str]:
    """Every text a reader sees on the page: titles, sentences, captions, messages, key figures, widget labels."""
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                                   "success", "error") for e in getattr(at, kind)]
    texts += [m.label for m in at.metric] + [m.value for m in at.metric]
    texts += [w.label for kind in ("selectbox", "radio", "multiselect", "toggle", "checkbox", "button")
              for w in getattr(at, kind) if w.label]
    return [t for t in texts if isinstance(t, str)]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_demo_data(page, demo_warehouse, use_warehouse):
    use_warehouse(demo_warehouse)
    at = open_page(page)
    assert at.title, "page sans titre"
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    if page not in WITHOUT_DEMO_LABEL:
        assert "Données de démonstration" in text
    loose = [m.group(0) + " … " + t[max(0, m.start() - 40):m.end() + 20] for t in shown_texts(at)
             if "<" not in t for m in LOOSE.finditer(t)]
    assert not loose, f"{len(loose)} espaces ordinaires avant « : ; % ? ! » : {loose[:8]}"
    steps = registry.page(page).steps      # presentation mode steps through exactly the blocks the page draws
    drawn = at.session_state["_presentation_blocs"]      # (blocks declared for the desk only are not projected)
    assert not steps or [b for b in drawn if b not in registry.page(page).desk] == list(steps), drawn


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_demo_data(page, reference_warehouse, use_warehouse):
    use_warehouse(reference_warehouse)
    at = open_page(page)
    assert at.title
    if page in ("chiffre_affaires", "industrie", "filieres"):
        text = " ".join([i.value for i in at.info] + [m.value for m in at.markdown]).lower()
        assert "aucune donnée" in text, "la page doit dire quoi charger"
    if page not in STAFF_TEXT:      # what is still to load is said in words, never as a command line
        commands = [t for t in shown_texts(at) if "python -m" in t]
        assert not commands, commands


def test_chiffres_cles_shows_4772_and_12_percent_from_the_warehouse(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("chiffres_cles")
    metrics = {m.label: m.value for m in at.metric}
    # The chosen territory (by default the TI) in key figures
    home = query.perimeter(snap, "ti")
    ca = query.get(snap, "ca_total", "ti", annee=2022, territoires=home).valeur.iat[0]
    rate = query.get(snap, "taux_croissance_ca", "ti", annee=2022, territoires=home).valeur.iat[0]
    tpe = query.get(snap, "entreprises_tpe_pme", "ti", annee=2022, territoires=home).valeur.iat[0]
    assert metrics["Chiffre d'affaires (2022)"] == f"{fmt.number(round(ca / 1e6))}{fmt.NNBSP}M€"
    assert metrics["Évolution du CA sur un an (2021 → 2022)"] == f"+{fmt.number(rate * 100, 1)}{fmt.NNBSP}%"
    assert metrics["TPE et PME marchandes (2022)"] == fmt.number(tpe)
    # The candidature's figures beside the same figures recomputed for its territory and year, with the reason.
    # A static table (every row in view, reasons wrapped), indexed by the figure's name.
    table = next(t.value for t in at.table if t.value.index.name == "Chiffre").reset_index()
    gap = table[table["Chiffre"].str.startswith("Population de Gap")].iloc[0]
    pop = query.get(snap, "population", "commune", territoires=["05061"]).valeur.iat[0]
    assert gap["Candidature"] == f"41{fmt.NNBSP}659{fmt.NNBSP}habitants" and gap["Recalculé"].startswith(fmt.number(pop))
    assert gap["Écart"].startswith("année")
    part = table[table["Chiffre"] == "Part des entreprises industrielles"].iloc[0]
    assert part["Écart"] == "écart non expliqué"
    ca = table[table["Chiffre"] == "Chiffre d'affaires"].iloc[0]    # the candidature's own territory and year
    assert ca["Recalculé"] == ca["Candidature"] == f"4{fmt.NNBSP}772{fmt.NNBSP}M€" and ca["Écart"].startswith("identique")
    # Its table for download: the published and the recomputed figure in two numeric columns, nothing in Catégorie.
    csv = people_table(next(f for f in ui_findings(snap, "chiffres_cles") if f.key == "candidature").table)
    assert {"Valeur de la candidature", "Valeur recalculée"} <= set(csv.columns) and "Catégorie" not in csv
    row = csv[csv.Indicateur == "Chiffre d'affaires"].iloc[0]
    assert row["Valeur de la candidature"] == row["Valeur recalculée"] == 4772 and row["Unité"] == "M€"


def test_a_note_is_said_once_per_page(demo_warehouse, use_warehouse):
    """« … : références non calculables … » under the first chart that needs it, not under each (review A21)."""
    use_warehouse(demo_warehouse)
    at = open_page("industrie")
    said = [c.value for c in at.caption if "références non calculables" in c.value]
    assert len(said) == 1, said


def test_industrie_chart_values_are_the_warehouse_values(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("industrie")
    fig = figures(at)[1]
    bars = fig["data"][0]
    expected = query.get(snap, "part_industrie_etablissements", "epci", territoires=query.perimeter(snap, "epci"))
    shown = dict(zip(arr(bars["y"]), arr(bars["x"])))
    for r in expected.itertuples():
        assert shown[r.nom_court] == pytest.approx(round(r.valeur, 3))   # as the slide and the annex show it


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
    table = at.table[0].value     # a static table: every column in view
    # The two EPCI, and by default the TI and its département as references.
    assert set(table.index) == {"Guillestrois-Queyras", "Briançonnais", "TI Hautes-Alpes", "Hautes-Alpes"}
    pop = query.get(snap, "population", "epci", territoires=["240500439"]).valeur.iat[0]
    col = [c for c in table.columns if c.startswith("Population")][0]
    assert table.loc["Briançonnais", col].startswith(fmt.number(pop))


def test_chiffre_affaires_growth_chart_is_the_warehouse_growth(demo_warehouse, use_warehouse, snap):
    use_warehouse(demo_warehouse)
    at = open_page("chiffre_affaires")
    bars = figures(at)[1]["data"][0]
    shown = dict(zip(arr(bars["y"]), arr(bars["x"])))
    home = query.perimeter(snap, "ti")      # by default the whole TI, its latest year against the one before
    expected = query.get(snap, "taux_croissance_ca_secteur", "ti", annee=2022, territoires=home)
    assert len(shown) == len(expected) == 5
    for r in expected.itertuples():
        assert shown[r.secteur] == pytest.approx(round(r.valeur, 3))
    # The contributions in M€ (diverging bars, sorted), and the title's change in euros then rate
    fall = figures(at)[0]["data"][0]
    contrib = query.get(snap, "croissance_ca_secteur", "ti", annee=2022, territoires=home)
    steps = dict(zip(arr(fall["y"]), arr(fall["x"])))
    assert list(steps.values()) == sorted(steps.values(), reverse=True)
    for r in contrib.itertuples():
        assert steps[r.secteur] == pytest.approx(round(r.valeur / 1e6, 1))
    total = query.get(snap, "taux_croissance_ca", "ti", annee=2022, territoires=home).valeur.iat[0]
    assert any(f"M€ (+{fmt.number(total * 100, 1)}{fmt.NNBSP}%)" in s.value for s in at.subheader)
