"""Comparer les EPCI: the main indicators side by side, with ranks, and small multiples."""
from __future__ import annotations

import streamlit as st

from indicators import presentation, ui
from indicators import format as fmt
from indicators.content import french as fr

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
    ui.url_widget(st.multiselect, "Territoires de référence", list(ref_of), "refs", default=defaults,
                  format_func=ref_names.get, multi=True)
    # An EPCI crossing départements: how much of it lies outside, and the choice of its part inside.
    crossing = p.outside[p.outside.epci.isin(chosen) & p.outside.communes_hors.gt(0)]
    if len(crossing):
        deps = p.references_of("departement")
        where = (fr.of_territory("departement", deps[0].nom) if len(deps) == 1     # « du département (X) »
                 else f"des départements ({', '.join(t.nom for t in deps)})")
        note = "EPCI à cheval sur plusieurs départements : " + " ; ".join(
            f"{names.get(r.epci, r.epci)} compte {fmt.count(r.communes_hors, 'commune', 'communes')} "
            f"({fmt.count(r.habitants_hors, 'habitant', 'habitants')}) hors {where}" for r in crossing.itertuples()) + "."
        if not presentation.on():       # a desk reader's choice (the radio below is hidden when projected)
            st.info(fmt.typeset(note))
        ui.url_widget(st.radio, "EPCI à cheval", ["0", "1"], "parties", horizontal=True,
                      format_func=lambda v: "EPCI entiers" if v == "0" else f"leur partie à l'intérieur {where}")
    if len(chosen) < 2:
        st.warning("Choisissez au moins deux EPCI.")
        return
    found = ui.findings("comparer")
    ui.show(found[0])
    if not presentation.on():       # projected: one small multiple a step, under its own title
        st.subheader("Petits multiples")
    cols = st.columns(2)
    for i, f in enumerate(found[1:]):
        with cols[i % 2]:
            ui.show(f)


if __name__ == "__main__":
    run()
