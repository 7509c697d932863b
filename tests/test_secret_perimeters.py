"""One protection per chamber file: warehouses built from the same file for different perimeters (the default
TI, the candidature's 9 EPCI, the TI without one of its EPCI) give the cells they share the same status, a
custom territory publishes only sums of published canonical cells, and an attacker who reads all of them
together (tests/lp_attacker.py, written apart from etl/secret.py) bounds no sensitive cell, commune cells
included, within ±10 %."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

import lp_attacker
from conftest import quiet
from etl import demo
from etl import load as loader
from etl.perimeter import EXAMPLES_DIR, resolve

P = 0.10


# One xdist worker for the whole module: its module fixture builds three warehouses once, not once per worker.
# Three warehouses built from one file: the full suite only (the quick tier stays under 4 minutes).
pytestmark = [pytest.mark.xdist_group("secret_perimeters"), pytest.mark.slow]


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """Three warehouses built from the default TI's demo chamber file, with one cache of protections."""
    root = tmp_path_factory.mktemp("perimetres")
    default = resolve()
    chamber = next(f for f in demo.ensure(root / "demo", quiet, default) if "cci" in f.name)
    # The TI without the member EPCI that has the fewest firms in the file (the smallest difference).
    con = duckdb.connect()
    counts = dict(con.execute(f"SELECT \"Code commune INSEE\", count(*) FROM read_csv('{chamber}', all_varchar=true) GROUP BY 1").fetchall())
    con.close()
    epci_of = {c: e for e in default.member_epci for c in _communes(e)}
    firms = {e: sum(n for c, n in counts.items() if epci_of.get(c) == e) for e in default.member_epci}
    left_out = min(default.member_epci, key=lambda e: (firms[e], e))
    custom = root / "ti_sans_un_epci.csv"
    with open(custom, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["siren", "code", "nom"])
        for i, e in enumerate(e for e in default.member_epci if e != left_out):
            w.writerow([e, "essai-sans-un" if i == 0 else "", "Essai sans un EPCI" if i == 0 else ""])
    out = []
    for name, perimeter in [("defaut", default), ("candidature", resolve(EXAMPLES_DIR / "candidature_hautes_alpes_9_epci.csv")),
                            ("sans_un", resolve(custom))]:
        path = root / f"{name}.duckdb"
        loader.build(path, demo=False, embedded=False, progress=quiet, perimeter=perimeter)
        loader.load([chamber], path, progress=quiet)
        out.append(path)
    return out


def _communes(siren: str) -> list[str]:
    ref = Path(loader.REFERENCE_DIR) / "communes.csv"
    with open(ref, newline="", encoding="utf-8") as f:
        return [r["code_insee"] for r in csv.DictReader(f) if r["epci_siren"] == siren]


def _cells(path: Path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("""SELECT annee, niveau, code, groupement, groupe_code, valeur, secret FROM mart
                              WHERE mesure = 'ca_eur' AND niveau <> 'commune' AND secret <> 'non_diffuse'""").fetchdf()
    finally:
        con.close()


def test_shared_cells_same_status(warehouses):
    cells = [_cells(p) for p in warehouses]
    keys = ["annee", "niveau", "code", "groupement", "groupe_code"]
    compared = 0
    for other in cells[1:]:
        both = cells[0].merge(other, on=keys, suffixes=("", "_2"))
        same = both[(both.valeur - both.valeur_2).abs() <= 1e-6 * both.valeur.abs().clip(lower=1)]
        assert (same.secret == same.secret_2).all(), same[same.secret != same.secret_2]
        compared += len(same)
    assert compared > 1000


def test_protection_is_the_files_whatever_the_build(warehouses, tmp_path, monkeypatch):
    """Computed again without any cache, in a warehouse of another perimeter: the same statuses."""
    monkeypatch.setenv("TI_SECRET_CACHE", "")
    path = tmp_path / "encore.duckdb"
    loader.build(path, demo=False, embedded=False, progress=quiet, perimeter=resolve(EXAMPLES_DIR / "candidature_hautes_alpes_9_epci.csv"))
    con = duckdb.connect(str(path))
    con.execute("ATTACH ? AS first (READ_ONLY)", [str(warehouses[1])])
    con.execute("INSERT INTO firmes_fichier SELECT * FROM first.firmes_fichier")
    con.close()
    chamber_rows = _cells(warehouses[1])
    loader.load([next(Path(warehouses[0]).parent.glob("demo/*/cci*"))], path, progress=quiet)
    again = _cells(path)
    keys = ["annee", "niveau", "code", "groupement", "groupe_code"]
    both = chamber_rows.merge(again, on=keys, suffixes=("", "_2"))
    assert len(both) == len(chamber_rows) and (both.secret == both.secret_2).all()


def test_custom_territory_publishes_only_sums_of_published_cells(warehouses):
    """The custom TI's turnover is shown only where every member EPCI's cell is shown (it is their sum)."""
    for path in warehouses[1:]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            ti = con.execute("SELECT code FROM ref_territoires WHERE niveau = 'ti' AND role = 'membre'").fetchall()[0][0]
            rows = con.execute("""
                SELECT t.annee, t.groupement, t.groupe_code, t.secret, bool_and(coalesce(e.secret, 'diffuse') = 'diffuse') AS all_shown
                FROM mart t JOIN ref_perimetre p ON p.niveau = 'epci' AND p.role = 'membre'
                LEFT JOIN mart e ON e.mesure = t.mesure AND e.niveau = 'epci' AND e.code = p.code AND e.annee = t.annee
                     AND e.groupement = t.groupement AND e.groupe_code = t.groupe_code
                WHERE t.mesure = 'ca_eur' AND t.niveau = 'ti' AND t.code = ? AND t.secret <> 'non_diffuse'
                GROUP BY ALL""", [ti]).fetchdf()
        finally:
            con.close()
        assert len(rows) > 50
        assert not ((rows.secret == "diffuse") & ~rows.all_shown).any()


def test_joint_attack_across_perimeters(warehouses):
    att = lp_attacker.JointAttacker(warehouses, [2018, 2022])
    checked, breaches = 0, []
    for annee in (2018, 2022):
        for r in att.intervals(annee):
            checked += 1
            v = r["valeur"]
            if r["min"] > (1 - P) * v + 1e-6 * v or r["max"] < (1 + P) * v - 1e-6 * v:
                breaches.append(r)
    assert checked > 200
    assert not breaches, f"{len(breaches)} cellules encadrées à moins de 10 % : {breaches[:5]}"


def test_sources_page_says_custom_perimeter_once(warehouses):
    from indicators import query, secret
    from indicators.db import get_warehouse

    default, candidature = (get_warehouse(p).snapshot() for p in warehouses[:2])
    assert query.custom_territories(default) == []
    names = query.custom_territories(candidature)
    assert len(names) == 1 and "candidature" in names[0]
    text = secret.methode(custom=names)
    assert text.count("Périmètre sur mesure") == 1 and names[0] in text
    assert "Périmètre sur mesure" not in secret.methode(custom=[])
