"""The territory's perimeter on a warehouse holding more than the Hautes-Alpes (issue 9: all of France).

The reference gets one more EPCI in another département (Isère, 38): the sidebar and the pages show the
9 EPCIs of the département 05 and the references 05 / 93 / FR only; Comparer can add the other EPCI; the deck
defaults to the perimeter and accepts the other EPCI.
"""
from __future__ import annotations

import io
import shutil

import duckdb
import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from etl.reference import REFERENCE_DIR, REFERENCE_DIR_ENV
from indicators import query
from indicators.db import get_warehouse
from indicators.export import slides
from indicators.export.deck import build_deck
from indicators.export.slides import Selection
from tests.conftest import ROOT, quiet

OTHER = "200099991"
OTHER_NAME = "Hors Territoire"
OTHER_COMMUNES = ["38901", "38902", "38903"]


@pytest.fixture(scope="module")
def wide_reference(tmp_path_factory):
    """data/reference plus an EPCI of three communes in the Isère, and two more départements."""
    ref = tmp_path_factory.mktemp("reference")
    for f in REFERENCE_DIR.iterdir():
        if f.is_file():
            shutil.copyfile(f, ref / f.name)
    with open(ref / "epci.csv", "a", encoding="utf-8") as fh:
        fh.write(f"{OTHER},CC {OTHER_NAME},{OTHER_NAME},CC,3,0\n")
    with open(ref / "communes.csv", "a", encoding="utf-8") as fh:
        for i, code in enumerate(OTHER_COMMUNES):
            fh.write(f"{code},Commune {code},38,{OTHER},{500 + i},2023,12.5\n")
    with open(ref / "territoires.csv", "a", encoding="utf-8") as fh:
        fh.write("departement,38,Isère\ndepartement,93,Seine-Saint-Denis\n")   # 93: also the région's code
    return ref


@pytest.fixture(scope="module")
def wide_warehouse(wide_reference, tmp_path_factory):
    from etl.load import build

    path = tmp_path_factory.mktemp("wh") / "wide.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(REFERENCE_DIR_ENV, str(wide_reference))
        build(path, demo=True, progress=quiet)
    return path


@pytest.fixture(scope="module")
def wide_snap(wide_warehouse):
    return get_warehouse(wide_warehouse).snapshot()


@pytest.fixture(scope="module")
def perimeter(demo_warehouse):
    """The 9 EPCIs of the Hautes-Alpes, as the demo warehouse lists them."""
    return query.territories(get_warehouse(demo_warehouse).snapshot(), "epci").code.tolist()


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
    assert len(perimeter) == 9 and set(epci.code) == set(perimeter) | {OTHER}
    assert query.perimeter(wide_snap, "epci") == perimeter
    assert query.perimeter(wide_snap, "departement") == ["05"]
    assert query.perimeter(wide_snap, "region") == ["93"] and query.perimeter(wide_snap, "france") == ["FR"]
    communes = query.perimeter(wide_snap, "commune")
    assert not set(OTHER_COMMUNES) & set(communes)
    assert {"05061", "04016"} <= set(communes)      # communes of the EPCIs outside 05 belong to the territory
    assert set(query.territories(wide_snap, "departement").code) == {"05", "38", "93"}


def test_warehouse_built_before_the_perimeter_gets_it_on_read(wide_warehouse, tmp_path, perimeter):
    old = tmp_path / "old.duckdb"
    shutil.copyfile(wide_warehouse, old)
    con = duckdb.connect(str(old))
    con.execute("ALTER TABLE ref_territoires DROP COLUMN perimetre")
    con.execute("UPDATE meta SET valeur = 'avant-perimetre' WHERE cle = 'version'")
    con.close()
    snap = get_warehouse(old).snapshot()
    assert query.perimeter(snap, "epci") == perimeter
    assert query.perimeter(snap, "departement") == ["05"]
    assert not set(OTHER_COMMUNES) & set(query.perimeter(snap, "commune"))


def test_sidebar_and_pages_show_the_perimeter_only(wide_warehouse, use_warehouse, perimeter):
    use_warehouse(wide_warehouse)
    at = open_page("industrie")
    territoire = at.selectbox(key="territoire").options
    assert len(territoire) == 1 + 9 and OTHER_NAME not in territoire
    charts = at.get("plotly_chart")
    assert charts
    for el in charts:
        assert OTHER not in el.proto.spec and OTHER_NAME not in el.proto.spec and "Isère" not in el.proto.spec
    for df in at.dataframe:
        text = df.value.to_string()
        assert OTHER_NAME not in text and "Isère" not in text
    at = open_page("filieres")
    for el in at.get("plotly_chart"):
        assert OTHER_NAME not in el.proto.spec
    at = open_page("comparer")
    table = at.dataframe[0].value
    assert len(table) == 9 + 1 and OTHER_NAME not in table.index     # 9 EPCIs and the département


def test_comparer_can_add_an_epci_outside_the_perimeter(wide_warehouse, use_warehouse, perimeter):
    use_warehouse(wide_warehouse)
    at = open_page("comparer")
    box = at.multiselect(key="epci")
    assert box.value == perimeter
    assert OTHER_NAME in box.options and OTHER_NAME not in box.options[:9]   # the territory's EPCIs first
    box.set_value(perimeter + [OTHER])
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert OTHER_NAME in table.index and len(table) == 11
    # From a shared link too.
    at = open_page("comparer", epci=[perimeter[0], OTHER])
    assert at.multiselect(key="epci").value == [perimeter[0], OTHER]
    index = at.dataframe[0].value.index
    assert len(index) == 3 and OTHER_NAME in index and "Hautes-Alpes" in index
    # A link repeating EPCIs (or naming more than the page allows) is cut down instead of failing.
    at = open_page("comparer", epci=[OTHER] + perimeter + perimeter[:3])
    assert at.multiselect(key="epci").value == [OTHER] + perimeter


def test_deck_defaults_to_the_perimeter_and_accepts_another_epci(wide_snap, perimeter):
    content = {s.key: s for s in slides.build(wide_snap, Selection())}
    assert content["titre"].phrase == "Hautes-Alpes et ses 9 intercommunalités"
    for key in ("industrie", "filieres", "comparer"):
        t = content[key].table
        assert set(t.code) <= set(perimeter) | {"05", "93", "FR"}, key
        assert set(perimeter) <= set(t.code), key
    prs = Presentation(io.BytesIO(build_deck(wide_snap, Selection())))
    assert len(prs.slides) == len(content)
    chosen = Selection(epcis=(perimeter[0], OTHER))
    comparer = {s.key: s for s in slides.build(wide_snap, chosen, keys=["comparer", "industrie"])}
    assert set(comparer["comparer"].table.code) == {perimeter[0], OTHER, "05"}
    # the other pages keep the territory's EPCIs (the chosen EPCIs are the Comparer page's)
    assert set(comparer["industrie"].table.code) == set(perimeter) | {"05", "93", "FR"}
    Presentation(io.BytesIO(build_deck(wide_snap, chosen)))


def test_map_draws_the_perimeter_only(wide_warehouse, use_warehouse, perimeter):
    use_warehouse(wide_warehouse)
    at = open_page("carte")
    text = " ".join(m.value for m in at.markdown)
    assert "sans contour" not in text and OTHER_COMMUNES[0] not in text     # the other EPCI has no contour
    table = at.dataframe[0].value
    assert len(table) == 9 and OTHER_NAME not in table.to_string()
    at.radio(key="carte_niveau").set_value("commune").run()
    table = at.dataframe[0].value
    assert not at.exception and len(table) > 150 and "Commune 3890" not in table.to_string()
