"""The demo warehouse: calibration on the candidature, lineage, idempotence, atomicity."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import duckdb
import pytest

from etl.load import build
from tests.conftest import ROOT


def _one(path, sql, params=()):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _mart(path, mesure, groupement, code, annee, niveau="departement"):
    rows = _one(path, "SELECT valeur FROM mart WHERE mesure=? AND groupement=? AND groupe_code=? AND annee=? AND niveau=? AND code='05'",
                [mesure, groupement, code, annee, niveau])
    return rows[0][0] if rows else None


def test_demo_reproduces_the_candidature_key_figures(demo_warehouse):
    ca22 = _mart(demo_warehouse, "ca_eur", "champ", "CHAMP", 2022)
    ca21 = _mart(demo_warehouse, "ca_eur", "champ", "CHAMP", 2021)
    assert round(ca22 / 1e6) == 4772
    assert round((ca22 / ca21 - 1) * 100) == 12
    for secteur, growth in {"commerce": 9, "construction": 5, "hebergement_restauration": 74, "transport_autres_services": 100}.items():
        v22 = _mart(demo_warehouse, "ca_eur", "secteur", secteur, 2022)
        v21 = _mart(demo_warehouse, "ca_eur", "secteur", secteur, 2021)
        assert round((v22 / v21 - 1) * 100) == growth, secteur
    assert _mart(demo_warehouse, "entreprises_tpe_pme", "total", "_T", 2022) == 14866
    assert _mart(demo_warehouse, "entreprises_tpe_pme", "a5", "BE", 2022) == 1900


def test_lineage_lists_every_demo_file(demo_warehouse):
    rows = _one(demo_warehouse, "SELECT kind, demo, length(sha256), lignes_lues, lignes_gardees FROM sources ORDER BY source_id")
    assert [r[0] for r in rows] == ["reference", "base_comparateur", "urssaf", "chambre", "sites_economiques", "sirene",
                                    "plan_actions"]
    # The base comparateur is the embedded real extract (data/default/), not demo data.
    assert [r[1] for r in rows] == [False, False, True, True, True, True, False]
    assert all(r[2] == 64 and r[3] > 0 and r[4] > 0 for r in rows)
    orphan = _one(demo_warehouse, "SELECT count(*) FROM facts WHERE source_id NOT IN (SELECT source_id FROM sources)")
    assert orphan[0][0] == 0


def test_outside_members_make_epci_aggregates_complete(demo_warehouse):
    rows = _one(demo_warehouse, """SELECT code, n_couvertes, n_membres, statut FROM mart
                                   WHERE mesure='population' AND niveau='epci' AND annee=2023
                                   AND code IN (SELECT code FROM ref_territoires WHERE niveau = 'epci' AND role IS NOT NULL)""")
    assert len(rows) == 9   # 8 members and the neighbour, whose communes in 04 and 26 are held too
    assert all(r[1] == r[2] and r[3] == "ok" for r in rows)
    sisteron = [r for r in rows if r[0] == "200068765"][0]
    assert sisteron[2] == 60


def test_build_is_idempotent(demo_warehouse, tmp_path):
    again = tmp_path / "again.duckdb"
    build(again, demo=True, progress=lambda m: None)
    # Parallel sums may differ in the last bits: compare to the micro-unit.
    q = "SELECT niveau, code, annee, mesure, groupement, groupe_code, round(valeur, 6), statut FROM mart ORDER BY ALL"
    assert _one(demo_warehouse, q) == _one(again, q)


def test_failed_build_leaves_the_old_warehouse_untouched(demo_copy):
    before = hashlib.sha256(demo_copy.read_bytes()).hexdigest()

    def explode(msg):
        if msg.startswith("Calcul des agrégats"):
            raise RuntimeError("panne simulée")

    with pytest.raises(RuntimeError):
        build(demo_copy, demo=True, progress=explode)
    assert hashlib.sha256(demo_copy.read_bytes()).hexdigest() == before
    assert not list(demo_copy.parent.glob("*.tmp-*"))


def test_cli_build_and_status(tmp_path):
    wh = tmp_path / "cli.duckdb"
    out = subprocess.run([sys.executable, "-m", "etl", "build", "--no-demo", "--warehouse", str(wh)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Entrepôt écrit" in out.stdout
    status = subprocess.run([sys.executable, "-m", "etl", "status", "--warehouse", str(wh)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0
    assert "reference" in status.stdout and "data/reference/communes.csv" in status.stdout
