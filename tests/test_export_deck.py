"""The committee deck, opened with python-pptx: order, native charts with the warehouse's numbers,
sources on every chart slide, statistical secret, no firm-level value, template, map fallback, CLI."""
from __future__ import annotations

import io
import re
import shutil

import duckdb
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE_TYPE

from export_fixtures import chart_table, slide_table
from indicators import query
from indicators.content import registry
from indicators.db import get_warehouse
from indicators.export import slides
from indicators.export.deck import build_deck, nothing_to_show
from indicators.export.slides import Selection

EXPECTED = list(registry.DECK)   # the title, every page's findings in page order, the map, the sources
CHART_TYPES = {"ca_croissance": XL_CHART_TYPE.BAR_CLUSTERED, "ca_taux": XL_CHART_TYPE.BAR_CLUSTERED,
               "ca_secteurs": XL_CHART_TYPE.LINE_MARKERS, "industrie_evolution": XL_CHART_TYPE.LINE_MARKERS,
               "ca_repartition": XL_CHART_TYPE.PIE, "industrie": XL_CHART_TYPE.BAR_CLUSTERED,
               "filieres": XL_CHART_TYPE.BAR_CLUSTERED}    # filières: one chart per filière (small multiples)


# One xdist worker for the whole module: its module fixtures build the decks once, not once per worker.
pytestmark = pytest.mark.xdist_group("export_deck")


@pytest.fixture(scope="module")
def wh(demo_warehouse):
    return demo_warehouse


@pytest.fixture(scope="module")
def snap(wh):
    return get_warehouse(wh).snapshot()


@pytest.fixture(scope="module")
def deck(snap):
    return Presentation(io.BytesIO(build_deck(snap, Selection())))


@pytest.fixture(scope="module")
def content(snap):
    return slides.build(snap, Selection())


@pytest.fixture(scope="module")
def secret_deck(snap):
    """Turnover of the filières: the demo data has EPCI x filière cells with fewer than 3 firms."""
    return Presentation(io.BytesIO(build_deck(snap, Selection(filiere_mesure="ca_filiere"),
                                              keys=["titre", "filieres", "comparer"])))


def _texts(slide) -> list[str]:
    return [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]


def _chart(slide):
    charts = [sh for sh in slide.shapes if sh.has_chart]
    assert len(charts) == 1, "one native chart per chart slide"
    return charts[0].chart


def _by_key(deck, content):
    """Each finding's (first) slide, found by its title placeholder; a finding with nothing to show has none."""
    keys = [s.key for s in content]      # in deck order (a slide repeating another, the Carte one, may be left out)
    assert keys == [k for k in EXPECTED if k in keys] and len(keys) >= len(EXPECTED) - 1
    titles = [sl.shapes.title.text for sl in deck.slides]
    return {s.key: (deck.slides[titles.index(s.titre)], s) for s in content if s.titre in titles}


def _titles(built) -> list[str]:
    return [s.titre for s in built if s.key == "titre" or not nothing_to_show(s)]


def test_slide_count_order_and_16_9(deck, content):
    """Every slide's title is in its title placeholder; the findings come in deck order, a long table continued
    on slides titled « (suite k/n) », a finding with nothing to show left out."""
    assert abs(deck.slide_width / deck.slide_height - 16 / 9) < 0.01
    titles = [sl.shapes.title.text for sl in deck.slides]
    assert [t for t in titles if " (suite " not in t] == _titles(content)
    assert all(t.split(" (suite ")[0] in titles for t in titles)
    assert titles[-1].split(" (suite ")[0] == _titles(content)[-1]      # the sources
    assert titles[0] == "Territoire d'industrie Hautes-Alpes"


def test_charts_are_native_with_embedded_data(deck, snap, content):
    by_key = _by_key(deck, content)
    for key, chart_type in CHART_TYPES.items():
        slide, s = by_key[key]
        charts = [sh.chart for sh in slide.shapes if sh.has_chart]
        panels = s.chart_rows()[s.spec.series].nunique()     # small multiples, or line panels of unequal series
        assert len(charts) in ((panels,) if key == "filieres" else (1, panels)), key
        for chart in charts:
            assert chart.chart_type == chart_type, key
            assert chart.part.chart_workbook.xlsx_part is not None, f"{key}: data not embedded"
        assert not [sh for sh in slide.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE], key


def test_chart_numbers_are_the_warehouse_numbers(deck, snap, content, wh):
    by_key = _by_key(deck, content)
    # Industrial share by EPCI (+ references), read back from the chart.
    data = chart_table(_chart(by_key["industrie"][0]))
    year = query.latest_year(snap, "part_industrie_effectifs", "epci")
    expected = query.get(snap, "part_industrie_effectifs", "epci", annee=year, territoires=query.perimeter(snap, "epci"))
    assert len(expected) == len(query.perimeter(snap, "epci"))
    for r in expected.itertuples():
        got = data[(r.nom_court, "Part de l'industrie dans l'emploi salarié privé")]
        assert got == pytest.approx(round(r.valeur, 3)), r.nom_court
    # Turnover by sector of the TI (the default selection), straight from the mart (SQL on the DuckDB file).
    ti = query.perimeter(snap, "ti")[0]
    data = slide_table(by_key["ca_secteurs"][0])      # one chart, or one panel per sector
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = con.execute("""SELECT m.annee, g.libelle, m.valeur FROM mart m
                              JOIN ref_groupes g ON g.groupement = m.groupement AND g.groupe_code = m.groupe_code
                              WHERE m.mesure = 'ca_eur' AND m.groupement = 'secteur' AND m.niveau = 'ti'
                                AND m.code = ?""", [ti]).fetchall()
    finally:
        con.close()
    assert len(rows) >= 20
    for annee, secteur, valeur in rows:
        assert data[(str(annee), secteur)] == pytest.approx(round(valeur / 1e6, 1)), (annee, secteur)
    # Pie: the latest year's sector split equals the same mart values.
    pie = chart_table(_chart(by_key["ca_repartition"][0]))
    last = max(r[0] for r in rows)
    for annee, secteur, valeur in rows:
        if annee == last:
            assert pie[(secteur, "Chiffre d'affaires")] == pytest.approx(round(valeur / 1e6, 1))
    # Filières: establishments by EPCI x filière.
    data = slide_table(by_key["filieres"][0])
    year = query.latest_year(snap, "etablissements_filiere", "epci")
    for r in query.get(snap, "etablissements_filiere", "epci", annee=year, territoires=query.perimeter(snap, "epci")).itertuples():
        assert data[(r.nom_court, r.filiere)] == pytest.approx(r.valeur)


def test_key_figures_and_comparison_show_the_warehouse_values(deck, snap, content):
    by_key = _by_key(deck, content)
    text = " ".join(_texts(by_key["chiffres_cles"][0]))
    pop = query.get(snap, "population", "ti", territoires=query.perimeter(snap, "ti"))
    assert slides.shown(pop.valeur.iat[0], "count") in text
    titre = by_key["comparer"][1].titre       # the table, continued on « (suite k/n) » slides when long
    tables = [sh.table for sl in deck.slides if sl.shapes.title.text.split(" (suite ")[0] == titre
              for sh in sl.shapes if sh.has_table]
    n = len(query.perimeter(snap, "epci"))
    assert sum(len(t.rows) - 1 for t in tables) == n + 2       # the EPCIs, the TI and its département, each under a header
    cells = {t.cell(i, 0).text.removeprefix("■ "): t.cell(i, 1).text for t in tables for i in range(1, len(t.rows))}
    year = query.latest_year(snap, "population", "epci")
    for r in query.get(snap, "population", "epci", annee=year, territoires=query.perimeter(snap, "epci")).itertuples():
        assert cells[r.nom_court].startswith(slides.shown(r.valeur, "count")), r.nom_court


def test_every_chart_slide_names_its_source_and_vintage(deck, snap, content):
    by_key = _by_key(deck, content)
    for key in [*CHART_TYPES, "chiffres_cles", "comparer"]:
        texts = _texts(by_key[key][0])
        src = [t for t in texts if re.search("Source\u202f: ", t)]
        assert src, f"{key}: no source line"
        assert re.search(r"années? (de )?\d{4}", src[0]), f"{key}: no vintage in {src[0]!r}"
        notes = by_key[key][0].notes_slide.notes_text_frame.text
        assert "Source\u202f: " in notes


def test_secret_cells_are_empty_and_marked_never_zero(secret_deck, snap):
    slide = secret_deck.slides[1]
    data = slide_table(slide)
    year = query.latest_year(snap, "ca_filiere", "epci")
    q = query.get(snap, "ca_filiere", "epci", annee=year)
    shown = {name for name, _ in data}   # the slide's territories (the TI's EPCI, not the neighbour)
    secret = q[(q.statut == "secret") & q.nom_court.isin(shown)]
    assert len(secret) > 0, "the demo data should have secret cells"
    for r in secret.itertuples():
        assert data[(r.nom_court, r.filiere)] is None, (r.nom_court, r.filiere)
    marked = {str(c).removesuffix(" (s)") for sh in slide.shapes if sh.has_chart
              for c in sh.chart.plots[0].categories if str(c).endswith(" (s)")}   # each panel marks its own cells
    assert marked == set(secret.nom_court)
    # One « s » beside the axis per secret cell, and no data label on its empty point (PowerPoint would draw one).
    boxes = [sh for sh in slide.shapes if sh.has_text_frame and sh.text_frame.text == "s"]
    assert len(boxes) == len(secret)
    for sh in slide.shapes:
        if sh.has_chart:
            for k, c in enumerate(sh.chart.plots[0].categories):
                labelled = sh.chart.plots[0].series[0].points[k].data_label.has_text_frame
                assert labelled != str(c).endswith(" (s)"), (c, labelled)
    text = " ".join(_texts(slide))
    assert "« s »" in text and "secret" in text


def test_no_firm_level_value_in_the_deck(secret_deck, wh):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        firms = con.execute("SELECT raison_sociale, siret FROM firmes").fetchall()
        # Aggregates resting on 1 or 2 firms are the ones that would reveal a firm.
        few = con.execute("""SELECT count(*) FROM mart WHERE mesure = 'ca_eur' AND nb_contrib BETWEEN 1 AND 2""").fetchall()[0][0]
    finally:
        con.close()
    assert firms and few > 0
    xml = []
    for slide in secret_deck.slides:
        xml.append(" ".join(_texts(slide)))
        xml.append(slide.notes_slide.notes_text_frame.text)
        for sh in slide.shapes:
            if sh.has_chart:
                xml.append(sh.chart.part.blob.decode("utf-8"))
            if sh.has_table:
                xml.append(" ".join(c.text for row in sh.table.rows for c in row.cells))
    blob = "\n".join(xml)
    names = {n for n, _ in firms if n and len(n) > 8}
    assert not [n for n in names if n in blob]
    assert not [s for _, s in firms if s and s in blob]


def test_one_page_deck_and_single_epci_focus(snap):
    gap = "200067825"
    prs = Presentation(io.BytesIO(build_deck(snap, Selection(epcis=(gap,)), keys=list(registry.slide_button("chiffre_affaires")))))
    assert len(prs.slides) == 4
    data = chart_table(_chart(prs.slides[1]))
    series = {s for _, s in data}
    assert series == {"Gap-Tallard-Durance", "TI Hautes-Alpes"}


def test_template_layouts_and_size_are_used(snap, tmp_path):
    tpl = Presentation()                       # 4:3 template with a slide of its own
    tpl.slides.add_slide(tpl.slide_layouts[0]).shapes.title.text = "Diapositive du modèle"
    path = tmp_path / "modele.pptx"
    tpl.save(path)
    prs = Presentation(io.BytesIO(build_deck(snap, Selection(), template=path, keys=["titre", "ca_croissance"])))
    assert len(prs.slides) == 2
    assert (prs.slide_width, prs.slide_height) == (tpl.slide_width, tpl.slide_height)
    assert prs.slides[0].shapes.title.text == "Territoire d'industrie Hautes-Alpes"
    assert prs.slides[1].shapes.title is not None and "chiffre d'affaires" in prs.slides[1].shapes.title.text
    assert [sh for sh in prs.slides[1].shapes if sh.has_chart]
    assert not any("Diapositive du modèle" in t for s in prs.slides for t in _texts(s))


def test_bad_template_and_unknown_epci_are_refused_in_french(snap, tmp_path):
    bad = tmp_path / "modele.pptx"
    bad.write_text("pas un pptx")
    with pytest.raises(ValueError, match="modèle PowerPoint"):
        build_deck(snap, Selection(), template=bad)
    with pytest.raises(ValueError, match="EPCI inconnu"):
        build_deck(snap, Selection(epcis=("123456789",)))


def _map_figure():
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[5.9, 6.6], y=[44.5, 44.9], mode="markers"))
    fig.update_layout(meta={"titre": "Carte test", "source": "Source : IGN — année 2024."})
    return fig


def test_map_slide_without_browser_explains_how_to_get_one(snap, monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "pas_de_navigateur"))
    prs = Presentation(io.BytesIO(build_deck(snap, Selection(), keys=["carte"], map_figure=_map_figure())))
    assert len(prs.slides) == 1
    text = " ".join(_texts(prs.slides[0]))
    assert "Chromium" in text and "BROWSER_PATH" in text
    assert not [sh for sh in prs.slides[0].shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("google-chrome")), reason="pas de Chromium installé")
def test_map_slide_is_a_picture_with_a_browser(snap):
    prs = Presentation(io.BytesIO(build_deck(snap, Selection(), keys=["carte"], map_figure=_map_figure())))
    pics = [sh for sh in prs.slides[0].shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pics) == 1 and pics[0].image.content_type == "image/png"


def test_command_line_deck(wh, tmp_path, capsys):
    from indicators.__main__ import main

    out = tmp_path / "comite.pptx"
    assert main(["deck", "--out", str(out), "--warehouse", str(wh), "--epci", "200067825", "240500439",
                 "--annee", "2021"]) == 0
    prs = Presentation(str(out))
    # an indicator without data up to 2021 has no Comparer slide: the deck has exactly the findings of that selection
    sel = Selection(epcis=("200067825", "240500439"), annee=2021)
    built = slides.build(get_warehouse(wh).snapshot(), sel)
    assert [sl.shapes.title.text for sl in prs.slides if " (suite " not in sl.shapes.title.text] == _titles(built)
    assert "2021" in " ".join(_texts(prs.slides[_titles(built).index(built[[s.key for s in built].index("chiffres_cles")].titre)]))
    bad = tmp_path / "refus.pptx"
    assert main(["deck", "--out", str(bad), "--warehouse", str(wh), "--epci", "999"]) == 2
    assert "EPCI inconnu" in capsys.readouterr().err
    assert not bad.exists()


def test_native_chart_labels_and_axes_are_french(deck, content):
    """Data labels are French text (« 3,7 % », « 1 800,0 M€ »), axes use literal U+202F and U+2212: what
    PowerPoint shows does not depend on the reader's locale."""
    by_key = _by_key(deck, content)
    chart = _chart(by_key["industrie"][0])
    labels = [pt.data_label.text_frame.text for ser in chart.plots[0].series
              for pt in (ser.points[i] for i in range(len(list(ser.values))))
              if pt.data_label.has_text_frame]
    assert labels and all(re.fullmatch(r"\d+,\d\u202f%|s|–", t) for t in labels), labels
    line = [sh.chart for sh in by_key["ca_secteurs"][0].shapes if sh.has_chart][0]
    assert "\u202f" in line.value_axis.tick_labels.number_format and "," not in line.value_axis.tick_labels.number_format
    growth = _chart(by_key["ca_croissance"][0])
    texts = [pt.data_label.text_frame.text for ser in growth.plots[0].series
             for pt in (ser.points[i] for i in range(len(list(ser.values)))) if pt.data_label.has_text_frame]
    assert any(t.startswith("+") and t.endswith("\u202fM€") for t in texts), texts


def test_filieres_panels_set_the_chosen_epci_apart(snap):
    """As on the page: in each filière's panel the chosen EPCI keeps the filière's colour, the others are lighter."""
    from indicators import palettes

    chosen = query.perimeter(snap, "epci")[0]
    sel = Selection(focus=chosen)
    [s] = slides.build(snap, sel, ["filieres"])
    prs = Presentation(io.BytesIO(build_deck(snap, sel, keys=["filieres"])))
    charts = [sh.chart for sh in prs.slides[0].shapes if sh.has_chart]
    assert len(charts) == s.chart_rows().categorie.nunique() > 1
    for chart in charts:
        ser = chart.plots[0].series[0]
        colour = s.spec.colours[ser.name].lstrip("#").upper()
        cats = [str(c).removesuffix(" (s)").removesuffix(" (partiel)") for c in chart.plots[0].categories]
        fills = {c: str(ser.points[k].format.fill.fore_color.rgb) for k, c in enumerate(cats)}
        assert fills.pop(s.extra["highlight"]) == colour
        assert set(fills.values()) == {palettes.tint("#" + colour).lstrip("#")}
