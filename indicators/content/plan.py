"""Plan d'actions: what the page, its slides and its annex sheets say about the plan followed between
committees — « depuis le dernier comité », the progress by axe, the totals by filière and EPCI, the actions by
axe with the figures of their filière, one action in detail, the binômes élu-industriel.

The plan is read from the plan store through indicators/suivi.py, imported inside the functions: a visitor's
other pages never load the store. The page's filters and chosen action are part of the selection
(`Selection.plan`, a `View`); the deck and the annex use the whole plan. An unknown amount stays unknown
(never 0), a secret figure stays « s »; no command line, option or file path is said to élus.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

import pandas as pd

from . import ChartSpec, Context, Finding, french as fr
from .. import format as fmt
from ..palettes import PLAN_STATUSES

KEYS = ["depuis_comite", "plan_avancement", "plan_totaux", "plan_actions", "plan_action", "plan_binomes"]
SHEETS = {"depuis_comite": "Depuis le dernier comité", "plan_avancement": "Plan avancement",
          "plan_totaux": "Plan par filière et EPCI", "plan_actions": "Plan actions par axe",
          "plan_action": "Plan une action", "plan_binomes": "Plan binômes"}
# etl/base.py PLAN_STATUTS, repeated because a visitor's page never loads etl/ (tests/test_importer.py); a test
# keeps the two equal (tests/test_plan_sources_content.py).
STATUTS = ["à lancer", "en cours", "réalisé", "abandonné"]
NON_RENSEIGNE = "Non renseigné"
# Column headers counting actions (« action » is feminine): « Réalisées », as the key figure says.
STATUT_HEADERS = {"à lancer": "À lancer", "en cours": "En cours", "réalisé": "Réalisées", "abandonné": "Abandonnées"}
STATUT_WORDS = {"à lancer": ("à lancer", "à lancer"), "en cours": ("en cours", "en cours"),
                "réalisé": ("réalisée", "réalisées"), "abandonné": ("abandonnée", "abandonnées")}
# The indicators shown next to an action, for its filière(s) and territory(ies).
FIGURES = [("etablissements_filiere", "Établissements employeurs", "établissements"),
           ("effectifs_filiere", "Effectifs salariés", "salariés"),
           ("ca_filiere", "Chiffre d'affaires", "€")]


@dataclass(frozen=True)
class View:
    """The page's filters (None: all) and the action shown in detail (None: the first with a filière)."""
    axes: tuple[int, ...] | None = None
    statuts: tuple[str, ...] | None = None
    epci: str | None = None
    filiere: str | None = None
    action: str | None = None


def _text(v) -> str:
    """A cell as text: None and NaN are empty (never « nan »)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


# --- totals (pure pandas: also used by indicators/plan.py) -----------------------------------------------

def _explode(actions: pd.DataFrame, col: str, labels: dict[str, str]) -> pd.DataFrame:
    d = actions.copy()
    d["_code"] = [v if len(v) else [None] for v in d[col]]
    d = d.explode("_code")
    d["_code"] = [c if isinstance(c, str) else "" for c in d["_code"]]  # "": not filled in
    d["_label"] = [labels.get(c, c) if c else NON_RENSEIGNE for c in d["_code"]]
    return d


def totals(actions: pd.DataFrame, by: str, labels: dict[str, str] | None = None,
           order: list[str] | None = None) -> pd.DataFrame:
    """One row per axe, filière or territory: actions, actions by statut, amount filled in, actions without amount.

    An action on two EPCIs (or filières) counts in each: the rows of `epci` / `filiere` do not add up.
    `labels`: code -> name for filières / territories (default: the names in the actions); `order`: codes in
    display order (default: first seen). « Non renseigné » comes last.
    """
    if by == "axe":
        d = actions.assign(_code=actions.axe_num, _label=actions.axe)
    elif by in ("filiere", "epci"):
        col = "filieres" if by == "filiere" else "territoires"
        if labels is None:  # the names in the actions, in the same order as the codes
            labels = {}
            for codes, names in zip(actions[col], actions[f"{col}_noms"].fillna("")):
                labels.update(zip(codes, [n.strip() for n in names.split(" ; ")] if names else []))
        d = _explode(actions, col, labels)
    else:
        raise ValueError(f"regroupement inconnu « {by} » (axe, filiere ou epci)")
    columns = ["code", "libelle", "actions"] + STATUTS + ["montant_eur", "sans_montant"]
    if d.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (code, label), g in d.groupby(["_code", "_label"], sort=False):
        row = {"code": code if code != "" else None, "libelle": label, "actions": len(g)}
        row.update({s: int((g.statut == s).sum()) for s in STATUTS})
        row["montant_eur"] = g.montant_eur.sum(min_count=1)
        row["sans_montant"] = int(g.montant_eur.isna().sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    rank = {c: i for i, c in enumerate(order or [])}
    out["_rank"] = [len(rank) + 1 if c is None or (by != "axe" and pd.isna(c)) else rank.get(c, len(rank))
                    for c in out.code]
    return out.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def _actions_word(n: int) -> str:
    return fmt.count(n, "action")


def status_line(row) -> str:
    """'3 actions : 2 à lancer, 1 en cours' (statuts without action left out; « réalisée » agrees)."""
    parts = [f"{row[s]} {STATUT_WORDS[s][0 if row[s] == 1 else 1]}" for s in STATUTS if row[s]]
    return _actions_word(row["actions"]) + (" : " + ", ".join(parts) if parts else "")


def amount_text(montant, sans_montant: int, actions: int) -> str:
    """'12,5 M€ (2 actions sans montant)' or 'non renseigné'."""
    if pd.isna(montant):
        return "non renseigné"
    text = fmt.euros(montant)
    if sans_montant:
        text += f" ({_actions_word(sans_montant)} sans montant)"
    return text


def totals_for_people(t: pd.DataFrame, first: str) -> pd.DataFrame:
    out = pd.DataFrame({first: t.libelle, "Actions": t.actions})
    for s in STATUTS:
        out[STATUT_HEADERS[s]] = t[s]
    out["Montant estimé"] = [amount_text(m, n, a) for m, n, a in zip(t.montant_eur, t.sans_montant, t.actions)]
    return out


# --- the figures of an action's filière ------------------------------------------------------------------

Getter = Callable[..., pd.DataFrame]


def filiere_figures(actions: pd.DataFrame, get: Getter, years: dict[str, int | None],
                    whole: tuple[str, str, str] | None = None) -> pd.DataFrame:
    """For each action with a filière: the filière's figures in the action's territories (the whole territory
    when no EPCI is filled in). `get(name, niveau, annee=...)` is `query.get` bound to a snapshot (or a
    Context's memoised `get`); `years`: the year of each indicator; `whole`: (niveau, code, name) of the whole
    territory (`suivi.whole_territory`; default: the first département the getter returns). Secret values stay
    secret; a figure no file gives is absent, never 0."""
    frames = {}
    whole_niveau = whole[0] if whole else "departement"
    for name, _, _ in FIGURES:
        if years.get(name) is None:
            continue
        frames[name] = pd.concat([get(name, niveau, annee=years[name]) for niveau in ("epci", whole_niveau)],
                                 ignore_index=True)
    if whole:
        whole_code = whole[1]
    else:
        deps = [df[df.niveau == whole_niveau].code for df in frames.values() if "niveau" in df]
        whole_code = next((c.iat[0] for c in deps if len(c)), "")
    rows = []
    for a in actions.itertuples():
        territories = a.territoires or [whole_code]
        for filiere in a.filieres:
            for code in territories:
                for name, label, unite in FIGURES:
                    df = frames.get(name)
                    hit = None if df is None else df[(df.code == code) & (df.filiere_code == filiere)]
                    if hit is None or hit.empty:
                        rows.append(dict(numero=a.numero, code=code, territoire=None, filiere_code=filiere, filiere=None,
                                         indicateur=name, libelle=label, unite=unite, annee=years.get(name),
                                         valeur=float("nan"), statut="absent", note="Aucune donnée chargée", source="",
                                         demo=False))
                        continue
                    r = hit.iloc[0]
                    rows.append(dict(numero=a.numero, code=code, territoire=r.nom_court, filiere_code=filiere,
                                     filiere=r.filiere, indicateur=name, libelle=label, unite=unite, annee=int(r.annee),
                                     valeur=r.valeur, statut=r.statut, note=r.note, source=r.source,
                                     demo=bool(r.demo)))
    return pd.DataFrame(rows, columns=["numero", "code", "territoire", "filiere_code", "filiere", "indicateur", "libelle",
                                       "unite", "annee", "valeur", "statut", "note", "source", "demo"])


def _figure(r, short: bool) -> str:
    """One figure of a filière: « 85 ét. », « CA 95 M€ », « CA en secret », « ét. non disponibles »."""
    ca = r.indicateur == "ca_filiere"
    word = ("CA" if short else "chiffre d'affaires") if ca else (
        ("ét." if short else "établissements employeurs") if r.unite == "établissements" else "salariés" if not short
        else "sal.")
    if r.statut == "secret":
        return f"{word} en secret"
    if r.statut == "absent" or pd.isna(r.valeur):
        return f"{word} non disponible{'s' if not ca and not short else ''}"
    if ca:
        return f"{word} {fmt.value(r.valeur, r.unite, r.statut)}"
    if r.valeur == 0:   # a true 0 of the file (URSSAF counts every employer): said in words, never for a gap
        return ("aucun ét. employeur" if short else "aucun établissement employeur") if r.unite == "établissements" \
            else ("aucun sal." if short else "aucun salarié")
    return f"{fmt.value(r.valeur, r.unite, r.statut)} {word}"


def figures_text(figures: pd.DataFrame) -> dict[str, str]:
    """numero -> 'Briançonnais : 85 ét., 1 230 sal., CA 95 M€' (one part per territory; the filière is named
    first when the action has several; a secret figure says « en secret », never a bare « s »)."""
    out: dict[str, str] = {}
    for numero, g in figures.groupby("numero", sort=False):
        parts = []
        several = g.filiere_code.nunique() > 1
        for (_, _), h in g.groupby(["filiere_code", "code"], sort=False):
            first = h.iloc[0]
            who = (f"{_text(first.filiere) or first.filiere_code}, " if several else "") + \
                f"{_text(first.territoire) or first.code}"
            parts.append(f"{who} : {', '.join(_figure(r, True) for r in h.itertuples())}")
        out[numero] = " | ".join(parts)
    return out


# --- the findings ------------------------------------------------------------------------------------------

def _suivi():
    from .. import suivi   # the plan store: read only when a plan is shown (see the module's docstring)
    return suivi


def _view(ctx: Context) -> View:
    v = getattr(ctx.sel, "plan", None)
    return v if isinstance(v, View) else View()


def _day(v) -> str:
    """« 7 décembre 2026 » (a date, a datetime or an ISO text)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, str):
        v = datetime.fromisoformat(v.replace("Z", ""))
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    return fmt.french_date(v)


def _state(ctx: Context) -> dict:
    """What every finding of the page reads, once per context: the whole plan, the shown (filtered) plan, the
    whole territory, the source line and the date of the plan's state (its last change)."""
    memo = ctx._memo.setdefault(("plan",), {})
    if memo:
        return memo
    suivi = _suivi()
    snap = ctx.snap
    everything = suivi.plan_actions(snap) if snap.path is not None else pd.DataFrame(columns=suivi.COLUMNS)
    v = _view(ctx)
    shown = everything
    if snap.path is not None and (v.axes or v.statuts or v.epci or v.filiere):
        shown = suivi.plan_actions(snap, list(v.axes) if v.axes else None, list(v.statuts) if v.statuts else None,
                                   v.epci, v.filiere)
    whole = suivi.whole_territory(snap)
    last = None
    if snap.path is not None and len(everything):
        hist = suivi.history(snap)
        last = max(hist["Quand"]) if len(hist) else None
    first = everything.iloc[0] if len(everything) else None
    when = _day(last) or (_day(first.charge_le) if first is not None else "") or fmt.french_date(date.today())
    source = "Source : suivi du plan d'actions"
    if first is not None:
        source = "Source : " + (_text(first.source) or "plan d'actions")
        if _text(first.fichier) and pd.notna(first.charge_le):
            source += f", classeur importé le {_day(first.charge_le)}"
        source += ", puis les modifications inscrites à l'historique du suivi."
    memo.update(everything=everything, actions=shown, whole=whole, when=when, source=source, view=v,
                filtered=len(shown) != len(everything))
    return memo


def _years(ctx: Context) -> dict[str, int | None]:
    """Each filière figure's year by the Context's rule: the chosen year or the latest before it."""
    return {name: ctx.year(name, "epci")[0] for name, _, _ in FIGURES}


def _no_plan(key: str, s: dict) -> Finding:
    return Finding(key, f"Plan d'actions au {s['when']} : aucun plan enregistré",
                   "Aucun plan d'actions n'est encore enregistré : l'Agence l'importe depuis son classeur de suivi.",
                   source=s["source"])


def since(ctx: Context, figures=()) -> Finding:
    """« Depuis le dernier comité »: the generated summary (suivi.summary), then each change of the plan by
    action number and title, the changed key figures and the targets. `figures`: the deck's figures now (the
    registry computes them; called only when an edition exists)."""
    suivi = _suivi()
    s = _state(ctx)
    snap = ctx.snap
    e = suivi.ecarts(snap, figures=figures) if snap.path is not None else None
    _, whole, _ = s["whole"]
    phrase = suivi.summary(e, whole)
    cibles = [f"{t.numero} — {t.sentence()}" for t in suivi.targets(snap, s["everything"], ctx.get)] \
        if snap.path is not None else []
    if e is None:
        display = pd.DataFrame({"Quoi": ["Cible"] * len(cibles), "Changement ou état": cibles})
        return Finding("depuis_comite", f"Depuis le dernier comité : aucune édition enregistrée au {s['when']}", phrase,
                       source=s["source"], extra={"actions": [], "chiffres": [], "cibles": cibles,
                                                  **({"display": display} if cibles else {})})
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
    d = ed["date_comite"]
    actions = suivi.action_lines(e, suivi.labels(snap))
    display = pd.DataFrame({"Quoi": ["Plan d'actions"] * len(actions) + ["Chiffre clé"] * len(chiffres)
                            + ["Cible"] * len(cibles), "Changement ou état": actions + chiffres + cibles})
    # The data versions compared (for support) stay in the annex, not on the slide.
    versions = (f"Versions des données comparées : {str(e.version_avant)[:8]} au comité « {ed['nom']} », "
                f"{str(e.version_apres)[:8]} aujourd'hui.")
    return Finding("depuis_comite", f"Depuis le comité du {d[8:10]}/{d[5:7]}/{d[:4]}", phrase,
                   source=s["source"] + " Chiffres de la présentation recalculés, secret statistique appliqué aux deux dates.",
                   extra={"actions": actions, "chiffres": chiffres, "cibles": cibles, "display": display,
                          "autres_chiffres": len(e.indicateurs) - len(chiffres)}, definition=versions)


def _status_rows(ctx: Context, by_axe: pd.DataFrame, s: dict) -> pd.DataFrame:
    """The chart's rows: actions per axe and statut (statuts no action has are left out)."""
    _, code, name = s["whole"]
    present = [st for st in STATUTS if by_axe[st].sum()]
    recs = []
    for r in by_axe.to_dict("records"):
        counts = r
        for st in present:
            recs.append({"territoire": name, "code": code, "niveau": s["whole"][0], "categorie": r["libelle"],
                         "annee": pd.NA, "annee_base": pd.NA, "indicateur": STATUT_HEADERS[st], "valeur": float(counts[st]),
                         "kind": "count", "statut": "ok", "note": "", "source": s["source"].removeprefix("Source : "),
                         "demo": False, "usage": "graphique", "role": ""})
    out = pd.DataFrame(recs)
    if len(out):
        out["annee"] = out.annee.astype("Int64")
        out["annee_base"] = out.annee_base.astype("Int64")
    return out


def avancement(ctx: Context) -> Finding:
    s = _state(ctx)
    actions = s["actions"]
    if not len(s["everything"]):
        return _no_plan("plan_avancement", s)
    n = len(actions)
    of = f" sur {len(s['everything'])}" if s["filtered"] else ""
    if not n:
        return Finding("plan_avancement", f"Plan d'actions au {s['when']} : aucune action ne correspond aux filtres",
                       "Aucune action ne correspond à ces filtres.", source=s["source"])
    counts = {st: int((actions.statut == st).sum()) for st in STATUTS}
    done = [f"{counts[st]} {STATUT_WORDS[st][0 if counts[st] == 1 else 1]}" for st in ("en cours", "réalisé") if counts[st]]
    titre = f"Plan d'actions au {s['when']} : {_actions_word(n)}{of}" + (", dont " + " et ".join(done) if done
                                                                      else ", aucune encore lancée")
    phrase = status_line({"actions": n, **counts}) + "."
    known = actions.montant_eur.notna()
    if known.any():
        phrase += (f" Montant estimé renseigné pour {_actions_word(int(known.sum()))} sur {n} "
                   f"({fmt.euros(actions.montant_eur.sum())}).")
        if (~known).any():
            phrase += f" {_actions_word(int((~known).sum()))} sans montant."
    else:
        phrase += " Aucun montant estimé n'est encore renseigné."
    by_axe = totals(actions, "axe")
    table = _status_rows(ctx, by_axe, s)
    spec = ChartSpec("bar", cat="categorie", series="indicateur",
                     colours={STATUT_HEADERS[k]: c for k, c in PLAN_STATUSES.items()})
    return Finding("plan_avancement", titre, phrase, table, spec, source=s["source"])


def _leaders(t: pd.DataFrame) -> tuple[list[str], int]:
    """The named groups (not « Non renseigné ») with the most actions, and that number."""
    named = t[t.code.notna()]
    if not len(named):
        return [], 0
    top = int(named.actions.max())
    return named[named.actions == top].libelle.tolist(), top


def totaux(ctx: Context) -> Finding:
    s = _state(ctx)
    actions = s["actions"]
    if not len(s["everything"]):
        return _no_plan("plan_totaux", s)
    from .. import query

    fil_order = query.categories(ctx.snap, "filiere_coeur").groupe_code.tolist()
    niveau, whole, whole_name = s["whole"]
    epci_order = [whole] + [t.code for t in ctx.per.members]
    by_fil = totals(actions, "filiere", order=fil_order)
    by_epci = totals(actions, "epci", order=epci_order)
    fil, n_fil = _leaders(by_fil)
    epci, n_epci = _leaders(by_epci[by_epci.code != whole])
    if fil:
        lead = (f"{fr.noun(fil[0]).le()} porte le plus d'actions ({n_fil})" if len(fil) == 1 else
                f"{fr.enumerate_fr([fr.noun(f).le() for f in fil])} portent le plus d'actions ({n_fil} chacune)")
        titre = f"Plan d'actions au {s['when']} : {lead}"
    else:
        titre = f"Plan d'actions au {s['when']} : aucune filière renseignée"
    phrase = ("Les actions par axe, par filière et par EPCI. Une action menée sur plusieurs EPCI ou plusieurs "
              "filières compte dans chacun : les totaux par EPCI et par filière ne s'additionnent pas.")
    if epci:
        phrase += (f" EPCI le plus concerné : {epci[0]} ({_actions_word(n_epci)})." if len(epci) == 1 else
                   f" EPCI les plus concernés : {', '.join(epci)} ({_actions_word(n_epci)} chacun).")
    n_whole = int(by_epci[by_epci.code == whole].actions.sum())
    if n_whole:
        phrase += f" {_actions_word(n_whole)} sur tout le territoire ({whole_name})."
    people = pd.concat([totals_for_people(totals(actions, "axe"), "Filière ou EPCI").assign(Regroupement="Axe"),
                        totals_for_people(by_fil, "Filière ou EPCI").assign(Regroupement="Filière"),
                        totals_for_people(by_epci, "Filière ou EPCI").assign(Regroupement="EPCI")], ignore_index=True)
    people = people[["Regroupement"] + [c for c in people.columns if c != "Regroupement"]].rename(
        columns={"Filière ou EPCI": "Axe, filière ou EPCI"})
    return Finding("plan_totaux", titre, phrase, source=s["source"],
                   extra={"display": people.set_index("Regroupement"),
                          "weights": [1.4, 4.6, 1.0, 1.0, 1.0, 1.1, 1.3, 2.0]})


def _reperes_note(years: dict, figures: pd.DataFrame) -> str:
    ys = sorted({v for v in years.values() if v})
    when = ("année " + str(ys[0])) if len(ys) == 1 else (f"années {fmt.years_text(ys)}" if ys else "aucune année")
    return ("Repères de la filière : établissements employeurs (ét.) et effectifs salariés (sal.) de la filière dans "
            "l'EPCI de l'action, ou dans tout le territoire quand l'EPCI n'est pas renseigné, et chiffre d'affaires "
            f"(CA) ; {when}.")


def by_axe(ctx: Context, foncier=None) -> Finding:
    """Every action shown, by axe, with the figures of its filière (one table per axe on the page; the slide and
    the annex take them together)."""
    s = _state(ctx)
    actions = s["actions"]
    if not len(s["everything"]):
        return _no_plan("plan_actions", s)
    years = _years(ctx)
    figures = filiere_figures(actions, ctx.get, years, s["whole"])
    reperes = figures_text(figures)
    rows = pd.DataFrame({
        "N°": actions.numero, "Action": actions.intitule, "Porteur(s)": actions.porteurs.fillna(""),
        "EPCI": actions.territoires_noms.fillna(""), "Filière(s)": actions.filieres_noms.fillna(""),
        "Statut": actions.statut,
        "Montant estimé": [fmt.euros(v) if pd.notna(v) else fmt.ABSENT for v in actions.montant_eur],
        "Repères de la filière": [reperes.get(n, "filière à renseigner" if not len(f) else fmt.ABSENT)
                                  for n, f in zip(actions.numero, actions.filieres)]})
    sections = []
    foncier_line = None
    for axe_num, g in actions.groupby("axe_num", sort=True):
        t = totals(g, "axe").iloc[0]
        line = f"{status_line(t)} — montant estimé : {amount_text(t.montant_eur, t.sans_montant, t.actions)}."
        if axe_num == 1:  # axe 1 « Foncier et attractivité »: the Foncier page's key figures, same year rule
            foncier_line = foncier_line or _foncier(ctx, foncier)
            line += " " + foncier_line
        sections.append((str(t.libelle), fmt.typeset(line), rows.loc[g.index].set_index("N°")))
    n = len(actions)
    n_axes = actions.axe_num.nunique()
    per_axe = actions.groupby("axe_num").size()
    titre = f"Plan d'actions au {s['when']} : {_actions_word(n)} en {fmt.count(n_axes, 'axe')}"
    if n_axes > 1 and (per_axe == per_axe.max()).sum() == 1:   # the axe with most actions, when there is one
        top = int(per_axe.idxmax())
        label = str(actions[actions.axe_num == top].axe.iat[0]).split(". ", 1)[-1]
        titre += f", dont {int(per_axe.max())} pour l'axe {top} ({label})"
    phrase = (f"Les {_actions_word(n)} du plan" if n > 1 else "L'action du plan") + \
        ", par axe, avec leurs porteurs, leur avancement, leur montant et les repères de leur filière."
    demo = bool(figures.demo.any()) if len(figures) else False
    sources = sorted({x for x in figures.source if x})
    note = _reperes_note(years, figures) + (f" Source des repères : {' ; '.join(sources)}." if sources else "")
    return Finding("plan_actions", titre, phrase, source=s["source"], notes=[note], demo=demo,
                   years=tuple(sorted({int(y) for y in figures.annee.dropna()})) if len(figures) else (),
                   extra={"display": rows.set_index("N°")[["Action", "Statut", "Montant estimé", "Repères de la filière"]],
                          "sections": sections, "axe1": bool((actions.axe_num == 1).any()), "sheet_table": rows,
                          "weights": [0.7, 4.2, 1.2, 1.4, 3.6]})


def _foncier(ctx: Context, found=None) -> str:
    """Axe 1's line: the Foncier page's key figures (`found`: a callable giving that page's findings, shared
    with the page when the registry builds both)."""
    from . import foncier
    return foncier.axe1_text(found() if found else foncier.build(ctx))


def detail(ctx: Context, foncier=None) -> Finding:
    """One action (the chosen one, else the first with a filière): its fields, then its filière's figures in its
    territory with their years (secret stays « s », a missing figure is said missing)."""
    s = _state(ctx)
    actions = s["actions"]
    if not len(s["everything"]):
        return _no_plan("plan_action", s)
    if not len(actions):
        return Finding("plan_action", f"Plan d'actions au {s['when']} : aucune action ne correspond aux filtres",
                       "Aucune action ne correspond à ces filtres.", source=s["source"])
    numbers = list(actions.numero)
    first = next((i for i, f in enumerate(actions.filieres) if len(f)), 0)
    numero = s["view"].action if s["view"].action in numbers else numbers[first]
    a = actions[actions.numero == numero].iloc[0]
    day = lambda v: "" if pd.isna(v) else pd.Timestamp(v).strftime("%d/%m/%Y")  # noqa: E731
    fields = [("Axe", a.axe), ("Porteur(s)", a.porteurs), ("EPCI", a.territoires_noms), ("Filière(s)", a.filieres_noms),
              ("Statut", a.statut),
              ("Montant estimé", fmt.euros(a.montant_eur) if pd.notna(a.montant_eur) else None),
              ("Montant engagé", fmt.euros(a.montant_engage) if pd.notna(a.montant_engage) else None),
              ("Montant payé", fmt.euros(a.montant_paye) if pd.notna(a.montant_paye) else None),
              ("Binôme", a.binome), ("Financements", a.financements), ("Début", day(a.date_debut)),
              ("Fin", day(a.date_fin)), ("Indicateur de suivi", a.indicateur_suivi), ("Notes", a.notes)]
    display = pd.DataFrame({"Champ": [f for f, _ in fields],
                            "Valeur": [_text(v) or "non renseigné" for _, v in fields]}).set_index("Champ")
    titre = f"Action {a.numero} au {s['when']} : {_text(a.intitule)}"
    years = _years(ctx)
    figures = filiere_figures(actions[actions.numero == numero], ctx.get, years, s["whole"])
    notes, demo, ys = [], False, ()
    if not a.filieres:
        phrase = f"{_text(a.intitule)} ({a.statut}) : filière non renseignée, pas de chiffres de filière à montrer."
    else:
        parts = []
        for (fil, code), h in figures.groupby(["filiere_code", "code"], sort=False):
            r0 = h.iloc[0]
            bits = [_figure(r, False) + (f" ({int(r.annee)})" if pd.notna(r.annee) and r.statut != "absent" else "")
                    for r in h.itertuples()]
            place = _text(r0.territoire) or code
            if not _text(a.territoires_noms):
                place += " (EPCI de l'action non renseigné)"
            parts.append(f"{_text(r0.filiere) or fil}, {place} : {', '.join(bits)}")
        phrase = " ; ".join(parts) + "."
        sources = sorted({x for x in figures.source if x})
        notes = [("Source des chiffres de la filière : " + " ; ".join(sources) + ".") if sources else
                 "Aucun fichier chargé ne donne les chiffres de cette filière."]
        demo = bool(figures.demo.any())
        ys = tuple(sorted({int(y) for y in figures[figures.statut != "absent"].annee.dropna()}))
    if a.axe_num == 1:
        notes.append(_foncier(ctx, foncier))
    return Finding("plan_action", titre, phrase, source=s["source"], notes=notes, demo=demo, years=ys,
                   extra={"display": display, "numero": numero, "axe1": bool(a.axe_num == 1), "weights": [2.2, 8.0]})


def binomes(ctx: Context) -> Finding:
    """One binôme per member EPCI, in the perimeter's order; a binôme of the workbook for an EPCI outside the
    Territoire d'industrie (a neighbour of the candidature) is listed after them, flagged."""
    s = _state(ctx)
    suivi = _suivi()
    b = suivi.binomes(ctx.snap)
    if not len(s["everything"]) and not len(b):
        return _no_plan("plan_binomes", s)
    by_code = {r.code: r for r in b.itertuples()}
    members = ctx.per.members
    rows = []
    for t in members:
        r = by_code.get(t.code)
        rows.append((t.nom_court, _text(r.elu) if r is not None else "", _text(r.industriel) if r is not None else "", ""))
    for r in b.itertuples():
        if r.code not in {t.code for t in members}:
            rows.append((_text(r.epci), _text(r.elu), _text(r.industriel), "EPCI voisin, hors du Territoire d'industrie"))
    named = sum(1 for _, e, i, flag in rows if (e or i) and not flag)
    n = len(members)
    if named:
        titre = f"Binômes élu-industriel au {s['when']} : {named} désigné{'s' if named > 1 else ''} sur {n} EPCI"
        phrase = f"Un binôme par EPCI du Territoire d'industrie : {named} sur {n} renseigné{'s' if named > 1 else ''}."
    else:
        titre = f"Binômes élu-industriel au {s['when']} : aucun des {n} binômes n'est encore désigné"
        phrase = f"Un binôme par EPCI du Territoire d'industrie : aucun des {n} binômes n'est encore désigné."
    others = [r for r in rows if r[3]]
    if others:
        phrase += (f" Le classeur prévoit aussi un binôme pour {', '.join(r[0] for r in others)}, EPCI voisin"
                   f"{'s' if len(others) > 1 else ''} hors du Territoire d'industrie.")
    display = pd.DataFrame({"EPCI": [r[0] for r in rows], "Élu(e)": [r[1] or "à désigner" for r in rows],
                            "Industriel(le)": [r[2] or "à désigner" for r in rows],
                            "Remarque": [r[3] for r in rows]})
    if not display.Remarque.any():
        display = display.drop(columns="Remarque")
    return Finding("plan_binomes", titre, phrase, source=s["source"], extra={"display": display.set_index("EPCI")})


def build(ctx: Context, figures=(), foncier=None) -> list[Finding]:
    """The page's findings in order (KEYS). `figures`: the deck's figures now, for « depuis le dernier comité »
    (registry.deck_figures, given by the registry); `foncier`: the Foncier page's findings (the registry's, built
    once per context)."""
    found = [since(ctx, figures), avancement(ctx), totaux(ctx), by_axe(ctx, foncier), detail(ctx, foncier),
             binomes(ctx)]
    for f in found:
        f.extra["escape"] = True    # the staff's text (titles, porteurs, names): shown as text, never as Markdown
    return found
