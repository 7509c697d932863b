"""The territory as configuration: a TI of the ANCT list or a custom file of EPCI, stored in the warehouse."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from etl import perimeter
from etl.validate import LoadError
from tests.conftest import ROOT

SISTERONAIS = "200068765"


def test_default_ti_has_its_8_anct_members_and_sisteronais_as_neighbour():
    p = perimeter.resolve()
    ref = pd.read_csv(ROOT / "data" / "reference" / "territoires_industrie_membres.csv", dtype=str)
    assert sorted(p.member_epci) == sorted(ref[ref.id_ti == perimeter.DEFAULT_TI].code)
    assert len(p.member_epci) == 8 and SISTERONAIS not in p.member_epci
    assert p.neighbour_epci == (SISTERONAIS,)
    assert len(p.departements) == 1 and len(p.regions) == 1
    # The 5 member communes outside the main département are members, not a reason to compare with it.
    communes = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str).set_index("code_insee")
    outside = [c for c in p.member_communes if communes.departement[c] != p.departements[0]]
    assert outside and set(communes.departement[outside]) == set(p.other_departements)


def test_perimetre_command_prints_members_references_and_neighbours(demo_warehouse):
    out = subprocess.run([sys.executable, "-m", "indicators", "perimetre", "--format", "csv", "--warehouse",
                          str(demo_warehouse)], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    df = pd.read_csv(pd.io.common.StringIO(out.lstrip("\ufeff")), sep=None, engine="python", dtype=str)
    assert list(df.columns) == ["niveau", "code", "nom", "role"]
    epci = df[df.niveau == "epci"]
    assert (epci.role == "membre").sum() == 8
    assert epci[epci.code == SISTERONAIS].role.tolist() == ["voisin"]
    assert set(df[df.role == "reference"].niveau) == {"departement", "region", "france"}
    assert df[df.niveau == "ti"].role.tolist()[0] == "membre"


def test_candidature_perimeter_is_one_file_away():
    p = perimeter.resolve(ROOT / "data" / "perimetres" / "candidature_hautes_alpes_9_epci.csv")
    assert len(p.member_epci) == 9 and SISTERONAIS in p.member_epci
    assert "candidature" in p.ti_nom and p.neighbour_epci == ()


def test_custom_file_errors_name_line_and_column(tmp_path):
    f = tmp_path / "perimetre.csv"
    f.write_text("siren\n200067825\n123456789\n200067825\n", encoding="utf-8")
    with pytest.raises(LoadError) as exc:
        perimeter.resolve(f)
    problems = [(p.ligne, p.colonne, p.message) for p in exc.value.problems]
    assert problems[0][:2] == (3, "siren") and "123456789" in problems[0][2]
    assert problems[1][:2] == (4, "siren") and "double" in problems[1][2]


def test_unknown_ti_is_refused_in_french():
    with pytest.raises(LoadError, match="Territoire d'industrie inconnu"):
        perimeter.resolve("ti-0000")
    r = subprocess.run([sys.executable, "-m", "etl", "build", "--territoire", "ti-0000", "--warehouse", "x.duckdb"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "Territoire d'industrie inconnu" in r.stderr and "Traceback" not in r.stderr


def test_every_ti_of_the_list_resolves():
    for code, _, n in perimeter.list_tis():
        p = perimeter.resolve(code)
        assert p.member_communes and p.departements and p.regions, code


def test_an_epci_crossing_departements_is_compared_by_its_part_inside(demo_warehouse, use_warehouse):
    """Comparer says how many communes and inhabitants an EPCI has outside the reference département, and
    offers its part inside it (level epci_partie: the sum of its communes there, secret rules included)."""
    from streamlit.testing.v1 import AppTest

    from indicators import query
    from indicators.db import get_warehouse

    snap = get_warehouse(demo_warehouse).snapshot()
    parts = query.get(snap, "population", "epci_partie", territoires=None)
    communes = query.get(snap, "population", "commune", annee=int(parts.annee.iat[0]), territoires=None)
    ref = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str).set_index("code_insee")
    for r in parts.itertuples():
        siren, dep = r.code.split(":")
        inside = [c for c in communes.code if ref.epci_siren[c] == siren and ref.departement[c] == dep]
        assert r.valeur == communes[communes.code.isin(inside)].valeur.sum()
    use_warehouse(demo_warehouse)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    at.switch_page("pages/views/comparer.py").run()
    assert any("hors du département" in i.value and "habitants" in i.value for i in at.info)
    at.radio(key="parties").set_value("1").run()
    assert not at.exception
    index = at.table[0].value.index
    assert any("(partie" in str(i) for i in index)
