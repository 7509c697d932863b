"""Comparer les EPCI: the main indicators side by side, with ranks, and small multiples."""
from __future__ import annotations

import streamlit as st

from indicators import ui

OTHERS = 3   # EPCIs from outside the territory that can be added: still readable on a projector


def run() -> None:
    st.title("Comparer les EPCI")
    ui.slide_button("comparer")
    # The territory's EPCIs first and by default; any other EPCI of the warehouse can be added.
    epci = ui.territories("epci", perimetre=False).sort_values("perimetre", ascending=False, kind="stable")
    names = dict(zip(epci.code, epci.nom_court))
    own = ui.perimeter("epci")
    most = min(len(own) + OTHERS, len(epci))
    others = not epci.perimetre.all()
    chosen = ui.url_widget(st.multiselect, f"EPCI comparés (2 à {most})", epci.code.tolist(), "epci",
                           default=own, format_func=lambda c: names.get(c, c), multi=True,
                           max_selections=most, placeholder="Rechercher un EPCI" if others else None,
                           help="Par défaut, les EPCI du Territoire d'industrie ; tapez un nom pour en ajouter un autre."
                           if others else None)
    if len(chosen) < 2:
        st.warning("Choisissez au moins deux EPCI.")
        return
    found = ui.findings("comparer")
    ui.show(found[0])
    st.subheader("Petits multiples")
    cols = st.columns(2)
    for i, f in enumerate(found[1:]):
        with cols[i % 2]:
            ui.show(f)


if __name__ == "__main__":
    run()
