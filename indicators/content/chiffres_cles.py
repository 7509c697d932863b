"""Chiffres clés: the chosen territory in key figures (an EPCI's stocks also as a share of the Territoire
d'industrie), and the candidature's published figures beside the same figures recomputed for the
candidature's own territory and year."""
from __future__ import annotations

import pandas as pd

from . import Claim, Context, Finding, concat, finish, rounded, rows, secret_notes, shown
from .. import format as fmt
from . import french as fr
from .. import query

PAGE = "chiffres_cles"
KEYS = ["chiffres_cles", "candidature"]
# In this order on 4 tiles a row, « dont TPE et PME industrielles » sits under « TPE et PME marchandes »
# (a column is read as a group, and narrow screens stack it so).
ITEMS = [("population", "Population", "count"), ("entreprises_tpe_pme", "TPE et PME marchandes", "count"),
         ("ca_total", "Chiffre d'affaires", "eur"), ("taux_croissance_ca", "Évolution du CA sur un an", "evolution"),
         ("superficie", "Superficie", "km2"),
         ("entreprises_tpe_pme_industrie", "dont TPE et PME industrielles", "count"),
         ("part_industrie_tpe_pme", "Industrie : part des TPE et PME", "part"),
         ("part_industrie_effectifs", "Industrie : part de l'emploi salarié privé", "part")]
ITEMS = [(name, fmt.typeset(label), kind) for name, label, kind in ITEMS]     # « Industrie : … » on a tile
# Figures that do not change with the selected year: always read from the latest geography loaded.
TIMELESS = ("superficie",)
STOCKS = ("population", "superficie", "ca_total", "entreprises_tpe_pme", "entreprises_tpe_pme_industrie")
IN_SENTENCE = {"population": "population", "ca_total": "chiffre d'affaires", "entreprises_tpe_pme": "TPE et PME marchandes",
               "part_industrie_effectifs": "part de l'industrie dans l'emploi salarié privé"}
MOTIFS = {"definition": "définition", "source": "source ou champ", "champ": "champ", "annee": "année"}


def _one(ctx: Context, name: str, label: str, kind: str) -> pd.DataFrame:
    niveau, code = ctx.focus.niveau, ctx.focus.code
    year, ys = ctx.year(name, niveau)
    if name in TIMELESS:     # an area is the same whatever the year of the other figures: one geography
        ys = ctx.years(name, niveau)
        year = ys[-1] if ys else None
    if year is None:
        return pd.DataFrame([{"territoire": ctx.name, "code": code, "niveau": niveau, "categorie": label,
                              "annee": pd.NA, "annee_base": pd.NA, "indicateur": label, "valeur": None, "kind": kind,
                              "statut": "absent", "note": (f"pas de donnée en {ctx.sel.annee} ni avant ; années : "
                                                           f"{fmt.years_text(ys)}" if ys else "aucune donnée chargée"),
                              "source": "", "demo": False, "usage": "chiffre", "role": "choisi"}])
    df = ctx.get(name, niveau, annee=year, territoires=[code])
    if name == "taux_croissance_ca" and (not len(df) or (df.annee_base.iloc[0] if "annee_base" in df else None) is None):
        df = df.iloc[0:0]
    if not len(df):     # a growth without the year before
        return pd.DataFrame([{"territoire": ctx.name, "code": code, "niveau": niveau, "categorie": label, "annee": year,
                              "annee_base": pd.NA, "indicateur": label, "valeur": None, "kind": kind, "statut": "absent",
                              "note": f"pas de donnée en {year - 1} pour comparer", "source": "", "demo": False,
                              "usage": "chiffre", "role": "choisi"}])
    return rows(ctx, df, label, kind, usage="chiffre").assign(categorie=label)


def figures(ctx: Context) -> Finding:
    frames, shares = [], {}
    for name, label, kind in ITEMS:
        r = _one(ctx, name, label, kind)
        frames.append(r)
        # An EPCI's stocks also as a share of the Territoire d'industrie, same year.
        if not ctx.is_home and name in STOCKS and r.statut.iat[0] in ("ok", "partiel") and pd.notna(r.annee.iat[0]):
            home = ctx.get(name, ctx.home.niveau, annee=int(r.annee.iat[0]), territoires=[ctx.home.code])
            if len(home) and home.statut.iat[0] == "ok" and home.valeur.iat[0]:
                mine = ctx.get(name, ctx.focus.niveau, annee=int(r.annee.iat[0]), territoires=[ctx.focus.code])
                share = float(mine.valeur.iat[0] / home.valeur.iat[0])
                shares[label] = share
                frames.append(r.assign(indicateur=f"{label} : part {ctx.of(ctx.home)}", valeur=fmt.round_half_up(share, 3),
                                       kind="part", usage="part du territoire",
                                       statut=r.statut.iat[0]))
    table = concat(frames)
    figs = table[table.usage == "chiffre"]
    timeless = {label for name, label, _ in ITEMS if name in TIMELESS}
    ys = sorted({int(a) for a in figs[~figs.indicateur.isin(timeless)].annee.dropna()})
    titre = f"{ctx.name} en chiffres clés" + (f", {fmt.years_text(ys)}" if ys else "")
    if ctx.sel.annee and ys and ys[-1] < int(ctx.sel.annee):
        titre += f" (rien de plus récent jusqu'en {ctx.sel.annee})"
    parts = []
    claims = [Claim("constant", (label,), "indicateur", value=figs[figs.indicateur == label].valeur.iat[0])
              for name, label, _ in ITEMS if name == "superficie"]
    for name, label, kind in ITEMS:
        if name not in IN_SENTENCE:
            continue
        r = figs[figs.indicateur == label].iloc[0]
        if r.statut == "absent":
            continue
        text = f"{IN_SENTENCE[name]} {shown(r.valeur, kind, r.statut)} ({r.annee})"
        claims.append(Claim("dated", (label,), "indicateur", (("indicateur", label), ("usage", "chiffre")),
                            years=(int(r.annee),)))
        if label in shares:
            text += f", soit {fmt.percent(shares[label], 0)} {ctx.of(ctx.home)}"
        parts.append(text)
    phrase = (f"{ctx.name} : " + " ; ".join(parts) + ".") if parts else f"{ctx.name} : aucune donnée chargée."
    notes = [f"{r.indicateur} : géographie de {int(r.annee)} ({r.source or 'source non précisée'}), la même quelle "
             "que soit l'année choisie." for r in figs[figs.indicateur.isin(timeless)].itertuples() if pd.notna(r.annee)]
    f = Finding("chiffres_cles", titre, phrase, table, None, sheet_name="Chiffres clés",
                notes=notes + secret_notes(figs, lambda r: r.indicateur),
                definition="Le panneau de la candidature Territoire d'industrie recalculé à partir des fichiers chargés.",
                extra={"shares": shares, "home": ctx.of(ctx.home)}, claims=claims,
                years=tuple(ys))     # the area's geography year is in its note, not among the figures' years
    return finish(f)


def gap_reason(published_value, recomputed, kind: str, published_text: str, motif: str, explication: str) -> str:
    """Why the candidature's figure differs, or « identique »; « écart non expliqué » without a known reason."""
    if recomputed is None or pd.isna(recomputed):
        return "non recalculable (« s » ou donnée absente)"
    same_text = _as_published(recomputed, kind, published_text) == published_text.replace(" ", fmt.NNBSP)
    if same_text:
        return "identique (à l'arrondi de la candidature)"
    if motif and explication:
        return f"{MOTIFS.get(motif, motif)} : {explication}"
    return "écart non expliqué"


def _as_published(value, kind: str, published_text: str) -> str:
    """The recomputed value written the way the candidature writes it (its number of decimals, its unit)."""
    text = published_text.replace(" ", fmt.NNBSP)
    decimals = len(text.split(",")[1].split(fmt.NNBSP)[0]) if "," in text else 0
    if kind == "eur":
        return fmt.euros(value, scale="M€", decimals=decimals)
    if kind in ("part", "evolution"):
        return fmt.percent(value, decimals, sign=text.startswith(("+", "−", "-")))
    unit = text.split(fmt.NNBSP)[-1] if not text.replace(fmt.NNBSP, "").isdigit() else ""
    return fmt.number(value, decimals) + (f"{fmt.NNBSP}{unit}" if unit and not unit[0].isdigit() else "")


def candidature(ctx: Context) -> Finding:
    pub = query.published(ctx.snap)
    if not len(pub) or "annee" not in pub:
        return Finding("candidature", "Candidature : chiffres publiés", "Aucun chiffre de la candidature dans l'entrepôt.",
                       sheet_name="Candidature")
    lines, display = [], []
    years = sorted({int(a) for a in pub.annee.dropna()})
    if ctx.sel.annee and years and int(ctx.sel.annee) < years[0]:
        return Finding("candidature", f"Candidature : chiffres de {fmt.years_text(years)}, non comparés pour {ctx.sel.annee}",
                       f"Les chiffres de la candidature portent sur {fmt.years_text(years)} : ils ne sont comparés qu'à "
                       f"cette année-là : la comparaison figure avec les chiffres de {years[-1]}.",
                       sheet_name="Candidature", years=tuple(years))
    where = None
    for p in pub.itertuples():
        name = p.indicateur
        kind = {"€": "eur", "part": "part", "km²": "km2"}.get(query.get_indicator(name).unite, "count")
        if query.get_indicator(name).kind == "taux_croissance":
            kind = "evolution"
        annee = None if pd.isna(p.annee) else int(p.annee)
        ys = ctx.years(name, p.niveau)
        shown_year = annee if annee in ys else (None if annee else ctx.year(name, p.niveau)[0])
        df = (ctx.get(name, p.niveau, annee=shown_year, territoires=[p.code]) if shown_year else pd.DataFrame())
        if len(df) and p.categorie:
            df = df[df[query.get_indicator(name).dimension + "_code"] == p.categorie]
        r = rows(None, df, p.libelle, kind, usage="candidature") if len(df) else pd.DataFrame()
        if len(df) and p.niveau != "commune" and where is None:
            where = fr.NIVEAUX[p.niveau].le() + (f" ({df.nom_court.iat[0]})" if p.niveau not in ("ti", "france") else "")
        value = df.valeur.iat[0] if len(df) and df.statut.iat[0] not in ("secret", "absent") else None
        if annee and annee not in ys:
            reason = f"l'entrepôt n'a pas l'année {annee} (années : {fmt.years_text(ys) or 'aucune'})"
            text_value = fmt.ABSENT
        else:
            reason = gap_reason(p.valeur_publiee, value, kind, p.texte_publie, p.motif, p.explication)
            text_value = _as_published(value, kind, p.texte_publie) if value is not None else fmt.ABSENT
        if len(r):
            lines.append(r.assign(publie=rounded(p.valeur_publiee, kind), note=reason))
        display.append({"Chiffre": p.libelle, "Année": str(annee) if annee else f"non précisée (entrepôt : {shown_year})",
                        "Candidature": p.texte_publie.replace(" ", fmt.NNBSP), "Recalculé": text_value, "Écart": reason})
    table = concat(lines)
    when = fmt.years_text(years)
    short = (where or ctx.home_name).replace("le département (", "").replace(")", ", département") \
        if where and where.startswith("le département (") else (where or ctx.home_name)
    titre = f"Candidature ({short}, {when}) : chiffres publiés et recalculés"
    differs = [d for d in display if not d["Écart"].startswith("identique")]
    phrase = (f"Les chiffres publiés dans la candidature portent sur {where or ctx.home_name} et l'année {when} : "
              f"ils sont comparés aux mêmes chiffres recalculés pour ce territoire et cette année, quel que soit le "
              f"territoire choisi. {fmt.count(len(display) - len(differs), 'chiffre')} identique"
              f"{'s' if len(display) - len(differs) > 1 else ''} ; {fmt.count(len(differs), 'écart')}, "
              f"chacun avec sa raison ou « écart non expliqué ».")
    f = Finding("candidature", titre, phrase, table, None, sheet_name="Candidature",
                extra={"display": pd.DataFrame(display), "static": True,
                       "bold_rows": [d["Chiffre"] for d in display if d["Écart"] == "écart non expliqué"]},
                definition="Chiffres clés publiés dans le dossier de candidature Territoire d'industrie.")
    return finish(f)


def build(ctx: Context) -> list[Finding]:
    return [figures(ctx), candidature(ctx)]
