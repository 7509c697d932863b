"""Map findings (indicators/content/carte.py): page = slide = annex, the year rule, labels that never overlap,
the TI's name, hovers, the reference département's communes outside the TI, circles for stocks."""
from __future__ import annotations

import re

import pytest

from indicators import maps, perimeter
from indicators.content import Selection, context, registry
from indicators.export import slides

MAP_PAGES = ("industrie", "filieres", "carte")
# The rendering sizes the maps must be readable at: the page at 1400 px (content width about 940 px), the chart
# of presentation mode at 1280×720, the slide's picture.
SIZES = [("page 1400", 940, maps.PAGE_HEIGHT, None), ("présentation 1280×720", *maps.PRESENTATION_SIZE,
         maps.PRESENTATION_FONT), ("diapositive", *maps.SLIDE_SIZE, maps.SLIDE_FONT)]


def _map_findings(snap, sel):
    ctx = context(snap, sel)
    return [f for p in MAP_PAGES for f in registry.build(ctx, p) if f.key.startswith("carte")]


@pytest.mark.parametrize("name,niveau", [("part_industrie_effectifs", "epci"), ("etablissements_filiere", "epci"),
                                         ("population", "commune"), ("ca_filiere", "epci")])
def test_no_two_label_boxes_overlap_at_any_size(snap, name, niveau):
    fig, _ = maps.map_figure(snap, name, niveau)
    for label, w, h, font in SIZES:
        f = fig if font is None else maps.present(fig, w, h, font)
        boxes = maps.label_boxes(f, w, h)
        assert len(boxes) == 8, label
        assert not maps.overlaps(boxes), (label, maps.overlaps(boxes))
        # every label on the map's side of the figure, none under the legend
        assert all(b[3] <= w * maps.GEO_RIGHT + 1 and b[1] >= 0 and b[2] >= 0 and b[4] <= h for b in boxes), label
        if font is not None:
            assert f.layout.legend.font.size >= 16 and f.layout.legend.title.font.size >= 16
    assert fig.layout.legend.font.size >= 16
    # legend lines short enough for the legend to stay right of the map (a wider legend shrinks the map)
    names = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert all(len(line) <= maps.LEGEND_CHARS for n in names for line in n.split("<br>")), names


def test_titles_state_the_finding_and_pages_slides_annex_agree(snap):
    found = _map_findings(snap, Selection())
    by_key = {f.key: f for f in found}
    assert set(by_key) == {"carte_industrie", "carte_filieres", "carte"}
    ind = by_key["carte_industrie"]
    assert re.fullmatch(r"L'industrie pèse de \d+,\d\u202f% \(.+\) à \d+,\d\u202f% \(.+\) de l'emploi salarié privé en 20\d\d",
                        ind.titre), ind.titre
    # the title's figures are the rows of the map, as shown
    drawn = ind.table[ind.table.usage == "graphique"].dropna(subset=["valeur"])
    lo, hi = drawn.sort_values("valeur").iloc[[0, -1]].itertuples()
    assert f"({lo.territoire})" in ind.titre and f"({hi.territoire})" in ind.titre
    assert ind.years == (int(drawn.annee.max()),) and str(ind.years[0]) in ind.titre
    assert ind.phrase.startswith(context(snap, Selection()).home_name)     # the TI's long name in sentences
    # a stock is drawn as circles and says why
    fil = by_key["carte_filieres"]
    assert "par EPCI" not in fil.titre and " – " not in fil.titre
    assert any("cercles proportionnels" in n for n in fil.notes)
    # the slides are the same findings (the deck's Carte slide is not repeated when it is Industrie's map)
    for page in MAP_PAGES:
        keys = list(registry.page(page).slides)
        deck = {s.key: s for s in slides.build(snap, Selection(), keys=keys, map_figure=maps.go.Figure())}
        for f in registry.build(context(snap, Selection()), page):
            assert deck[f.key].titre == f.titre and deck[f.key].phrase == f.phrase
            assert deck[f.key].sheet == registry.SHEETS[f.key]
    whole = [s.key for s in slides.build(snap, Selection(), map_figure=maps.go.Figure())]
    assert "carte_industrie" in whole and "carte_filieres" in whole and "carte" not in whole
    assert "carte" in [s.key for s in slides.build(snap, Selection(carte="population"), map_figure=maps.go.Figure())]


def test_a_chosen_year_without_data_gives_no_map_of_another_year(snap):
    for f in _map_findings(snap, Selection(annee=2013)):
        assert f.chart is None and "pas de donnée en 2013" in f.titre, f.titre
        assert not set(re.findall(r"\b(20\d\d)\b", f.titre)) - {"2013"}, f.titre
    for f in _map_findings(snap, Selection(annee=2020)):
        assert f.extra["carte"]["annee"] <= 2020 and set(f.years) <= {y for y in range(2000, 2021)}, f.key
        fig, df = maps.finding_figure(snap, f.extra["carte"])
        assert set(df.annee.dropna().astype(int)) <= set(f.years)


def test_ti_named_once_hovers_short_and_the_hole_outside_the_ti_is_named(snap):
    per = perimeter.load(snap)
    fig, df = maps.map_figure(snap, "part_industrie_effectifs", "epci")
    legend = " ".join(t.name.replace("<br>", " ") for t in fig.data if t.name) + fig.layout.legend.title.text
    assert per.ti.nom_court in fig.layout.legend.title.text and f"{per.ti.nom} (TI)" not in legend
    hovers = [h for t in fig.data if t.type == "choropleth" for h in t.hovertext]
    assert not any("publié" in h or "Statut" in h or ">ok<" in h for h in hovers)
    short = {t.nom_court for t in per.members}
    assert all(re.match(r"<b>(.+?)</b>", h).group(1) in short for h in hovers if not h.startswith("Hors du"))
    # communes of the reference département outside the TI: shaded, named from the warehouse
    neighbours = snap.df("""SELECT DISTINCT e.nom_court FROM ref_appartenance d
        JOIN ref_appartenance m ON m.commune = d.commune AND m.niveau = 'epci'
        JOIN ref_territoires e ON e.niveau = 'epci' AND e.code = m.code
        WHERE d.niveau = 'departement' AND d.code = ? AND m.code NOT IN (SELECT code FROM ref_membres WHERE false)
          AND d.commune NOT IN (SELECT commune FROM ref_appartenance WHERE niveau = 'ti' AND code = ?)""",
                         [per.departement.code, per.ti.code]).nom_court.tolist()
    assert neighbours
    hole = [t for t in fig.data if t.type == "choropleth" and t.name.startswith("Hors du")]
    assert len(hole) == 1 and all(n in hole[0].name.replace("<br>", " ") for n in neighbours)
