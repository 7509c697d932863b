"""Accueil: what the dashboard shows, and the selected territory in four figures."""
from __future__ import annotations

import streamlit as st

from indicators import format as fmt, ui


def run() -> None:
    niveau, code = ui.territory()
    name = ui.territory_name(code)
    p = ui.per()
    st.title(p.name)
    refs = ", ".join(t.nom for t in p.references)
    n = len(p.members)
    st.markdown(
        f"Indicateurs économiques du **{p.name}** (programme 2023-2027, liste de l'ANCT) et de "
        f"{'son intercommunalité' if n == 1 else f'ses {n} intercommunalités'}, comparés à leurs références "
        f"({refs}) : chiffre d'affaires par secteur, poids de l'industrie, "
        "filières stratégiques (agroalimentaire, plantes à parfum aromatiques et médicinales, aéronautique, "
        "énergies renouvelables, BTP), comparaison des EPCI.")
    st.subheader(f"{name} en quatre chiffres")
    cols = st.columns(4)
    for col, (ind, label, unite) in zip(cols, [("population", "Population", "habitants"),
                                               ("ca_total", "Chiffre d'affaires", "€"),
                                               ("entreprises_tpe_pme", "TPE et PME marchandes", "entreprises"),
                                               ("part_industrie_effectifs", "Industrie, part de l'emploi", "part")]):
        df = ui.get(ind, niveau=niveau, annee=ui.year_for(ind, niveau), territoires=[code])
        with col:
            if df.empty or df.statut.iat[0] == "absent":
                ui.metric(label, fmt.ABSENT, "Aucune donnée chargée pour cet indicateur.", False)
            else:
                r = df.iloc[0]
                ui.metric(f"{label} ({int(r.annee)})", fmt.value(r.valeur, unite, r.statut),
                          f"{r.source}. {r.note}".strip(), bool(r.demo))
    if any(ui.reference_table("sources")["Démonstration"] == "oui"):
        st.warning("Une partie des chiffres provient des **données de démonstration** générées par le logiciel : "
                   "ils sont plausibles mais inventés. Chargez les fichiers officiels (INSEE, URSSAF, CCI) pour les remplacer.")
    st.markdown(
        "**Pages** — *Chiffres clés* : le panneau de la candidature recalculé ; *Chiffre d'affaires* : niveau et "
        "évolution par secteur ; *Industrie* : part de l'industrie par EPCI face au département, à la région et à "
        "la France ; *Filières* : les cinq filières stratégiques ; *Carte* : tout indicateur par EPCI ou par commune ; "
        "*Comparer les EPCI* : tableau côte à côte ; *Plan d'actions* : les fiches actions de la candidature et "
        "leur avancement ; *Sources et méthodes* : provenance, définitions et secret statistique.")
    st.caption("Le territoire et l'année choisis dans le panneau latéral valent pour toutes les pages et figurent "
               "dans l'adresse de la page : copiez-la pour partager la même vue.")


if __name__ == "__main__":
    run()
