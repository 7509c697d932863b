"""Demo dataset, generated deterministically in the real published layouts.

The loaders read these files exactly as they read real ones. The figures are
invented but calibrated so that the département reproduces the candidature's key
figures: turnover 4 772 M€ in 2022, +12 % on 2021 (commerce +9 %, construction +5 %,
hébergement-restauration +74 %, transport et autres services +100 %), 14 866 TPE/PME
marchandes of which 1 900 industrial. Everything else is plausible, not real.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .perimeter import Perimeter, resolve
from .base import A5_FROM_A10, REFERENCE_DIR
from .validate import luhn_complete

SEED = 2023
CA_YEARS = [2018, 2019, 2020, 2021, 2022]
URSSAF_YEARS = list(range(2015, 2025))
# 2022 turnover by candidature sector (k€) and growth on 2021, as published in the candidature.
CA_2022_KEUR = {"industrie": 1_422_000, "construction": 850_000, "commerce": 1_800_000,
                "hebergement_restauration": 450_000, "transport_autres_services": 250_000}
GROWTH_2022 = {"industrie": None, "construction": 1.05, "commerce": 1.09,
               "hebergement_restauration": 1.74, "transport_autres_services": 2.00}
TOTAL_GROWTH_2022 = 1.12
# Sector path 2018-2020 relative to 2021 (the 2020-2021 ski seasons closed).
PATH_TO_2021 = {"industrie": (0.97, 1.00, 0.94), "construction": (0.93, 0.97, 0.92), "commerce": (0.92, 0.95, 0.93),
                "hebergement_restauration": (1.55, 1.62, 1.02), "transport_autres_services": (1.45, 1.55, 1.05)}
TPE_PME_2022 = {"industrie": 1_900, "construction": 3_300, "commerce": 3_900,
                "hebergement_restauration": 2_300, "transport_autres_services": 3_466}   # 14 866
# Where the demo's territory-specific choices live (EPCI profiles, large firms, planted secret cells):
# data, keyed by EPCI SIREN, for the TI whose candidature the figures reproduce.
CALIBRATION_FILE = REFERENCE_DIR / "demo_calibrage.json"
# Common activities of a mountain economy (weighted up when drawing firms' NAF codes).
COMMON_NAF = {"47.11F": 12, "47.11B": 8, "47.24Z": 6, "47.73Z": 5, "45.20A": 8, "46.90Z": 4, "56.10A": 30, "56.10C": 10,
              "55.10Z": 25, "55.20Z": 10, "55.30Z": 6, "56.30Z": 12, "43.21A": 20, "43.22A": 18, "43.32A": 16, "43.99C": 15,
              "41.20A": 12, "43.31Z": 10, "43.34Z": 10, "43.12A": 8, "10.71C": 15, "10.51C": 12, "10.13B": 6, "11.05Z": 3,
              "16.10A": 6, "16.23Z": 8, "25.62B": 8, "25.11Z": 5, "33.12Z": 5, "20.53Z": 3, "35.11Z": 6, "33.16Z": 3,
              "49.41A": 10, "49.32Z": 8, "68.20B": 8, "69.20Z": 8, "71.12B": 10, "70.22Z": 10, "96.02A": 15,
              "93.29Z": 10, "93.11Z": 5, "81.21Z": 6, "62.01Z": 5, "74.90B": 6, "77.21Z": 12, "79.12Z": 4}


def _generator_version() -> str:
    own = Path(__file__).read_bytes() + Path(__file__).with_name("demo_foncier.py").read_bytes()
    return hashlib.sha256(own).hexdigest()[:16]


def ensure(dest: Path, progress=print, perimeter: Perimeter | None = None) -> list[Path]:
    """The demo files of a perimeter (default: the default TI) in `dest`/<TI>, generated if missing or made
    by another version of this module."""
    perimeter = perimeter or resolve()
    dest = Path(dest) / perimeter.ti_code
    # No base comparateur: its figures (population, emplois, establishments by A5) are real, from the
    # embedded extract of data/default/ (etl/load.py loads it at every build).
    files = [dest / "urssaf_commune_ape_2024_demo.csv", dest / "cci_entreprises_2022_demo.csv",
             dest / "inventaire_zae_cnig_demo.zip", dest / SIRENE_FILE]
    stamp = dest / "VERSION"
    version = f"{_generator_version()} {hashlib.sha256(perimeter.to_json().encode()).hexdigest()[:16]}"
    if all(f.exists() for f in files) and stamp.exists() and stamp.read_text().strip() == version:
        return files
    dest.mkdir(parents=True, exist_ok=True)
    progress("  génération des fichiers de démonstration…")
    # Written aside then swapped in: a concurrent build never reads a half-written file.
    with tempfile.TemporaryDirectory(dir=dest, prefix=".gen-") as tmp:
        staged = [Path(tmp) / f.name for f in files]
        generate(Path(tmp), staged, perimeter)
        for src, dst in zip(staged, files):
            os.replace(src, dst)
    stamp.write_text(version + "\n")
    return files


def _reference(perimeter: Perimeter):
    ref = REFERENCE_DIR
    communes = pd.read_csv(ref / "communes.csv", dtype=str, keep_default_na=False)
    communes = communes[communes.code_insee.isin(perimeter.core_communes)].sort_values("code_insee")
    communes["population"] = communes.population.astype(int)
    epci = pd.read_csv(ref / "epci.csv", dtype=str)
    communes = communes.merge(epci[["epci_siren", "nom_court"]], on="epci_siren")
    names = pd.read_csv(ref / "territoires.csv", dtype=str, keep_default_na=False)
    dep = names[names.niveau == "departement"].set_index("code").nom
    reg = names[names.niveau == "region"].set_index("code").nom
    communes["nom_departement"], communes["nom_region"] = communes.departement.map(dep), communes.region.map(reg)
    # Calibrated communes: those of the main reference département (the candidature's figures are for it).
    communes["calibree"] = communes.departement == perimeter.departements[0]
    naf = pd.read_csv(ref / "naf.csv", dtype=str)
    secteurs = pd.read_csv(ref / "secteurs_candidature.csv", dtype=str)
    naf = naf.merge(secteurs[["section", "secteur"]], on="section")
    return communes, naf


def _calibration(perimeter: Perimeter, communes: pd.DataFrame) -> dict:
    cal = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    own = cal["territoire"] == perimeter.ti_code
    # Another TI: same densities, sector totals scaled by the population of its main département.
    ref_pop = communes[communes.calibree].population.sum()
    if not own:
        base = pd.read_csv(REFERENCE_DIR / "communes.csv", dtype=str, keep_default_na=False)
        target = resolve(cal["territoire"]).departements[0]
        cal["echelle"] = ref_pop / base[base.departement == target].population.astype(int).sum()
    else:
        cal["echelle"] = 1.0
    return cal


def generate(dest: Path, files: list[Path], perimeter: Perimeter | None = None) -> None:
    rng = np.random.default_rng(SEED)
    perimeter = perimeter or resolve()
    communes, naf = _reference(perimeter)
    cal = _calibration(perimeter, communes)
    communes["profil"] = [cal["profils_epci"].get(e, {}) for e in communes.epci_siren]
    _skip_former_base_comparateur(rng, communes)
    _urssaf(rng, communes, naf, files[0])
    _chamber(rng, communes, naf, files[1], cal)
    # Inventory of economic zones (CNIG « Sites économiques » data package): its own generator.
    from . import demo_foncier
    demo_foncier.write(files[2], communes.rename(columns={"nom_court": "epci_nom"}))
    sirene_stock(files[3], communes, naf)


def _skip_former_base_comparateur(rng, communes: pd.DataFrame) -> None:
    """The random draws of the demo base comparateur this module used to write (now real data, data/default/):
    drawn and dropped, so that the URSSAF and chamber demo files, and their planted secret cells, stay the same."""
    shares = (0.09, 0.065, 0.14, 0.62, 0.085)
    for c in communes.itertuples():
        rng.uniform(0.985, 1.01), rng.uniform(0.95, 1.04)
        tourism = c.profil.get("hebergement_restauration", 1.0)
        total = max(1, int(rng.poisson(c.population / 19 * (0.8 + 0.2 * tourism)) + 1))
        rng.multinomial(total, rng.dirichlet([k * 60 for k in shares]))
        rng.uniform(0.22, 0.3), rng.uniform(1.5, 3.2)


# --- URSSAF établissements et effectifs salariés, commune x APE -----------------------------------

def _naf_weights(rng, naf: pd.DataFrame) -> np.ndarray:
    w = rng.gamma(0.35, 1.0, len(naf))
    for code, boost in COMMON_NAF.items():
        w[(naf.naf_sous_classe == code).to_numpy()] += boost
    w[(naf.section.isin(["O", "T", "U"])).to_numpy()] *= 0.05
    # Broad-sector shares of a mountain département's employer establishments.
    a5 = naf.a10.map(A5_FROM_A10).to_numpy()
    for code, share in {"AZ": 0.03, "BE": 0.08, "FZ": 0.15, "GU": 0.66, "OQ": 0.08}.items():
        m = a5 == code
        w[m] *= share / w[m].sum()
    return w


def _urssaf(rng, communes: pd.DataFrame, naf: pd.DataFrame, path: Path) -> None:
    weights = _naf_weights(rng, naf)
    sector = naf.secteur.to_numpy()
    years = URSSAF_YEARS
    out = []
    for c in communes.itertuples():
        profile = c.profil
        w = weights * np.array([profile.get(s, 1.0) for s in sector])
        n_est = max(1, int(rng.poisson(c.population / 24)))
        codes = rng.choice(len(naf), size=n_est, p=w / w.sum())
        per_code: dict[int, list[int]] = {}
        for k in codes:
            size = int(rng.geometric(0.3)) + (min(250, int(rng.pareto(2.5) * 4)) if naf.section.iat[k] in "BCDE" else 0)
            per_code.setdefault(int(k), []).append(size)
        for k, sizes in per_code.items():
            trend = rng.normal(0.012, 0.02)
            row = {"Code commune": c.code_insee, "k": k}
            for y in years:
                f = (1 + trend) ** (y - years[-1])
                if y == 2020 and sector[k] == "hebergement_restauration":
                    f *= 0.8
                alive = [s for i, s in enumerate(sizes) if y >= years[-1] - 12 + (i * 7) % 12 or i == 0]
                row[f"e{y}"] = len(alive) if alive else None
                row[f"s{y}"] = round(sum(alive) * f * rng.uniform(0.95, 1.05)) if alive else None
            out.append(row)
    df = pd.DataFrame(out)
    lab = naf.set_index(naf.index)
    frame = pd.DataFrame({
        "Région": df["Code commune"].map(communes.set_index("code_insee").nom_region),
        "Ancienne région": df["Code commune"].map(communes.set_index("code_insee").nom_region),
        "Département": df["Code commune"].map(communes.set_index("code_insee").nom_departement),
        "EPCI": df["Code commune"].map(communes.set_index("code_insee").nom_court),
        "Nom commune": df["Code commune"].map(communes.set_index("code_insee").nom),
        "Commune": df["Code commune"] + " " + df["Code commune"].map(communes.set_index("code_insee").nom),
        "Secteur NA88": [f"{lab.a88.iat[k]} {lab.libelle_a88.iat[k]}" for k in df.k],
        "APE": [f"{lab.naf_sous_classe.iat[k].replace('.', '')} {lab.libelle.iat[k]}" for k in df.k],
        "Code département": df["Code commune"].map(communes.set_index("code_insee").departement),
        "Code EPCI": df["Code commune"].map(communes.set_index("code_insee").epci_siren),
        "Code commune": df["Code commune"],
        "Code APE": [lab.naf_sous_classe.iat[k].replace(".", "") for k in df.k],
    })
    for y in years:
        frame[f"Nombre d'établissements {y}"] = df[f"e{y}"].astype("Int64")
        frame[f"Effectifs salariés {y}"] = df[f"s{y}"].astype("Int64")
    frame = frame.sort_values(["Code commune", "Code APE"])
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


# --- Sirene stock of establishments (StockEtablissement, published layout, gzip) ---------------------

SIRENE_FILE = "StockEtablissement_demo_2025.csv.gz"
# The published header of StockEtablissement_utf8.csv (INSEE, 2024-2025), in its order.
SIRENE_HEADER = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,numeroVoieEtablissement,"
    "indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,indiceRepetitionDernierNumeroVoieEtablissement,"
    "typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,"
    "codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
    "identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,coordonneeLambertOrdonneeEtablissement,"
    "complementAdresse2Etablissement,numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,"
    "libelleVoie2Etablissement,codePostal2Etablissement,libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,"
    "distributionSpeciale2Etablissement,codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,dateDebut,etatAdministratifEtablissement,"
    "enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,denominationUsuelleEtablissement,"
    "activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement").split(",")
SIRENE_STOCK_DATE = "2025-01-31"
# Yearly creation and closure rates by grand secteur (all establishments, micro-entrepreneurs included), and the
# year factors of creations: steady growth, the 2020 lockdowns, the 2021 rebound, industry's recent upturn.
SIRENE_RATES = {"AZ": (0.05, 0.045), "BE": (0.06, 0.05), "FZ": (0.10, 0.08), "GU": (0.12, 0.095), "OQ": (0.06, 0.05)}
SIRENE_FIRST_YEAR = 2000
_EMPLOYER_BANDS = ["01", "02", "03", "11", "12", "21", "22", "31"]


def _sirene_factor(year: int, a5: str) -> float:
    f = 1 + 0.015 * (year - 2010)
    f *= {2020: 0.88, 2021: 1.12}.get(year, 1.0)
    if a5 == "BE" and year >= 2021:
        f *= 1 + 0.04 * (year - 2020)
    return f


def sirene_stock(path: Path, communes: pd.DataFrame, naf: pd.DataFrame) -> None:
    """Every establishment of the perimeter's communes, active or closed, with plausible dates.

    Calibrated on the département's real stock: each commune's active establishments by grand secteur in 2018
    (ETAZ18…ETOQ18 of the embedded base comparateur; population / 19 where it has no row) are reached by
    simulating from 2000 creations (Poisson) and lifetimes (geometric) at SIRENE_RATES. Own random stream:
    the other demo files stay the same. Some rows are « P » (partial diffusion: address [ND]), some closed
    before 2000 in the NAF rév. 1, as in the published stock."""
    rng = np.random.default_rng(SEED + 29)
    base = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "default" / "base_cc_comparateur_2022_extrait.csv",
                       sep=";", dtype=str)
    base = base[base.NIVGEO == "COM"].set_index("CODGEO")
    a5 = naf.a10.map(A5_FROM_A10)
    weights = rng.gamma(0.35, 1.0, len(naf))
    for code, boost in COMMON_NAF.items():
        weights[(naf.naf_sous_classe == code).to_numpy()] += boost
    pools = {s: (naf.naf_sous_classe[a5 == s].to_numpy(), weights[(a5 == s).to_numpy()] / weights[(a5 == s).to_numpy()].sum())
             for s in SIRENE_RATES}
    last = int(SIRENE_STOCK_DATE[:4]) - 1
    years = np.arange(SIRENE_FIRST_YEAR, last + 1)
    rows = []
    serial = 0

    def day(y: int) -> str:
        return (pd.Timestamp(f"{y}-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))).strftime("%Y-%m-%d")

    for c in communes.itertuples():
        for s, (c_rate, f_rate) in SIRENE_RATES.items():
            col = f"ET{s}18"
            target = (int(base.at[c.code_insee, col]) if c.code_insee in base.index and pd.notna(base.at[c.code_insee, col])
                      else c.population / 19 * {"AZ": 0.1, "BE": 0.08, "FZ": 0.14, "GU": 0.6, "OQ": 0.08}[s])
            growth = np.prod([1 - f_rate + c_rate * _sirene_factor(int(y), s) for y in years if y < 2018])
            alive = target / growth
            n0 = int(rng.poisson(alive))
            starts = [(int(y), True) for y in rng.integers(1975, SIRENE_FIRST_YEAR, n0)]
            for y in years:
                born = int(rng.poisson(alive * c_rate * _sirene_factor(int(y), s)))
                starts += [(int(y), False)] * born
                alive = alive * (1 - f_rate) + alive * c_rate * _sirene_factor(int(y), s)
            # A few closed in the 1990s, coded in the NAF rév. 1 (the loader keeps them out of every flow).
            old = int(rng.poisson(max(target, 1) * 0.05))
            codes, probs = pools[s]
            picked = rng.choice(len(codes), size=len(starts) + old, p=probs)
            for i, (y0, initial) in enumerate(starts):
                # Lifetime from 2000 (initial stock) or from the creation year: geometric at the closure rate.
                end = (SIRENE_FIRST_YEAR - 1 if initial else y0) + int(rng.geometric(f_rate))
                created = day(y0)
                closed = day(end) if end <= last else None
                if closed and closed <= created:
                    closed = created
                employer = rng.random() < (0.3 if s == "BE" else 0.18)
                tranche = (str(rng.choice(_EMPLOYER_BANDS, p=[.3, .22, .16, .12, .08, .05, .04, .03])) if employer
                           else str(rng.choice(["NN", "00", ""], p=[.8, .12, .08])))
                if closed and rng.random() < 0.7:
                    tranche = "NN"
                serial += 1
                rows.append((c, codes[picked[i]], "NAFRev2", created, closed, tranche, serial))
            for j in range(old):
                serial += 1
                y0 = int(rng.integers(1980, 1992))
                rows.append((c, "52.1Z", "NAFRev1", day(y0), day(int(rng.integers(1993, SIRENE_FIRST_YEAR))), "NN", serial))
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SIRENE_HEADER)
        for c, code, nomenclature, created, closed, tranche, serial in rows:
            siren = luhn_complete(f"{80000000 + serial:08d}")
            nic = luhn_complete(f"{1:04d}")
            siret = luhn_complete(siren + nic[:4])
            partial = rng.random() < 0.04
            row = dict.fromkeys(SIRENE_HEADER, "")
            row.update(siren=siren, nic=siret[9:], siret=siret, statutDiffusionEtablissement="P" if partial else "O",
                       dateCreationEtablissement=created, trancheEffectifsEtablissement=tranche,
                       anneeEffectifsEtablissement="2022" if tranche not in ("NN", "00", "") else "",
                       # The stock's year is that of its latest processing date: some rows carry the stock's date.
                       dateDernierTraitementEtablissement=(SIRENE_STOCK_DATE if serial % 50 == 0 else closed or created)
                       + "T08:00:00",
                       etablissementSiege="true", nombrePeriodesEtablissement="2" if closed else "1",
                       codeCommuneEtablissement=c.code_insee, libelleCommuneEtablissement=c.nom.upper(),
                       dateDebut=closed or created, etatAdministratifEtablissement="F" if closed else "A",
                       activitePrincipaleEtablissement=code, nomenclatureActivitePrincipaleEtablissement=nomenclature,
                       caractereEmployeurEtablissement="O" if tranche not in ("NN", "00", "") else "N")
            if partial:  # partial diffusion: the address down to the commune is withheld
                row.update(dict.fromkeys(("numeroVoieEtablissement", "typeVoieEtablissement", "libelleVoieEtablissement",
                                          "codePostalEtablissement", "identifiantAdresseEtablissement",
                                          "coordonneeLambertAbscisseEtablissement",
                                          "coordonneeLambertOrdonneeEtablissement"), "[ND]"))
            else:
                row.update(numeroVoieEtablissement=str(1 + serial % 80), typeVoieEtablissement="RTE",
                           libelleVoieEtablissement="DE LA GARE, ZA DU LAC" if serial % 7 == 0 else "DES ALPES",
                           codePostalEtablissement=c.code_insee[:2] + "000")
            w.writerow([row[h] for h in SIRENE_HEADER])


# --- Chamber of commerce export (CSV as Excel writes it, one row per establishment) -------------


def _sector_totals(scale: float = 1.0) -> dict[str, list[int]]:
    """Exact sector totals (k€) for every year: 2022 and the published growths fixed, industry solves the total."""
    y22 = {s: round(v * scale) for s, v in CA_2022_KEUR.items()}
    y21 = {s: round(v / GROWTH_2022[s]) for s, v in y22.items() if GROWTH_2022[s]}
    y21["industrie"] = round(sum(y22.values()) / TOTAL_GROWTH_2022) - sum(y21.values())
    out = {}
    for s in y22:
        p = PATH_TO_2021[s]
        out[s] = [round(y21[s] * p[0]), round(y21[s] * p[1]), round(y21[s] * p[2]), y21[s], y22[s]]
    return out


def _chamber(rng, communes: pd.DataFrame, naf: pd.DataFrame, path: Path, cal: dict) -> None:
    totals = _sector_totals(cal["echelle"])
    weights = _naf_weights(rng, naf)
    firms = []  # [sector, naf index, commune code, band, weight (k€ for large firms), large, calibrated]
    # The candidature's figures are for the main département: calibrated firms are there; the other
    # communes (members and neighbours in other départements) get their own firms on top, at the same density.
    in05 = communes[communes.calibree].reset_index(drop=True)
    out05 = communes[~communes.calibree].reset_index(drop=True)
    share_out = out05.population.sum() / in05.population.sum()
    for sector, n in TPE_PME_2022.items():
        idx = np.flatnonzero((naf.secteur == sector).to_numpy())
        p = weights[idx] / weights[idx].sum()
        mean = {"industrie": 5.6, "construction": 5.2, "commerce": 5.7,
                "hebergement_restauration": 5.0, "transport_autres_services": 4.3}[sector]
        for where, count, calibrated in [(in05, round(n * cal["echelle"]), True), (out05, round(n * share_out), False)]:
            # Communes drawn by population, weighted by the EPCI's sector profile.
            cw = where.population.to_numpy() * np.array([p.get(sector, 1.0) for p in where.profil])
            places = rng.choice(len(where), size=count, p=cw / cw.sum())
            codes = rng.choice(idx, size=count, p=p)
            sizes = rng.lognormal(mean=mean, sigma=1.15, size=count)
            for k, place, ca in zip(codes, places, sizes):
                firms.append([sector, int(k), where.code_insee.iat[place], None, float(ca), False, calibrated])
    code_of = {c: i for i, c in enumerate(naf.naf_sous_classe)}
    for sector, code, epci, ca, band in cal["grandes_entreprises"]:
        places = in05[in05.epci_siren == epci].sort_values("population", kind="stable")
        if len(places):  # a large firm of an EPCI outside this perimeter is left out
            firms.append([sector, code_of[code], places.code_insee.iat[-1], band, float(ca) * cal["echelle"], True, True])
    _plant_secret_cells(firms, communes, code_of, cal["epci_cellules_secretes"])
    df = pd.DataFrame(firms, columns=["secteur", "k", "commune", "tranche", "w", "large", "calibrated"])
    # Yearly turnover: each firm's path around its sector's, then scaled to the exact sector totals.
    years = CA_YEARS
    noise = rng.lognormal(0, 0.08, size=(len(df), len(years)))
    created = rng.random(len(df)) < 0.06            # a few firms born after 2018
    birth = np.where(created, rng.integers(2019, 2023, len(df)), 2000)
    ca = np.zeros((len(df), len(years)))
    calibrated = df.calibrated.to_numpy()
    is_large = df.large.to_numpy()
    w = df.w.to_numpy()
    for s, tot in totals.items():
        m = (df.secteur == s).to_numpy()
        for j, y in enumerate(years):
            alive = m & (birth <= y)
            large = alive & is_large
            small = alive & ~is_large & calibrated
            ca[large, j] = np.round(w[large] * tot[j] / tot[-1])  # k€: large firms follow their sector
            rest = tot[j] - ca[large, j].sum()
            vals = np.maximum(1, np.floor(w[small] * noise[small, j] / (w[small] * noise[small, j]).sum() * rest))
            # Put the rounding residual on the largest small firm so totals are exact in k€.
            vals[np.argmax(vals)] += rest - vals.sum()
            ca[small, j] = vals
            # Firms outside 05 at the same average size as the calibrated ones.
            outside = alive & ~calibrated
            ca[outside, j] = np.maximum(1, np.round(w[outside] * noise[outside, j] * vals.sum() / (w[small] * noise[small, j]).sum()))
    ca[birth[:, None] > np.array(years)[None, :]] = np.nan
    df["band"] = [b if isinstance(b, str) else _band_for(v, s, rng) for b, v, s in zip(df.tranche, ca[:, -1], df.secteur)]
    # SIRET: a Luhn-valid SIREN plus a Luhn-valid establishment number.
    sirens = rng.choice(np.arange(30_000_000, 99_999_999), size=len(df), replace=False)
    df["siret"] = [luhn_complete(luhn_complete(f"{s:08d}") + "0001"[:4]) for s in sirens]
    names = cal["noms"]
    kinds = ["SARL", "SAS", "EURL", "SA", "SCOP"]
    header = ["N° SIRET", "Raison sociale", "Code NAF", "Code commune INSEE", "Tranche effectif"] + [f"CA {y} (k€)" for y in years]
    labels = _band_labels()
    # CSV rather than xlsx: the loader reads both, and a workbook of this size takes 10 s to parse at every build.
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(header)
        for i, r in enumerate(df.itertuples()):
            row = [r.siret, f"{kinds[i % 5]} Démo {names[i % 10]} {i + 1:05d}", naf.naf_sous_classe.iat[r.k],
                   r.commune, labels[r.band]]
            out.writerow(row + ["" if math.isnan(v) else int(v) for v in ca[i]])


def _plant_secret_cells(firms: list, communes: pd.DataFrame, code_of: dict, epci: str) -> None:
    """Cells the secret rules must hide: PPAM in one EPCI made of 2 firms (the aeronautics of the EPCI
    of the large maintenance firm above is dominated by it)."""
    queyras = set(communes[communes.epci_siren == epci].code_insee)
    if not queyras:
        return
    ppam = code_of["20.53Z"]
    for f in firms:  # other PPAM firms drawn in the Queyras become bakeries: the cell keeps exactly 2 firms
        if f[1] == ppam and f[2] in queyras:
            f[1] = code_of["10.71C"]
    guillestre = communes[communes.epci_siren == epci].sort_values("population", kind="stable").code_insee.iat[-1]
    replaced = 0
    for f in firms:
        if f[0] == "industrie" and f[1] != ppam and not f[5] and f[6] and f[2] not in queyras and replaced < 2:
            f[1], f[2], f[4] = ppam, guillestre, 900.0 + 300 * replaced
            replaced += 1


def _band_for(ca_keur: float, sector: str, rng) -> str:
    if ca_keur != ca_keur:
        return "NN"
    per_head = {"industrie": 160, "construction": 130, "commerce": 250,
                "hebergement_restauration": 70, "transport_autres_services": 90}[sector]
    heads = ca_keur / per_head * rng.uniform(0.7, 1.3)
    for code, upper in [("NN", 0.5), ("01", 2.5), ("02", 5.5), ("03", 9.5), ("11", 19.5), ("12", 49.5),
                        ("21", 99.5), ("22", 199.5), ("31", 249.5)]:
        if heads < upper:
            return code
    return "31"


def _band_labels() -> dict[str, str]:
    t = pd.read_csv(REFERENCE_DIR / "tranches_effectifs.csv", dtype=str)
    return dict(zip(t.code, t.libelle))


# >>> NAF 2025 option: the same demo files coded in NAF 2025 (the APE codes from 1 January 2027) ------
# Each NAF rév. 2 code becomes its NAF 2025 code when INSEE's correspondence gives one; a code with several
# NAF 2025 codes goes, whole, to one of them, drawn once per commune (URSSAF) or per establishment (chamber)
# from a hash: demo data stand for what the firms would declare, no figure is split by a ratio. URSSAF rows
# that end on the same (commune, code) are added up, as URSSAF would publish them.

NAF2025_FILES = ["urssaf_commune_ape_naf2025_2024_demo.csv", "cci_entreprises_naf2025_2022_demo.csv"]


def naf2025_target(code08: str, key: str, targets: dict[str, list[str]]) -> str:
    """The NAF 2025 code a demo row coded `code08` gets (the only one, or one drawn from `key`)."""
    options = targets[code08]
    if len(options) == 1:
        return options[0]
    return options[int(hashlib.sha256(f"{key}|{code08}".encode()).hexdigest()[:8], 16) % len(options)]


def _naf2025_targets() -> tuple[dict[str, list[str]], pd.DataFrame]:
    corr = pd.read_csv(REFERENCE_DIR / "naf2008_naf2025.csv", dtype=str)
    naf25 = pd.read_csv(REFERENCE_DIR / "naf2025.csv", dtype=str)
    return corr.groupby("code_naf2008").code_naf2025.apply(sorted).to_dict(), naf25.set_index("naf_sous_classe")


def recode_urssaf_naf2025(src: Path, dest: Path) -> None:
    """An URSSAF-layout file (NAF rév. 2 codes) rewritten in NAF 2025 codes."""
    targets, naf25 = _naf2025_targets()
    df = pd.read_csv(src, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    old = df["Code APE"].str[:2] + "." + df["Code APE"].str[2:]
    new = [naf2025_target(o, c, targets) for o, c in zip(old, df["Code commune"])]
    df["Code APE"] = [n.replace(".", "") for n in new]
    df["APE"] = [f"{n.replace('.', '')} {naf25.libelle[n]}" for n in new]
    df["Secteur NA88"] = [f"{naf25.a88[n]} {naf25.libelle_a88[n]}" for n in new]
    values = [c for c in df.columns if c.startswith(("Nombre d'établissements", "Effectifs salariés"))]
    keys = [c for c in df.columns if c not in values]
    nums = df[values].replace("", np.nan).astype(float)
    # An empty cell is "not published": a sum over empty cells stays empty.
    summed = pd.concat([df[keys], nums], axis=1).groupby(keys, sort=False)[values].sum(min_count=1).reset_index()
    for c in values:
        summed[c] = summed[c].astype("Int64")
    summed = summed.sort_values(["Code commune", "Code APE"])[df.columns]
    summed.to_csv(dest, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


def recode_chamber_naf2025(src: Path, dest: Path) -> None:
    """A chamber export (NAF rév. 2 codes) rewritten in NAF 2025 codes, one draw per establishment."""
    targets, _ = _naf2025_targets()
    with open(src, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    i_naf, i_siret = header.index("Code NAF"), header.index("N° SIRET")
    with open(dest, "w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(header)
        for r in body:
            r[i_naf] = naf2025_target(r[i_naf], r[i_siret], targets)
            out.writerow(r)


def write_naf2025(dest: Path, files: list[Path]) -> list[Path]:
    """The URSSAF and chamber demo files of `files` (as `ensure` returns them) in NAF 2025 codes, in `dest`."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out = [dest / n for n in NAF2025_FILES]
    recode_urssaf_naf2025(next(f for f in files if Path(f).name.startswith("urssaf")), out[0])
    recode_chamber_naf2025(next(f for f in files if Path(f).name.startswith("cci")), out[1])
    return out


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description="Fichiers de démonstration (NAF rév. 2, ou NAF 2025 avec --naf2025)")
    p.add_argument("dest", type=Path, help="dossier où écrire les fichiers")
    p.add_argument("--naf2025", action="store_true", help="écrire aussi les fichiers URSSAF et CCI en codes NAF 2025")
    args = p.parse_args()
    written = ensure(args.dest)
    if args.naf2025:
        written = written + write_naf2025(args.dest, written)
    for f in written:
        print(f)
# <<< NAF 2025 option ----------------------------------------------------------------------------------
