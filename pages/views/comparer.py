"""Comparer les EPCI: the main indicators side by side, with ranks, and small multiples."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import charts, format as fmt, ui
from indicators.catalog import CATALOG

INDICATORS = [("population", "Population", "habitants"),
              ("ca_total", "Chiffre d'affaires", "€"),
              ("taux_croissance_ca", "Évolution du CA sur un an", "part"),
              ("entreprises_tpe_pme", "TPE et PME", "entreprises"),
              ("part_industrie_etablissements", "Part de l'industrie (établissements)", "part"),
              ("part_industrie_effectifs", "Part de l'industrie (emploi salarié)", "part")]
OTHERS = 3   # EPCIs from outside the territory that can be added: still readable on a projector
# Territory kinds that can stand beside EPCI on the same scale: the Comparer reference lines.
KINDS = {"ti": "Territoire d'industrie", "departement": "département", "region": "région", "france": ""}


def run() -> None:
    st.title("Comparer les EPCI")
    ui.slide_button("comparer")
    # The territory's EPCIs first and by default, then its neighbours; any other EPCI of the warehouse can be added.
    p = ui.per()
    rank = {"membre": 0, "voisin": 1}
    epci = ui.territories("epci", perimetre=False)
    epci = epci.assign(_r=epci.role.map(rank).fillna(2)).sort_values("_r", kind="stable").drop(columns="_r")
    names = {c: n + (" (voisin)" if r == "voisin" else "") for c, n, r in zip(epci.code, epci.nom_court, epci.role)}
    own = ui.perimeter("epci")
    most = min(len(own) + OTHERS, len(epci))
    others = not epci.perimetre.all()
    chosen = ui.url_widget(st.multiselect, f"EPCI comparés (2 à {most})", epci.code.tolist(), "epci",
                           default=own, format_func=lambda c: names.get(c, c), multi=True,
                           max_selections=most, placeholder="Rechercher un EPCI" if others else None,
                           help="Par défaut, les EPCI du Territoire d'industrie ; tapez un nom pour ajouter un EPCI "
                                "voisin ou un autre EPCI." if others else None)
    # Reference territories, by stable code: the TI, its départements, régions, France, the other TI of its régions.
    ref_terr = [t for t in (p.ti, *p.references, *p.other_tis) if t is not None]
    ref_of = {f"{t.niveau}:{t.code}": t for t in ref_terr}
    ref_names = {k: (f"{t.nom} ({KINDS[t.niveau]})" if KINDS[t.niveau] else t.nom) +
                    (" — autre Territoire d'industrie de la région" if t.role == "voisin" else "") for k, t in ref_of.items()}
    defaults = [k for k in ref_of if ref_of[k].niveau in ("ti", "departement")][:2]
    refs = ui.url_widget(st.multiselect, "Territoires de référence", list(ref_of), "refs", default=defaults,
                         format_func=ref_names.get, multi=True)
    if len(chosen) < 2:
        st.warning("Choisissez au moins deux EPCI.")
        return
    rows, frames = {}, []
    for name, label, unite in INDICATORS:
        year = ui.year_for(name, "epci")
        if year is None:
            continue
        df = ui.get(name, "epci", annee=year, territoires=chosen)
        df["rang"] = df.valeur.rank(ascending=False, method="min").astype("Int64")
        ref = pd.concat([ui.get(name, ref_of[k].niveau, annee=year, territoires=[ref_of[k].code]) for k in refs],
                        ignore_index=True) if refs else df.iloc[0:0]
        both = pd.concat([df, ref], ignore_index=True).assign(indicateur=label, unite=unite)
        frames.append(both)
        signed = CATALOG[name].kind == "taux_croissance"
        rows[f"{label} ({year})"] = {r.nom_court: (fmt.growth(r.valeur, 1) if signed and r.statut not in ("secret", "absent")
                                                   else fmt.value(r.valeur, unite, r.statut))
                                     + (f" ({r.rang}ᵉ)" if getattr(r, "rang", None) is not pd.NA and r.niveau == "epci"
                                        and r.statut not in ("secret", "absent") else "")
                                     for r in both.itertuples()}
    if not frames:
        st.info("Aucun indicateur disponible : chargez des données.")
        return
    table = pd.DataFrame(rows)   # one row per territory: reads on a projector without scrolling sideways
    crossing = p.outside[p.outside.epci.isin(chosen) & p.outside.communes_hors.gt(0)]
    if len(crossing):
        dep_names = ", ".join(t.nom for t in p.references_of("departement"))
        st.info("EPCI à cheval sur plusieurs départements : " + " ; ".join(
            f"{names.get(r.epci, r.epci)} compte {r.communes_hors} commune{'s' if r.communes_hors > 1 else ''} "
            f"({fmt.number(r.habitants_hors)} habitants) hors de : {dep_names}" for r in crossing.itertuples())
            + ". Ses valeurs portent sur toutes ses communes.")
    st.subheader("Tableau côte à côte")
    st.markdown("Valeur et rang de chaque EPCI parmi ceux choisis (1ᵉʳ = valeur la plus forte) ; « s » : secret statistique ; "
                "« – » : donnée absente.")
    st.dataframe(table.rename_axis("Territoire"), width="stretch")
    alldata = pd.concat(frames, ignore_index=True)
    demo = ui.demo_note(alldata)
    st.caption("Sources : " + " ; ".join(sorted({s for s in alldata.source if s})) + "." + demo)
    from indicators.export.tables import to_csv_bytes
    st.download_button("Télécharger la comparaison (CSV)", to_csv_bytes(alldata.drop(columns=["rang"])),
                       file_name="comparaison_epci.csv", mime="text/csv", key="csv_compare")

    st.subheader("Petits multiples")
    cols = st.columns(2)
    for i, df in enumerate(frames):
        label, unite = df.indicateur.iat[0], df.unite.iat[0]
        name = INDICATORS[[x[1] for x in INDICATORS].index(label)][0]
        epci_rows = df[df.niveau == "epci"]
        with cols[i % 2]:
            st.markdown(f"**{label}**")
            st.caption(charts.sentence_ranking(epci_rows, "nom_court", unite, label.lower()))
            st.plotly_chart(charts.ranked_bars(epci_rows, "nom_court", unite, ui.colours(), df[df.niveau != "epci"],
                                               height=90 + 34 * len(epci_rows)), key=f"small_{name}",
                            config={"displaylogo": False})


if __name__ == "__main__":
    run()
