"""Accueil: what the dashboard shows, and the chosen territory's key figures."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from indicators import format as fmt, presentation, ui
from indicators.content import accueil, registry


def run() -> None:
    intro, figures = ui.findings("accueil")[:2]
    st.title(intro.titre)
    if not presentation.on():       # projected: the key figures alone
        st.markdown(intro.phrase)
    sources = ui.reference_table("sources")
    # Key figures with nothing loaded are not drawn as empty tiles: the files they wait for are listed instead.
    shown = replace(figures, table=figures.table[~((figures.table.statut == "absent")
                                                   & (figures.table.note == "aucune donnée chargée"))])
    ui.show(shown)
    if presentation.on():
        return
    st.markdown(accueil.status(figures, sources))
    banner = accueil.demo_left(sources)
    if banner:
        st.warning(banner)
    st.markdown(fmt.typeset("**Pages** — " + " ; ".join(f"*{p.title}* : {p.about}" for p in registry.PAGES if p.about)
                            + "."))
    st.caption(fmt.typeset("Le territoire et l'année choisis dans le panneau latéral valent pour toutes les pages et figurent "
               "dans l'adresse de la page : copiez-la pour partager la même vue."))


if __name__ == "__main__":
    run()
