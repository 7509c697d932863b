"""Secondary secret group by group: the Hautes-Alpes' turnover does not depend on the rest of France.

Two warehouses hold the same Hautes-Alpes firms; the second one's reference also has a neighbouring
département (its own communes, EPCIs and secret cells). The Hautes-Alpes' tables must be the same in
both (values, statuts, notes); a query on the Hautes-Alpes must not compute the neighbour's group; and
the pattern computed group by group must equal the one computed on the whole table at once.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import load as loader
from etl.reference import REFERENCE_DIR, REFERENCE_DIR_ENV
from etl.validate import luhn_complete
from indicators import query
from indicators.catalog import get as get_indicator
from indicators.db import get_warehouse

YEARS = [2021, 2022]
SECTORS = {"industrie": "10.71C", "construction": "43.99C", "commerce": "47.11F",
           "hebergement_restauration": "55.10Z", "transport_autres_services": "49.41A"}
NEIGHBOUR = "38"
NEIGHBOUR_EPCIS = {luhn_complete("29999990"): ["38901", "38902", "38903"],
                   luhn_complete("29999991"): ["38904", "38905"]}


def _firms(places: dict[str, str], start: int, few: tuple[int, str], dominated: tuple[int, str]) -> list[dict]:
    """Four firms per EPCI and sector; one cell of 2 firms, one cell dominated by one firm."""
    rows, n = [], start
    for ei, (epci, commune) in enumerate(sorted(places.items())):
        for si, (sector, naf) in enumerate(SECTORS.items()):
            sizes = ([300, 500] if (ei, sector) == few else [9000, 400, 350, 250] if (ei, sector) == dominated
                     else [100 * (1 + (ei * 7 + si * 3 + k) % 11) for k in range(4)])
            for k, size in enumerate(sizes):
                n += 1
                rows.append({"N° SIRET": luhn_complete(luhn_complete(f"{n:08d}") + "0001"), "Raison sociale": f"SARL Essai {n}",
                             "Code NAF": naf.replace(".", ""), "Code commune INSEE": commune,
                             "Tranche effectif": "3 à 5 salariés", "CA 2021 (k€)": str(round(size * (0.9 + 0.01 * k))),
                             "CA 2022 (k€)": str(size)})
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


def _neighbour_reference(tmp: Path) -> Path:
    ref = tmp / "reference"
    shutil.copytree(REFERENCE_DIR, ref)
    with open(ref / "territoires.csv", "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(["departement", NEIGHBOUR, "Département voisin (essai)"])
    with open(ref / "epci.csv", "a", encoding="utf-8", newline="") as f:
        for i, (siren, communes) in enumerate(NEIGHBOUR_EPCIS.items()):
            csv.writer(f, lineterminator="\n").writerow([siren, f"CC Voisine {i}", f"Voisine {i}", "CC", len(communes), 0])
    with open(ref / "communes.csv", "a", encoding="utf-8", newline="") as f:
        for siren, communes in NEIGHBOUR_EPCIS.items():
            for c in communes:
                csv.writer(f, lineterminator="\n").writerow([c, f"Commune {c}", NEIGHBOUR, siren, 500, 2023, 10.0])
    return ref


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secret_groups")
    communes = pd.read_csv(REFERENCE_DIR / "communes.csv", dtype=str)
    communes = communes[communes.departement == "05"]
    places = {e: communes[communes.epci_siren == e].code_insee.iat[0] for e in sorted(communes.epci_siren.unique())}
    ours = _firms(places, 32000000, (0, "construction"), (1, "commerce"))
    theirs = _firms({e: c[0] for e, c in NEIGHBOUR_EPCIS.items()}, 33000000, (0, "industrie"), (1, "construction"))
    alone = tmp / "alone.duckdb"
    loader.build(alone, demo=False, progress=lambda m: None)
    loader.load([_write(tmp / "cci_entreprises_2022.csv", ours)], alone, progress=lambda m: None)
    both = tmp / "both.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(REFERENCE_DIR_ENV, str(_neighbour_reference(tmp)))
        loader.build(both, demo=False, progress=lambda m: None)
        (tmp / "voisin").mkdir()
        loader.load([_write(tmp / "voisin" / "cci_entreprises_2022.csv", ours + theirs)], both, progress=lambda m: None)
    return get_warehouse(alone).snapshot(), get_warehouse(both).snapshot()


def _epcis_05(snap) -> list[str]:
    return [r[0] for r in snap.rows("""SELECT DISTINCT e.code FROM ref_appartenance e JOIN ref_appartenance d USING (commune)
                                       WHERE e.niveau = 'epci' AND d.niveau = 'departement' AND d.code = '05' ORDER BY 1""")]


CALLS = [("ca_secteur", {"annees": YEARS}), ("ca_total", {"annees": YEARS}), ("ca_filiere", {"annees": YEARS}),
         ("ca_filiere", {"annees": YEARS, "definition": "elargi"}), ("croissance_ca_secteur", {"annee": 2022}),
         ("taux_croissance_ca", {"annee": 2022})]


def _hautes_alpes(snap, name: str, kw: dict) -> pd.DataFrame:
    frames = [query.get(snap, name, "epci", territoires=_epcis_05(snap), **kw), query.get(snap, name, "departement", territoires=["05"], **kw)]
    df = pd.concat(frames, ignore_index=True)
    keys = ["niveau", "code", "annee"] + [c for c in ("secteur_code", "filiere_code") if c in df]
    return df.sort_values(keys).reset_index(drop=True)[keys + ["valeur", "statut", "note"]]


def test_hautes_alpes_same_with_a_neighbourhood(warehouses):
    alone, both = warehouses
    assert _epcis_05(alone) == _epcis_05(both)
    for name, kw in CALLS:
        a, b = _hautes_alpes(alone, name, kw), _hautes_alpes(both, name, kw)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    secteur = _hautes_alpes(alone, "ca_secteur", {"annees": YEARS})
    assert secteur.statut.eq("secret").sum() >= 4 * len(YEARS)  # the planted cells and their complements
    # The neighbour's group was never computed for these queries.
    for groupement in ("secteur", "filiere_coeur", "filiere_elargi"):
        table = query._family_state(both, get_indicator("ca_secteur"), groupement).table
        assert len(table) and not table.code.isin([NEIGHBOUR, *NEIGHBOUR_EPCIS]).any()


@pytest.mark.parametrize("groupement", ["secteur", "filiere_coeur", "filiere_elargi"])
def test_groups_equal_whole_table(warehouses, groupement):
    _, both = warehouses
    ind = get_indicator("ca_secteur")
    query.secret_pattern(both, ind, groupement, "epci", _epcis_05(both), [2022])  # one group first, then the rest
    grouped = query.secret_pattern(both, ind, groupement)
    cells, relations = query.secret_universe(both, ind, groupement)
    whole = query.protect_cells(cells, relations, groupement, query._departements_of(both))
    keys = ["niveau", "code", "annee", "groupement", "groupe_code"]
    merged = whole.merge(grouped, on=keys, how="outer", suffixes=("_whole", "_groups"), indicator=True)
    assert merged._merge.eq("both").all()
    assert (merged.masque_whole == merged.masque_groups).all()
    assert (merged.conseil_whole == merged.conseil_groups).all()
    np.testing.assert_array_equal(merged.valeur_whole.to_numpy(), merged.valeur_groups.to_numpy())
    if groupement == "secteur":  # both départements have secondary masks: the groups are not trivial
        second = merged[merged.masque_whole.eq("secondaire")]
        assert second.code.isin(_epcis_05(both) + ["05"]).any()
        assert second.code.isin([NEIGHBOUR, *NEIGHBOUR_EPCIS]).any()
