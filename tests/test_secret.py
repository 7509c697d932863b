"""Statistical secret end to end: primary and secondary suppression on firm-level turnover.

A chamber file in its real layout is written with a cell of 2 firms and a cell dominated by one
firm, loaded into a temporary warehouse, and every output is checked: query.get, the CLI, the CSV
download, the pages. An attacker then tries every subtraction (and every linear combination) over
all the published cells: no secret value may come out; and no complement may be spared.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import load as loader
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
    assert few.statut == "secret" and np.isnan(few.valeur) and "moins de 3 entreprises" in few.note
    assert dom.statut == "secret" and np.isnan(dom.valeur) and "85 %" in dom.note
    # A coarser published value is suggested.
    assert "département" in few.note or "tous secteurs" in few.note
    # Growths built on a secret level are secret too.
    g = query.get(snap, "taux_croissance_ca_secteur", "epci", annee=2022, annee_base=2021)
    assert _cell(g, few.code, FEW_CELL[1]).statut == "secret"
    assert _cell(g, dom.code, DOMINATED_CELL[1]).statut == "secret"
    # Non-secret cells carry the firms' true total (k€ -> €).
    truth = firms.assign(ca=firms["CA 2022 (k€)"].astype(float) * 1000).groupby(["epci", "secteur"]).ca.sum()
    shown = df[(df.annee == 2022) & df.statut.ne("secret")]
    assert len(shown) > 30
    for r in shown.itertuples():
        assert r.valeur == truth[(r.code, r.secteur_code)]


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
    rows = pd.concat([t for t in (d.value for d in at.dataframe) if {"Secteur", "Territoire"} <= set(t)])
    rows = rows[(rows["Année"] == "2022") & (rows["Secteur"] == "Construction") & (rows["Territoire"] == name)]
    assert len(rows) >= 2  # growth and level tables
    assert rows["Valeur"].eq("s").all() and rows["Statut"].str.startswith("s").all()
    assert rows["Note"].str.contains("moins de 3 entreprises").all()
    assert "s" in at.markdown[1].value or any("« s »" in m.value or " s" in m.value for m in at.markdown)


# --- no secret value can be rebuilt from everything published --------------------------------------

def _published(snap):
    """Every published cell of the turnover tables (levels of all EPCIs + département, sectors + champ)."""
    frames = []
    for niveau in ("epci", "departement"):
        lv = query.get(snap, "ca_secteur", niveau, annees=YEARS)
        frames.append(lv[["code", "annee", "secteur_code", "valeur", "statut"]].rename(columns={"secteur_code": "cat"}))
        tot = query.get(snap, "ca_total", niveau, annees=YEARS)
        frames.append(tot[["code", "annee", "valeur", "statut"]].assign(cat="CHAMP"))
    cells = pd.concat(frames, ignore_index=True).assign(niveau=lambda d: np.where(d.code == "05", "departement", "epci"))
    growth = []
    for niveau in ("epci", "departement"):
        for name in ("taux_croissance_ca_secteur", "croissance_ca_secteur"):
            g = query.get(snap, name, niveau, annee=2022, annee_base=2021)
            growth.append(g[["code", "secteur_code", "valeur", "statut"]].rename(columns={"secteur_code": "cat"}).assign(kind=name))
        g = query.get(snap, "taux_croissance_ca", niveau, annee=2022, annee_base=2021)
        growth.append(g[["code", "valeur", "statut"]].assign(cat="CHAMP", kind="taux_croissance_ca"))
    return cells.reset_index(drop=True), pd.concat(growth, ignore_index=True)


def _truth(firms):
    t = {}
    for y in YEARS:
        f = firms.assign(ca=firms[f"CA {y} (k€)"].astype(float) * 1000)
        for (e, s), v in f.groupby(["epci", "secteur"]).ca.sum().items():
            t[(e, y, s)] = v
        for e, v in f.groupby("epci").ca.sum().items():
            t[(e, y, "CHAMP")] = v
        for s, v in f.groupby("secteur").ca.sum().items():
            t[("05", y, s)] = v
        t[("05", y, "CHAMP")] = f.ca.sum()
    return t


def _relations(cells):
    idx = {(r.code, r.annee, r.cat): i for i, r in enumerate(cells.itertuples())}
    rels = []
    for (code, y, cat), i in idx.items():
        if cat == "CHAMP":
            rels.append((i, [j for (c2, y2, k2), j in idx.items() if c2 == code and y2 == y and k2 != "CHAMP"]))
        if code == "05":
            rels.append((i, [j for (c2, y2, k2), j in idx.items() if c2 != "05" and y2 == y and k2 == cat]))
    return idx, rels


def test_no_secret_value_can_be_rebuilt(warehouse, snap):
    _, firms = warehouse
    cells, growth = _published(snap)
    truth = _truth(firms)
    idx, rels = _relations(cells)
    known = {i: v for i, v in enumerate(cells.valeur) if not np.isnan(v)}
    secret_cells = [i for i, s in enumerate(cells.statut) if s == "secret"]
    assert len(secret_cells) >= 2 * len(YEARS)
    # 1. Subtractions, to a fixpoint: a relation with one unknown gives it; a published growth and one
    #    level give the other level.
    rates = {(r.code, r.cat): r for r in growth.itertuples() if r.statut == "ok"}
    changed = True
    while changed:
        changed = False
        for total, parts in rels:
            members = [total, *parts]
            unknown = [m for m in members if m not in known]
            if len(unknown) == 1:
                u = unknown[0]
                s = sum(known[p] for p in parts if p in known)
                known[u] = (known[total] - s) if u != total else s
                changed = True
        for (code, cat), r in rates.items():
            i0, i1 = idx[(code, 2021, cat)], idx[(code, 2022, cat)]
            if (i0 in known) != (i1 in known):
                if r.kind == "croissance_ca_secteur":
                    known.setdefault(i1, known.get(i0, np.nan) + r.valeur)
                    known.setdefault(i0, known.get(i1, np.nan) - r.valeur)
                elif r.kind.startswith("taux"):
                    known.setdefault(i1, known.get(i0, np.nan) * (1 + r.valeur))
                    known.setdefault(i0, known.get(i1, np.nan) / (1 + r.valeur))
                changed = True
    rebuilt = [cells.iloc[i][["code", "annee", "cat"]].tolist() for i in secret_cells if i in known]
    assert not rebuilt, f"valeurs secrètes recalculables par différence : {rebuilt}"
    # 2. Any linear combination: a hidden cell is fixed iff its unit vector is in the row space of the
    #    relations restricted to the hidden cells (rank test, independent of the module's SVD audit).
    # The attacker knows the sums of EPCIs outside the département: they are zero here (all firms in 05).
    hidden = [i for i in range(len(cells)) if i not in known]
    a = secret.relation_matrix(len(cells), rels)[:, hidden]
    rank = np.linalg.matrix_rank(a)
    for k, i in enumerate(hidden):
        e = np.zeros((1, len(hidden)))
        e[0, k] = 1
        assert np.linalg.matrix_rank(np.vstack([a, e])) > rank, cells.iloc[i].tolist()
    # 3. What is published is true.
    for i, v in known.items():
        r = cells.iloc[i]
        if cells.statut.iat[i] != "secret":
            assert v == pytest.approx(truth[(r["code"], int(r["annee"]), r["cat"])])


def test_no_complement_masked_without_need(warehouse, snap):
    cells, _ = _published(snap)
    idx, rels = _relations(cells)
    a = secret.relation_matrix(len(cells), rels)
    ind = get_indicator("ca_secteur")
    pattern = query.secret_pattern(snap, ind, "secteur")
    merged = cells.merge(pattern.rename(columns={"groupe_code": "cat"})[["code", "annee", "cat", "masque"]],
                         how="left", on=["code", "annee", "cat"])
    primary = set(np.flatnonzero(merged.masque.eq("primaire").to_numpy()).tolist())
    hidden = set(np.flatnonzero(cells.statut.eq("secret").to_numpy()))
    complements = hidden - primary
    assert primary and complements
    assert not secret.exposed(a, hidden, primary, set())
    for c in complements:
        assert secret.exposed(a, hidden - {c}, primary, set()), f"complément inutile : {cells.iloc[c].tolist()}"
    # Far from the secret cells, nothing is masked: a sector column with no secret stays whole.
    assert cells[cells.cat == "hebergement_restauration"].statut.ne("secret").all()


# --- the suppression itself on minimal tables ----------------------------------------------------------

def test_no_secret_no_mask():
    values = [100.0, 10.0, 30.0, 20.0, 40.0]
    assert not secret.suppress(values, [False] * 5, [(0, [1, 2, 3, 4])]).any()


def test_one_complement_suffices_masks_exactly_one_the_smallest():
    # Total 100 = 10 (secret, 2 firms) + 30 + 20 + 40: the smallest other part (20) is masked, only it.
    mask = secret.suppress([100.0, 10.0, 30.0, 20.0, 40.0], [False, True, False, False, False],
                           [(0, [1, 2, 3, 4])], [20, 2, 5, 5, 5])
    assert mask.tolist() == [False, False, False, True, False]


def test_known_zero_never_a_complement():
    # The zero cell has no firm: masking it would protect nothing (everybody knows it is empty).
    mask = secret.suppress([100.0, 10.0, 0.0, 50.0, 40.0], [False, True, False, False, False],
                           [(0, [1, 2, 3, 4])], [20, 2, 0, 5, 5])
    assert mask.tolist() == [False, False, False, False, True]


def test_table_with_margins_closes_a_rectangle():
    vals = np.array([[5, 20, 30], [40, 8, 60], [70, 80, 90]], dtype=float)
    full = np.zeros((4, 4))
    full[:3, :3], full[:3, 3], full[3, :3], full[3, 3] = vals, vals.sum(1), vals.sum(0), vals.sum()
    cell = lambda r, c: r * 4 + c  # noqa: E731
    rels = [(cell(r, 3), [cell(r, c) for c in range(3)]) for r in range(4)]
    rels += [(cell(3, c), [cell(r, c) for r in range(3)]) for c in range(4)]
    primary = np.zeros(16, dtype=bool)
    primary[cell(0, 0)] = True
    mask = secret.suppress(full.ravel(), primary, rels, [10] * 16)
    # The cheapest rectangle through (0, 0): (0, 1), (1, 0), (1, 1).
    assert sorted(np.flatnonzero(mask).tolist()) == [cell(0, 1), cell(1, 0), cell(1, 1)]
    a = secret.relation_matrix(16, rels)
    hidden = set(np.flatnonzero(mask | primary).tolist())
    assert not secret.exposed(a, hidden, {cell(0, 0)}, set())


def test_single_firm_cannot_unmask_its_neighbour():
    # Two secret cells alone in a relation: the firm alone in one of them knows its own figure and would
    # recompute the other one; a third cell is masked.
    mask = secret.suppress([100.0, 10.0, 15.0, 35.0, 40.0], [False, True, True, False, False],
                           [(0, [1, 2, 3, 4])], [20, 1, 2, 5, 5])
    assert mask.tolist() == [False, False, False, True, False]
    mask = secret.suppress([100.0, 10.0, 15.0, 35.0, 40.0], [False, True, True, False, False],
                           [(0, [1, 2, 3, 4])], [20, 2, 2, 5, 5])
    assert not mask.any()


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
    assert gap.statut.iat[0] == "secret" and "85 %" in gap.note.iat[0]
    assert queyras.statut.iat[0] == "secret" and "moins de 3" in queyras.note.iat[0]
