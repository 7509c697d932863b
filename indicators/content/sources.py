"""Sources et méthodes, and the deck's title slide: where the figures come from (each loaded file, its
producer, vintage and years), how they are computed (industry, filières, statistical secret) and the reference
tables of the Sources page (definitions, sectors, filières, nomenclatures), read through indicators/query.py.

What élus see names no command line, option, technical indicator name, raw status code or file path; the
annex keeps the full table. The plan's producer is the organisation keeping it, never the library that wrote
its workbook (suivi.producer).
"""
from __future__ import annotations

import re
from datetime import date

import pandas as pd

from . import Context, Finding
from .. import format as fmt, query

KEYS = ["sources"]
SHEETS = {"sources": "Sources"}
# The Sources page's reference blocks, in order after its finding (presentation steps; not slides).
REFERENCE = ["sources_remarques", "sources_definitions", "sources_secteurs", "sources_filieres",
             "sources_nomenclatures", "sources_secret", "sources_secret_methode"]
# On the projector: the files loaded and the secret's rules; the reference tables and the method are read at
# a desk (about 150 screens once paged), not shown to a committee.
STEPS = (*KEYS, "sources_secret")
DESK = tuple(k for k in REFERENCE if k not in STEPS)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SPAN = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")


def vintage(text) -> str:
    """A millésime as French: « 2023 », « 1ᵉʳ octobre 2025 » (never 2025-10-01), « janvier 2025 »."""
    t = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).strip()
    if m := _ISO_DAY.match(t):
        return fmt.french_date(date(int(m[1]), int(m[2]), int(m[3])))
    if m := _ISO_MONTH.match(t):
        return f"{fmt.french_date(date(int(m[1]), int(m[2]), 1)).split(' ', 1)[1]}"
    return t


def years(text) -> str:
    """The years a file gives, as French: « année 2023 », « années 2013 à 2018 »; "" when none."""
    t = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).strip()
    if not t or t in ("nan", "None"):
        return ""
    if m := _SPAN.match(t):
        return f"années {m[1]} à {m[2]}" if m[1] != m[2] else f"année {m[1]}"
    found = re.findall(r"\d{4}", t)
    if len(found) == 1:
        return f"année {found[0]}"
    return f"années {fmt.years_text(sorted({int(y) for y in found}))}" if found else t


def _table(ctx: Context) -> pd.DataFrame:
    """The loaded files as people read them: the plan's producer is who keeps it; dates in French."""
    src = query.reference_table(ctx.snap, "sources").copy()
    if not len(src):
        return src
    kinds = dict(ctx.snap.rows("SELECT libelle, kind FROM sources"))
    if (src.Source.map(kinds) == "plan_actions").any():
        from .. import suivi   # the plan store, only when a plan was loaded

        who = suivi.producer(ctx.snap)
        src.loc[src.Source.map(kinds) == "plan_actions", "Producteur"] = who
    # A file covering the TI (the plan) names it, not its code (« ti-9304 »); départements keep their numbers.
    names = dict(ctx.snap.rows("SELECT code, nom_court FROM ref_territoires WHERE niveau IN ('ti', 'epci')"))
    if "Départements couverts" in src:
        src["Départements couverts"] = [", ".join(names.get(c.strip(), c.strip()) for c in v.split(","))
                                        if isinstance(v, str) else v for v in src["Départements couverts"]]
    src["Millésime"] = [vintage(v) for v in src["Millésime"]]
    src["Années"] = [years(v).removeprefix("années ").removeprefix("année ") for v in src["Années"]]
    src["Fichier"] = [str(v).replace("\\", "/").rsplit("/", 1)[-1] if isinstance(v, str) else v for v in src["Fichier"]]
    return src


def _built(ctx: Context) -> str:
    when = query.built_at(ctx.snap)
    return fmt.french_date(when) if when else fmt.french_date(date.today())


def selection_label(ctx: Context) -> str:
    """« Territoire d'industrie X et ses 8 intercommunalités » or « EPCI : … », and the chosen territory."""
    own = [t.code for t in ctx.per.members]
    if ctx.chosen == own:
        text = f"{ctx.home_name} et ses {len(own)} intercommunalités"
    else:
        names = dict(zip(ctx.epci.code, ctx.epci.nom_court))
        text = "EPCI : " + ", ".join(names[c] for c in ctx.chosen)
    if not ctx.is_home:
        text += f" ; territoire choisi : {ctx.focus.nom_court}"
    return text


def title(ctx: Context) -> Finding:
    """The deck's first slide: the territory, the selection, and each source's vintage and years."""
    src = _table(ctx)
    raw = query.reference_table(ctx.snap, "sources")
    vintages = [f"{r['Source']} : millésime {r['Millésime']}, {years(a)}"
                for (_, r), a in zip(src.iterrows(), raw["Années"]) if years(a)]
    demo = bool(len(src) and (src["Démonstration"] == "oui").any())
    when = f" — année {ctx.sel.annee}" if ctx.sel.annee else ""
    return Finding("titre", ctx.home_name, selection_label(ctx) + when,
                   extra={"date": fmt.french_date(date.today()), "vintages": vintages or ["Aucune donnée chargée."],
                          "focus": ctx.name}, demo=demo,
                   source="Indicateurs économiques recalculés à partir des fichiers chargés dans l'entrepôt.")


def methods() -> list[str]:
    """The methods in one line each (the slide's bullets; the page details them below)."""
    from ..secret import Rules

    rules = Rules.from_env()
    return [
        "Industrie : sections B à E de la NAF rév. 2 ; secteurs de la candidature et filières stratégiques définis par "
        "des listes de codes NAF (page Sources et méthodes du tableau de bord).",
        f"Secret statistique : un agrégat de chiffre d'affaires est « s » quand moins de {rules.min_firms} entreprises "
        f"y contribuent ou qu'une seule en représente au moins {round(rules.dominance * 100)} % ; d'autres cellules "
        f"sont masquées pour que chaque valeur secrète reste inconnue à {round(rules.interval * 100)} % près au moins ; "
        "les cellules en secret des producteurs (INSEE, URSSAF) restent en secret. Jamais 0 à la place.",
        "Aucune donnée individuelle d'entreprise n'est montrée : seulement des agrégats.",
        "« partiel » : agrégat calculé sur une partie des communes ; « – » : aucune donnée chargée.",
        "Créations et fermetures (Sirene) : une création est un nouveau SIRET (un transfert dans le territoire compte "
        "une fermeture et une création) ; la date de fermeture est le début de la dernière période de l'établissement.",
    ]


def sources(ctx: Context) -> Finding:
    """The loaded files (page, slide, annex) and the methods in brief (the slide's bullets)."""
    src = _table(ctx)
    demo = bool(len(src) and (src["Démonstration"] == "oui").any())
    n = len(src)
    titre = (f"{fmt.count(n, 'source')} de données au {_built(ctx)}" if n else
             f"Aucune source de données au {_built(ctx)}")
    phrase = ("Chaque chiffre du tableau de bord vient de l'un de ces fichiers : producteur, millésime et années couvertes."
              if n else "Aucun fichier n'est encore chargé.")
    shown = ["Source", "Producteur", "Fichier", "Millésime", "Années", "Départements couverts", "Licence", "Démonstration"]
    return Finding("sources", titre, phrase, src[[c for c in shown if c in src]].reset_index(drop=True) if n else src,
                   notes=methods(), demo=demo,
                   definition="Provenance des chiffres, définitions et règles de secret statistique.")


def _catalogue() -> pd.DataFrame:
    from ..catalog import CATALOG

    return pd.DataFrame([{"Indicateur": i.titre, "Unité": i.unite, "Définition": fmt.typeset(i.definition),
                          "Source attendue": fmt.typeset(i.source_hint)} for i in CATALOG.values()])


NOMENCLATURES = """Depuis le 1er janvier 2027, les codes APE sont attribués dans la **NAF 2025** (déclinaison française de la NACE
Rév. 2.1, décret n° 2025-736) ; les fichiers antérieurs sont codés en **NAF rév. 2**. Chaque fichier chargé est lu
dans sa nomenclature (reconnue à ses codes, par ex. 46.50Y, au nom de sa colonne ou du fichier) ; un fichier qui
mélange les deux est refusé. Aucun chiffre n'est converti d'une nomenclature à l'autre : un code NAF rév. 2 qui
correspond à plusieurs codes NAF 2025 n'est jamais réparti selon une clé inventée.

Les regroupements (grands secteurs A5, sections, secteurs de la candidature, filières) sont calculés depuis l'une ou
l'autre nomenclature. Quand une catégorie n'a pas le même contenu dans les deux (par ex. la promotion immobilière
passe de la construction aux activités immobilières, la réparation automobile quitte le commerce), la série est
**rompue** : les graphiques concernés l'indiquent sous le graphique (« Rupture de série en … »), avec l'année du
premier chiffre en NAF 2025."""

SECRET = """- **Valeurs des producteurs** (INSEE, URSSAF) : leurs cellules en secret restent en secret ; elles s'affichent « s ».
- **Données d'entreprises** (fichiers CCI / CMA) : les agrégats de chiffre d'affaires suivent les règles ci-dessous ;
  une valeur en secret s'affiche « s », jamais 0, sans autre indication.
- Aucune donnée individuelle d'entreprise ne sort de l'entrepôt : pages et exports ne montrent que des agrégats.
- **Marques** : « s » secret statistique ; « partiel » agrégat calculé sur une partie des communes (commune non
  couverte par le fichier, ou valeur communale en secret) ; « – » aucun fichier chargé ne fournit la valeur."""


def reference(ctx: Context) -> list[Finding]:
    """The Sources page's reference blocks (REFERENCE keys): not slides, one presentation step each."""
    from ..secret import methode

    built = _built(ctx)
    out = []
    problems = query.reference_table(ctx.snap, "problemes")
    out.append(Finding("sources_remarques", f"Remarques de chargement : {fmt.count(len(problems), 'remarque')} "
                                            f"(données du {built})",
                       "Les lignes gardées malgré une remarque, fichier par fichier." if len(problems) else
                       "Aucune remarque sur les fichiers chargés.",
                       extra={"display": problems} if len(problems) else {}))
    out.append(Finding("sources_definitions", "Définitions des indicateurs",
                       "Chaque indicateur du tableau de bord, son unité, sa définition et le fichier qui le fournit.",
                       extra={"display": _catalogue()}))
    out.append(Finding("sources_secteurs", "Secteurs de la candidature (chiffre d'affaires)",
                       "Les secteurs du chiffre d'affaires de la candidature, par sections de la NAF.",
                       extra={"display": query.reference_table(ctx.snap, "secteurs")}))
    out.append(Finding("sources_filieres", "Filières stratégiques : codes NAF rév. 2",
                       "Proposition de périmètre à valider par l'Agence (modifiable) : les sous-classes NAF de chaque "
                       "filière, dans son cœur ou son périmètre élargi.",
                       extra={"display": query.reference_table(ctx.snap, "filieres")}))
    nomenclature = query.reference_table(ctx.snap, "nomenclature_sources")
    if "Fichier" in nomenclature:
        nomenclature = nomenclature.assign(Fichier=[str(v).rsplit("/", 1)[-1] for v in nomenclature.Fichier])
    out.append(Finding("sources_nomenclatures", "Nomenclatures d'activité : NAF rév. 2 et NAF 2025", NOMENCLATURES,
                       extra={"display": nomenclature,
                              "more": [("Regroupements : catégories de même contenu dans les deux nomenclatures",
                                        query.reference_table(ctx.snap, "naf_synthese")),
                                       ("Catégories dont le contenu change (rupture de série) et sous-classes en cause",
                                        query.reference_table(ctx.snap, "naf_ruptures")),
                                       ("Secteurs de la candidature en NAF 2025 (par section de la NACE Rév. 2.1)",
                                        query.reference_table(ctx.snap, "secteurs_naf2025")),
                                       ("Filières stratégiques en NAF 2025 : proposition tirée de la table de correspondance "
                                        "de l'INSEE. Une sous-classe NAF 2025 dont toutes les activités d'origine sont "
                                        "dans la filière est reprise ; une sous-classe qui reçoit aussi des activités hors "
                                        "filière est « à arbitrer » : jamais dans le cœur, dans le périmètre élargi "
                                        "seulement si elle prolonge une activité de la filière (même classe), en attendant "
                                        "une décision.", query.reference_table(ctx.snap, "filieres_decisions")),
                                       ("", query.reference_table(ctx.snap, "filieres_naf2025"))]}))
    custom = [re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", n) for n in query.custom_territories(ctx.snap)]
    out.append(Finding("sources_secret", "Secret statistique", SECRET))
    out.append(Finding("sources_secret_methode", "Secret statistique : la méthode", methode(custom=custom)))
    return out


def build(ctx: Context) -> list[Finding]:
    return [sources(ctx)]
