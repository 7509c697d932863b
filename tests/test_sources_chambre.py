"""Chamber (CCI / CMA) exports: CSV variants (cp1252, decimal comma, nbsp), postcode + name, long form, template."""
from __future__ import annotations

import pytest

from conftest import REPO_ROOT, query
from etl import load, template
from etl.validate import LoadError, luhn_ok

# Valid SIRETs (Luhn key) made up for the tests.
S1, S2, S3 = "12345678200010", "73282932000074", "55203253400646"


def test_test_sirets_are_valid():
    assert all(luhn_ok(s) for s in (S1, S2, S3))
    assert not luhn_ok("12345678200011")


def _firms(warehouse):
    return query(warehouse, "SELECT siret, naf_code, commune, tranche_effectif, annee, ca_eur FROM firmes ORDER BY siret, annee")


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_csv_semicolon_decimal_comma_nbsp_thousands(warehouse, tmp_path, encoding):
    text = ("N° SIRET;Raison sociale;Code APE;Code commune INSEE;Tranche effectif;CA 2022 (k€);CA 2023 (k€)\r\n"
            f"{S1};Scierie l’Œuvre;1610A;05061;10 à 19 salariés;1\u00a0250,5;1 300\r\n"
            f"{S2};Boulangerie « Le Fournil »;10.71C;5023;01;480,25;\r\n")
    path = tmp_path / "export_cci_2023.csv"
    path.write_bytes(text.encode(encoding))
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].kind == "chambre" and reports[0].lignes_gardees == 2
    assert _firms(warehouse) == [
        (S1, "16.10A", "05061", "11", 2022, 1_250_500.0), (S1, "16.10A", "05061", "11", 2023, 1_300_000.0),
        (S2, "10.71C", "05023", "01", 2022, 480_250.0), (S2, "10.71C", "05023", "01", 2023, None)]


def test_cp1252_character_after_the_first_megabyte(warehouse, tmp_path):
    """Only the first megabyte is checked in Python: DuckDB finds the cp1252 byte further down, the file is
    then transcoded and read again."""
    from etl.validate import luhn_complete

    lines = [f"{luhn_complete(f'{123450000 + i:09d}0001')};Entreprise {i};1610A;05061;01;12;13\r\n" for i in range(20_000)]
    text = "SIRET;Raison sociale;Code NAF;Code commune INSEE;Tranche effectif;CA 2022 (k€);CA 2023 (k€)\r\n" + "".join(lines)
    assert len(text.encode("utf-8")) > 1024**2
    path = tmp_path / "export_cci_2023.csv"
    path.write_bytes(text.encode("utf-8") + f"{S3};Société Générale d’Œuvres;1610A;05061;01;12;13\r\n".encode("cp1252"))
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].lignes_gardees == 20_001
    assert query(warehouse, "SELECT DISTINCT raison_sociale FROM firmes WHERE siret = ?", [S3]) == [("Société Générale d’Œuvres",)]


def test_csv_comma_postcode_and_town_name_long_form_meur(warehouse, tmp_path):
    text = ("siret,raison_sociale,code_naf,code_postal,ville,annee,chiffre_affaires (M€)\n"
            f"{S1},A,16.10A,05000,GAP,2022,\"1,5\"\n"
            f"{S1},A,16.10A,05000,GAP,2023,\"1,75\"\n"
            f"{S2},B,10.71C,05100,Briancon,2023,0.5\n"
            f"{S3},C,43.21A,05500,ST BONNET EN CHAMPSAUR,2023,2\n"
            "38000000000006,D,43.21A,38000,GRENOBLE,2023,3\n")
    path = tmp_path / "cma_2023.csv"
    path.write_text(text, encoding="utf-8")
    reports = load.load([path], warehouse, progress=lambda m: None)
    assert reports[0].kind == "chambre"
    rows = _firms(warehouse)
    assert (S1, "16.10A", "05061", None, 2022, 1_500_000.0) in rows
    assert (S2, "10.71C", "05023", None, 2023, 500_000.0) in rows
    saint_bonnet = query(warehouse, "SELECT code FROM ref_communes WHERE nom = 'Saint-Bonnet-en-Champsaur'")[0][0]
    assert (S3, "43.21A", saint_bonnet, None, 2023, 2_000_000.0) in rows
    assert len(rows) == 4  # Grenoble is outside the perimeter
    assert any("hors du périmètre" in p.message for p in reports[0].problems)


def test_bad_siret_naf_and_amount_are_refused_with_line_and_column(warehouse, tmp_path):
    text = ("SIRET;Code NAF;Code commune INSEE;CA 2022 (€)\n"
            f"{S1};16.10A;05061;1000\n"
            "12345678200011;16.10A;05061;1000\n"
            f"{S2};99.99Z;05061;1000\n"
            f"{S3};43.21A;05061;-5\n")
    path = tmp_path / "cci.csv"
    path.write_text(text, encoding="utf-8")
    before = warehouse.read_bytes()
    with pytest.raises(LoadError) as exc:
        load.load([path], warehouse, progress=lambda m: None)
    text = str(exc.value)
    assert "cci.csv, ligne 3, colonne « SIRET » : SIRET « 12345678200011 » invalide : clé de contrôle (Luhn) invalide" in text
    assert "cci.csv, ligne 4, colonne « Code NAF » : code NAF « 99.99Z » inconnu de la NAF rév. 2" in text
    assert "cci.csv, ligne 5, colonne « CA 2022 (€) » : montant positif attendu" in text
    assert warehouse.read_bytes() == before


def test_import_template_is_in_sync_and_loads_once_filled(warehouse, tmp_path):
    from openpyxl import load_workbook

    committed = REPO_ROOT / "data" / "modele_import_chambre.xlsx"
    assert committed.exists(), "regenerate with: python -m etl template"
    fresh = template.write(tmp_path / "modele.xlsx")
    for path in (committed, fresh):
        wb = load_workbook(path)
        assert [c.value for c in wb["Entreprises"][1]] == [c[0] for c in template.COLUMNS]
        assert "Mode d'emploi" in wb.sheetnames and "Tranches d'effectif" in wb.sheetnames
    committed_guide = [[c.value for c in r] for r in load_workbook(committed)["Mode d'emploi"].iter_rows()]
    fresh_guide = [[c.value for c in r] for r in load_workbook(fresh)["Mode d'emploi"].iter_rows()]
    assert committed_guide == fresh_guide
    wb = load_workbook(fresh)
    ws = wb["Entreprises"]
    ws.append([S1, "Menuiserie", "16.23Z", "05061", "Gap", "10 à 19 salariés", 1200, 1250.5, None])
    ws.append([S2, "Boulangerie", "1071C", "05023", "Briançon", "01", None, 300, 310])
    filled = tmp_path / "cci_2024.xlsx"
    wb.save(filled)
    reports = load.load([filled], warehouse, progress=lambda m: None)
    assert reports[0].kind == "chambre" and reports[0].lignes_gardees == 2
    rows = _firms(warehouse)
    assert (S1, "16.23Z", "05061", "11", 2023, 1_250_500.0) in rows
    assert (S2, "10.71C", "05023", "01", 2024, 310_000.0) in rows
    assert len(rows) == 6  # one row per SIRET and year column, empty amounts kept as NULL


def test_firm_marts_count_each_firm_once_per_territory(warehouse, tmp_path):
    """Turnover, contributors and largest contribution by territory, against a computation in pandas from the
    firm rows: a firm with establishments in two communes of one EPCI counts once there, its turnover summed."""
    import duckdb
    import pandas as pd

    from etl.validate import luhn_complete

    siret = lambda siren, nic: luhn_complete(luhn_complete(siren) + nic)  # noqa: E731  (SIREN, then NIC + key)
    rows = [  # (siret, NAF, commune, CA 2022 k€, CA 2023 k€)
        (siret("11111111", "0001"), "1610A", "05061", "100", "120"),   # Gap (CA Gap-Tallard-Durance)
        (siret("11111111", "0002"), "1610A", "04066", "50", ""),      # same firm, Curbans (same EPCI, in the 04)
        (siret("22222222", "0001"), "1610A", "05061", "300", "310"),
        (siret("33333333", "0001"), "4321A", "05023", "", "40"),      # Briançon, other EPCI
        (siret("44444444", "0001"), "1071C", "05023", "7", "8"),
    ]
    text = "SIRET;Code NAF;Code commune INSEE;Tranche effectif;CA 2022 (k€);CA 2023 (k€)\n" + "".join(
        f"{s};{naf};{com};01;{a};{b}\n" for s, naf, com, a, b in rows)
    path = tmp_path / "cci_2023.csv"
    path.write_text(text, encoding="utf-8")
    load.load([path], warehouse, progress=lambda m: None)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        firms = con.execute("SELECT siren, commune, annee, ca_eur FROM firmes").fetchdf()
        members = con.execute("SELECT commune, niveau, code FROM ref_appartenance UNION ALL "
                              "SELECT DISTINCT commune, 'commune', commune FROM firmes").fetchdf()
        mart = con.execute("""SELECT niveau, code, annee, mesure, valeur, nb_contrib, max_contrib FROM mart
                              WHERE mesure IN ('ca_eur', 'entreprises') AND groupement = 'total'""").fetchdf()
    finally:
        con.close()
    firms = firms[firms.ca_eur.notna()]     # a firm counts in the years the file gives its turnover
    per_firm = firms.merge(members, on="commune").groupby(["niveau", "code", "annee", "siren"]).ca_eur.agg(
        ca="sum", n_ca="count").reset_index()
    per_firm["ca"] = per_firm.ca.where(per_firm.n_ca > 0)
    keys = ["niveau", "code", "annee"]
    expected = per_firm.groupby(keys).agg(n_firms=("siren", "size"), ca=("ca", "sum"),
                                          contrib=("n_ca", lambda s: int((s > 0).sum())), largest=("ca", "max")).reset_index()
    got = mart.pivot_table(index=keys, columns="mesure", values="valeur").reset_index()
    got = got.merge(mart[mart.mesure.eq("ca_eur")][keys + ["nb_contrib", "max_contrib"]], on=keys, how="left")
    both = expected.merge(got, on=keys, how="outer", indicator=True)
    assert both._merge.eq("both").all() and len(both) > 10
    assert both.entreprises.tolist() == both.n_firms.tolist()
    with_ca = both[both.contrib > 0]
    assert with_ca.ca_eur.tolist() == pytest.approx(with_ca.ca.tolist())
    assert with_ca.nb_contrib.tolist() == with_ca.contrib.tolist()
    assert with_ca.max_contrib.tolist() == pytest.approx(with_ca.largest.tolist())
    assert both[both.contrib == 0].ca_eur.isna().all()  # no turnover known: no turnover row, not a zero
    # The EPCI of Gap, 2022: two firms (one with two establishments: 100 + 50 k€), contributions 150 and 300 k€.
    epci = members[(members.commune == "05061") & (members.niveau == "epci")].code.iloc[0]
    assert members[(members.commune == "04066") & (members.niveau == "epci")].code.iloc[0] == epci
    gap = both[(both.niveau == "epci") & (both.code == epci) & (both.annee == 2022)].iloc[0]
    assert (gap.entreprises, gap.ca_eur, gap.nb_contrib, gap.max_contrib) == (2, 450_000.0, 2, 300_000.0)
