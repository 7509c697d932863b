"""Two other Territoires d'industrie end to end: one spanning two régions, one made of a single EPCI.

Built from the reference alone (`etl build --territoire ti-XXXX --no-demo`), then the real national base
comparateur is loaded; the TI, its départements, régions and France are checked against a recomputation from
the raw INSEE file written here in pandas, and every page renders about that TI, never the Hautes-Alpes.
"""
from __future__ import annotations

import pandas as pd
import pytest

from etl import load, perimeter
from indicators import query
from indicators.db import get_warehouse
from tests.conftest import ROOT, quiet, real_file
from tests.test_pages import PAGES, open_page

NATIONAL = "insee_base_cc_comparateur_2022edition_france.csv"
# Arrondissements municipaux of Paris, Lyon and Marseille: rows of the national file beside their commune.
ARRONDISSEMENTS = {f"751{i:02d}" for i in range(1, 21)} | {f"132{i:02d}" for i in range(1, 17)} | \
    {f"6938{i}" for i in range(1, 10)}
TIS = ["ti-2703", "ti-8405"]


def _expected(ti: str) -> dict[tuple[str, str], tuple[float, str]]:
    """Establishments in industry / all establishments, 2018, from the raw file: per TI, département, région, France,
    with the statut (partiel when a commune's value is secret: an empty cell of the 2022 edition)."""
    raw = pd.read_csv(real_file(NATIONAL), sep=";", dtype={"CODGEO": str}, usecols=["CODGEO", "ETTOT18", "ETBE18"])
    raw = raw[~raw.CODGEO.isin(ARRONDISSEMENTS)]
    ref = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str, keep_default_na=False)
    current = {c: c for c in ref.code_insee}
    for code, old in zip(ref.code_insee, ref.anciens_codes):
        for o in filter(None, old.split("|")):
            current.setdefault(o, code)
    raw["commune"] = raw.CODGEO.map(current)
    assert raw.commune.notna().all(), "commune du fichier national absente du référentiel"
    raw = raw.merge(ref[["code_insee", "departement", "region"]], left_on="commune", right_on="code_insee")
    members = pd.read_csv(ROOT / "data" / "reference" / "territoires_industrie_communes.csv", dtype=str)
    mine = set(members[members.id_ti == ti].code_insee)
    p = perimeter.resolve(ti)

    def share(rows):
        secret = rows.ETBE18.isna().any() or rows.ETTOT18.isna().any()
        return rows.ETBE18.sum() / rows.ETTOT18.sum(), "partiel" if secret else "ok"
    out = {("ti", ti): share(raw[raw.commune.isin(mine)]), ("france", "FR"): share(raw)}
    for d in p.departements:
        out[("departement", d)] = share(raw[raw.departement == d])
    for r in p.regions:
        out[("region", r)] = share(raw[raw.region == r])
    return out


@pytest.fixture(scope="module", params=TIS)
def ti_warehouse(request, tmp_path_factory):
    national = real_file(NATIONAL)
    path = tmp_path_factory.mktemp(request.param) / "warehouse.duckdb"
    load.build(path, demo=False, progress=quiet, perimeter=perimeter.resolve(request.param))
    load.load([national], path, progress=quiet)
    return request.param, path


def test_shares_equal_an_independent_recomputation(ti_warehouse):
    ti, path = ti_warehouse
    snap = get_warehouse(path).snapshot()
    expected = _expected(ti)
    for (niveau, code), (value, statut) in expected.items():
        got = query.get(snap, "part_industrie_etablissements", niveau, annee=2018, territoires=[code])
        assert len(got) == 1 and got.statut.iat[0] == statut, (niveau, code, got.to_dict("records"))
        assert got.valeur.iat[0] == pytest.approx(value, rel=1e-12), (niveau, code)


def test_ti_total_is_the_sum_of_its_communes_counted_once(ti_warehouse):
    ti, path = ti_warehouse
    snap = get_warehouse(path).snapshot()
    p = perimeter.resolve(ti)
    communes = query.get(snap, "etablissements", "commune", annee=2018, territoires=sorted(p.member_communes))
    assert communes.code.is_unique and set(communes.code) == set(p.member_communes)
    total = query.get(snap, "etablissements", "ti", annee=2018, territoires=[ti])
    assert total.valeur.iat[0] == communes.valeur.sum()


def test_every_page_names_the_ti_and_never_the_default_one(ti_warehouse, use_warehouse):
    ti, path = ti_warehouse
    use_warehouse(path)
    name = perimeter.resolve(ti).ti_nom
    default_name = perimeter.resolve(perimeter.DEFAULT_TI).ti_nom
    for page in PAGES:
        at = open_page(page)
        text = " ".join([*(t.value for t in at.title), *(m.value for m in at.markdown), *(c.value for c in at.caption),
                         *(s.value for s in at.subheader), *(m.label for m in at.metric), *(i.value for i in at.info),
                         *(w.value for w in at.warning)])
        sidebar = " ".join(m.value for m in at.sidebar.markdown)
        assert name in sidebar, (page, sidebar)
        assert default_name not in text + sidebar, page
