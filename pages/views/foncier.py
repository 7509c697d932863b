"""Foncier économique (axe 1 of the plan): inventories of economic zones (CNIG « Sites économiques »).

Findings come from indicators/foncier.py (the slide and the annex say the same); the map of sites,
the list of sites with available land (filterable, CSV)."""
from __future__ import annotations

import streamlit as st

from indicators import charts, foncier, format as fmt, maps, palettes, ui
from indicators.catalog import get as indicator
from indicators.export.tables import to_csv_bytes

NAMES = ["foncier_sites", "foncier_surface_brute", "foncier_surface_utile", "foncier_surface_disponible",
         "foncier_surface_industrielle", "foncier_unites_foncieres", "foncier_unites_vacantes", "foncier_taux_vacance",
         "foncier_etablissements", "foncier_emplois", "foncier_prix_m2_median"]


def _bars(df, unite: str, colours: dict):
    fig = charts.ranked_bars(df, "nom_court", unite, colours)
    fig.update_layout(margin_r=100)      # room for the value labels (« 35,5 €/m² ») beyond the longest bar
    return fig


def run() -> None:
    st.title("Foncier économique")
    ui.slide_button("foncier")
    niveau, code = ui.territory()
    full = ui.territory_name(code)
    name = ui.per().ti.nom_court if niveau == "ti" else full     # « TI … » in titles and sentences
    epci = {n: ui.get(n, "epci") for n in NAMES}
    focus = {n: ui.get(n, niveau, territoires=[code]) for n in NAMES}
    if (focus["foncier_sites"].statut == "absent").all():
        ui.missing("foncier_sites")
        st.markdown("Modèle à remplir : `python -m etl template --foncier` écrit les quatre tables vides du standard.")
        return
    later = foncier.after_chosen_year(focus["foncier_sites"], ui.export_selection("foncier").annee)
    if later is not None:
        st.subheader(later.titre)
        st.info(later.phrase)
        return
    disp = foncier.disponible(epci["foncier_surface_disponible"], focus["foncier_surface_disponible"],
                              focus["foncier_surface_brute"], focus["foncier_sites"], name)
    year = disp.annee or ""
    st.markdown(f"Inventaire des zones d'activités économiques (standard CNIG « Sites économiques »), {full}, "
                f"état {year}." + ui.demo_note(focus["foncier_sites"]))
    cols = st.columns(len(foncier.KEY_FIGURES))
    for col, (value, label, statut) in zip(cols, foncier.key_figures(focus)):
        with col:
            st.metric(label, value, help=f"Statut : {statut}" if statut != "ok" else None)

    # The chart grammar of every page: the chosen EPCI in colour, the others grey.
    colours = {c: palettes.FOCUS if c == code else palettes.OTHER for df in epci.values() for c in df.code}
    ui.chart_block(disp.titre, disp.phrase,
                   _bars(epci["foncier_surface_disponible"], "ha", colours),
                   epci["foncier_surface_disponible"], "foncier_surface_disponible", "foncier_dispo")

    vac = foncier.vacance(epci["foncier_taux_vacance"], focus["foncier_taux_vacance"], focus["foncier_unites_vacantes"],
                          focus["foncier_unites_foncieres"], name)
    ui.chart_block(vac.titre, vac.phrase, _bars(epci["foncier_taux_vacance"], "part", colours),
                   epci["foncier_taux_vacance"], "foncier_taux_vacance", "foncier_vacance")

    sites = ui.foncier_sites()
    mine = sites[sites.epci == code] if niveau == "epci" else sites
    st.subheader(foncier.map_title(mine, name))
    try:
        geo = maps.geometries(ui.snapshot())
        fig = foncier.map_figure(geo.shapes, geo.epci, sites, selection=code if niveau == "epci" else None)
        st.markdown(foncier.map_sentence(mine))
        st.plotly_chart(fig, key="fig_foncier_carte", config=maps.PLOTLY_CONFIG)
        st.caption("Cercles proportionnels à la superficie totale du site, couleur selon le taux de vacance des unités "
                   "foncières (classes de 5 points). Source : " + " ; ".join(sorted(set(sites.source.dropna()))) + "."
                   + ui.demo_note(sites))
    except maps.MapUnavailable as exc:
        st.info(f"Carte indisponible : {exc}.")

    pr = foncier.prix(epci["foncier_prix_m2_median"], focus["foncier_prix_m2_median"], name)
    ui.chart_block(pr.titre, pr.phrase, _bars(epci["foncier_prix_m2_median"], "€/m²", colours),
                   epci["foncier_prix_m2_median"], "foncier_prix_m2_median", "foncier_prix")

    st.subheader("Sites avec du foncier disponible")
    c1, c2 = st.columns([3, 2])
    names = dict(zip(ui.territories("epci").code, ui.territories("epci").nom_court))
    with c1:
        chosen = st.multiselect("EPCI", list(names), format_func=names.get, key="foncier_epci", placeholder="Tous les EPCI")
    with c2:
        minimum = st.number_input("Surface disponible minimale (ha)", min_value=0.0, value=0.0, step=0.5, format="%.1f",
                                  key="foncier_min")
    shown = foncier.with_available_land(sites, minimum)
    if chosen:
        shown = shown[shown.epci.isin(chosen)]
    table = foncier.sites_for_people(shown)
    st.markdown(f"{fmt.number(len(shown))} site(s) sur {fmt.number(len(sites))} ; "
                f"{foncier.ha(shown.surface_disponible_ha.sum())} disponibles à la vente.")
    st.dataframe(foncier.sites_display(table), hide_index=True, width="stretch")
    st.download_button("Télécharger la liste des sites (CSV)", data=to_csv_bytes(table),
                       file_name="sites_foncier_disponible.csv", mime="text/csv", key="csv_foncier_sites")

    with st.expander("Tous les indicateurs du foncier économique, par EPCI"):
        for n in NAMES:
            st.markdown(f"**{indicator(n).titre}**")
            st.dataframe(ui.display_table(epci[n], n), hide_index=True)
        st.caption(ui.caption(epci["foncier_sites"], "foncier_sites"))


if __name__ == "__main__":
    run()
