"""The committee deck's slides: the dashboard's findings (indicators/content), in deck order
(indicators/content/registry.py), plus the title, map, sources and « depuis le dernier comité » slides.
The deck, the annex and the pages render the same Finding objects."""
from __future__ import annotations

from datetime import date

from .. import format as fmt, maps, query, suivi
from ..content import (DEMO_LABEL, FILIERE_MEASURES, KINDS, STATUT_MARKS, Context, Finding, Selection,  # noqa: F401
                       SelectionError, context, finish, rounded, rows, secret_notes, shown)
from ..content import registry
from ..content.comparer import SHORT as COMPARE_SHORT  # noqa: F401
from ..secret import Rules

Slide = Finding
ORDER = list(registry.DECK)


def selection_label(ctx: Context) -> str:
    own = [t.code for t in ctx.per.members]
    if ctx.chosen == own:
        text = f"{ctx.home_name} et ses {len(own)} intercommunalités"
    else:
        names = dict(zip(ctx.epci.code, ctx.epci.nom_court))
        text = "EPCI : " + ", ".join(names[c] for c in ctx.chosen)
    if not ctx.is_home:
        text += f" ; territoire choisi : {ctx.focus.nom_court}"
    return text


def slide_titre(ctx: Context) -> Finding:
    src = query.reference_table(ctx.snap, "sources")
    vintages = [f"{r['Source']} : millésime {r['Millésime']}, années {r['Années']}" for _, r in src.iterrows()
                if str(r["Années"]) not in ("", "nan", "None")] or ["Aucune donnée chargée."]
    demo = bool((src["Démonstration"] == "oui").any())
    when = f" — année {ctx.sel.annee}" if ctx.sel.annee else ""
    return Finding("titre", ctx.home_name, selection_label(ctx) + when,
                   extra={"date": fmt.french_date(date.today()), "vintages": vintages, "focus": ctx.name}, demo=demo,
                   source="Indicateurs économiques recalculés à partir des fichiers chargés dans l'entrepôt.")


def slide_sources(ctx: Context) -> Finding:
    src = query.reference_table(ctx.snap, "sources")
    rules = Rules.from_env()
    table = src[["Source", "Producteur", "Millésime", "Années", "Licence", "Démonstration"]].copy()
    methods = [
        "Industrie : sections B à E de la NAF rév. 2 ; secteurs de la candidature et filières stratégiques "
        "définis par des listes de codes NAF (page Sources et méthodes du tableau de bord).",
        f"Secret statistique : un agrégat de chiffre d'affaires est « s » quand moins de {rules.min_firms} entreprises "
        f"y contribuent ou qu'une seule en représente au moins {round(rules.dominance * 100)}\u202f% ; d'autres cellules "
        f"sont masquées pour que chaque valeur secrète reste inconnue à {round(rules.interval * 100)}\u202f% près au moins ; "
        "les cellules en secret des producteurs (INSEE, URSSAF) restent en secret. Jamais 0 à la place.",
        "Aucune donnée individuelle d'entreprise n'est montrée : seulement des agrégats.",
        "Statuts : partiel = agrégat calculé sur une partie des communes ; – = aucune donnée chargée.",
    ]
    demo = bool((src["Démonstration"] == "oui").any())
    return Finding("sources", "Sources et méthodes", "", table, source="", notes=methods, demo=demo,
                   definition="Provenance des chiffres, définitions et règles de secret statistique.")


def slide_carte(ctx: Context, figure=None) -> Finding | None:
    """A picture slide (PowerPoint has no map chart), its table in the annex. None when nothing is loaded
    or the warehouse has no contours (maps.MapUnavailable)."""
    name = "part_industrie_effectifs"
    label = "Part de l'industrie dans l'emploi salarié"
    year, _ = ctx.year(name, "epci")
    if year is None:
        return None
    try:
        fig, df = maps.map_figure(ctx.snap, name, "epci", annee=year,
                                  selection=None if ctx.focus.niveau != "epci" else ctx.focus.code, height=720)
    except maps.MapUnavailable:
        return None
    # Drawn for a projector: the picture is shrunk onto the slide, so type is enlarged first.
    fig.update_layout(font_size=24, legend_font_size=22, margin=dict(l=0, r=0, t=0, b=0))
    fig.update_traces(selector=dict(type="scattergeo", mode="text"), textfont_size=20)
    table = rows(ctx, df, label, "part")
    f = Finding("carte", f"{label} par EPCI en {year}", maps.sentence(name, df, fig), table,
                notes=secret_notes(table), extra={"figure": figure or fig})
    return finish(f, name)


def slide_depuis_comite(ctx: Context) -> Finding | None:
    """« Depuis le dernier comité »: the generated summary of what changed since the latest committee
    edition (indicators/suivi.py), then the changed actions and figures. No edition: the way to create one."""
    if ctx.snap.path is None:
        return None
    e = suivi.ecarts(ctx.snap, ctx=ctx)
    _, whole, _ = suivi.whole_territory(ctx.snap)
    phrase = suivi.summary(e, whole)
    if e is None:
        return Finding("depuis_comite", "Depuis le dernier comité", phrase,
                       source="Suivi du plan d'actions : aucune édition de comité enregistrée.",
                       extra={"actions": [], "chiffres": []})
    names = suivi.labels(ctx.snap)
    chiffres = []
    for r in e.indicateurs.itertuples():
        if r.code != whole and r.diapo != "chiffres_cles":
            continue
        diff = suivi.difference_text(r.kind, r.difference)
        chiffres.append(f"{r.indicateur}{' — ' + r.categorie if r.categorie and r.categorie != r.indicateur else ''} "
                        f"({r.territoire}) : {suivi.figure_text(r.kind, r.valeur_avant, r.statut_avant)} ({r.annee_avant}) → "
                        f"{suivi.figure_text(r.kind, r.valeur_apres, r.statut_apres)} ({r.annee_apres})"
                        + (f", {diff}" if diff else ""))
    ed = e.edition
    source = (f"Suivi du plan d'actions (historique des modifications) ; chiffres de la présentation : version des "
              f"données {str(e.version_avant)[:8]} au comité « {ed['nom']} », {str(e.version_apres)[:8]} aujourd'hui ; "
              "secret statistique appliqué aux deux dates.")
    cibles = [f"{t.numero} — {t.sentence()}" for t in suivi.targets(ctx.snap, suivi.plan_actions(ctx.snap), ctx.get)]
    return Finding("depuis_comite", f"Depuis le comité « {ed['nom']} »", phrase, source=source,
                   extra={"actions": suivi.action_lines(e, names), "chiffres": chiffres, "cibles": cibles,
                          "autres_chiffres": len(e.indicateurs) - len(chiffres)})


SLIDES = {"titre": slide_titre, "depuis_comite": slide_depuis_comite, "carte": slide_carte,
          "sources": slide_sources}   # the deck's slides the content layer does not build yet, by registry key


def build(snap, sel: Selection, keys: list[str] | None = None, map_figure=None,
          ctx: Context | None = None) -> list[Finding]:
    """The slides of a deck, in deck order (unknown keys are refused); each names its annex sheet (registry)."""
    keys = list(keys or ORDER)
    bad = [k for k in keys if k not in ORDER]
    if bad:
        raise SelectionError(f"diapositive inconnue : {', '.join(bad)} ({', '.join(ORDER)})")
    ctx = ctx or context(snap, sel)
    wanted = set(keys)
    out = []
    for key in ORDER:
        if key not in wanted:
            continue
        if key == "carte":
            s = slide_carte(ctx, map_figure)
        elif key in SLIDES:
            s = SLIDES[key](ctx)
        else:
            s = next((f for f in registry.build(ctx, registry.PAGE_OF_SLIDE[key]) if f.key == key), None)
        if s is not None:
            s.sheet_name = registry.SHEETS.get(key, s.sheet_name)
            out.append(s)
    return out
