"""Demo inventory of economic zones in the CNIG « Sites économiques » layout (a zipped data package).

Generated deterministically for the EPCI of the demo's communes, read by the same loader as a
real inventory (etl/sources/foncier.py). Sizes are those of mountain ZAE: a few sites per EPCI,
most of 2 to 15 ha, one or two larger ones near the main towns, land mostly sold, a few hectares
still for sale; prices of serviced land around 20 to 60 €/m². Invented, labelled as demo.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .sources import foncier
from .validate import luhn_complete

SEED = 2024
NAMES = ["ZA {}", "Zone d'activités {}", "Parc d'activités {}", "ZAE {}", "ZA artisanale {}"]


def _of(place: str, bare: bool) -> str:
    """« de Gap », « d'Embrun », « du Poët », « des Crottes »; bare: the name alone (« ZA Gap »)."""
    if bare:
        return place
    if place.startswith("Le "):
        return "du " + place[3:]
    if place.startswith("Les "):
        return "des " + place[4:]
    return ("d'" if place[:1].lower() in "aeiouyhéèêâîôû" else "de ") + place
STADES_LIBRES = ["en vente", "en vente avec contraintes"]


def _points(communes: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """A point inside each commune (from the reference contours of their départements)."""
    import shapely
    from shapely.geometry import shape

    from .geo import read_features

    wanted, out = set(communes.code_insee), {}
    deps = communes.departement if "departement" in communes else communes.code_insee.str[:2]
    for feat in read_features(set(deps)):
        code = str(feat["properties"].get("code_insee") or feat["properties"].get("code") or "")
        if code in wanted:
            p = shapely.point_on_surface(shape(feat["geometry"]))
            out[code] = (p.x, p.y)
    return out


def _square(lon: float, lat: float, ha: float) -> str:
    """A square of about `ha` hectares around the point, as GeoJSON (WGS84)."""
    side_m = (ha * 10_000) ** 0.5
    dlat = side_m / 2 / 111_320
    dlon = dlat / max(np.cos(np.radians(lat)), 0.2)
    ring = [[round(lon - dlon, 6), round(lat - dlat, 6)], [round(lon + dlon, 6), round(lat - dlat, 6)],
            [round(lon + dlon, 6), round(lat + dlat, 6)], [round(lon - dlon, 6), round(lat + dlat, 6)],
            [round(lon - dlon, 6), round(lat - dlat, 6)]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def tables(communes: pd.DataFrame, seed: int = SEED) -> dict[str, list[dict]]:
    """The four CNIG tables (lists of rows keyed by the standard's field names).

    communes: code_insee, nom, epci_siren, departement, population (and the EPCI's name as `epci_nom`)."""
    rng = np.random.default_rng(seed)
    communes = communes.sort_values(["epci_siren", "population"], ascending=[True, False])
    points = _points(communes)
    sites, terrains, etabs, poles = [], [], [], []
    n_site = n_terr = 0
    for k, (epci, g) in enumerate(communes.groupby("epci_siren", sort=True)):
        pop = int(g.population.sum())
        n = int(np.clip(round(pop / 9000) + rng.integers(1, 3), 2, 7))
        hosts = g[g.code_insee.isin(points)].head(max(n, 1))
        if hosts.empty:
            continue
        epci_nom = g.epci_nom.iat[0] if "epci_nom" in g else str(epci)
        # An EPCI updated its inventory a year earlier than the others (mixed vintages, as in a regional file).
        actu = "2024-11-15" if k % 4 == 3 else "2025-10-01"
        pole_id = f"{hosts.code_insee.iat[0]}_POLE-ECO_{k + 1:05d}"
        pole_sites = pole_etab = pole_emploi = 0
        pole_surface = 0.0
        for i in range(n):
            host = hosts.iloc[i % len(hosts)]
            n_site += 1
            big = i == 0 and pop > 15_000
            brute = float(round(rng.uniform(18, 42) if big else rng.gamma(2.2, 3.2) + 1.5, 1))
            utile = round(brute * rng.uniform(0.72, 0.9), 1)
            uf = int(max(3, round(utile / rng.uniform(0.35, 0.8))))
            vacant = int(rng.binomial(uf, rng.uniform(0.02, 0.16)))
            dispo = round(float(min(utile * rng.uniform(0, 0.25), 6.0)) if rng.random() < 0.7 else 0.0, 1)
            nb_etab = int(max(1, uf - vacant - rng.integers(0, 3)))
            emplois = int(round(utile * rng.uniform(9, 24)))
            indus = "oui" if rng.random() < 0.55 or big else "non"
            voca = "industrielle" if indus == "oui" and rng.random() < 0.4 else rng.choice(
                ["artisanale", "mixte", "commerciale", "artisanale"])
            lon, lat = points[host.code_insee]
            lon, lat = lon + rng.normal(0, 0.004), lat + rng.normal(0, 0.003)
            site_id = f"{host.code_insee}_SITE-ECO_{n_site:05d}"
            name = NAMES[(n_site + k) % len(NAMES)].format(_of(host.nom, (n_site + k) % len(NAMES) in (0, 3))) + (f" {i // len(hosts) + 1}" if i >= len(hosts) else "")
            sites.append({
                "site_id": site_id, "pole_id": pole_id, "site_nom": name, "site_type": "zone d'activité économique",
                "site_vocadomi": voca, "site_etat": "existant et actif", "site_surf_brute": brute, "site_surf_utile": utile,
                "site_creation_date": str(int(rng.integers(1975, 2012))), "site_identif_date": "2023-06-30",
                "site_actu_date": actu, "source_producteur": epci_nom, "site_epci_nom": epci_nom, "site_epci_siren": epci,
                "site_comm_nom": host.nom, "site_comm_insee": host.code_insee, "site_moa_type": "epci",
                "site_uf_nbre": uf, "site_uf_vacant_nbre": vacant, "site_taux_vacance": round(100 * vacant / uf, 1),
                "site_uf_bati_nbre": uf - vacant, "site_nb_etab": nb_etab, "site_nb_emploi": emplois,
                "site_geomsurf": _square(lon, lat, brute), "site_geompoint": f"{lon:.5f}, {lat:.5f}",
                "site_surf_comm_dispo": dispo, "site_surf_projet": round(float(rng.uniform(0, 1.5)), 1),
                "site_voca_industrielle": indus, "site_voca_artisanale": "oui", "site_voca_commerciale": "non",
                "reseau_electrique": "oui", "reseau_eau_potable": "oui", "reseau_fibre_optique": rng.choice(["oui", "non"]),
            })
            pole_sites += 1
            pole_etab += nb_etab
            pole_emploi += emplois
            pole_surface += brute
            # Land units: a share sold over the years (with a price), some for sale, the rest occupied.
            left = dispo
            for j in range(uf):
                n_terr += 1
                surf = round(utile / uf * rng.uniform(0.6, 1.4), 2)
                terr = {"terr_id": f"{host.code_insee}_TERRAIN-ECO_{n_terr:05d}", "site_id": site_id,
                        "terr_surf_brute": surf, "terr_utile": "oui", "terr_identif_date": "2023-06-30",
                        "terr_actu_date": actu, "terr_maitrise_fonc": "structure intercommunale",
                        "terr_stade_amngt": "viabilisé et aménagé", "terr_geomsurf": _square(lon, lat, max(surf, 0.05))}
                if left > 0:
                    terr.update(terr_stade_comm=rng.choice(STADES_LIBRES), terr_etat_occup="inoccupé",
                                terr_usage="sans objet", terr_surf_brute=round(min(left, max(surf, 0.3)), 2))
                    left = round(left - terr["terr_surf_brute"], 2)
                elif j < vacant:
                    terr.update(terr_stade_comm="vendu, commercialisation achevée", terr_etat_occup="vacant",
                                terr_usage="bâti productif")
                else:
                    terr.update(terr_stade_comm="vendu, commercialisation achevée", terr_etat_occup="occupé",
                                terr_usage="bâti productif")
                    if rng.random() < 0.22:
                        price = round(float(rng.normal(34 if pop > 15_000 else 24, 6)), 2)
                        price = max(price, 8.0)
                        terr.update(terr_cession_date=f"{int(rng.integers(2016, 2026))}-{int(rng.integers(1, 13)):02d}-15",
                                    terr_m2_prix=price, terr_vente_montant=int(round(price * surf * 10_000)),
                                    terr_acquereur="Entreprise (démonstration)")
                terrains.append(terr)
            for e in range(nb_etab):
                siren = f"9{rng.integers(10_000_000, 99_999_999)}"
                siret = luhn_complete(f"{siren}{rng.integers(0, 9_999):04d}")
                etabs.append({
                    "SIRET": siret, "SIREN": siren, "terr_id": terrains[-1 - (e % uf)]["terr_id"],
                    "etab_raison_sociale": f"Entreprise {n_site}-{e + 1} (démonstration)", "etab_nat_juridique": "5710",
                    "etab_nom": f"Établissement {n_site}-{e + 1}", "epci_nom": epci_nom, "epci_siren": epci,
                    "comm_nom": host.nom, "comm_insee": host.code_insee, "etab_creation_date": "2010-01-01",
                    "etab_identif_date": "2023-06-30", "etab_actu_date": actu, "etab_actif": "oui",
                    "etab_activite_code": rng.choice(["2562B", "1623Z", "4332A", "1071C", "3312Z", "4941A"]),
                    "etab_activite_libelle": "Activité (démonstration)", "etab_effectif_code": rng.choice(["01", "02", "03", "11"]),
                    "etab_effectif_libelle": "Tranche (démonstration)", "etab_effectif_annee": "2023",
                    "etab_source_info": "démonstration", "geocodage_qualite": "localisation à la parcelle",
                    "etab_geompoint": json.dumps({"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]})})
        poles.append({"pole_id": pole_id, "pole_nom": f"Pôle économique {epci_nom}", "pole_vocadomi": "mixte, sans dominante",
                      "pole_identif_date": "2023-06-30", "pole_actu_date": actu, "pole_nb_site": pole_sites,
                      "pole_nb_etab": pole_etab, "pole_nb_emploi": pole_emploi, "pole_surface": round(pole_surface, 1),
                      "pole_geompoint": sites[-1]["site_geompoint"], "pole_rayonnement": "local"})
    return {"pole-eco": poles, "site-eco": sites, "terrain-eco": terrains, "etablissement": etabs}


def csv_text(table: str, rows: list[dict]) -> str:
    """A table in the standard's layout: every field of the schema, in order, `;`-separated, UTF-8."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    names = foncier.field_names(table)
    w.writerow(names)
    for r in rows:
        w.writerow(["" if r.get(n) is None else r.get(n) for n in names])
    return buf.getvalue()


def package_bytes(data: dict[str, list[dict]], title: str) -> bytes:
    """A zipped data package: datapackage.json and one CSV per table."""
    descriptor = {"name": "inventaire-sites-economiques", "title": title, "profile": "tabular-data-package",
                  "resources": [{"name": t, "path": f"{t}.csv", "format": "csv", "encoding": "utf-8",
                                 "dialect": {"delimiter": ";"}, "schema": f"{t}.schema.json"} for t in foncier.TABLES]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
        for t in foncier.TABLES:
            z.writestr(f"{t}.csv", csv_text(t, data.get(t, [])))
    return buf.getvalue()


def write(path: Path, communes: pd.DataFrame) -> Path:
    path = Path(path)
    path.write_bytes(package_bytes(tables(communes), "Inventaire des ZAE (données de démonstration)"))
    return path
