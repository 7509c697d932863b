"""The territory's perimeter on a warehouse holding more than the TI: its neighbours and the other TI of its région.

The demo warehouse of the default TI holds its 8 member EPCI, the neighbour Sisteronais-Buëch and the EPCI of the
other TI of the région: the sidebar and the pages show the TI and its members, with its references; Comparer
can add a neighbour; the deck defaults to the members and accepts a neighbour; the map draws the members only.
"""
from __future__ import annotations

import io

import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from indicators import perimeter as perimeter_mod, query
from indicators.db import get_warehouse
from indicators.export import slides
from indicators.export.deck import build_deck, nothing_to_show
from indicators.export.slides import Selection
from tests.conftest import ROOT

OTHER = "200068765"   # CC du Sisteronais-Buëch: a neighbour, member of another TI
OTHER_NAME = "Sisteronais-Buëch"


@pytest.fixture(scope="module")
def wide_snap(demo_warehouse):
    return get_warehouse(demo_warehouse).snapshot()


@pytest.fixture(scope="module")
def wide_warehouse(demo_warehouse):
    return demo_warehouse


@pytest.fixture(scope="module")
def perimeter(wide_snap):
    """The member EPCI of the TI, as the demo warehouse lists them."""
    return [t.code for t in perimeter_mod.load(wide_snap).members]


@pytest.fixture(scope="module")
def refs(wide_snap):
    per = perimeter_mod.load(wide_snap)
    return {per.ti.code, *(t.code for t in per.references)}


def open_page(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page != "accueil":
        at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_perimeter_is_stored_at_build_time(wide_snap, perimeter):
    epci = query.territories(wide_snap, "epci")
    assert len(perimeter) == 8 and set(perimeter) < set(epci.code) and OTHER in set(epci.code)
    assert query.perimeter(wide_snap, "epci") == perimeter
    per = perimeter_mod.load(wide_snap)
    assert query.perimeter(wide_snap, "departement") == [per.departement.code]
    assert query.perimeter(wide_snap, "ti") == [per.ti.code] and len(per.other_tis) >= 1
    communes = query.perimeter(wide_snap, "commune")
    held = query.territories(wide_snap, "commune")
    others = held[held.role.isna()].code
    assert len(others) and not set(others) & set(communes)
    assert any(held[held.code.isin(communes)].hors_departement)  # member communes outside the département count


def test_sidebar_and_pages_show_the_perimeter_only(wide_warehouse, use_warehouse, perimeter):
    use_warehouse(wide_warehouse)
    at = open_page("industrie")
    territoire = at.selectbox(key="territoire").options
    assert len(territoire) == 1 + 8 and OTHER_NAME not in territoire
    charts = at.get("plotly_chart")
    assert charts
    for el in charts:
        assert OTHER not in el.proto.spec and OTHER_NAME not in el.proto.spec
    for df in [*at.dataframe, *at.table]:
        assert OTHER_NAME not in df.value.to_string()
    at = open_page("filieres")
    for el in at.get("plotly_chart"):
        assert OTHER_NAME not in el.proto.spec
    at = open_page("comparer")
    table = at.table[0].value
    assert len(table) == 8 + 2 and OTHER_NAME not in table.index     # 8 EPCI, the TI and the département


def test_comparer_can_add_an_epci_outside_the_perimeter(wide_warehouse, use_warehouse, perimeter):
    use_warehouse(wide_warehouse)
    at = open_page("comparer")
    box = at.multiselect(key="epci")
    assert box.value == perimeter
    assert f"{OTHER_NAME} (voisin)" == box.options[8]   # the territory's EPCIs first, then its neighbour
    box.set_value(perimeter + [OTHER])
    at.run()
    assert not at.exception
    table = at.table[0].value
    assert OTHER_NAME in table.index and len(table) == 11
    # From a shared link too.
    at = open_page("comparer", epci=[perimeter[0], OTHER])
    assert at.multiselect(key="epci").value == [perimeter[0], OTHER]
    index = at.table[0].value.index
    assert len(index) == 4 and OTHER_NAME in index
    # A link repeating EPCIs (or naming more than the page allows) is cut down instead of failing.
    at = open_page("comparer", epci=[OTHER] + perimeter + perimeter[:3])
    assert at.multiselect(key="epci").value == [OTHER] + perimeter


def test_deck_defaults_to_the_perimeter_and_accepts_another_epci(wide_snap, perimeter, refs):
    content = {s.key: s for s in slides.build(wide_snap, Selection())}
    per = perimeter_mod.load(wide_snap)
    assert content["titre"].titre == per.name and content["titre"].phrase == f"{per.name} et ses 8 intercommunalités"
    for key in ("industrie", "filieres", "comparer"):
        t = content[key].table
        assert set(t.code) <= set(perimeter) | refs, key
        assert set(perimeter) <= set(t.code), key
    prs = Presentation(io.BytesIO(build_deck(wide_snap, Selection())))
    # One slide per finding, continued over « (suite k/n) » slides where a table or the methods do not fit.
    # (slides with nothing to show are left out and named on the title slide).
    shown = [s for s in content.values() if not nothing_to_show(s)]
    titles = [sl.shapes.title.text.split(" (suite ")[0] for sl in prs.slides]
    assert sorted(dict.fromkeys(titles)) == sorted({s.titre for s in shown})
    assert len(prs.slides) - sum(" (suite " in sl.shapes.title.text for sl in prs.slides) == len(shown)
    chosen = Selection(epcis=(perimeter[0], OTHER))
    comparer = {s.key: s for s in slides.build(wide_snap, chosen, keys=["comparer", "industrie"])}
    # By default Comparer's references are the TI and its département; the other pages keep the TI's EPCIs
    assert set(comparer["comparer"].table.code) == {perimeter[0], OTHER, per.ti.code, per.departement.code}
    assert set(comparer["industrie"].table.code) == set(perimeter) | refs
    Presentation(io.BytesIO(build_deck(wide_snap, chosen)))


def test_map_draws_the_perimeter_only(wide_warehouse, use_warehouse, perimeter):
    use_warehouse(wide_warehouse)
    at = open_page("carte")
    text = " ".join(m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert len(table) == 8 and OTHER_NAME not in table.to_string()
    at.radio(key="carte_niveau").set_value("commune").run()
    table = at.dataframe[0].value
    assert not at.exception and len(table) == 131


def test_warehouse_of_an_earlier_version_is_told_then_upgraded_by_a_load(demo_warehouse, tmp_path, use_warehouse):
    import shutil

    import duckdb

    from etl import demo, load
    from tests.conftest import quiet

    old = tmp_path / "old.duckdb"
    shutil.copyfile(demo_warehouse, old)
    con = duckdb.connect(str(old))
    con.execute("ALTER TABLE ref_territoires DROP COLUMN role")
    con.execute("DELETE FROM meta WHERE cle LIKE 'territoire_%'")
    con.execute("UPDATE meta SET valeur = 'avant-perimetre' WHERE cle = 'version'")
    con.close()
    use_warehouse(old)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert any("version antérieure" in e.value for e in at.error) and not at.exception
    urssaf = [f for f in demo.ensure(load.DEMO_DIR, quiet) if f.name.startswith("urssaf")]
    load.load(urssaf, old, progress=quiet)
    snap = get_warehouse(old).snapshot()
    assert len(perimeter_mod.load(snap).members) == 8


def test_a_shared_link_to_a_neighbour_says_why_it_shows_the_ti(wide_warehouse, use_warehouse, wide_snap):
    """A link naming the neighbour EPCI (member of another TI) opens the TI, and says so with the EPCI's own TI;
    a link naming no territory of the warehouse says it without repeating the link's value."""
    use_warehouse(wide_warehouse)
    per = perimeter_mod.load(wide_snap)
    own = [t.nom_court for t in per.other_tis if t.code in query.ti_of_epci(wide_snap, OTHER)]
    assert own, "le voisin appartient à un autre TI de la région"
    at = open_page("industrie", territoire=OTHER)
    said = " ".join(w.value for w in at.warning)
    assert f"{OTHER_NAME} ({own[0]}) n'est pas membre du {per.name}" in said and "Comparer les EPCI" in said
    assert at.sidebar.selectbox(key="territoire").value == per.ti.code
    at = open_page("industrie", territoire="99999zz")
    said = " ".join(w.value for w in at.warning)
    assert "n'est pas dans ce tableau de bord" in said and "99999zz" not in said
    assert not open_page("industrie", territoire=per.members[0].code).warning
