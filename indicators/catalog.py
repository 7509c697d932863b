"""The indicator catalogue: every figure a page, a slide or the CLI shows is defined here once.

kind:
- `niveau`           the measure itself (a count, euros, inhabitants);
- `part`             numerator category / total of the same measure (a fraction);
- `croissance`       change in euros between a base year and the year;
- `taux_croissance`  relative change between a base year and the year (a fraction).
- `solde`, `taux`      difference and ratio of two other indicators (`operandes`), e.g. creations - closures.
`dimension` names the category column of the output (secteur, filiere) when there is one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    name: str
    titre: str
    unite: str                    # habitants, km², établissements, salariés, entreprises, €, part
    definition: str
    mesure: str
    kind: str = "niveau"
    groupement: str = "total"     # category grouping (see ARCHITECTURE.md); 'filiere' -> filiere_coeur/_elargi
    dimension: str | None = None  # output column for the category: secteur | filiere
    numerateur: str | None = None  # category code of a `part`
    source_hint: str = ""         # what to load when it is absent
    # `solde` (first - second) and `taux` (first / second) of two indicators of the same grouping, per
    # territory, year and category; `mesure` and `groupement` are the first one's.
    operandes: tuple[str, str] | None = None


_ET_SOURCES = "base comparateur de territoires INSEE (ou Sirene, Flores)"
_URSSAF = "fichier URSSAF « établissements et effectifs salariés commune x APE »"
_CHAMBRE = "export CCI / CMA (fichier d'entreprises avec chiffre d'affaires)"
# The chamber file gives a turnover per establishment (SIRET): it is counted where that establishment is, not at
# the firm's head office; said in every turnover definition (a reader compares them across pages).
_CA_WHERE = (" Le chiffre d'affaires est compté à la commune de l'établissement (SIRET) auquel le fichier consulaire "
             "le rattache, non au siège de l'entreprise.")
_INDUSTRIE = "Industrie : sections B à E de la NAF rév. 2 (industries extractives, manufacturière, énergie, eau et déchets)."

CATALOG: dict[str, Indicator] = {i.name: i for i in [
    Indicator("population", "Population", "habitants",
              "Population municipale (populations légales INSEE ; base comparateur pour les autres années).",
              "population", source_hint="référentiel des communes ou base comparateur INSEE"),
    Indicator("superficie", "Superficie", "km²",
              "Superficie des communes (INSEE, base comparateur ; à défaut, calculée sur les contours IGN Admin Express).",
              "superficie_km2", source_hint="référentiel des communes"),
    Indicator("etablissements", "Établissements actifs", "établissements",
              "Nombre d'établissements actifs, tous secteurs.", "etablissements", source_hint=_ET_SOURCES),
    Indicator("etablissements_secteur", "Établissements actifs par grand secteur", "établissements",
              "Nombre d'établissements actifs par grand secteur d'activité (agriculture, industrie, construction, "
              "commerce-transports-services, administration-enseignement-santé).",
              "etablissements", groupement="a5", dimension="secteur", source_hint=_ET_SOURCES),
    Indicator("part_industrie_etablissements", "Part de l'industrie dans les établissements", "part",
              "Établissements industriels / ensemble des établissements actifs. " + _INDUSTRIE,
              "etablissements", kind="part", groupement="a5", numerateur="BE", source_hint=_ET_SOURCES),
    Indicator("etablissements_employeurs_secteur", "Établissements employeurs par grand secteur", "établissements",
              "Établissements employeurs du secteur privé (URSSAF) par grand secteur d'activité.",
              "etablissements_employeurs", groupement="a5", dimension="secteur", source_hint=_URSSAF),
    Indicator("part_industrie_etablissements_employeurs", "Part de l'industrie dans les établissements employeurs", "part",
              "Établissements employeurs industriels / ensemble des établissements employeurs (URSSAF). " + _INDUSTRIE,
              "etablissements_employeurs", kind="part", groupement="a5", numerateur="BE", source_hint=_URSSAF),
    Indicator("effectifs_secteur", "Effectifs salariés par grand secteur", "salariés",
              "Effectifs salariés du secteur privé au 31 décembre, par grand secteur d'activité.",
              "effectifs_salaries", groupement="a5", dimension="secteur", source_hint=_URSSAF),
    Indicator("part_industrie_effectifs", "Part de l'industrie dans l'emploi salarié privé", "part",
              "Effectifs salariés industriels / ensemble des effectifs salariés privés. " + _INDUSTRIE,
              "effectifs_salaries", kind="part", groupement="a5", numerateur="BE", source_hint=_URSSAF),
    Indicator("etablissements_filiere", "Établissements employeurs des filières stratégiques", "établissements",
              "Établissements employeurs (URSSAF) dont l'activité principale (code APE) relève d'une filière stratégique.",
              "etablissements_employeurs", groupement="filiere", dimension="filiere", source_hint=_URSSAF),
    Indicator("effectifs_filiere", "Effectifs salariés des filières stratégiques", "salariés",
              "Effectifs salariés des établissements dont l'activité principale relève d'une filière stratégique.",
              "effectifs_salaries", groupement="filiere", dimension="filiere", source_hint=_URSSAF),
    Indicator("ca_total", "Chiffre d'affaires", "€",
              "Chiffre d'affaires des établissements marchands non agricoles et non financiers (champ de la candidature)."
              + _CA_WHERE,
              "ca_eur", groupement="champ", source_hint=_CHAMBRE),
    Indicator("ca_secteur", "Chiffre d'affaires par secteur", "€",
              "Chiffre d'affaires des établissements par secteur de la candidature (industrie, construction, commerce, "
              "hébergement-restauration, transport et autres services)." + _CA_WHERE,
              "ca_eur", groupement="secteur", dimension="secteur", source_hint=_CHAMBRE),
    Indicator("croissance_ca_secteur", "Évolution du chiffre d'affaires par secteur", "€",
              "Variation du chiffre d'affaires entre l'année de base et l'année affichée, en euros.",
              "ca_eur", kind="croissance", groupement="secteur", dimension="secteur", source_hint=_CHAMBRE),
    Indicator("taux_croissance_ca_secteur", "Taux d'évolution du chiffre d'affaires par secteur", "part",
              "Variation relative du chiffre d'affaires entre l'année de base et l'année affichée.",
              "ca_eur", kind="taux_croissance", groupement="secteur", dimension="secteur", source_hint=_CHAMBRE),
    Indicator("taux_croissance_ca", "Taux d'évolution du chiffre d'affaires", "part",
              "Variation relative du chiffre d'affaires (champ de la candidature) entre l'année de base et l'année affichée.",
              "ca_eur", kind="taux_croissance", groupement="champ", source_hint=_CHAMBRE),
    Indicator("ca_filiere", "Chiffre d'affaires des filières stratégiques", "€",
              "Chiffre d'affaires des établissements dont l'activité principale relève d'une filière stratégique." + _CA_WHERE,
              "ca_eur", groupement="filiere", dimension="filiere", source_hint=_CHAMBRE),
    Indicator("entreprises_tpe_pme", "TPE et PME marchandes", "entreprises",
              "Entreprises de moins de 250 salariés et de 50 M€ de chiffre d'affaires au plus, du champ marchand "
              "non agricole et non financier, comptées les années où le fichier donne leur chiffre d'affaires.",
              "entreprises_tpe_pme", groupement="champ", source_hint=_CHAMBRE),
    Indicator("entreprises_tpe_pme_industrie", "TPE et PME industrielles", "entreprises",
              "TPE et PME dont l'activité principale relève de l'industrie (sections B à E).",
              "entreprises_tpe_pme", groupement="a5", numerateur="BE", source_hint=_CHAMBRE),
    Indicator("part_industrie_tpe_pme", "Part de l'industrie dans les TPE et PME", "part",
              "TPE et PME industrielles / ensemble des TPE et PME marchandes.",
              "entreprises_tpe_pme", kind="part", groupement="a5", numerateur="BE", source_hint=_CHAMBRE),
]}

# --- Créations et fermetures d'établissements (Sirene stock, etl/sources/sirene.py) ---
_SIRENE = "stock Sirene des établissements (StockEtablissement, avec les établissements fermés)"
_FLUX_LIMITES = (" Une création est un nouveau SIRET : un transfert d'établissement dans le territoire compte une "
                 "fermeture et une création. La date de fermeture est celle du début de la dernière période de "
                 "l'établissement (dateDebut) dans le stock Sirene ; un extrait des seuls établissements actifs donne "
                 "les créations, pas les fermetures.")
_CREATION = "Établissements créés dans l'année (dateCreationEtablissement du stock Sirene), commune de leur dernière adresse."
_FERMETURE = ("Établissements fermés dans l'année (etatAdministratifEtablissement = F ; date : début de leur dernière "
              "période, dateDebut), commune de leur dernière adresse.")
_SALARIES = (" Avec salariés : tranche d'effectif de l'établissement (trancheEffectifsEtablissement) d'au moins "
             "1 salarié à la date du stock, pas à celle de l'événement.")
_STOCK_1ER = ("Établissements actifs au 1ᵉʳ janvier de l'année, reconstitués à partir du même stock Sirene : créés "
              "avant cette date et non fermés avant elle.")
_TAUX = " Pour 100 établissements actifs du secteur au 1ᵉʳ janvier de l'année (même stock Sirene), affiché en %."


def _flux(prefix: str, titre: str, mesure: str, definition: str) -> list[Indicator]:
    """One flow measure: its total, by grand secteur, industry alone, by filière."""
    return [
        Indicator(prefix, titre, "établissements", definition + _FLUX_LIMITES, mesure, source_hint=_SIRENE),
        Indicator(f"{prefix}_secteur", f"{titre} par grand secteur", "établissements", definition + _FLUX_LIMITES,
                  mesure, groupement="a5", dimension="secteur", source_hint=_SIRENE),
        Indicator(f"{prefix}_industrie", f"{titre} : industrie", "établissements",
                  definition + " " + _INDUSTRIE + _FLUX_LIMITES, mesure, groupement="a5", numerateur="BE",
                  source_hint=_SIRENE),
        Indicator(f"{prefix}_filiere", f"{titre} des filières stratégiques", "établissements",
                  definition + " Activité principale relevant d'une filière stratégique." + _FLUX_LIMITES,
                  mesure, groupement="filiere", dimension="filiere", source_hint=_SIRENE),
    ]


def _derived(prefix: str, titre: str, unite: str, kind: str, first: str, second: str, definition: str) -> list[Indicator]:
    """A `solde` or `taux` at the four groupings of the flows."""
    out = []
    for suffix, extra in (("", {}), ("_secteur", {"dimension": "secteur"}), ("_industrie", {"numerateur": "BE"}),
                          ("_filiere", {"dimension": "filiere"})):
        a = CATALOG_FLUX[first + suffix]
        out.append(Indicator(prefix + suffix, titre + {"": "", "_secteur": " par grand secteur",
                                                       "_industrie": " : industrie",
                                                       "_filiere": " des filières stratégiques"}[suffix],
                             unite, definition + _FLUX_LIMITES, a.mesure, kind=kind, groupement=a.groupement,
                             operandes=(first + suffix, second + suffix), source_hint=_SIRENE, **extra))
    return out


CATALOG_FLUX: dict[str, Indicator] = {i.name: i for i in [
    *_flux("creations_etablissements", "Créations d'établissements", "creations_etablissements", _CREATION),
    *_flux("fermetures_etablissements", "Fermetures d'établissements", "fermetures_etablissements", _FERMETURE),
    *_flux("creations_etablissements_avec_salaries", "Créations d'établissements avec salariés",
           "creations_etablissements_avec_salaries", _CREATION + _SALARIES),
    *_flux("fermetures_etablissements_avec_salaries", "Fermetures d'établissements avec salariés",
           "fermetures_etablissements_avec_salaries", _FERMETURE + _SALARIES),
    *_flux("etablissements_1er_janvier", "Établissements actifs au 1ᵉʳ janvier", "etablissements_1er_janvier", _STOCK_1ER),
]}
CATALOG_FLUX.update({i.name: i for i in [
    *_derived("solde_etablissements", "Solde des créations et fermetures d'établissements", "établissements", "solde",
              "creations_etablissements", "fermetures_etablissements", "Créations moins fermetures d'établissements de l'année."),
    *_derived("taux_creation_etablissements", "Taux de création d'établissements", "part", "taux",
              "creations_etablissements", "etablissements_1er_janvier", "Établissements créés dans l'année." + _TAUX),
    *_derived("taux_fermeture_etablissements", "Taux de fermeture d'établissements", "part", "taux",
              "fermetures_etablissements", "etablissements_1er_janvier", "Établissements fermés dans l'année." + _TAUX),
]})
CATALOG.update(CATALOG_FLUX)

# --- Foncier économique: inventories of economic zones (CNIG « Sites économiques », indicators/foncier_query.py) ---
# kind `foncier`: computed from the inventory tables, by site, commune or any level of ref_appartenance.
# Definitions quote the standard's own field descriptions (data/reference/cnig_sites_economiques/).

def _cnig(field: str, table: str = "site-eco") -> str:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "reference" / "cnig_sites_economiques" / f"{table}.schema.json"
    for f in json.loads(path.read_text(encoding="utf-8"))["fields"]:
        if f["name"] == field:
            text = f.get("description", "").strip().rstrip(".")
            return f"« {text[:1].upper() + text[1:]} » (champ {field} du standard CNIG)"
    raise KeyError(field)


_FONCIER = "inventaire des zones d'activités au standard CNIG « Sites économiques » (CSV ou paquet zip)"
_SUM = " Somme sur les sites de l'inventaire qui renseignent le champ ; par site, commune, EPCI, TI et département."
CATALOG.update({i.name: i for i in [
    Indicator("foncier_sites", "Sites économiques inventoriés", "sites",
              "Nombre de sites économiques (zones d'activités) de l'inventaire, rattachés à leur commune principale : "
              + _cnig("site_id") + ".", "sites", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_surface_brute", "Superficie totale des sites économiques", "ha",
              _cnig("site_surf_brute") + "." + _SUM, "surface_brute", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_surface_utile", "Superficie utile des sites économiques", "ha",
              _cnig("site_surf_utile") + "." + _SUM, "surface_utile", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_unites_foncieres", "Unités foncières des sites économiques", "unités foncières",
              _cnig("site_uf_nbre") + "." + _SUM, "unites_foncieres", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_unites_vacantes", "Unités foncières vacantes", "unités foncières",
              _cnig("site_uf_vacant_nbre") + "." + _SUM, "unites_vacantes", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_taux_vacance", "Taux de vacance des sites économiques", "part",
              _cnig("site_taux_vacance") + " : unités foncières vacantes / unités foncières (" + _cnig("site_uf_vacant_nbre")
              + " ; " + _cnig("site_uf_nbre") + "), sur les sites qui renseignent les deux champs.",
              "taux_vacance", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_surface_disponible", "Surface disponible à la commercialisation", "ha",
              _cnig("site_surf_comm_dispo") + "." + _SUM, "surface_disponible", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_surface_industrielle", "Superficie des sites à vocation industrielle", "ha",
              "Superficie totale des sites dont " + _cnig("site_voca_industrielle")
              + " vaut « oui », ou dont la vocation dominante est « industrielle » (" + _cnig("site_vocadomi") + ")."
              + _SUM, "surface_industrielle", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_etablissements", "Établissements sur les sites économiques", "établissements",
              _cnig("site_nb_etab") + "." + _SUM, "etablissements", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_emplois", "Emplois sur les sites économiques", "emplois",
              _cnig("site_nb_emploi") + "." + _SUM, "emplois", kind="foncier", source_hint=_FONCIER),
    Indicator("foncier_prix_m2_median", "Prix médian du foncier économique vendu", "€/m²",
              "Médiane du prix au m² des terrains vendus (" + _cnig("terr_m2_prix", "terrain-eco") + " ; à défaut "
              + _cnig("terr_vente_montant", "terrain-eco") + " / superficie brute), sur les terrains dont la cession est "
              "datée ou le stade de commercialisation « vendu ». Secret (« s ») quand moins de 3 ventes.",
              "prix_m2_median", kind="foncier", source_hint=_FONCIER),
]})
FONCIER_INDICATORS = tuple(n for n, i in CATALOG.items() if i.kind == "foncier")

# The sidebar's year list: the years of these indicators (population, turnover, employment by sector).
SIDEBAR_YEARS = ("population", "ca_total", "effectifs_secteur")


def get(name: str) -> Indicator:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"indicateur inconnu « {name} » (voir « python -m indicators list »)") from None
