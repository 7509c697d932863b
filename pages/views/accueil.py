"""Accueil: what the dashboard shows, and the chosen territory's key figures."""
from __future__ import annotations

import streamlit as st

from indicators import ui


def run() -> None:
    intro, figures = ui.findings("accueil")
    st.title(intro.titre)
    st.markdown(intro.phrase)
    ui.show(figures)
    if any(ui.reference_table("sources")["Démonstration"] == "oui"):
        st.warning("Une partie des chiffres provient des **données de démonstration** générées par le logiciel : "
                   "ils sont plausibles mais inventés. Chargez les fichiers officiels (INSEE, URSSAF, CCI) pour les remplacer.")
    st.markdown(
        "**Pages** — *Chiffres clés* : le territoire choisi en chiffres et ceux de la candidature recalculés ; "
        "*Chiffre d'affaires* : évolution attribuée par secteur, niveau et répartition ; *Industrie* : part de "
        "l'industrie face aux EPCI et aux références ; *Filières* : les cinq filières stratégiques ; *Carte* : tout "
        "indicateur par EPCI ou par commune ; *Comparer les EPCI* : tableau côte à côte ; *Plan d'actions* : les fiches "
        "actions de la candidature et leur avancement ; *Sources et méthodes* : provenance, définitions et secret statistique.")
    st.caption("Le territoire et l'année choisis dans le panneau latéral valent pour toutes les pages et figurent "
               "dans l'adresse de la page : copiez-la pour partager la même vue.")


if __name__ == "__main__":
    run()
