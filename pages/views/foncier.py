"""Foncier économique (axe 1 of the plan): inventories of economic zones (CNIG « Sites économiques »).

The findings (key figures, land available for sale, vacancy, price) are indicators/content/foncier.py's, the same
objects as the slides and the annex; then the map of sites and the filterable list of sites (CSV)."""
from __future__ import annotations

import streamlit as st

from indicators import foncier, format as fmt, maps, presentation, ui
from indicators.content.foncier import KEYS, MAP_STEP
from indicators.export.tables import to_csv_bytes


def _map(source: str) -> None:
    """The map of sites (a presentation step of its own)."""
    if not presentation.visible(MAP_STEP):
        return
    niveau, code = ui.territory()
    name = ui.per().name if niveau == "ti" else ui.territory_name(code)     # as the findings name it
    sites = ui.foncier_sites()
    mine = sites[sites.epci == code] if niveau == "epci" else sites
    st.subheader(foncier.map_title(mine, name))
    try:
        geo = maps.geometries(ui.snapshot())
        present = presentation.on()     # the projector: the map, its legend and its caption within 720 px
        fig = foncier.map_figure(geo.shapes, geo.epci, sites, selection=code if niveau == "epci" else None,
                                 height=presentation.CHART_HEIGHT + 90 if present else 760, text_size=14 if present else 12,
                                 legend_right=present)
        st.markdown(foncier.map_sentence(mine))
        st.plotly_chart(fig, key="fig_foncier_carte", config=maps.PLOTLY_CONFIG, theme=None)   # its own type sizes
        st.caption(fmt.typeset("Cercles proportionnels à la superficie totale du site, couleur selon le taux de vacance des unités "
                   f"foncières (classes de 5 points). {source}" + ui.demo_note(sites)))
    except maps.MapUnavailable as exc:
        st.info(fmt.typeset(f"Carte indisponible : {exc}."))


def _sites_list() -> None:
    st.subheader("Sites avec du foncier disponible à la vente")
    sites = ui.foncier_sites()
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
    total = shown.surface_disponible_ha.sum()
    st.markdown(fmt.typeset(f"{fmt.count(len(shown), 'site', 'sites')} sur {fmt.number(len(sites))} ; {foncier.ha(total)} "
                f"{'disponibles' if total >= 2 else 'disponible'} à la vente."))
    st.dataframe(foncier.sites_display(table), hide_index=True, width="stretch")
    st.download_button("Télécharger la liste des sites (CSV)", data=to_csv_bytes(table),
                       file_name="sites_foncier_disponible.csv", mime="text/csv", key="csv_foncier_sites")


def run() -> None:
    st.title("Foncier économique")
    ui.slide_button("foncier")
    found = ui.findings("foncier")
    if len(found) < len(KEYS):      # nothing loaded, or a year before the inventories: the finding says it all
        for f in found:
            ui.show(f)
        if not len(ui.foncier_sites()):
            st.info(fmt.typeset("Aucun inventaire des zones d'activités n'est chargé : l'agence le charge depuis la page "
                                "Importer des données (standard CNIG « Sites économiques » ; modèle vide décrit dans le "
                                "guide d'installation)."))
        return
    for f in found[:3]:
        ui.show(f)
    _map(found[0].source)
    ui.show(found[3])
    if not presentation.on():        # the working list is for the screen, not the projector
        _sites_list()


if __name__ == "__main__":
    run()
