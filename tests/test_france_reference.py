"""France-wide reference and the national base comparateur: régions and France computed over all
communes, every commune counted once (arrondissements municipaux, merged communes), the embedded extract."""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import REPO_ROOT, query, real_file
from etl import perimeter
from etl.sources import base_comparateur

REF = REPO_ROOT / "data" / "reference"
NATIONAL = "insee_base_cc_comparateur_2022edition_france.csv"
EXTRACT = REPO_ROOT / "data" / "default" / "base_cc_comparateur_2022_extrait.csv"
VARIABLES = {"P18_POP": ("population", 2018, "_T"), "ETTOT18": ("etablissements", 2018, "_T"),
             "ETBE18": ("etablissements", 2018, "BE"), "P18_EMPLT": ("emplois", 2018, "_T")}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return read("communes.csv")


@pytest.fixture(scope="module")
def former(communes) -> dict[str, str]:
    return {old: c for c, olds in zip(communes.code_insee, communes.anciens_codes) for old in olds.split("|") if old}


def test_reference_files_are_consistent(communes, former):
    epci, terr = read("epci.csv"), read("territoires.csv")
    assert communes.code_insee.is_unique and len(communes) > 34_000
    assert (communes.departement != "").all() and (communes.region != "").all()
    deps = set(terr[terr.niveau == "departement"].code)
    regs = set(terr[terr.niveau == "region"].code)
    assert len(deps) == 101 and len(regs) == 18 and list(terr[terr.niveau == "france"].code) == [perimeter.FRANCE_CODE]
    in_dep = communes[communes.departement.isin(deps)]
    assert set(in_dep.region) == regs
    # The others are the overseas collectivities (no INSEE département): codes 975 and above.
    assert (communes[~communes.departement.isin(deps)].code_insee.str[:3] >= "975").all()
    # One département -> one région; every commune's EPCI exists.
    assert (in_dep.groupby("departement").region.nunique() == 1).all()
    assert set(communes.epci_siren) - {""} <= set(epci.epci_siren)
    assert set(former).isdisjoint(communes.code_insee)
    changes = read("communes_changements.csv")
    assert dict(zip(changes.ancien_code, changes.nouveau_code)) == former
    # Every TI member resolves: EPCI in epci.csv, single communes by SIREN, EPT through their communes.
    tis, members, ti_communes = read("territoires_industrie.csv"), read("territoires_industrie_membres.csv"), \
        read("territoires_industrie_communes.csv")
    assert len(tis) == 183 and tis.id_ti.is_unique
    assert (members.groupby("id_ti").size().reindex(tis.id_ti).astype(str).values == tis.nb_membres.values).all()
    assert set(members[members.type_membre == "epci"].code) <= set(epci.epci_siren)
    single = set(members[members.type_membre == "commune"].code)
    assert single <= set(ti_communes[ti_communes.type_membre == "commune"].code_membre)
    assert set(members[members.type_membre == "ept"].code) <= set(ti_communes.code_membre)
    assert set(ti_communes.code_insee) <= set(communes.code_insee)
    assert not ti_communes.duplicated(["id_ti", "code_insee"]).any()
    # The candidature's short names override the generic rule; the others drop the legal form.
    overrides = read("epci_noms_courts.csv")
    names = dict(zip(epci.epci_siren, epci.nom_court))
    assert all(names[s] == n for s, n in zip(overrides.epci_siren, overrides.nom_court))
    generic = epci[~epci.epci_siren.isin(overrides.epci_siren) & epci.type.isin(["CC", "CA"])]
    assert not generic.nom_court.str.match(r"^(CC|CA) ").any() and (generic.nom_court != "").all()


def test_areas_and_compact_contours(communes):
    area = pd.to_numeric(communes.superficie_km2, errors="coerce")
    # Communes with no contour of 2018: overseas collectivities, communes re-created since then.
    assert area.notna().sum() > len(communes) - 150 and (area.dropna() > 0).all()
    files = sorted((REF / "contours").glob("*.json.gz"))
    assert len(files) == 101
    total = sum(f.stat().st_size for f in files)
    assert total < 3.5e6, f"contours: {total / 1e6:.2f} MB"
    doc = json.loads(gzip.decompress(files[0].read_bytes()))
    dep = files[0].name.split(".")[0]
    assert set(doc["communes"]) == set(communes[(communes.departement == dep) & area.notna()].code_insee)


@pytest.fixture(scope="module")
def national():
    path = real_file(NATIONAL)
    raw = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    con = duckdb.connect()
    staged = base_comparateur.stage(con, path)
    facts = con.execute("SELECT * FROM stg_facts").fetchdf()
    con.close()
    return raw, staged, facts


def test_national_totals_equal_an_independent_recomputation(national, communes, former):
    raw, staged, facts = national
    current = set(communes.code_insee)
    target = raw.CODGEO.map(lambda c: c if c in current else former.get(c))
    # What is neither a current nor a former commune: the 45 arrondissements municipaux, which the file
    # publishes beside their commune (adding them would count Paris, Lyon and Marseille twice).
    arrondissements = raw[target.isna()]
    assert len(arrondissements) == 45
    for dep, group in arrondissements.groupby(arrondissements.CODGEO.str[:2]):
        # Each city's arrondissements add up to the city's own row (its largest commune of the département).
        same_dep = raw[target.notna() & (raw.CODGEO.str[:2] == dep)]
        city = same_dep.P18_POP.astype(float).max()
        assert group.P18_POP.astype(float).sum() == pytest.approx(city, rel=0.01)
    rows = raw[target.notna()].assign(commune=target[target.notna()])
    rows = rows.merge(communes[["code_insee", "region"]], left_on="commune", right_on="code_insee")
    regions = set(read("territoires.csv").query("niveau == 'region'").code)
    rows = rows[rows.region.isin(regions)]
    for var, (mesure, annee, naf) in VARIABLES.items():
        v = pd.to_numeric(rows[var], errors="coerce")
        got = facts[(facts.mesure == mesure) & (facts.annee == annee) & (facts.naf_code == naf)]
        fr = got[got.niveau == "france"]
        assert len(fr) == 1 and fr.valeur.iat[0] == pytest.approx(v.sum(), rel=1e-12)
        assert fr.statut.iat[0] == ("partiel" if v.isna().any() else "ok")
        by_region = v.groupby(rows.region).sum()
        reg = got[got.niveau == "region"].set_index("territoire_code")
        assert set(reg.index) == regions
        for code, total in by_region.items():
            if v[rows.region == code].notna().any():
                assert reg.valeur[code] == pytest.approx(total, rel=1e-12), (var, code)
        # Every current commune once; merged communes summed.
        com = got[got.niveau == "commune"]
        assert com.territoire_code.is_unique and set(com.territoire_code) <= current
        assert com.valeur.sum() == pytest.approx(v.sum(), rel=1e-12)
    assert staged.unique_keys


def test_merged_commune_with_a_secret_part_is_partial(tmp_path, communes):
    """Two former communes of one current commune, one secret: the sum of the known part, partiel."""
    merged = communes[communes.anciens_codes.str.count(r"\|") >= 1].iloc[0]
    a, b = merged.anciens_codes.split("|")[:2]
    path = tmp_path / "base_cc_comparateur_2022.csv"
    path.write_text(f"CODGEO;P18_POP;ETTOT18;ETBE18\r\n{a};100;20;\r\n{b};50;10;3\r\n", encoding="ascii")
    con = duckdb.connect()
    base_comparateur.stage(con, path)
    got = {(m, n): (v, s) for m, n, v, s in con.execute(
        "SELECT mesure, naf_code, valeur, statut FROM stg_facts WHERE territoire_code = ?", [merged.code_insee]).fetchall()}
    con.close()
    assert got[("population", "_T")] == (150.0, "ok")
    assert got[("etablissements", "_T")] == (30.0, "ok")
    assert got[("etablissements", "BE")] == (3.0, "partiel")


def test_extract_is_the_national_file_restricted_with_its_totals(national):
    raw, _, facts = national
    with open(EXTRACT, encoding="ascii", newline="") as f:
        text = f.read()
    assert "\r\n" in text
    ext = pd.read_csv(EXTRACT, sep=";", dtype=str, keep_default_na=False)
    com = ext[ext.NIVGEO == "COM"]
    # Commune rows: the national file's cells, as published.
    merged = com.merge(raw, on="CODGEO", suffixes=("", "_nat"))
    assert len(merged) == len(com) > 0
    for var in VARIABLES:
        assert (merged[var] == merged[var + "_nat"]).all()
    # The communes the default warehouse holds, every one of them.
    held = perimeter.resolve().communes
    facts_com = set(facts[facts.niveau == "commune"].territoire_code)
    assert held & facts_com <= set(ext_current(com.CODGEO))
    # Totals: those the loader computes from the national file.
    tot = ext[ext.NIVGEO != "COM"]
    assert sorted(tot.NIVGEO.unique()) == ["FRANCE", "REG"] and len(tot) == 19
    for var, (mesure, annee, naf) in VARIABLES.items():
        got = facts[(facts.mesure == mesure) & (facts.annee == annee) & (facts.naf_code == naf) & (facts.niveau != "commune")]
        expected = dict(zip(got.territoire_code, zip(got.valeur, got.statut)))
        for code, cell, partial in zip(tot.CODGEO, tot[var], tot.VARS_PARTIELLES):
            value, statut = expected[code]
            assert (cell == "") == (statut == "secret")
            if cell:
                assert float(cell) == pytest.approx(value, rel=1e-9)
            assert (var in partial.split()) == (statut == "partiel")


def ext_current(codes) -> set[str]:
    comm = read("communes.csv")
    former = {o: c for c, olds in zip(comm.code_insee, comm.anciens_codes) for o in olds.split("|") if o}
    current = set(comm.code_insee)
    return {c if c in current else former.get(c) for c in codes} - {None}


def test_default_build_gives_the_real_industrial_share(demo_warehouse):
    """The embedded extract loads as real data: the 2018 share of industrial establishments of the
    default TI's département (5,69 %), its région and France, as INSEE's file gives them."""
    p = perimeter.resolve()
    rows = query(demo_warehouse, """
        SELECT niveau, code, groupe_code, valeur, statut, s.demo FROM mart m JOIN sources s USING (source_id)
        WHERE mesure = 'etablissements' AND annee = 2018 AND groupement IN ('a5', 'total') AND groupe_code IN ('BE', '_T')
          AND (niveau, code) IN (('departement', $d), ('region', $r), ('france', $f))""",
                 {"d": p.departements[0], "r": p.regions[0], "f": perimeter.FRANCE_CODE})
    got = {(n, c, g): (v, s, demo) for n, c, g, v, s, demo in rows}
    assert len(got) == 6 and not any(demo for _, _, demo in got.values())
    share = {n: got[(n, c, "BE")][0] / got[(n, c, "_T")][0] for n, c, _ in got}
    assert round(100 * share["departement"], 2) == 5.69
    assert got[("departement", p.departements[0], "_T")][1] == "ok"
    raw = pd.read_csv(EXTRACT, sep=";", dtype=str, keep_default_na=False)
    reg = raw[(raw.NIVGEO == "REG") & (raw.CODGEO == p.regions[0])].iloc[0]
    assert share["region"] == pytest.approx(float(reg.ETBE18) / float(reg.ETTOT18))
    assert 0.05 < share["france"] < 0.08


def test_extract_has_attribution():
    text = (EXTRACT.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert "INSEE" in text and "Licence Ouverte" in text
    with open(EXTRACT, encoding="ascii", newline="") as f:
        header = next(csv.reader(f, delimiter=";"))
    assert header[:2] == ["NIVGEO", "CODGEO"] and header[-1] == "VARS_PARTIELLES"
    assert Path(EXTRACT).stat().st_size < 200_000


def test_published_totals_layout_refuses_an_unknown_level(tmp_path):
    path = tmp_path / "base_cc_comparateur_2022.csv"
    path.write_text("NIVGEO;CODGEO;P18_POP;VARS_PARTIELLES\r\nCOM;01001;771;\r\nDEP;01;100;\r\nREG;84;5;P18_POP\r\n",
                    encoding="ascii")
    con = duckdb.connect()
    staged = base_comparateur.stage(con, path)
    facts = con.execute("SELECT niveau, territoire_code, valeur, statut FROM stg_facts ORDER BY 1").fetchall()
    con.close()
    assert [str(p) for p in staged.hard] == [
        "base_cc_comparateur_2022.csv, ligne 3, colonne « NIVGEO » : niveau COM, REG ou FRANCE attendu, trouvé « DEP »"]
    assert ("region", "84", 5.0, "partiel") in facts and ("commune", "01001", 771.0, "ok") in facts
