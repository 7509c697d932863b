"""`python -m indicators list|show`: tidy rows, French CSV, statuts."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(*args):
    return subprocess.run([sys.executable, "-m", "indicators", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _csv(text):
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_list_names_every_indicator():
    from indicators.catalog import CATALOG

    out = _run("list")
    assert out.returncode == 0
    for name in CATALOG:
        assert name in out.stdout


def test_population_by_commune_lists_the_tis_communes_and_flags_outside_members(reference_warehouse):
    out = _run("show", "population", "--niveau", "commune", "--format", "csv", "--warehouse", str(reference_warehouse))
    assert out.returncode == 0, out.stderr
    rows = _csv(out.stdout)
    assert {"code", "nom", "niveau", "annee", "valeur", "statut", "source"} <= set(rows[0])
    inside = [r for r in rows if r["hors_departement"] == "False"]
    outside = [r for r in rows if r["hors_departement"] == "True"]
    # The 131 communes of the TI (by default the command shows the perimeter): 126 in 05, 5 in 04.
    assert len(inside) == 126 and all(r["code"].startswith("05") for r in inside)
    assert len(outside) == 5 and all(r["code"][:2] == "04" for r in outside)
    assert all(r["statut"] == "ok" and r["valeur"] for r in rows)


def test_population_by_epci_sums_member_communes(reference_warehouse):
    import duckdb

    out = _run("show", "population", "--niveau", "epci", "--format", "csv", "--warehouse", str(reference_warehouse))
    rows = _csv(out.stdout)
    assert len(rows) == 8
    everything = _csv(_run("show", "population", "--niveau", "epci", "--format", "csv", "--tous",
                           "--warehouse", str(reference_warehouse)).stdout)
    assert len(everything) > 9 and {r["code"] for r in rows} < {r["code"] for r in everything}
    con = duckdb.connect(str(reference_warehouse), read_only=True)
    expected = dict(con.execute("SELECT epci_siren, sum(population) FROM ref_communes GROUP BY 1").fetchall())
    con.close()
    for r in rows:
        assert float(r["valeur"].replace(",", ".")) == expected[r["code"]]


def test_absent_values_are_empty_never_zero(reference_warehouse):
    out = _run("show", "etablissements_secteur", "--niveau", "epci", "--format", "csv", "--warehouse", str(reference_warehouse))
    assert out.returncode == 0, out.stderr
    rows = _csv(out.stdout)
    assert rows and all(r["statut"] == "absent" and r["valeur"] == "" for r in rows)
    assert "charger" in rows[0]["note"]


def test_secteur_column_and_real_source(demo_warehouse):
    out = _run("show", "etablissements_secteur", "--niveau", "departement", "--format", "csv", "--warehouse", str(demo_warehouse))
    rows = _csv(out.stdout)
    assert {r["secteur_code"] for r in rows} == {"AZ", "BE", "FZ", "GU", "OQ"}
    # Establishments come from the embedded real extract of the base comparateur, not from demo data.
    assert all("INSEE" in r["source"] and "démonstration" not in r["source"] for r in rows)


def test_unknown_indicator_is_a_french_error(demo_warehouse):
    out = _run("show", "nimporte_quoi", "--warehouse", str(demo_warehouse))
    assert out.returncode == 2
    assert "indicateur inconnu" in out.stderr and "Traceback" not in out.stderr


def test_show_serves_every_catalogue_indicator_with_the_pages_numbers(demo_warehouse, capsys):
    """Pages read query.get through ui.get; the command line prints the same rows."""
    import math

    from indicators import query
    from indicators.__main__ import main
    from indicators.catalog import CATALOG
    from indicators.db import get_warehouse

    snap = get_warehouse(demo_warehouse).snapshot()
    for name in CATALOG:
        for niveau in ("epci", "ti", "departement"):
            assert main(["show", name, "--niveau", niveau, "--format", "csv", "--warehouse", str(demo_warehouse)]) == 0
            rows = _csv(capsys.readouterr().out)
            expected = query.get(snap, name, niveau=niveau, territoires=query.perimeter(snap, niveau))
            assert len(rows) == len(expected), (name, niveau)
            for row, exp in zip(rows, expected.itertuples()):
                assert row["code"] == exp.code and row["statut"] == exp.statut, (name, niveau)
                if math.isnan(exp.valeur):
                    assert row["valeur"] == ""
                else:
                    assert float(row["valeur"].replace(",", ".")) == pytest.approx(exp.valeur), (name, niveau, exp.code)
