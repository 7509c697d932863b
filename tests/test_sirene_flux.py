"""Creations and closures of establishments from the Sirene stock (etl/sources/sirene.py): counts of a stock in
the published layout (the demo's, every column, « P » rows, closed rows) equal an independent recomputation over
the file, for several EPCI and years; rates and balance through the read side; an active-only extract; NAF 2025."""
from __future__ import annotations

import csv
import gzip
import io
import shutil

import duckdb
import pandas as pd
import pytest

from conftest import ROOT, query, real_file
from etl import demo, load
from etl.perimeter import resolve
from etl.validate import LoadError

YEARS = (2012, 2016, 2020, 2024)


@pytest.fixture(scope="module")
def stock(tmp_path_factory, reference_warehouse):
    """The demo's Sirene stock (published layout, gzip) and a copy of the reference warehouse it was loaded into."""
    d = tmp_path_factory.mktemp("sirene")
    communes, naf = demo._reference(resolve())
    path = d / demo.SIRENE_FILE
    demo.sirene_stock(path, communes, naf)
    wh = d / "wh.duckdb"
    shutil.copyfile(reference_warehouse, wh)
    reports = load.load([path], wh, progress=lambda m: None)
    return path, wh, reports[0]


def _recount(path) -> pd.DataFrame:
    """Events by EPCI, year, industry and employer band, read with Python's csv module (not the loader)."""
    com = pd.read_csv(ROOT / "data" / "reference" / "communes.csv", dtype=str).set_index("code_insee").epci_siren
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            epci = com.get(r["codeCommuneEtablissement"])
            if epci is None:
                continue
            naf = r["activitePrincipaleEtablissement"]
            rev2 = r["nomenclatureActivitePrincipaleEtablissement"] == "NAFRev2"
            industry = rev2 and 5 <= int(naf[:2]) <= 39
            employer = r["trancheEffectifsEtablissement"] not in ("NN", "00", "")
            created = int(r["dateCreationEtablissement"][:4])
            closed = int(r["dateDebut"][:4]) if r["etatAdministratifEtablissement"] == "F" else None
            out.append((epci, created, closed, industry, employer))
    return pd.DataFrame(out, columns=["epci", "cree", "ferme", "industrie", "employeur"])


def _mart(wh, mesure: str, groupement: str, groupe: str) -> dict:
    return {(c, a): v for c, a, v in query(wh, """
        SELECT code, annee, valeur FROM mart WHERE niveau = 'epci' AND mesure = ? AND groupement = ? AND groupe_code = ?""",
        [mesure, groupement, groupe])}


def test_flows_equal_an_independent_recount(stock):
    path, wh, report = stock
    assert report.kind == "sirene"
    ev = _recount(path)
    epcis = ev.epci.value_counts().index[:4].tolist()
    assert len(epcis) >= 3
    for mesure, col, mask in [("creations_etablissements", "cree", None), ("fermetures_etablissements", "ferme", None),
                              ("creations_etablissements_avec_salaries", "cree", "employeur"),
                              ("fermetures_etablissements_avec_salaries", "ferme", "employeur")]:
        sub = ev if mask is None else ev[ev[mask]]
        total, be = _mart(wh, mesure, "total", "_T"), _mart(wh, mesure, "a5", "BE")
        for e in epcis:
            for y in YEARS:
                rows = sub[(sub.epci == e) & (sub[col] == y)]
                assert total.get((e, y), 0) == len(rows), (mesure, e, y)
                assert be.get((e, y), 0) == rows.industrie.sum(), (mesure, "BE", e, y)
    # Active on 1 January: created before, not closed before.
    stock1 = _mart(wh, "etablissements_1er_janvier", "total", "_T")
    for e in epcis:
        for y in YEARS:
            x = ev[ev.epci == e]
            expected = ((x.cree < y) & (x.ferme.isna() | (x.ferme >= y))).sum()
            assert stock1[(e, y)] == expected
    # Flows stop at the last complete year before the stock's; closures of the 1990s are outside the window.
    years = {a for (a,) in query(wh, "SELECT DISTINCT annee FROM facts WHERE mesure = 'creations_etablissements'")}
    assert years == set(range(2010, 2025))


def test_partial_diffusion_rows_are_counted(stock):
    path, wh, _ = stock
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    p = [r for r in rows if r["statutDiffusionEtablissement"] == "P"]
    assert p and all(r["libelleVoieEtablissement"] == "[ND]" for r in p)
    assert any(r["etatAdministratifEtablissement"] == "F" for r in p)
    created_2024 = sum(r["dateCreationEtablissement"].startswith("2024") for r in rows)
    assert query(wh, """SELECT sum(valeur) FROM mart WHERE niveau = 'commune' AND mesure = 'creations_etablissements'
                        AND groupement = 'total' AND annee = 2024""") == [(created_2024,)]


def test_balance_and_rates_through_the_read_side(stock):
    _, wh, _ = stock
    from indicators import query as q
    from indicators.db import get_warehouse

    snap = get_warehouse(wh).snapshot()
    ti = q.perimeter(snap, "ti")
    c = q.get(snap, "creations_etablissements_industrie", "ti", annees=[2023, 2024], territoires=ti)
    f = q.get(snap, "fermetures_etablissements_industrie", "ti", annees=[2023, 2024], territoires=ti)
    s = q.get(snap, "solde_etablissements_industrie", "ti", annees=[2023, 2024], territoires=ti)
    b = q.get(snap, "etablissements_1er_janvier_industrie", "ti", annees=[2023, 2024], territoires=ti)
    t = q.get(snap, "taux_creation_etablissements_industrie", "ti", annees=[2023, 2024], territoires=ti)
    assert (s.valeur.to_numpy() == c.valeur.to_numpy() - f.valeur.to_numpy()).all()
    assert t.valeur.to_numpy() == pytest.approx(c.valeur.to_numpy() / b.valeur.to_numpy())
    assert set(t.statut) == {"ok"} and 0.01 < t.valeur.min() < t.valeur.max() < 0.5
    by = q.get(snap, "taux_fermeture_etablissements_secteur", "departement", annee=2024)
    assert set(by.secteur_code) == {"AZ", "BE", "FZ", "GU", "OQ"} and by.valeur.notna().all()
    assert q.years(snap, "taux_creation_etablissements", "ti") == list(range(2010, 2025))


def _small_stock(rows, header=demo.SIRENE_HEADER) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        row = dict.fromkeys(header, "")
        row.update(r)
        w.writerow([row.get(h, "") for h in header])
    return out.getvalue()


def _row(siret, com, etat, naf, created, debut, **kw):
    return dict(siret=siret, siren=siret[:9], codeCommuneEtablissement=com, etatAdministratifEtablissement=etat,
                activitePrincipaleEtablissement=naf, nomenclatureActivitePrincipaleEtablissement="NAFRev2",
                dateCreationEtablissement=created, dateDebut=debut, trancheEffectifsEtablissement="NN",
                dateDernierTraitementEtablissement="2025-02-01T10:00:00", **kw)


def test_active_only_extract_gives_creations_and_says_closures_are_missing(warehouse, tmp_path):
    path = tmp_path / "StockEtablissementActif_utf8.csv"
    path.write_text(_small_stock([_row("30000000100011", "05061", "A", "25.62B", "2024-03-01", "2024-03-01"),
                                  _row("30000000200019", "05061", "A", "25.62B", "2019-03-01", "2019-03-01")]),
                    encoding="utf-8")
    r = load.load([path], warehouse, progress=lambda m: None)[0]
    assert any("fermetures d'établissements non disponibles" in p.message for p in r.problems)
    measures = {m for (m,) in query(warehouse, "SELECT DISTINCT mesure FROM facts")}
    assert {"creations_etablissements", "creations_etablissements_avec_salaries"} <= measures
    assert not measures & {"fermetures_etablissements", "etablissements_1er_janvier"}
    from indicators import query as q
    from indicators.db import get_warehouse

    snap = get_warehouse(warehouse).snapshot()
    g = q.get(snap, "fermetures_etablissements", "commune", territoires=["05061"])
    assert g.statut.tolist() == ["absent"] and "Sirene" in g.note.iat[0]
    c = q.get(snap, "creations_etablissements", "commune", annees=[2023, 2024], territoires=["05061"])
    assert c.valeur.tolist() == [0.0, 1.0]   # a year without creation is a true zero


def test_naf2025_stock_gives_flows_in_naf2025(warehouse, tmp_path):
    header = demo.SIRENE_HEADER + ["activitePrincipaleNAF25Etablissement"]
    path = tmp_path / "StockEtablissement_utf8.csv"
    rows = [_row("30000000100011", "05061", "A", "25.62B", "2024-03-01", "2024-03-01", activitePrincipaleNAF25Etablissement="25.11Y"),
            _row("30000000200019", "05061", "F", "25.62B", "2019-03-01", "2024-06-01", activitePrincipaleNAF25Etablissement="25.11Y")]
    path.write_text(_small_stock(rows, header), encoding="utf-8")
    load.load([path], warehouse, progress=lambda m: None)
    got = query(warehouse, """SELECT mesure, naf_code, nomenclature FROM facts WHERE annee = 2024 AND naf_niveau = 'sous_classe'
                              AND mesure IN ('creations_etablissements', 'fermetures_etablissements') ORDER BY 1""")
    assert got == [("creations_etablissements", "25.11Y", "NAF2025"), ("fermetures_etablissements", "25.11Y", "NAF2025")]
    assert query(warehouse, """SELECT valeur FROM mart WHERE mesure = 'fermetures_etablissements' AND niveau = 'commune'
                               AND code = '05061' AND annee = 2024 AND groupement = 'a5' AND groupe_code = 'BE'""") == [(1.0,)]


def test_overlong_line_in_a_gzip_stock_is_refused(warehouse, tmp_path):
    text = _small_stock([_row("30000000100011", "05061", "A", "25.62B", "2024-03-01", "2024-03-01",
                              enseigne1Etablissement="x" * (2 * 1024**2))])
    path = tmp_path / "geo_siret_05.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    assert "ligne trop longue" in str(exc.value)


def test_real_sirene_sample(warehouse):
    """A real extract of the published stock, when ../shared/real/ has one."""
    path = real_file("insee_sirene_stock_etablissement_sample.csv")
    load.load([path], warehouse, progress=lambda m: None)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM facts WHERE mesure = 'creations_etablissements'").fetchall()[0][0] > 0


def test_record_wording():
    from indicators.content.flux import record

    v = {2014: 5, 2015: 12, 2016: 3, 2017: 4, 2018: 9}
    assert record(v, 2018)[0] == "le plus haut depuis 2015"
    assert record({**v, 2018: 13}, 2018)[0] == "le plus haut de la série (depuis 2014)"
    assert record({**v, 2018: 2}, 2018)[0] == "le plus bas de la série (depuis 2014)"
    assert record(v, 2017)[0] == "le plus haut depuis 2015"
    assert record(v, 2016)[0] == ""                       # 2015 higher, too short a series for « le plus bas »
    claim = record(v, 2018)[1]
    assert claim.kind == "max" and claim.where == (("indicateur", "Solde"), ("annee", (2016, 2017, 2018)))


def test_findings_say_the_figures_of_their_rows(stock):
    """The Industrie and Filières findings over the stock alone: title figures are the table's, claims hold."""
    _, wh, _ = stock
    from indicators import content
    from indicators.content import claims as verifier, flux
    from indicators.db import get_warehouse

    snap = get_warehouse(wh).snapshot()
    ctx = content.context(snap, content.Selection())
    f = flux.industrie(ctx)
    t = f.table[f.table.annee == 2024].set_index("indicateur").valeur
    assert f"{int(t['Créations'])} établissements industriels créés en 2024, {int(t['Fermetures'])} fermés" in f.titre
    assert f.years[-1] == 2024 and "Sirene" in f.source
    for build in (flux.industrie, flux.industrie_taux, flux.filieres):
        for focus in (None, ctx.per.members[0].code):
            g = build(content.context(snap, content.Selection(focus=focus)))
            assert g.claims and not verifier.problems(g), (g.titre, verifier.problems(g))
    taux = flux.industrie_taux(ctx)
    assert "Références non calculées" in " ".join(taux.notes)   # the région and France: not covered by a local stock


def test_parquet_stock_gives_the_same_flows(stock, warehouse, tmp_path):
    """The same stock as parquet (dates typed DATE, as a conversion would write them): the same facts."""
    path, wh, _ = stock
    pq = tmp_path / "StockEtablissement_utf8.parquet"
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * REPLACE (CAST(dateCreationEtablissement AS DATE) AS dateCreationEtablissement,
                                                       CAST(dateDebut AS DATE) AS dateDebut)
                   FROM read_csv(?, all_varchar=true, header=true)""", [str(path)])
    con.execute(f"COPY t TO '{pq.as_posix()}' (FORMAT parquet)")
    con.close()
    load.load([pq], warehouse, progress=lambda m: None)
    sql = """SELECT territoire_code, annee, mesure, naf_code, valeur FROM facts
             WHERE mesure IN ('creations_etablissements', 'fermetures_etablissements', 'etablissements_1er_janvier')
             ORDER BY ALL"""
    assert query(warehouse, sql) == query(wh, sql)
