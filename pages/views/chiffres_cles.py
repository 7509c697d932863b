"""Chiffres clés: the candidature's key figures, recomputed from the warehouse."""
from __future__ import annotations

import streamlit as st

from indicators import format as fmt, ui



def _figure(label: str, df, unite: str, cle: str | None, published, growth: bool = False) -> None:
    """One key figure: recomputed value, its source and definition, the published value where it differs."""
    if df.empty or df.statut.iat[0] == "absent":
        st.metric(label, fmt.ABSENT)
        st.caption(df.note.iat[0] if len(df) else "Aucune donnée chargée.")
        return
    r = df.iloc[0]
    text = fmt.growth(r.valeur) if growth and r.statut not in ("secret", "absent") else fmt.value(r.valeur, unite, r.statut)
    st.metric(label, text)
    line = f"{r.source}, {int(r.annee)}"
    if "annee_base" in df:
        line = f"{r.source}, {int(r.annee_base)} → {int(r.annee)}"
    st.caption(line + (f" — {r.note}" if r.note else "") + (f" · **{ui.DEMO_LABEL}**" if r.demo else ""))
    if cle is not None:
        pub = published[published.cle == cle]
        if len(pub):
            p = pub.iloc[0]
            shown = text.replace(fmt.NBSP, " ")
            same = shown == p.texte_publie or (r.valeur is not None and abs((r.valeur or 0) - p.valeur_publiee) < 1e-9)
            if not same:
                st.caption(f"Candidature : **{p.texte_publie}** — {p.explication}")


def run() -> None:
    st.title("Chiffres clés")
    ui.slide_button("chiffres_cles")
    st.markdown("Le panneau de la candidature *Territoire d'industrie* recalculé à partir des fichiers chargés. "
                "Quand la valeur publiée dans la candidature diffère, elle est indiquée avec la raison de l'écart.")
    published = ui.published()
    dep = ui.per().departement
    # The communes the candidature quotes (prefecture, sub-prefecture), as its reference data names them.
    quoted = published[published.niveau.eq("commune")]
    dep_codes = [dep.code]

    st.subheader("Territoire")
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        _figure("Superficie", ui.get("superficie", "departement", annee=ui.year_for("superficie"), territoires=dep_codes),
                "km²", "superficie", published)
    with c2:
        _figure(f"Population : {dep.nom}", ui.get("population", "departement", annee=ui.year_for("population"),
                                                       territoires=dep_codes), "habitants", None, published)
    pop_year = ui.year_for("population", "commune")
    for col, q in zip((c3, c4), quoted.itertuples()):
        with col:
            _figure(q.libelle.replace("Population de ", ""), ui.get("population", "commune", annee=pop_year,
                                                                    territoires=[q.code]), "habitants", q.cle, published)

    st.subheader("Chiffre d'affaires")
    year = ui.year_for("ca_total")
    c1, c2 = st.columns(2)
    with c1:
        _figure(f"Chiffre d'affaires {year or ''}", ui.get("ca_total", "departement", annee=year, territoires=dep_codes),
                "€", "ca_total", published)
    with c2:
        _figure("Évolution sur un an", ui.get("taux_croissance_ca", "departement", annee=year, territoires=dep_codes),
                "part", "taux_croissance_ca", published, growth=True)
    sectors = ui.get("taux_croissance_ca_secteur", "departement", annee=year, territoires=dep_codes)
    cols = st.columns(4)
    shown = sectors[sectors.secteur_code != "industrie"]
    for col, r in zip(cols, shown.itertuples()):
        with col:
            _figure(r.secteur, shown[shown.secteur_code == r.secteur_code], "part",
                    f"taux_croissance_ca_{r.secteur_code}", published, growth=True)
    ind = sectors[sectors.secteur_code == "industrie"]
    if len(ind):
        st.caption(f"Industrie (non citée dans la candidature) : "
                   f"{fmt.growth(ind.valeur.iat[0]) if ind.statut.iat[0] not in ('secret', 'absent') else fmt.value(None, 'part', ind.statut.iat[0])}.")

    st.subheader("Entreprises")
    year = ui.year_for("entreprises_tpe_pme")
    c1, c2, c3 = st.columns(3)
    with c1:
        _figure(f"TPE et PME marchandes {year or ''}", ui.get("entreprises_tpe_pme", "departement", annee=year,
                                                               territoires=dep_codes), "entreprises", "entreprises_tpe_pme", published)
    with c2:
        _figure("dont industrielles", ui.get("entreprises_tpe_pme_industrie", "departement", annee=year, territoires=dep_codes),
                "entreprises", "entreprises_tpe_pme_industrie", published)
    with c3:
        _figure("Part de l'industrie", ui.get("part_industrie_tpe_pme", "departement", annee=year, territoires=dep_codes),
                "part", "part_industrie", published)
    st.caption("Définitions : TPE et PME = entreprises de moins de 250 salariés et de 50 M€ de chiffre d'affaires au plus ; "
               "champ marchand non agricole et non financier (sections B à J, L à N, R et S de la NAF). Voir *Sources et méthodes*.")


if __name__ == "__main__":
    run()
