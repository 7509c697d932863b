"""Foncier économique: the catalogue indicators read from the CNIG inventories (etl/sources/foncier.py).

Unlike the statistical sources (facts -> mart), an inventory is a state: one row per site, terrain and
establishment, each with its own date of update. Indicators are computed here, on demand, by site,
commune or any level of `ref_appartenance` (EPCI, TI, département...): a new level there is covered
without code change. Statuts:
- absent: no inventory covers the territory (an EPCI is covered when its inventory holds a site), or no
  site fills the field;
- partiel: some communes of the territory are not covered, or some of its sites leave the field empty
  (the sum is over those that fill it; the note says how many);
- secret: median price of land sold computed on fewer than 3 sales (« s », no reason given).
The year (`annee`) is the year of the latest update of the territory's sites.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import Indicator
from .db import Snapshot

MIN_SALES = 3
SOURCE_HINT = "inventaire des zones d'activités au standard CNIG « Sites économiques » (CSV ou paquet zip)"
# Price of a sale (€/m²): the standard's price, else amount / area.
_PRICE = "coalesce(t.m2_prix, CASE WHEN t.surf_brute_ha > 0 THEN t.vente_montant / (t.surf_brute_ha * 10000) END)"
_SOLD = "(t.cession_date IS NOT NULL OR t.stade_comm LIKE 'vendu%')"
_INDUS = "(coalesce(s.voca_industrielle, false) OR s.vocadomi = 'industrielle')"
# mesure -> (site value, aggregate value, number of sites filling it) over the sites `s` of a territory.
_SITE_MEASURES = {
    "sites": ("1.0", "count(*)", "count(*)"),
    "surface_brute": ("s.surf_brute_ha", "sum(s.surf_brute_ha)", "count(s.surf_brute_ha)"),
    "surface_utile": ("s.surf_utile_ha", "sum(s.surf_utile_ha)", "count(s.surf_utile_ha)"),
    "unites_foncieres": ("s.uf_nbre", "sum(s.uf_nbre)", "count(s.uf_nbre)"),
    "unites_vacantes": ("s.uf_vacant_nbre", "sum(s.uf_vacant_nbre)", "count(s.uf_vacant_nbre)"),
    "taux_vacance": ("CASE WHEN s.uf_nbre > 0 AND s.uf_vacant_nbre IS NOT NULL THEN s.uf_vacant_nbre / s.uf_nbre "
                     "ELSE s.taux_vacance / 100 END",
                     "sum(s.uf_vacant_nbre) FILTER (WHERE s.uf_nbre > 0) / nullif(sum(s.uf_nbre) FILTER "
                     "(WHERE s.uf_vacant_nbre IS NOT NULL AND s.uf_nbre > 0), 0)",
                     "count(*) FILTER (WHERE s.uf_nbre > 0 AND s.uf_vacant_nbre IS NOT NULL)"),
    "surface_disponible": ("s.surf_comm_dispo_ha", "sum(s.surf_comm_dispo_ha)", "count(s.surf_comm_dispo_ha)"),
    "surface_industrielle": (f"CASE WHEN {_INDUS} THEN s.surf_brute_ha ELSE 0 END",
                             f"sum(CASE WHEN {_INDUS} THEN s.surf_brute_ha ELSE 0 END)", "count(s.surf_brute_ha)"),
    "etablissements": ("s.nb_etab", "sum(s.nb_etab)", "count(s.nb_etab)"),
    "emplois": ("s.nb_emploi", "sum(s.nb_emploi)", "count(s.nb_emploi)"),
}
COLUMNS = ["code", "nom", "nom_court", "niveau", "annee", "valeur", "statut", "note", "source", "demo",
           "n_sites", "n_renseignes"]


def has_inventory(snap: Snapshot) -> bool:
    return bool(snap.rows("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                          "AND table_name = 'foncier_sites'"))


def _place_sql(niveau: str) -> str:
    """Sites with the code of their territory at that level (`tcode`)."""
    if niveau == "site":
        return "SELECT s.*, s.site_id AS tcode FROM foncier_sites s"
    if niveau == "commune":
        return "SELECT s.*, s.commune AS tcode FROM foncier_sites s"
    return ("SELECT s.*, a.code AS tcode FROM foncier_sites s "
            "JOIN ref_appartenance a ON a.commune = s.commune AND a.niveau = $niveau")


def _territories_sql(niveau: str) -> str:
    """Territories of the level with their member communes and how many an inventory covers."""
    covered = """(SELECT DISTINCT b.commune FROM ref_appartenance a JOIN ref_appartenance b ON b.niveau = 'epci' AND b.code = a.code
                  WHERE a.niveau = 'epci' AND a.commune IN (SELECT commune FROM foncier_sites))"""
    if niveau == "site":
        return """SELECT s.site_id AS code, s.nom, s.nom AS nom_court, 1 AS n_membres, 1 AS n_couvertes, 0 AS ordre
                  FROM foncier_sites s"""
    if niveau == "commune":
        members = "SELECT code AS tcode, code AS commune FROM ref_communes"
    else:
        members = "SELECT code AS tcode, commune FROM ref_appartenance WHERE niveau = $niveau"
    return f"""SELECT t.code, t.nom, t.nom_court, count(m.commune) AS n_membres,
                      count(m.commune) FILTER (WHERE m.commune IN {covered}) AS n_couvertes, min(t.ordre) AS ordre
               FROM ref_territoires t LEFT JOIN ({members}) m ON m.tcode = t.code
               WHERE t.niveau = $niveau GROUP BY t.code, t.nom, t.nom_court"""


def get(snap: Snapshot, ind: Indicator, niveau: str = "epci", territoires: list[str] | None = None) -> pd.DataFrame:
    """One foncier indicator, tidy (the columns of query.get, plus n_sites and n_renseignes)."""
    if not has_inventory(snap):
        terr = snap.df("SELECT code, nom, nom_court FROM ref_territoires WHERE niveau = ? ORDER BY ordre, code", [niveau]) \
            if niveau != "site" else pd.DataFrame(columns=["code", "nom", "nom_court"])
        if territoires is not None:
            terr = terr[terr.code.isin(list(territoires))]
        out = terr.assign(niveau=niveau, annee=pd.NA, valeur=np.nan, statut="absent",
                          note=f"Aucune donnée chargée : charger {SOURCE_HINT}", source="", demo=False, n_sites=0,
                          n_renseignes=0)
        return out[COLUMNS].reset_index(drop=True)
    params: dict = {"niveau": niveau}
    codes = ""
    if territoires is not None:
        params["codes"] = [str(c) for c in territoires]
        codes = " AND list_contains(CAST($codes AS VARCHAR[]), t.code)"
    if ind.mesure == "prix_m2_median":
        value = f"""SELECT p.tcode, median({_PRICE}) AS valeur, count(*) AS n_renseignes
                    FROM ({_place_sql(niveau)}) p JOIN foncier_terrains t ON t.site_id = p.site_id
                    WHERE {_SOLD} AND {_PRICE} > 0 GROUP BY p.tcode"""
    else:
        site_v, agg_v, filled = _SITE_MEASURES[ind.mesure]
        if niveau == "site":
            value = f"""SELECT s.tcode, {site_v} AS valeur, CAST({site_v} IS NOT NULL AS INTEGER) AS n_renseignes
                        FROM ({_place_sql(niveau)}) s"""
        else:
            value = f"SELECT s.tcode, {agg_v} AS valeur, {filled} AS n_renseignes FROM ({_place_sql(niveau)}) s GROUP BY s.tcode"
    sql = f"""
        WITH placed AS ({_place_sql(niveau)}),
        info AS (SELECT p.tcode, count(*) AS n_sites, year(max(p.actu_date)) AS annee,
                        string_agg(DISTINCT src.libelle, ' ; ' ORDER BY src.libelle) AS source, bool_or(src.demo) AS demo
                 FROM placed p JOIN sources src USING (source_id) GROUP BY p.tcode),
        val AS ({value})
        SELECT t.code, t.nom, t.nom_court, $niveau AS niveau, i.annee, v.valeur, coalesce(i.n_sites, 0) AS n_sites,
               coalesce(v.n_renseignes, 0) AS n_renseignes, t.n_membres, t.n_couvertes, coalesce(i.source, '') AS source,
               coalesce(i.demo, false) AS demo, t.ordre
        FROM ({_territories_sql(niveau)}) t LEFT JOIN info i ON i.tcode = t.code LEFT JOIN val v ON v.tcode = t.code
        WHERE true{codes}
        ORDER BY t.ordre, t.code"""
    df = snap.df(sql, params)
    statut, note, valeur = [], [], []
    for r in df.itertuples():
        v = r.valeur
        if r.n_couvertes == 0:
            s, n = "absent", f"Aucune donnée chargée : charger {SOURCE_HINT}"
        elif ind.mesure == "prix_m2_median":
            if r.n_renseignes == 0:
                s, n, v = "absent", "Aucune vente de terrain avec son prix dans l'inventaire", np.nan
            elif r.n_renseignes < MIN_SALES:
                s, n, v = "secret", "", np.nan     # « s », no reason (fewer than 3 sales)
            else:
                s, n = "ok", ""
        elif ind.mesure != "sites" and r.n_sites > 0 and r.n_renseignes == 0:
            s, n, v = "absent", f"Champ non renseigné pour les {int(r.n_sites)} site(s) de l'inventaire", np.nan
        elif ind.mesure == "taux_vacance" and r.n_sites == 0:
            s, n, v = "absent", "Aucun site économique inventorié", np.nan
        elif r.n_sites == 0:
            s, n, v = "ok", "", 0.0                 # covered, no site: a true zero
        else:
            s, n = "ok", ""
        if s in ("ok",) and r.n_couvertes < r.n_membres:
            s, n = "partiel", f"Agrégat partiel : {int(r.n_couvertes)} communes sur {int(r.n_membres)} couvertes par un inventaire"
        if s in ("ok", "partiel") and ind.mesure not in ("sites", "prix_m2_median") and 0 < r.n_renseignes < r.n_sites:
            s = "partiel"
            n = (n + " ; " if n else "") + f"Champ renseigné pour {int(r.n_renseignes)} site(s) sur {int(r.n_sites)}"
        statut.append(s)
        note.append(n)
        valeur.append(np.nan if v is None or pd.isna(v) else float(v))
    df["valeur"] = pd.Series(valeur, index=df.index, dtype=float)
    df["statut"], df["note"] = statut, note
    df["annee"] = df.annee.astype("Int64")
    df["n_sites"] = df.n_sites.astype(int)
    df["n_renseignes"] = df.n_renseignes.astype(int)
    return df[COLUMNS].reset_index(drop=True)


def years(snap: Snapshot) -> list[int]:
    """The inventory's year (latest update of its sites), as a one-element list; [] when none is loaded."""
    if not has_inventory(snap):
        return []
    rows = snap.rows("SELECT year(max(actu_date)) FROM foncier_sites")
    return [int(rows[0][0])] if rows and rows[0][0] is not None else []


_SITE_COLUMNS = ["code", "nom", "commune", "commune_nom", "epci", "epci_nom", "type", "vocadomi", "etat",
                 "surface_brute_ha", "surface_utile_ha", "surface_disponible_ha", "unites_foncieres", "unites_vacantes",
                 "taux_vacance", "industrielle", "etablissements", "emplois", "terrains_en_vente", "actu_date",
                 "lon", "lat", "source", "demo"]


def sites(snap: Snapshot, territoires: list[str] | None = None, niveau: str = "epci") -> pd.DataFrame:
    """The inventory's sites, one row each (for the list and the map): place, areas, vacancy, update date.
    `territoires`: codes at `niveau` (EPCI SIREN by default, or 'ti', 'departement'...). Points without a
    centroid in the file are placed on their commune's label point."""
    if not has_inventory(snap):
        return pd.DataFrame(columns=_SITE_COLUMNS)
    params: dict = {"niveau": niveau}
    where = ""
    if territoires is not None:
        params["codes"] = [str(c) for c in territoires]
        where = """WHERE s.commune IN (SELECT commune FROM ref_appartenance
                                       WHERE niveau = $niveau AND list_contains(CAST($codes AS VARCHAR[]), code))"""
    rate = _SITE_MEASURES["taux_vacance"][0]
    df = snap.df(f"""
        SELECT s.site_id AS code, s.nom, s.commune, c.nom AS commune_nom, c.epci_siren AS epci, e.nom_court AS epci_nom,
               s.type, s.vocadomi, s.etat, s.surf_brute_ha AS surface_brute_ha, s.surf_utile_ha AS surface_utile_ha,
               s.surf_comm_dispo_ha AS surface_disponible_ha, s.uf_nbre AS unites_foncieres,
               s.uf_vacant_nbre AS unites_vacantes, {rate} AS taux_vacance, {_INDUS} AS industrielle,
               s.nb_etab AS etablissements, s.nb_emploi AS emplois,
               (SELECT count(*) FROM foncier_terrains t WHERE t.site_id = s.site_id AND t.stade_comm LIKE 'en vente%')
                   AS terrains_en_vente,
               s.actu_date, coalesce(s.lon, k.label_lon) AS lon, coalesce(s.lat, k.label_lat) AS lat,
               src.libelle AS source, src.demo
        FROM foncier_sites s JOIN sources src USING (source_id)
        JOIN ref_communes c ON c.code = s.commune LEFT JOIN ref_epci e ON e.siren = c.epci_siren
        LEFT JOIN ref_contours k ON k.niveau = 'commune' AND k.code = s.commune AND k.partie = 'entier'
        {where}
        ORDER BY e.ordre, s.surf_brute_ha DESC NULLS LAST, s.site_id""", params)
    return df[_SITE_COLUMNS]
