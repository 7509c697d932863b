"""An empty inventory of economic zones in the CNIG « Sites économiques » standard, for an EPCI to fill.

`python -m etl template --foncier [--epci SIREN] [--output DIR]` writes a folder with the four tables
(`pole-eco.csv`, `site-eco.csv`, `terrain-eco.csv`, `etablissement.csv`: the standard's header, `;`,
UTF-8), the data package descriptor and the four published schemas, the list of fields
(`champs.csv`: name, title, required, type, allowed values, description, from the schemas), the
EPCI's communes with their INSEE codes, and a guide. Zipped or not, the filled folder is read by
`python -m etl load` (etl/sources/foncier.py).
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from .base import reference_dir
from .sources import foncier

GUIDE = """Inventaire des zones d'activités économiques — standard CNIG « Sites économiques » (v2024-10)
{epci}

Ce dossier contient les quatre tables du standard, vides (ligne d'en-tête seulement), à remplir :
  site-eco.csv       un site économique (zone d'activités) par ligne — la table principale ;
  terrain-eco.csv    les terrains (unités foncières) de chaque site, rattachés par site_id ;
  etablissement.csv  les établissements implantés sur les terrains (SIRET, terr_id) ;
  pole-eco.csv       les pôles économiques regroupant plusieurs sites (facultatif).

Format : CSV séparé par « ; », encodé en UTF-8, nombres avec un point décimal (37.2), dates AAAA-MM-JJ,
« oui » / « non » pour les champs qui le demandent. Ne pas renommer ni supprimer les colonnes.
Champs, règles et listes de valeurs : champs.csv (tiré des schémas publiés, fichiers *.schema.json).
Codes INSEE des communes de l'EPCI : communes.csv. Un site est rattaché à sa commune principale
(site_comm_insee), donc à son EPCI, au Territoire d'industrie et au département.

Identifiants conseillés (ceux du standard) : <code INSEE>_SITE-ECO_<numéro sur 5 chiffres>,
<code INSEE>_TERRAIN-ECO_<numéro>, <code INSEE>_POLE-ECO_<numéro> ; un identifiant ne peut figurer
qu'une fois dans une table. Chaque ligne porte sa date d'actualisation (site_actu_date, terr_actu_date…) :
un inventaire plus récent remplace les lignes plus anciennes des mêmes identifiants.

Contrôle avant chargement : python -m etl check site-eco.csv terrain-eco.csv (ou le dossier zippé)
Chargement : python -m etl load site-eco.csv terrain-eco.csv etablissement.csv pole-eco.csv
Chaque erreur est signalée avec le fichier, la ligne, le champ et la règle du standard ; un fichier
erroné est refusé en entier et l'entrepôt reste inchangé.
"""


def _epci(siren: str | None) -> tuple[str, str, list[tuple[str, str]]]:
    """(SIREN, name, [(INSEE code, commune name)]) of the EPCI from the reference (the first one by default)."""
    ref = reference_dir()
    with open(ref / "epci.csv", encoding="utf-8", newline="") as f:
        epcis = {r["epci_siren"]: r["nom"] for r in csv.DictReader(f)}
    if siren is None:
        siren = next(iter(sorted(epcis)))
    if siren not in epcis:
        raise ValueError(f"EPCI inconnu : {siren} (SIREN attendu, 9 chiffres, d'un EPCI du référentiel)")
    with open(ref / "communes.csv", encoding="utf-8", newline="") as f:
        communes = sorted((r["code_insee"], r["nom"]) for r in csv.DictReader(f) if r["epci_siren"] == siren)
    return siren, epcis[siren], communes


def fields_table() -> str:
    """The standard's fields as CSV (from the published schemas)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(["table", "champ", "titre", "obligatoire", "type", "format", "valeurs autorisées", "motif", "description"])
    for t in foncier.TABLES:
        for f in foncier.schema_descriptor(t)["fields"]:
            c = f.get("constraints", {})
            values = c.get("enum") or f.get("enum") or []
            w.writerow([t, f["name"], f.get("title", ""), "oui" if c.get("required") else "non", f.get("type", ""),
                        f.get("format", ""), " | ".join(values), c.get("pattern", ""), " ".join(f.get("description", "").split())])
    return buf.getvalue()


def write(dest: Path | None = None, epci: str | None = None) -> Path:
    siren, name, communes = _epci(epci)
    dest = Path(dest or f"inventaire_zae_{siren}")
    dest.mkdir(parents=True, exist_ok=True)
    for t in foncier.TABLES:
        (dest / f"{t}.csv").write_text(";".join(foncier.field_names(t)) + "\n", encoding="utf-8")
        shutil.copyfile(foncier.SCHEMA_DIR / f"{t}.schema.json", dest / f"{t}.schema.json")
    descriptor = {"name": f"inventaire-zae-{siren}", "title": f"Inventaire des zones d'activités économiques — {name}",
                  "profile": "tabular-data-package", "licenses": [{"name": "etalab-2.0", "title": "Licence Ouverte 2.0"}],
                  "resources": [{"name": t, "path": f"{t}.csv", "format": "csv", "encoding": "utf-8",
                                 "dialect": {"delimiter": ";"}, "schema": f"{t}.schema.json"} for t in foncier.TABLES]}
    (dest / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (dest / "champs.csv").write_text(fields_table(), encoding="utf-8")
    (dest / "communes.csv").write_text("site_comm_insee;site_comm_nom;site_epci_siren;site_epci_nom\n" + "".join(
        f"{code};{nom};{siren};{name}\n" for code, nom in communes), encoding="utf-8")
    (dest / "LISEZMOI.txt").write_text(GUIDE.format(epci=f"{name} (SIREN {siren})"), encoding="utf-8")
    return dest
