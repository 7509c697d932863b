"""Statistical secret end to end: primary rule and protection intervals on firm-level turnover.

A chamber file in its real layout is written with a cell of 2 firms and a cell dominated by one
firm, loaded into a temporary warehouse, and every output is checked: query.get, the CLI, the CSV
download, the pages. An interval attacker written apart from the protector (tests/lp_attacker.py)
then bounds every primary secret cell by linear programming over everything published, on this
table, on the demo warehouse and on a held-out chamber export: none may be known within ±10 %.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lp_attacker
from etl import load as loader
from etl import secret as etl_secret
from indicators import query, secret
from indicators.catalog import get as get_indicator
from indicators.db import get_warehouse
from indicators.export.tables import to_csv_bytes

ROOT = Path(__file__).resolve().parents[1]
YEARS = [2021, 2022]
SECTORS = {"industrie": "10.71C", "construction": "43.99C", "commerce": "47.11F",
           "hebergement_restauration": "55.10Z", "transport_autres_services": "49.41A"}
FEW_CELL = (0, "construction")        # EPCI index, sector: 2 firms only
DOMINATED_CELL = (1, "commerce")      # one firm has 90 % of the cell


def _luhn(body: str) -> str:
    for d in "0123456789":
        s = body + d
        total = sum((int(c) * 2 - 9 if int(c) * 2 > 9 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(s)))
        if total % 10 == 0:
            return s
    raise AssertionError


def _firms() -> pd.DataFrame:
    communes = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str)
    communes = communes[communes.departement == "05"]
    epcis = sorted(communes.epci_siren.unique())
    place = {e: communes[communes.epci_siren == e].code_insee.iat[0] for e in epcis}
    rows, n = [], 0
    for ei, e in enumerate(epcis):
        for si, (sector, naf) in enumerate(SECTORS.items()):
            if (ei, sector) == FEW_CELL:
                sizes = [300, 500]
            elif (ei, sector) == DOMINATED_CELL:
                sizes = [9000, 400, 350, 250]
            else:
                sizes = [100 * (1 + (ei * 7 + si * 3 + k) % 11) for k in range(4)]
            for k, size in enumerate(sizes):
                n += 1
                siret = _luhn(_luhn(f"{31000000 + n:08d}") + "0001")
                rows.append({"N° SIRET": siret, "Raison sociale": f"SARL Essai {n}", "Code NAF": naf.replace(".", ""),
                             "Code commune INSEE": place[e], "Tranche effectif": "3 à 5 salariés",
                             "CA 2021 (k€)": str(round(size * (0.9 + 0.01 * k))), "CA 2022 (k€)": str(size),
                             "epci": e, "secteur": sector})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secret")
    firms = _firms()
    path = tmp / "cci_entreprises_2022.csv"
    firms.drop(columns=["epci", "secteur"]).to_csv(path, sep=";", index=False, encoding="utf-8")
    wh = tmp / "warehouse.duckdb"
    loader.build(wh, demo=False, progress=lambda m: None)
    loader.load([path], wh, progress=lambda m: None)
    return wh, firms


@pytest.fixture(scope="module")
def snap(warehouse):
    return get_warehouse(warehouse[0]).snapshot()


def _epci(firms, i):
    return sorted(firms.epci.unique())[i]


def _cell(df, code, sector, annee=2022):
    row = df[(df.code == code) & (df.secteur_code == sector) & (df.annee == annee)]
    assert len(row) == 1
    return row.iloc[0]


# --- the two planted cells are secret everywhere ------------------------------------------------------

def test_planted_cells_secret_in_query(warehouse, snap):
    _, firms = warehouse
    df = query.get(snap, "ca_secteur", "epci", annees=YEARS)
    few = _cell(df, _epci(firms, FEW_CELL[0]), FEW_CELL[1])
    dom = _cell(df, _epci(firms, DOMINATED_CELL[0]), DOMINATED_CELL[1])
    # « s » and one generic note: never which rule hid the cell.
    assert few.statut == "secret" and np.isnan(few.valeur) and few.note == secret.NOTE
    assert dom.statut == "secret" and np.isnan(dom.valeur) and dom.note == secret.NOTE
    # Growths built on a secret level are secret too.
    g = query.get(snap, "taux_croissance_ca_secteur", "epci", annee=2022, annee_base=2021)
    assert _cell(g, few.code, FEW_CELL[1]).statut == "secret"
    assert _cell(g, dom.code, DOMINATED_CELL[1]).statut == "secret"
    # Non-secret cells carry the firms' true total (k€ -> €).
    truth = firms.assign(ca=firms["CA 2022 (k€)"].astype(float) * 1000).groupby(["epci", "secteur"]).ca.sum()
    shown = df[(df.annee == 2022) & df.statut.isin(["ok", "partiel"])]
    assert len(shown) > 30
    for r in shown.itertuples():
        assert r.valeur == truth.get((r.code, r.secteur_code), 0.0)


def test_planted_cells_secret_in_cli_and_csv(warehouse, snap, capsys):
    from indicators.__main__ import main

    wh, firms = warehouse
    assert main(["show", "ca_secteur", "--annee", "2022", "--warehouse", str(wh), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    for ei, sector in (FEW_CELL, DOMINATED_CELL):
        row = next(r for r in rows if r["code"] == _epci(firms, ei) and r["secteur_code"] == sector)
        assert row["statut"] == "secret" and row["valeur"] == ""
    data = to_csv_bytes(query.get(snap, "ca_secteur", "epci", annee=2022)).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data), delimiter=";"))
    masked = [r for r in rows if r["statut"] == "secret"]
    assert masked and all(r["valeur"] == "" for r in masked)
    # No firm-level column ever leaves.
    assert not {"siret", "siren", "raison_sociale", "nb_contrib", "max_contrib"} & set(rows[0])
    for r in rows:
        assert "Essai" not in ";".join(r.values())


def test_pages_show_s(warehouse, monkeypatch):
    from streamlit.testing.v1 import AppTest

    wh, firms = warehouse
    monkeypatch.setenv("TI_WAREHOUSE", str(wh))
    code = _epci(firms, FEW_CELL[0])
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/views/chiffre_affaires.py").run()
    at.sidebar.selectbox(key="territoire").set_value(code).run()
    assert not at.exception
    name = query.territories(get_warehouse(wh).snapshot(), "epci", [code]).nom_court.iat[0]
    tables = [d.value for d in at.dataframe] + [t.value.reset_index() for t in at.table]   # short ones are static
    cat = "Catégorie" if any("Catégorie" in t for t in tables) else "Secteur"
    rows = pd.concat([t for t in tables if {cat, "Territoire"} <= set(t)])
    rows = rows[(rows["Année"].astype(str) == "2022") & (rows[cat] == "Construction") & (rows["Territoire"] == name)]
    assert len(rows) >= 1
    assert all(v == "s" or pd.isna(v) for v in rows["Valeur"]) and rows["Statut"].str.startswith("s").all()
    assert not rows["Note"].astype(str).str.contains("entreprise|%|secondaire").any()
    assert "s" in at.markdown[1].value or any("« s »" in m.value or " s" in m.value for m in at.markdown)


# --- no primary secret cell can be bounded within ±p % by linear programming ----------------------------

P = 0.10


def _assert_protected(att, years):
    checked = []
    for y in years:
        for r in att.intervals(y):
            v = r["valeur"]
            checked.append(r)
            assert r["max"] >= v * (1 + P) * (1 - 1e-7) and r["min"] <= v * (1 - P) * (1 + 1e-7), \
                f"valeur secrète encadrée à moins de {P:.0%} : {r}"
    return checked


def test_interval_attack_on_planted_table(warehouse, snap):
    wh, _ = warehouse
    assert not lp_attacker.growth_leaks(snap, YEARS)
    checked = _assert_protected(lp_attacker.Attacker(snap, wh, YEARS), YEARS)
    assert len(checked) >= 2 * len(YEARS)


def test_interval_attack_on_demo(demo_warehouse):
    snap = get_warehouse(demo_warehouse).snapshot()
    years = query.years(snap, "ca_secteur", "epci")
    assert not lp_attacker.growth_leaks(snap, years)
    checked = _assert_protected(lp_attacker.Attacker(snap, demo_warehouse, years), years)
    assert len(checked) > 50


def _held_out_firms(seed: int = 20261203) -> pd.DataFrame:
    """A chamber export the rules were never tuned on: random firms over the Hautes-Alpes' communes,
    NAF codes of every sector and filière, heavy-tailed turnover (a few firms dominate their cell)."""
    rng = np.random.default_rng(seed)
    communes = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str)
    communes = communes[communes.departement == "05"].code_insee.to_numpy()
    filieres = pd.read_csv(ROOT / "data" / "reference" / "filieres.csv", dtype=str)
    naf = pd.read_csv(ROOT / "data" / "reference" / "naf.csv", dtype=str).naf_sous_classe
    codes = np.concatenate([filieres.iloc[:, 1].dropna().unique()[:40], naf.sample(60, random_state=seed).to_numpy()])
    codes = [c for c in codes if c in set(naf)]
    n = 700
    rows = []
    place = rng.choice(communes, size=n)
    code = rng.choice(codes, size=n)
    size = rng.lognormal(5.0, 1.6, size=n)
    for i in range(n):
        siret = _luhn(_luhn(f"{52000000 + i * 13:08d}") + "0001")
        rows.append({"N° SIRET": siret, "Raison sociale": f"SAS Témoin {i}", "Code NAF": code[i].replace(".", ""),
                     "Code commune INSEE": place[i], "Tranche effectif": "3 à 5 salariés",
                     "CA 2021 (k€)": str(max(1, round(size[i] * rng.uniform(0.8, 1.2)))),
                     "CA 2022 (k€)": str(max(1, round(size[i])))})
    return pd.DataFrame(rows)


def test_interval_attack_on_held_out_export(tmp_path, reference_warehouse):
    import shutil

    path = tmp_path / "cci_temoin_2022.csv"
    _held_out_firms().to_csv(path, sep=";", index=False, encoding="utf-8")
    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(reference_warehouse, wh)
    loader.load([path], wh, progress=lambda m: None)
    snap = get_warehouse(wh).snapshot()
    assert not lp_attacker.growth_leaks(snap, YEARS)
    checked = _assert_protected(lp_attacker.Attacker(snap, wh, YEARS), YEARS)
    assert len(checked) >= 20
    # What is published is true.
    truth = lp_attacker.truth(wh).set_index(["niveau", "code", "annee", "groupement", "groupe_code"]).valeur
    cells = lp_attacker.published(snap, YEARS)
    shown = cells[(cells.niveau != "commune") & cells.statut.isin(["ok", "partiel"]) & (cells.valeur > 0)]
    assert len(shown) > 50
    for r in shown.itertuples():
        assert r.valeur == pytest.approx(truth[(r.niveau, r.code, r.annee, r.groupement, r.groupe_code)])


def test_attack_finds_cells_without_the_interval_rule(tmp_path, reference_warehouse, monkeypatch):
    """The attacker is not blind: with the primary rule alone (no complementary cell), it bounds planted
    cells exactly."""
    import shutil

    path = tmp_path / "cci_entreprises_2022.csv"
    _firms().drop(columns=["epci", "secteur"]).to_csv(path, sep=";", index=False, encoding="utf-8")
    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(reference_warehouse, wh)
    monkeypatch.setattr(etl_secret, "protect_problem", lambda pb, prim, lone, p, hidden: hidden)
    monkeypatch.setenv("TI_SECRET_CACHE", "")   # not the protection of the same file computed by another test
    loader.load([path], wh, progress=lambda m: None)
    snap = get_warehouse(wh).snapshot()
    found = lp_attacker.Attacker(snap, wh, [2022]).intervals(2022)
    assert any(r["max"] - r["min"] < 1e-6 * r["valeur"] for r in found), found


# --- the suppression itself on minimal tables ----------------------------------------------------------

def _table(values, nb, top=None, members=None):
    """A one-year table of cells over atoms: cell k = sum of atoms members[k]."""
    n = len(values)
    cells = pd.DataFrame({"niveau": "epci", "code": [str(k) for k in range(n)], "groupement": "secteur",
                          "groupe_code": "x", "valeur": values, "nb_contrib": nb,
                          "max_contrib": top if top is not None else [0.0] * n})
    atoms = np.array([v for v, m in zip(values, members) if len(m) == 1], dtype=float)
    return etl_secret.Table(cells, atoms, [np.array(m) for m in members])


def test_one_margin_least_cost_complement():
    # Total 100 = 10 (2 firms: primary) + 30 + 20 + 40. Hiding 20 lets 10 move by ±10 % of its value… and so
    # would hiding 30 or 40; least cost: 20, and nothing else.
    t = _table([10.0, 30.0, 20.0, 40.0, 100.0], [2, 5, 5, 5, 17], members=[[0], [1], [2], [3], [0, 1, 2, 3]])
    status = etl_secret.protect_table(t, etl_secret.Rules(3, 0.85, 0.10))
    assert status.tolist() == ["primaire", "diffuse", "secondaire", "diffuse", "diffuse"]


def test_complement_must_be_large_enough():
    # The secret cell is 50; a complement of 2 lets it move by 2 only (< 10 % of 50): the cheapest cell that
    # gives 5 is taken (8), not the smallest one.
    t = _table([50.0, 2.0, 8.0, 40.0, 100.0], [2, 5, 5, 5, 17], members=[[0], [1], [2], [3], [0, 1, 2, 3]])
    status = etl_secret.protect_table(t, etl_secret.Rules(3, 0.85, 0.10))
    assert status.tolist() == ["primaire", "diffuse", "secondaire", "diffuse", "diffuse"]


def test_known_zero_never_a_complement_and_lone_firm_knows_its_cell():
    # Two primary cells in one margin: the firm alone in the second one knows it, and would get the first
    # by difference; a third cell is hidden. Zero cells (no firm) are never hidden.
    t = _table([10.0, 15.0, 0.0, 35.0, 40.0, 100.0], [2, 1, 0, 5, 5, 13],
               members=[[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]])
    status = etl_secret.protect_table(t, etl_secret.Rules(3, 0.85, 0.10))
    assert status.tolist() == ["primaire", "primaire", "diffuse", "secondaire", "diffuse", "diffuse"]


def test_tiny_cell_beside_a_huge_one_is_audited_in_its_own_units(monkeypatch):
    # 1 k€ beside 100 M€: in the problem's units (the largest atom) the cell is 1e-5, below HiGHS's tolerances;
    # the audit decides it again in units of the cell itself.
    t = _table([1e3, 1e8, 1e8 + 1e3], [2, 5, 7], members=[[0], [1], [0, 1]])
    pb = etl_secret._Problem(t, np.arange(3), np.arange(2))
    calls = []
    exact = etl_secret._interval
    monkeypatch.setattr(etl_secret, "_interval", lambda *a: calls.append(a[-1]) or exact(*a))
    fixed = np.zeros(2, dtype=bool)
    assert etl_secret._missing(pb, 0, np.array([True, False, False]), fixed, 0.10) == [+1, -1]   # recomputable
    assert etl_secret._missing(pb, 0, np.array([True, True, False]), fixed, 0.10) == []          # 0 to 100 M€
    assert calls, "the exact audit was not asked"
    status = etl_secret.protect_table(t, etl_secret.Rules(3, 0.85, 0.10))
    assert status.tolist() == ["primaire", "secondaire", "diffuse"]


def test_years_protected_in_parallel_as_in_one_process(warehouse, monkeypatch):
    """A national file's years are protected in parallel processes: same statuses as in this one."""
    import duckdb

    con = duckdb.connect(str(warehouse[0]), read_only=True)
    try:
        tables = list(etl_secret._year_tables(con, etl_secret.Rules()).values())
    finally:
        con.close()
    rules = etl_secret.Rules()
    alone = etl_secret._protect_years(tables, rules)
    monkeypatch.setattr(etl_secret, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(etl_secret.os, "cpu_count", lambda: 2)
    # Solved in the workers, which do not see this patch; never here.
    monkeypatch.setattr(etl_secret, "protect_table", lambda *a: pytest.fail("protégé dans ce processus"))
    before = dict(etl_secret.STATS)
    pooled = etl_secret._protect_years(tables, rules)
    assert len(tables) > 1 and all((s == "secondaire").any() for s in alone)
    assert all((a == b).all() for a, b in zip(alone, pooled))
    assert etl_secret.STATS["milp"] > before["milp"]   # the workers' counts come back


# --- secret by construction: a new indicator on turnover without any flag ---------------------------------

def test_new_indicator_on_turnover_is_protected(warehouse, snap, monkeypatch):
    from indicators import catalog

    _, firms = warehouse
    raw = catalog.Indicator("ca_brut", "Chiffre d'affaires brut", "€", "Essai : aucune option de secret.", "ca_eur",
                            groupement="secteur", dimension="secteur")
    monkeypatch.setitem(catalog.CATALOG, raw.name, raw)
    df = query.get(snap, "ca_brut", "epci", annee=2022)
    assert _cell(df, _epci(firms, FEW_CELL[0]), FEW_CELL[1]).statut == "secret"
    assert _cell(df, _epci(firms, DOMINATED_CELL[0]), DOMINATED_CELL[1]).statut == "secret"
    same = query.get(snap, "ca_secteur", "epci", annee=2022)
    assert df.valeur.equals(same.valeur) and df.statut.equals(same.statut)
    # Every turnover grouping, even one no indicator reads (all activities), is withheld unless evaluated.
    tot = catalog.Indicator("ca_tout", "Chiffre d'affaires, toutes activités", "€", "Essai.", "ca_eur")
    monkeypatch.setitem(catalog.CATALOG, tot.name, tot)
    tout = query.get(snap, "ca_tout", "epci", annee=2022)
    assert tout.valeur.fillna(0).eq(0).all() and tout.statut.eq("secret").sum() >= 8


def test_row_never_evaluated_is_withheld(warehouse, tmp_path):
    import shutil

    import duckdb

    unevaluated, old_format = tmp_path / "sans_statut.duckdb", tmp_path / "ancien.duckdb"
    for path, sql in [(unevaluated, """UPDATE mart SET secret = NULL WHERE mesure = 'ca_eur' AND niveau = 'departement'
                                       AND groupement = 'champ'"""),
                      (old_format, "ALTER TABLE mart DROP COLUMN secret")]:  # built before the status was stored
        shutil.copyfile(warehouse[0], path)
        con = duckdb.connect(str(path))
        con.execute(sql)
        con.execute("UPDATE meta SET valeur = ? WHERE cle = 'version'", [path.stem])  # a warehouse of its own
        con.close()
    df = query.get(get_warehouse(unevaluated).snapshot(), "ca_total", "departement", annee=2022)
    assert df.statut.eq("secret").all() and df.valeur.isna().all()
    snap = get_warehouse(old_format).snapshot()
    df = query.get(snap, "ca_secteur", "epci", annee=2022)
    assert df.valeur.fillna(0).eq(0).all() and df.statut.eq("secret").any()
    assert query.get(snap, "population", "epci").valeur.notna().any()


# --- « s », never why ------------------------------------------------------------------------------

def test_outputs_never_say_which_rule(warehouse, snap):
    from indicators.export import slides

    for name in ("ca_secteur", "ca_filiere", "ca_total", "croissance_ca_secteur", "taux_croissance_ca_secteur"):
        for niveau in ("commune", "epci", "departement"):
            df = query.get(snap, name, niveau, annee=2022)
            assert set(df[df.statut == "secret"].note) <= {secret.NOTE}
    table = query.get(snap, "ca_secteur", "epci", annee=2022).assign(territoire="x")
    notes = slides.secret_notes(table)
    assert notes[0].startswith("« s » : secret statistique") and not any("secret" in n for n in notes[1:])
    assert not any(w in " ".join(notes) for w in ("entreprise", "%", "secondaire", "complément"))
    # No module that renders outputs knows the rules' wording.
    for path in [ROOT / "indicators" / f for f in ("ui.py", "charts.py", "query.py")] + \
            sorted((ROOT / "indicators" / "export").glob("*.py")) + sorted((ROOT / "indicators" / "content").glob("*.py")) + \
            sorted((ROOT / "pages" / "views").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for word in ("secondaire", "NOTE_FEW", "NOTE_DOMINANT", "complémentaire", "masque"):
            assert word not in text, (path.name, word)

def test_commune_level_not_diffused(snap):
    df = query.get(snap, "ca_secteur", "commune", annee=2022)
    assert df.valeur.dropna().eq(0).all()
    assert df.statut.eq("secret").any()


def test_demo_has_secret_cells(demo_warehouse):
    snap = get_warehouse(demo_warehouse).snapshot()
    sect = query.get(snap, "ca_secteur", "epci", annee=2022)
    assert sect.statut.eq("secret").sum() >= 2          # a dominated sector cell and its complements
    fil = query.get(snap, "ca_filiere", "epci", annee=2022)
    gap = fil[(fil.nom_court == "Gap-Tallard-Durance") & (fil.filiere_code == "aeronautique")]
    queyras = fil[(fil.nom_court == "Guillestrois-Queyras") & (fil.filiere_code == "ppam")]
    assert gap.statut.iat[0] == "secret" and queyras.statut.iat[0] == "secret"
