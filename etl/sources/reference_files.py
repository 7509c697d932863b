"""Reference-type files users may try to load: recognised, and refused with the reason.

The dashboard's reference tables (communes, EPCIs, NAF, contours) live in data/reference/ and
are rebuilt by scripts/build_reference.py; these files are not statistical sources.
"""
from __future__ import annotations

from .common import _norm

WHERE = ("les référentiels du tableau de bord (communes, EPCI, NAF, contours) sont dans data/reference/ "
         "et se mettent à jour avec scripts/build_reference.py")

# (columns that must all be present (normalised), what the file is)
_KNOWN = [
    ({"typecom", "com", "ncc", "libelle"}, "code officiel géographique (COG) de l'INSEE, liste des communes"),
    ({"nivgeo", "codgeo", "libgeo", "nbcom"}, "table d'appartenance géographique de l'INSEE (niveaux supra-communaux)"),
    ({"codgeo", "libgeo", "dep", "reg", "epci"}, "table d'appartenance géographique des communes de l'INSEE"),
    ({"siren", "nbmembres", "sirenmembre"}, "composition des EPCI (fichier epcicom de la DGCL)"),
    ({"codvar", "libvar"}, "fichier de métadonnées (liste des variables et de leurs libellés) : chargez le fichier de données qui l'accompagne"),
]


def explain(header: list[str]) -> str | None:
    """Why the file is refused, when its header is one of a known reference file; else None."""
    norm = {_norm(h) for h in header}
    for needed, what in _KNOWN:
        if needed <= norm:
            return f"fichier de référence, pas une source statistique : {what} ; {WHERE}"
    return None


def explain_json(head: bytes) -> str:
    if b"FeatureCollection" in head or b'"geometry"' in head:
        what = "contours géographiques (GeoJSON) ; les contours des communes sont dans data/reference/contours/"
        return f"fichier de référence, pas une source statistique : {what}"
    return "fichier JSON : seuls les fichiers CSV (séparateur « ; » ou « , »), xlsx et parquet sont acceptés"
