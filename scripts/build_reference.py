#!/usr/bin/env python3
"""Build the reference tables of data/reference/.

Two parts, which can be run separately:

* ``--france`` (no download): every commune, EPCI, département and région of France (2026),
  the Territoires d'industrie 2023-2027, the former commune codes and the compact commune
  contours, from the public files kept next to the repository:
  ``../shared/reference/`` (communes_france.csv, epci_france.csv: npm
  ``@etalab/decoupage-administratif`` 6.0.0, COG 2026, DGCL EPCI 2026, INSEE population
  municipale 2023; territoires_industrie_2023_2027*.csv: ANCT) and
  ``../shared/real/geo/communes-2018/`` (IGN Admin Express 2018, one GeoJSON per département).
  Paths are relative to the repository root; ``--reference-dir`` / ``--geo-dir`` change them.
* ``--naf`` (downloads PyPI ``pynsee`` 0.3.0, read as data only): INSEE NAF rev. 2 tables
  (pynsee/metadata/data/naf.zip), and the curated tables (strategic filières, sector grouping
  of the turnover figures, Sirene workforce bands) defined in this file.

Usage::

    python scripts/build_reference.py                # both parts
    python scripts/build_reference.py --france       # France-wide tables and contours only
    python scripts/build_reference.py --naf --cache DIR   # NAF part, reusing/keeping downloads in DIR
    python scripts/build_reference.py --curated      # curated tables only, from the committed naf.csv

Output is deterministic: running it twice gives the same bytes.
Requirements: Python 3.10+, pandas, numpy, shapely >= 2.1; ``pip`` on the PATH for the download.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "data" / "reference"

# --------------------------------------------------------------------------
# Package versions
# --------------------------------------------------------------------------
PYPI_PYNSEE = ("pynsee", "0.3.0")

# --------------------------------------------------------------------------
# France-wide reference
# --------------------------------------------------------------------------
# Reference year of the population municipale of communes_france.csv (decoupage-administratif
# 6.0.0): INSEE "populations de référence" millésime 2023 (published December 2025, in force on
# 1 January 2026). Checked on the communes of one département against the INSEE file
# "populations légales 2023" (PMUN): identical.
POPULATION_YEAR = 2023

# Short EPCI names written in a candidature (overrides of the generic rule), committed data.
NOMS_COURTS_FILE = "epci_noms_courts.csv"

# Compact contours (data/reference/contours/DD.json.gz): coverage simplification tolerance
# (Visvalingam-Whyatt: square root of the largest triangle area removed, in degrees: about 200 m)
# and coordinate quantum (degrees: about 15 m in longitude, 22 m in latitude).
CONTOURS_DIR = "contours"
CONTOURS_TOLERANCE = 0.002
CONTOURS_QUANTUM = 2e-4

# --------------------------------------------------------------------------
# Curated tables
# --------------------------------------------------------------------------
TERRITOIRES_FRANCE = ("france", "FR", "France")

SECTEURS_CANDIDATURE = [
    # (secteur, libellé, sections NAF)
    ("industrie", "Industrie", "BCDE"),
    ("construction", "Construction", "F"),
    ("commerce", "Commerce", "G"),
    ("hebergement_restauration", "Hébergement-restauration", "I"),
    ("transport_autres_services", "Transport et autres services", "HJLMNRS"),
    (
        "hors_champ",
        "Hors champ : agriculture, finance, administration, enseignement, santé, ménages",
        "AKOPQTU",
    ),
]

# How a sentence names each sector and filière (indicators/content/french.py reads these columns beside the
# label): the wording inside a sentence, gender (m, f), number (singulier, pluriel) and elision of the article
# (« l'industrie », « le BTP »). « Transport et autres services » is named « les transports et autres services ».
GRAMMAIRE_COLUMNS = ["libelle_phrase", "genre", "nombre", "elision"]
SECTEURS_GRAMMAIRE = {
    "industrie": ("industrie", "f", "singulier", "oui"),
    "construction": ("construction", "f", "singulier", "non"),
    "commerce": ("commerce", "m", "singulier", "non"),
    "hebergement_restauration": ("hébergement-restauration", "m", "singulier", "oui"),
    "transport_autres_services": ("transports et autres services", "m", "pluriel", "non"),
    "hors_champ": ("hors champ", "m", "singulier", "non"),
}

# Sirene "tranche d'effectif salarié" codes.
TRANCHES_EFFECTIFS = [
    ("NN", "Unité non employeuse ou effectif non renseigné", None, None),
    ("00", "0 salarié (ayant employé au cours de l'année mais plus au 31/12)", 0, 0),
    ("01", "1 ou 2 salariés", 1, 2),
    ("02", "3 à 5 salariés", 3, 5),
    ("03", "6 à 9 salariés", 6, 9),
    ("11", "10 à 19 salariés", 10, 19),
    ("12", "20 à 49 salariés", 20, 49),
    ("21", "50 à 99 salariés", 50, 99),
    ("22", "100 à 199 salariés", 100, 199),
    ("31", "200 à 249 salariés", 200, 249),
    ("32", "250 à 499 salariés", 250, 499),
    ("41", "500 à 999 salariés", 500, 999),
    ("42", "1 000 à 1 999 salariés", 1000, 1999),
    ("51", "2 000 à 4 999 salariés", 2000, 4999),
    ("52", "5 000 à 9 999 salariés", 5000, 9999),
    ("53", "10 000 salariés et plus", 10000, None),
]

FILIERE_LIBELLES = {
    "agroalimentaire": "Agroalimentaire",
    "ppam": "Plantes à parfum, aromatiques et médicinales",
    "aeronautique": "Aéronautique",
    "energies_renouvelables": "Énergies renouvelables",
    "btp": "BTP",
}
FILIERES_GRAMMAIRE = {       # columns GRAMMAIRE_COLUMNS, as for the sectors
    "agroalimentaire": ("agroalimentaire", "m", "singulier", "oui"),
    "ppam": ("plantes à parfum, aromatiques et médicinales", "f", "pluriel", "non"),
    "aeronautique": ("aéronautique", "f", "singulier", "oui"),
    "energies_renouvelables": ("énergies renouvelables", "f", "pluriel", "non"),
    "btp": ("BTP", "m", "singulier", "non"),
}

_NOTE_IAA = (
    "Industries agroalimentaires : divisions 10 et 11 (A38 CA, hors tabac 12)."
)
_NOTE_IAA_ARTISANAT = (
    _NOTE_IAA
    + " Artisanat commercial (charcuterie, boulangerie, pâtisserie), que les"
    " statistiques agricoles excluent en général des IAA : à arbitrer."
)
_NOTE_GROS_ALIM = (
    "Commerce de gros alimentaire : sphère agroalimentaire élargie (choix d'analyse)."
)
_NOTE_BTP = "Section F Construction (A38 FZ)."
_NOTE_BTP_MAT = "Matériaux de construction (granulats, ciment, béton, pierre)."
_NOTE_AERO_SUPPLY = (
    "Chaîne d'approvisionnement aéronautique : la NAF ne suffit pas à isoler"
    " les sous-traitants, liste de SIREN à valider."
)
_NOTE_ENR_EQUIP = (
    "Fabrication d'équipements : forte sur-couverture, à filtrer par SIREN."
)

# (filiere, naf_sous_classe, perimetre, note). The same NAF code may appear in
# several filières only when the activity really serves both (said in the note).
FILIERES = [
    # Agroalimentaire - coeur: divisions 10 and 11.
    *[
        ("agroalimentaire", code, "coeur", _NOTE_IAA)
        for code in [
            "10.11Z", "10.12Z", "10.13A", "10.20Z", "10.31Z", "10.32Z", "10.39A",
            "10.39B", "10.41A", "10.41B", "10.42Z", "10.51A", "10.51B", "10.51C",
            "10.51D", "10.52Z", "10.61A", "10.61B", "10.62Z", "10.71A", "10.72Z",
            "10.73Z", "10.81Z", "10.82Z", "10.85Z", "10.86Z", "10.89Z", "10.91Z",
            "10.92Z", "11.01Z", "11.02A", "11.02B", "11.03Z", "11.04Z", "11.05Z",
            "11.06Z", "11.07A", "11.07B",
        ]
    ],
    *[
        ("agroalimentaire", code, "coeur", _NOTE_IAA_ARTISANAT)
        for code in ["10.13B", "10.71B", "10.71C", "10.71D"]
    ],
    ("agroalimentaire", "10.83Z", "coeur",
     _NOTE_IAA + " Thé, café, tisanes et infusions : aussi dans la filière PPAM."),
    ("agroalimentaire", "10.84Z", "coeur",
     _NOTE_IAA + " Condiments et assaisonnements (herbes aromatiques) : aussi dans"
     " la filière PPAM."),
    # Agroalimentaire - élargi: wholesale of food products.
    *[
        ("agroalimentaire", code, "elargi", _NOTE_GROS_ALIM)
        for code in [
            "46.31Z", "46.32A", "46.32B", "46.32C", "46.33Z", "46.34Z", "46.36Z",
            "46.37Z", "46.38A", "46.38B", "46.39A", "46.39B",
        ]
    ],
    # PPAM
    ("ppam", "01.28Z", "coeur",
     "Culture de plantes à épices, aromatiques, médicinales et pharmaceutiques"
     " (y compris, selon les notes explicatives NACE, les plantes à parfum comme"
     " la lavande et le lavandin : à vérifier)."),
    ("ppam", "20.53Z", "coeur",
     "Fabrication d'huiles essentielles (distilleries de lavande et de lavandin)."),
    ("ppam", "02.30Z", "elargi",
     "Cueillette de produits forestiers non ligneux sauvages (cueilleurs de"
     " plantes de montagne)."),
    ("ppam", "10.83Z", "elargi",
     "Tisanes et infusions : code aussi rattaché à l'agroalimentaire (cœur)."),
    ("ppam", "10.84Z", "elargi",
     "Condiments et herbes aromatiques : code aussi rattaché à l'agroalimentaire"
     " (cœur)."),
    *[
        ("ppam", code, "elargi",
         "Débouchés cosmétique et pharmacie : forte sur-couverture, à filtrer par"
         " SIREN.")
        for code in ["20.42Z", "21.10Z", "21.20Z"]
    ],
    ("ppam", "46.45Z", "elargi",
     "Commerce de gros de parfumerie : à filtrer par SIREN."),
    ("ppam", "46.75Z", "elargi",
     "Négoce d'huiles essentielles (commerce de gros de produits chimiques) : à"
     " filtrer par SIREN."),
    # Aéronautique
    ("aeronautique", "30.30Z", "coeur", "Construction aéronautique et spatiale."),
    ("aeronautique", "33.16Z", "coeur",
     "Réparation et maintenance d'aéronefs et d'engins spatiaux."),
    *[
        ("aeronautique", code, "elargi", _NOTE_AERO_SUPPLY)
        for code in ["25.61Z", "25.62A", "25.62B", "26.51A", "26.51B", "28.99B"]
    ],
    ("aeronautique", "52.23Z", "elargi",
     "Services auxiliaires des transports aériens (aérodromes, services"
     " aéroportuaires)."),
    # Énergies renouvelables
    ("energies_renouvelables", "35.11Z", "coeur",
     "Production d'électricité de toutes sources : la NAF rév. 2 ne distingue pas"
     " les renouvelables ; dans les Hautes-Alpes surtout hydroélectricité et"
     " photovoltaïque, à filtrer par SIREN ou registre des installations."),
    ("energies_renouvelables", "35.21Z", "elargi",
     "Production de combustibles gazeux (biométhane)."),
    ("energies_renouvelables", "35.30Z", "elargi",
     "Production et distribution de vapeur et d'air conditionné (réseaux de"
     " chaleur et de froid)."),
    ("energies_renouvelables", "38.21Z", "elargi",
     "Traitement des déchets non dangereux (méthanisation) : sur-couverture."),
    ("energies_renouvelables", "43.21A", "elargi",
     "Installateurs photovoltaïques : code aussi rattaché au BTP (cœur) ; forte"
     " sur-couverture."),
    ("energies_renouvelables", "43.22B", "elargi",
     "Installateurs de pompes à chaleur et de chaudières bois : code aussi"
     " rattaché au BTP (cœur) ; forte sur-couverture."),
    ("energies_renouvelables", "16.29Z", "elargi",
     "Granulés et combustibles bois : forte sur-couverture, à filtrer par SIREN."),
    *[
        ("energies_renouvelables", code, "elargi", _NOTE_ENR_EQUIP)
        for code in ["26.11Z", "27.11Z", "28.11Z"]
    ],
    ("energies_renouvelables", "71.12B", "elargi",
     "Ingénierie et études techniques des projets d'énergie : code aussi rattaché"
     " au BTP (élargi) ; forte sur-couverture."),
    # BTP
    *[
        ("btp", code, "coeur", _NOTE_BTP)
        for code in [
            "41.10A", "41.10B", "41.10C", "41.10D", "41.20A", "41.20B", "42.11Z",
            "42.12Z", "42.13A", "42.13B", "42.21Z", "42.22Z", "42.91Z", "42.99Z",
            "43.11Z", "43.12A", "43.12B", "43.13Z", "43.21B", "43.22A", "43.29A",
            "43.29B", "43.31Z", "43.32A", "43.32B", "43.32C", "43.33Z", "43.34Z",
            "43.39Z", "43.91A", "43.91B", "43.99A", "43.99B", "43.99C", "43.99D",
            "43.99E",
        ]
    ],
    ("btp", "43.21A", "coeur",
     _NOTE_BTP + " Installation électrique : code aussi rattaché aux énergies"
     " renouvelables (élargi)."),
    ("btp", "43.22B", "coeur",
     _NOTE_BTP + " Installation d'équipements thermiques et de climatisation :"
     " code aussi rattaché aux énergies renouvelables (élargi)."),
    *[
        ("btp", code, "elargi", _NOTE_BTP_MAT)
        for code in ["08.12Z", "23.51Z", "23.61Z", "23.63Z", "23.64Z", "23.70Z"]
    ],
    ("btp", "71.11Z", "elargi", "Activités d'architecture."),
    ("btp", "71.12B", "elargi",
     "Ingénierie et études techniques : code aussi rattaché aux énergies"
     " renouvelables (élargi)."),
]

# Typo fixes applied to INSEE labels (missing accent on a capital letter).
NAF_LABEL_FIXES = {
    "Edition, audiovisuel et diffusion": "Édition, audiovisuel et diffusion",
}


# --------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------
def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch_pypi(name: str, version: str, dest: Path) -> Path:
    wheel_prefix = f"{name.replace('-', '_')}-{version}-"
    found = sorted(dest.glob(wheel_prefix + "*.whl"))
    if not found:
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
             ":all:", "--quiet", f"{name}=={version}", "-d", str(dest)],
            cwd=dest,
        )
        found = sorted(dest.glob(wheel_prefix + "*.whl"))
    if not found:
        raise FileNotFoundError(f"wheel of {name} {version} not found in {dest}")
    return found[0]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def clean_label(text: str) -> str:
    text = re.sub(r"\s+", " ", str(text)).strip()
    return NAF_LABEL_FIXES.get(text, text)


def sentence_case(text: str) -> str:
    text = clean_label(text).lower()
    return text[:1].upper() + text[1:]


def write_csv(df: pd.DataFrame, name: str) -> None:
    path = OUT_DIR / name
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    print(f"wrote {path.relative_to(REPO_ROOT)} ({len(df)} rows)")


# Lambert azimuthal equal-area projection on the GRS80 ellipsoid, with the
# parameters of ETRS89-LAEA (EPSG:3035); formulas from Snyder (1987) /
# IOGP guidance note 7-2. Used only to measure areas.
_A = 6378137.0
_F = 1 / 298.257222101
_E2 = _F * (2 - _F)
_E = np.sqrt(_E2)


def _q(phi: np.ndarray) -> np.ndarray:
    s = np.sin(phi)
    return (1 - _E2) * (s / (1 - _E2 * s * s) - np.log((1 - _E * s) / (1 + _E * s)) / (2 * _E))


def laea_3035(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    phi0, lam0 = np.radians(52.0), np.radians(10.0)
    phi, lam = np.radians(lat), np.radians(lon)
    qp = _q(np.pi / 2)
    beta = np.arcsin(_q(phi) / qp)
    beta0 = np.arcsin(_q(phi0) / qp)
    rq = _A * np.sqrt(qp / 2)
    d = _A * np.cos(phi0) / (np.sqrt(1 - _E2 * np.sin(phi0) ** 2) * rq * np.cos(beta0))
    b = rq * np.sqrt(
        2 / (1 + np.sin(beta0) * np.sin(beta) + np.cos(beta0) * np.cos(beta) * np.cos(lam - lam0))
    )
    x = b * d * np.cos(beta) * np.sin(lam - lam0)
    y = (b / d) * (np.cos(beta0) * np.sin(beta) - np.sin(beta0) * np.cos(beta) * np.cos(lam - lam0))
    return 4321000.0 + x, 3210000.0 + y


def area_km2(geom) -> float:
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = laea_3035(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return float(shapely.area(shapely.transform(geom, project))) / 1e6


def polygonal(geom):
    """Keep only the polygonal part of a geometry (after make_valid)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


# --------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------
# --------------------------------------------------------------------------
# France-wide reference (communes, EPCI, territories, TI, contours) from the
# public files kept next to the repository (../shared/reference/, ../shared/real/geo/)
# --------------------------------------------------------------------------
def _shared_dir(*parts: str) -> Path:
    return (REPO_ROOT / ".." / "shared").joinpath(*parts)


def read_shared_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def nom_court_generique(nom: str) -> str:
    """Short EPCI name by the generic rule: the legal form and its article dropped.

    « CC du Briançonnais » -> « Briançonnais », « Communauté d'agglomération de X » -> « X »,
    « CA Gap-Tallard-Durance » -> « Gap-Tallard-Durance ». Métropoles keep their name (« Métropole
    de Lyon » is not « Lyon », the commune).
    """
    short = _NOM_COURT_PREFIX.sub("", nom.strip(), count=1).strip()
    if not short or short == nom.strip():
        return nom.strip()
    return short[:1].upper() + short[1:]


_NOM_COURT_PREFIX = re.compile(
    r"^(?:CC|CA|CU|Communauté\s+de\s+communes|Communauté\s+d['’]agglomération|Communauté\s+urbaine)"
    r"(?:\s+(?:de\s+l|d)['’]\s*|\s+(?:de\s+la|des|du|de)\s+|\s+|$)",
)  # case-sensitive: « CA de La Rochelle » keeps its « La »


def read_noms_courts() -> dict[str, str]:
    """Short names written in the candidature (overrides of the generic rule), from NOMS_COURTS_FILE."""
    path = OUT_DIR / NOMS_COURTS_FILE
    if not path.exists():
        return {}
    df = read_shared_csv(path)
    return dict(zip(df["epci_siren"], df["nom_court"]))


def read_contours_2018(geo_dir: Path) -> list[tuple[str, str, object]]:
    """(code, nom, shapely geometry) of every feature of the département files, in file order."""
    files = sorted(geo_dir.glob("communes-*.geojson"))
    if len(files) != 101:
        raise ValueError(f"expected 101 département files in {geo_dir}, found {len(files)}")
    out = []
    for f in files:
        for feat in json.loads(f.read_text(encoding="utf-8"))["features"]:
            props = feat.get("properties") or {}
            if feat.get("geometry") is None:
                continue
            out.append((str(props["code"]), str(props.get("nom", "")), shapely.geometry.shape(feat["geometry"])))
    return out


def current_geometries(features, current: set[str], changes: dict[str, str]):
    """Contours of the 2018 COG mapped to the current communes (merged communes: parts unioned).

    Returns (code -> geometry, code -> sorted 2018 codes drawn in it, 2018 codes with no current commune).
    """
    pieces: dict[str, list] = {}
    origins: dict[str, list[str]] = {}
    ignored = []
    for code, _nom, geom in features:
        target = code if code in current else changes.get(code)
        if target is None:
            ignored.append(code)
            continue
        if not geom.is_valid:
            geom = polygonal(shapely.make_valid(geom))
        pieces.setdefault(target, []).append(geom)
        origins.setdefault(target, []).append(code)
    geoms = {}
    for code, parts in pieces.items():
        g = parts[0] if len(parts) == 1 else polygonal(shapely.union_all(parts))
        geoms[code] = g
    return geoms, {c: sorted(o) for c, o in origins.items()}, ignored


def build_france(ref_dir: Path, geo_dir: Path) -> dict[str, object]:
    """Every France-wide table, as DataFrames, plus the contours (code -> geometry)."""
    src = read_shared_csv(ref_dir / "communes_france.csv")
    if not src["code_insee"].is_unique:
        raise ValueError("duplicate commune codes in communes_france.csv")
    current = set(src["code_insee"])
    changes: dict[str, str] = {}
    for code, anciens in zip(src["code_insee"], src["anciens_codes"]):
        for old in anciens.split():
            if old in current or changes.get(old, code) != code:
                raise ValueError(f"former code {old} is a current commune or has two new communes")
            changes[old] = code

    features = read_contours_2018(geo_dir)
    names_2018 = {code: nom for code, nom, _ in features}
    geoms, origins, ignored = current_geometries(features, current, changes)
    if ignored:
        raise ValueError(f"contours of 2018 with no current commune: {sorted(ignored)[:20]}")

    communes = pd.DataFrame({
        "code_insee": src["code_insee"],
        "nom": src["nom"],
        "departement": src["code_departement"],
        "region": src["code_region"],
        "epci_siren": src["siren_epci"],
        "population": src["population"],
        "annee_population": np.where(src["population"] != "", str(POPULATION_YEAR), ""),
        "superficie_km2": [f"{area_km2(geoms[c]):.2f}" if c in geoms else "" for c in src["code_insee"]],
        "anciens_codes": src["anciens_codes"].str.split().str.join("|"),
    })  # in the order of communes_france.csv

    noms_courts = read_noms_courts()
    esrc = read_shared_csv(ref_dir / "epci_france.csv")
    epci = pd.DataFrame({
        "epci_siren": esrc["siren_epci"],
        "nom": esrc["nom_epci"],
        "nom_court": [noms_courts.get(s) or nom_court_generique(n) for s, n in zip(esrc["siren_epci"], esrc["nom_epci"])],
        "type": esrc["nature_juridique"],
        "nb_communes": esrc["nb_communes"],
        "departements": esrc["departements"].str.split().str.join("|"),
    }).sort_values("epci_siren").reset_index(drop=True)
    unknown = set(noms_courts) - set(epci["epci_siren"])
    if unknown:
        raise ValueError(f"short names for unknown EPCI: {sorted(unknown)}")

    # Départements and régions: those of the communes outside the overseas collectivities
    # (zone 'com': Saint-Pierre-et-Miquelon, Polynésie… have no département or région of INSEE's).
    dr = src[src["zone"] != "com"]
    deps = (dr[["code_departement", "nom_departement"]].drop_duplicates().sort_values("code_departement"))
    regs = dr[["code_region", "nom_region"]].drop_duplicates().sort_values("code_region")
    territoires = pd.DataFrame(
        [TERRITOIRES_FRANCE]
        + [("region", c, n) for c, n in regs.itertuples(index=False)]
        + [("departement", c, n) for c, n in deps.itertuples(index=False)],
        columns=["niveau", "code", "nom"],
    )
    if deps["code_departement"].duplicated().any() or regs["code_region"].duplicated().any():
        raise ValueError("a département or région with two names")

    changements = pd.DataFrame(
        [{"ancien_code": old, "nouveau_code": new, "date_effet": "", "nom_ancien": names_2018.get(old, "")}
         for old, new in sorted(changes.items())],
        columns=["ancien_code", "nouveau_code", "date_effet", "nom_ancien"],
    )
    ti, membres, ti_communes = build_territoires_industrie(ref_dir, src)
    return {"communes": communes, "epci": epci, "territoires": territoires, "changements": changements,
            "ti": ti, "ti_membres": membres, "ti_communes": ti_communes, "geoms": geoms, "origins": origins}


_TYPE_MEMBRE = {"EPCI": "epci", "EPT": "ept", "COM": "commune"}


def build_territoires_industrie(ref_dir: Path, communes_src: pd.DataFrame):
    lst = read_shared_csv(ref_dir / "territoires_industrie_2023_2027.csv")
    mem = read_shared_csv(ref_dir / "territoires_industrie_2023_2027_epci.csv")
    der = read_shared_csv(ref_dir / "territoires_industrie_2023_2027_communes_derive.csv")
    if set(mem["type_groupement"]) - set(_TYPE_MEMBRE):
        raise ValueError(f"unknown member types {set(mem['type_groupement'])}")
    membres = pd.DataFrame({
        "id_ti": mem["id_ti"],
        "type_membre": mem["type_groupement"].map(_TYPE_MEMBRE),
        "code": mem["siren_groupement"],   # SIREN, also for a single commune (as the ANCT list gives it)
        "nom": mem["nom_2026"].where(mem["nom_2026"] != "", mem["nom_groupement_source"]),
    })  # in the order of the ANCT list
    ti = pd.DataFrame({"id_ti": lst["id_ti"], "nom": lst["lib_ti"]})
    ti["nb_membres"] = ti["id_ti"].map(membres.groupby("id_ti").size()).fillna(0).astype(int)
    ti = ti.sort_values("id_ti").reset_index(drop=True)
    # Each commune of a TI with the member it belongs through (type and SIREN of the member).
    ti_communes = pd.DataFrame({
        "id_ti": der["id_ti"], "code_insee": der["insee_com"],
        "type_membre": der["type_groupement"].map(_TYPE_MEMBRE), "code_membre": der["siren_groupement"],
    }).drop_duplicates().reset_index(drop=True)
    if ti_communes[["id_ti", "code_insee"]].duplicated().any() or ti_communes["type_membre"].isna().any():
        raise ValueError("a commune twice in a TI, or a member of unknown type")
    unknown = set(ti_communes["code_insee"]) - set(communes_src["code_insee"])
    if unknown:
        raise ValueError(f"TI communes not in the 2026 COG: {sorted(unknown)[:10]}")
    if (ti["nb_membres"] == 0).any() or set(membres["id_ti"]) - set(ti["id_ti"]):
        raise ValueError("TI list and members disagree")
    return ti, membres, ti_communes


# Compact contours: one gzip'd JSON file per département, `contours/DD.json.gz`:
#   {"format": CONTOURS_FORMAT, "departement": "05", "quantum": 1e-4,
#    "communes": {"05001": [[ring, ring…], …polygons]}}
# A ring is a flat list of integers: the first point in units of `quantum` degrees
# (lon, lat), then the differences from the previous point; the closing point is not repeated.
CONTOURS_FORMAT = "communes-quantifiees-v1"


def encode_ring(coords: np.ndarray) -> list[int] | None:
    q = np.round(np.asarray(coords)[:, :2] / CONTOURS_QUANTUM).astype(np.int64)
    if len(q) > 1 and (q[0] == q[-1]).all():
        q = q[:-1]
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = (np.diff(q, axis=0) != 0).any(axis=1)
    q = q[keep]
    if len(q) > 1 and (q[0] == q[-1]).all():
        q = q[:-1]
    if len(q) < 3:
        return None
    d = np.vstack([q[:1], np.diff(q, axis=0)])
    return d.ravel().tolist()


def encode_geometry(geom) -> list:
    polys = []
    for p in getattr(geom, "geoms", [geom]):
        ext = encode_ring(np.asarray(p.exterior.coords))
        if ext is None:
            continue
        holes = [r for r in (encode_ring(np.asarray(i.coords)) for i in p.interiors) if r is not None]
        polys.append([ext, *holes])
    return polys


def build_contour_files(communes: pd.DataFrame, geoms: dict) -> dict[str, bytes]:
    """département -> gzip'd JSON of its communes' simplified, quantised contours.

    The whole of France is simplified at once as a coverage (shapely.coverage_simplify, Visvalingam-
    Whyatt): neighbouring communes keep a common border, also across départements.
    """
    codes = [c for c in communes["code_insee"] if c in geoms]
    simplified = shapely.coverage_simplify(np.array([geoms[c] for c in codes], dtype=object), CONTOURS_TOLERANCE)
    dep_of = dict(zip(communes["code_insee"], communes["departement"]))
    by_dep: dict[str, dict] = {}
    for code, geom, orig in zip(codes, simplified, (geoms[c] for c in codes)):
        polys = encode_geometry(geom)
        if not polys:  # a tiny commune simplified away: its unsimplified contour, quantised
            polys = encode_geometry(orig)
        if not polys:
            raise ValueError(f"empty contour for {code}")
        by_dep.setdefault(dep_of[code], {})[code] = polys
    out = {}
    for dep, items in sorted(by_dep.items()):
        doc = {"format": CONTOURS_FORMAT, "departement": dep, "quantum": CONTOURS_QUANTUM,
               "communes": dict(sorted(items.items()))}
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"
        out[dep] = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    return out


def write_france(ref_dir: Path, geo_dir: Path) -> dict:
    t = build_france(ref_dir, geo_dir)
    write_csv(t["communes"], "communes.csv")
    write_csv(t["epci"], "epci.csv")
    write_csv(t["territoires"], "territoires.csv")
    write_csv(t["changements"], "communes_changements.csv")
    write_csv(t["ti"], "territoires_industrie.csv")
    write_csv(t["ti_membres"], "territoires_industrie_membres.csv")
    write_csv(t["ti_communes"], "territoires_industrie_communes.csv")
    files = build_contour_files(t["communes"], t["geoms"])
    cdir = OUT_DIR / CONTOURS_DIR
    cdir.mkdir(parents=True, exist_ok=True)
    for old in cdir.glob("*.json.gz"):
        if old.name.split(".")[0] not in files:
            old.unlink()
    for dep, data in files.items():
        (cdir / f"{dep}.json.gz").write_bytes(data)
    total = sum(len(d) for d in files.values())
    print(f"wrote data/reference/{CONTOURS_DIR}/ ({len(files)} files, {total / 1e6:.2f} MB)")
    no_contour = t["communes"]["superficie_km2"].eq("").sum()
    print(f"communes: {len(t['communes'])}, without a contour (no area): {no_contour}")
    return t

def _read_insee_csv(zf: zipfile.ZipFile, member: str, **kw) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(zf.read(member)), sep=";", encoding="cp1252", dtype=str,
        keep_default_na=False, **kw,
    )


def _expand_codes(spec: str) -> list[str]:
    """'CB-CC, CE-CH, CM' -> ['CB','CC','CE','CF','CG','CH','CM'] (A38 codes)."""
    out = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-")
            if a[0] != b[0]:
                raise ValueError(part)
            out.extend(a[0] + chr(o) for o in range(ord(a[1]), ord(b[1]) + 1))
        else:
            out.append(part)
    return out


def build_naf(pynsee_whl: Path) -> pd.DataFrame:
    with zipfile.ZipFile(pynsee_whl) as wz:
        inner = zipfile.ZipFile(io.BytesIO(wz.read("pynsee/metadata/data/naf.zip")))
    d = "naf2008/"
    main = _read_insee_csv(inner, d + "table_NAF2-NA.csv", header=None, skiprows=2)
    main = main.iloc[:, [0, 1, 2, 3, 5, 7, 8, 9]]
    main.columns = ["naf_sous_classe", "libelle", "classe", "groupe", "a88", "a38", "section", "a10"]
    main = main[main["naf_sous_classe"].str.match(r"^\d\d\.\d\d[A-Z]$")].copy()

    a21 = _read_insee_csv(inner, d + "int_eng_na_2008_a21.csv")
    a21 = dict(zip(a21.iloc[:, 1].str.strip(), a21.iloc[:, 3].map(sentence_case)))
    a88 = _read_insee_csv(inner, d + "int_eng_na_2008_a88.csv")
    a88 = dict(zip(a88.iloc[:, 2].str.strip(), a88.iloc[:, 4].map(clean_label)))
    a38 = _read_insee_csv(inner, d + "int_eng_na_2008_a38.csv")
    a38 = dict(zip(a38.iloc[:, 0].str.strip(), a38.iloc[:, 3].map(clean_label)))
    a10 = _read_insee_csv(inner, d + "int_eng_na_2008_a10.csv")
    a10 = dict(zip(a10.iloc[:, 1].str.strip(), a10.iloc[:, 4].map(clean_label)))

    # A17: INSEE's table gives either sections (e.g. "B, D et E") or, for the
    # manufacturing items C1-C5, A38 codes (e.g. "CB-CC, CE-CH, CM").
    a17t = _read_insee_csv(inner, d + "int_eng_na_2008_a17.csv")
    a17_label, a17_by_a38, a17_by_section = {}, {}, {}
    for _, r in a17t.iterrows():
        code = r.iloc[1].strip()
        a17_label[code] = clean_label(r.iloc[6])
        sections, a38codes = r.iloc[2].strip(), r.iloc[3].strip()
        if a38codes:
            for c in _expand_codes(a38codes):
                a17_by_a38[c] = code
        else:
            for s in re.findall(r"\b[A-U]\b", sections):
                a17_by_section[s] = code

    def a17_of(row) -> str:
        if row["a38"] in a17_by_a38:
            return a17_by_a38[row["a38"]]
        return a17_by_section[row["section"]]

    main["libelle"] = main["libelle"].map(clean_label)
    main["a17"] = main.apply(a17_of, axis=1)
    main["libelle_a88"] = main["a88"].map(a88)
    main["libelle_section"] = main["section"].map(a21)
    main["libelle_a10"] = main["a10"].map(a10)
    main["libelle_a17"] = main["a17"].map(a17_label)
    main["libelle_a38"] = main["a38"].map(a38)
    cols = ["naf_sous_classe", "libelle", "classe", "groupe", "a88", "libelle_a88",
            "section", "libelle_section", "a10", "libelle_a10", "a17", "libelle_a17",
            "a38", "libelle_a38"]
    naf = main[cols].sort_values("naf_sous_classe").reset_index(drop=True)
    if len(naf) != 732 or naf["naf_sous_classe"].duplicated().any():
        raise ValueError(f"expected 732 unique NAF sous-classes, got {len(naf)}")
    if naf.isna().any().any() or (naf == "").any().any():
        raise ValueError("missing NAF codes or labels")
    return naf


def build_filieres(naf: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame(FILIERES, columns=["filiere", "naf_sous_classe", "perimetre", "note"])
    if f.duplicated(["filiere", "naf_sous_classe"]).any():
        raise ValueError("duplicate (filiere, naf) pair")
    unknown = set(f["naf_sous_classe"]) - set(naf["naf_sous_classe"])
    if unknown:
        raise ValueError(f"unknown NAF codes in filières: {sorted(unknown)}")
    if not set(f["perimetre"]) <= {"coeur", "elargi"}:
        raise ValueError("perimetre must be coeur or elargi")
    f["filiere_libelle"] = f["filiere"].map(FILIERE_LIBELLES)
    order = {k: i for i, k in enumerate(FILIERE_LIBELLES)}
    f["_o"] = f["filiere"].map(order)
    f["_p"] = f["perimetre"].map({"coeur": 0, "elargi": 1})
    f = f.sort_values(["_o", "_p", "naf_sous_classe"]).reset_index(drop=True)
    f[GRAMMAIRE_COLUMNS] = pd.DataFrame([FILIERES_GRAMMAIRE[k] for k in f["filiere"]], index=f.index)
    return f[["filiere", "filiere_libelle", *GRAMMAIRE_COLUMNS, "naf_sous_classe", "perimetre", "note"]]


def build_secteurs(naf: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for ordre, (secteur, libelle, sections) in enumerate(SECTEURS_CANDIDATURE, start=1):
        for s in sections:
            rows.append({"section": s, "secteur": secteur, "secteur_libelle": libelle,
                         **dict(zip(GRAMMAIRE_COLUMNS, SECTEURS_GRAMMAIRE[secteur])), "ordre": ordre})
    df = pd.DataFrame(rows).sort_values("section").reset_index(drop=True)
    if sorted(df["section"]) != sorted(naf["section"].unique()) or df["section"].duplicated().any():
        raise ValueError("sector grouping must cover each NAF section exactly once")
    return df


def build_tranches() -> pd.DataFrame:
    df = pd.DataFrame(TRANCHES_EFFECTIFS, columns=["code", "libelle", "borne_min", "borne_max"])
    for col in ("borne_min", "borne_max"):
        df[col] = df[col].astype("Int64")
    return df


# --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--france", action="store_true", help="France-wide tables and contours only")
    parser.add_argument("--naf", action="store_true", help="NAF and curated tables only (downloads pynsee)")
    parser.add_argument("--curated", action="store_true",
                        help="curated tables only (filières, sectors, workforce bands), from the committed naf.csv")
    parser.add_argument("--reference-dir", type=Path, default=_shared_dir("reference"),
                        help="public reference tables (default: ../shared/reference/ from the repository root)")
    parser.add_argument("--geo-dir", type=Path, default=_shared_dir("real", "geo", "communes-2018"),
                        help="commune contours of 2018, one GeoJSON per département")
    parser.add_argument(
        "--cache", type=Path, default=None,
        help="directory where the packages are downloaded (kept); default: a temporary directory",
    )
    args = parser.parse_args(argv)
    both = not (args.france or args.naf or args.curated)
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    if args.curated:
        naf = pd.read_csv(OUT_DIR / "naf.csv", dtype=str, keep_default_na=False)
        write_curated(naf)

    if args.france or both:
        write_france(args.reference_dir, args.geo_dir)
    if args.naf or both:
        with tempfile.TemporaryDirectory() as tmp:
            dl = args.cache.resolve() if args.cache else Path(tmp)
            dl.mkdir(parents=True, exist_ok=True)
            pynsee_whl = fetch_pypi(*PYPI_PYNSEE, dl)
            naf = build_naf(pynsee_whl)
            write_csv(naf, "naf.csv")
            write_curated(naf)
    return 0


def write_curated(naf: pd.DataFrame) -> None:
    write_csv(build_filieres(naf), "filieres.csv")
    write_csv(build_secteurs(naf), "secteurs_candidature.csv")
    write_csv(build_tranches(), "tranches_effectifs.csv")


if __name__ == "__main__":
    sys.exit(main())
