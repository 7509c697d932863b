"""Carte: any catalogue indicator by EPCI or by commune; a click on the map selects an EPCI for every page.

The widgets only choose; the map is a finding of indicators/content/carte.py (title, sentence, rows, year)."""
from __future__ import annotations

import streamlit as st

from indicators import format as fmt, maps, presentation, ui
from indicators.catalog import CATALOG
from indicators.content.carte import is_stock


def run() -> None:
    st.title("Carte")
    ui.slide_button("carte")
    if not presentation.on():     # how to use the page: for the desk, not for the projector
        st.markdown(fmt.typeset(f"Chaque indicateur du catalogue, par intercommunalité ou par commune du {ui.per().name}, y compris "
                    "les communes de ses EPCI situées hors de ses départements de référence (teinte atténuée). "
                    "**Cliquer sur un territoire le sélectionne** pour toutes les pages."))
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    with c1:
        name = ui.url_widget(st.selectbox, "Indicateur", list(CATALOG), "indicateur", default="part_industrie_effectifs",
                             format_func=lambda n: CATALOG[n].titre)
    ind = CATALOG[name]
    with c2:      # (on the projector the map's legend says how it is drawn)
        if is_stock(ind):
            if not presentation.on():
                st.markdown(fmt.typeset("Cercles proportionnels : leur surface est proportionnelle à la valeur"))
        elif maps.default_method(name) == "divergente":
            if not presentation.on():
                st.markdown(fmt.typeset(f"Classes : écart à la valeur du {ui.per().name}" if ind.kind != "croissance" else
                            "Classes : de part et d'autre de zéro"))
        else:
            ui.url_widget(st.radio, "Classes", list(maps.METHODES), "classes", format_func=maps.METHODES.get,
                          help="Seuils naturels : regroupe les valeurs proches ; quantiles : autant de "
                          "territoires dans chaque classe.")
    with c3:
        st.radio("Échelle de la carte", ["epci", "commune"], horizontal=True, key="carte_niveau",
                 format_func=lambda n: "EPCI" if n == "epci" else "Communes")
    with c4:
        if ind.groupement == "filiere":
            ui.url_widget(st.radio, "Définition des filières", ["coeur", "elargi"], "definition_carte", horizontal=True,
                          format_func=lambda d: "Cœur de filière" if d == "coeur" else "Filière élargie")
    for f in ui.findings("carte"):        # indicators/content/carte.py, from the choices above
        ui.show(f)


if __name__ == "__main__":
    run()
