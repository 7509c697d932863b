"""Maps: the findings of the Carte page and of the map blocks of Industrie and Filières (and their slides).

A map finding holds its title (a finding: the range of values and where), sentence, rows as shown (every
territory drawn and the TI), source, notes and year; its spec (`ChartSpec("carte")` with `extra["carte"]`:
indicator, level, year, category...) is drawn by indicators/maps.py on the page and on the slide, which read
the same rows through the same query. The year is the Context's (`ctx.year`): a chosen year without data
gives no map, never one of another year.
"""
from __future__ import annotations

import pandas as pd

from . import UNIT_KIND, ChartSpec, Claim, Context, Finding, absent, concat, finish, rows, secret_notes, shown
from .. import query
from ..catalog import get as get_indicator
from . import french as fr

KEY_INDUSTRIE, KEY_FILIERES, KEY_CARTE = "carte_industrie", "carte_filieres", "carte"
INDUSTRIE = "part_industrie_effectifs"
# The industry's shares say « L'industrie pèse de … à … de l'emploi salarié privé ».
SHARE_OF = {"part_industrie_effectifs": "de l'emploi salarié privé", "part_industrie_etablissements": "des établissements",
            "part_industrie_etablissements_employeurs": "des établissements employeurs"}
STOCK_NOTE = ("Nombres et montants en cercles proportionnels (surface proportionnelle à la valeur) : un aplat de "
              "couleur ferait lire un stock comme une intensité, les grands EPCI paraissant toujours « forts ».")


def kind_of(ind) -> str:
    if ind.kind == "taux_croissance":
        return "evolution"
    if ind.kind == "croissance":
        return "eur"
    return UNIT_KIND.get(ind.unite, "count")


def is_stock(ind) -> bool:
    """Counts and amounts (not rates, shares or changes): indicators/maps.py draws them as proportional circles,
    never as a choropleth (a flat colour would read a stock as an intensity: a big EPCI always looks « strong »)."""
    return ind.kind == "niveau" or (ind.kind == "foncier" and ind.unite not in ("part", "€/m²"))


def _category(ctx: Context, name: str, df: pd.DataFrame, wanted: str | None) -> tuple[pd.DataFrame, str | None, str]:
    """The rows of one category (sector, filière): the wanted one, else industry, else the first."""
    ind = get_indicator(name)
    if not ind.dimension:
        return df, None, ""
    col = f"{ind.dimension}_code"
    codes = df[col].dropna().unique().tolist() if col in df else []
    if not codes:
        return df, None, ""
    if wanted not in codes:
        wanted = next((c for c in ("BE", "industrie") if c in codes), codes[0])
    d = df[df[col] == wanted].reset_index(drop=True)
    return d, wanted, str(d[ind.dimension].iat[0]) if len(d) else ""


def _what(ind, label: str) -> str:
    """« Établissements employeurs de l'agroalimentaire », « Population »."""
    base = ind.titre.split(" par ")[0].split(" des filières")[0].split(" dans les ")[0]
    return f"{base} {fr.noun(label).de()}" if label else ind.titre


def map_finding(ctx: Context, key: str, name: str, niveau: str = "epci", definition: str = "coeur",
                categorie: str | None = None, methode: str | None = None) -> Finding:
    ind = get_indicator(name)
    year, ys = ctx.year(name, niveau, definition)
    if year is None:
        return absent(key, ctx, name, ys)
    if ind.unite == "part" or ind.kind in ("croissance", "taux_croissance") or is_stock(ind):
        methode = None          # diverging classes or circles: the reader's Jenks/quantiles choice does not apply
    kind = kind_of(ind)
    df = ctx.get(name, niveau, annee=year, territoires=query.perimeter(ctx.snap, niveau), definition=definition)
    df, categorie, label = _category(ctx, name, df, categorie)
    home = ctx.get(name, ctx.home.niveau, annee=year, territoires=[ctx.home.code], definition=definition)
    home, _, _ = _category(ctx, name, home, categorie)
    what = _what(ind, label)
    table = concat([rows(ctx, df, what, kind), rows(ctx, home, what, kind, usage="phrase")])
    if "categorie" in table and label:
        table["categorie"] = label
    drawn = table[table.usage == "graphique"]
    show = (lambda v: shown(v, kind))
    known = drawn[drawn.statut == "ok"].dropna(subset=["valeur"]).sort_values("valeur", kind="stable")
    unit = "EPCI" if niveau == "epci" else "communes"
    scope = "" if len(known) == len(drawn) else f" parmi les {len(known)} {unit} diffusables sur {len(drawn)}"
    when = f"entre {int(drawn.annee_base.dropna().iat[0])} et {year}" if drawn.annee_base.notna().any() else f"en {year}"

    base = drawn.annee_base.dropna()
    span_years = (int(base.iat[0]), year) if len(base) else (year,)
    said = [Claim("dated", (what,), "indicateur", years=span_years)]     # every EPCI drawn is of the title's years

    def who(v) -> str:
        names = known[known.valeur == v].territoire.tolist()
        return fr.enumerate_fr(names[:2]) + (" et d'autres" if len(names) > 2 else "")
    if known.empty:
        titre = f"{what} par {'EPCI' if niveau == 'epci' else 'commune'} : aucune valeur diffusable {when}"
    elif known.valeur.iat[0] == known.valeur.iat[-1]:
        titre = f"{what} : {show(known.valeur.iat[0])} dans chaque {'EPCI' if niveau == 'epci' else 'commune'}{scope} {when}"
    else:
        lo, hi = known.valeur.iat[0], known.valeur.iat[-1]
        span = f"de {show(lo)} ({who(lo)}) à {show(hi)} ({who(hi)})"
        # The extremes named, among the diffusable values when some are secret (the claim verifier reads them).
        qual = "" if len(known) == len(drawn) else "diffusable"
        said += [Claim(k, tuple(known[known.valeur == v].territoire), "territoire", qualifier=qual)
                 for k, v in (("min", lo), ("max", hi))]
        where = "" if niveau == "epci" else " selon la commune"
        if name in SHARE_OF and not label:
            titre = f"L'industrie pèse {span} {SHARE_OF[name]}{where}{scope} {when}"
        else:
            titre = f"{what} : {span}{scope or where or ' selon l' + chr(39) + 'EPCI'} {when}"
        mine = drawn[drawn.code == ctx.focus.code] if not ctx.is_home and "code" in drawn else drawn.iloc[:0]
        if len(mine):     # a chosen EPCI: the title speaks of it first, the range of the others after
            v, st = mine.valeur.iat[0], mine.statut.iat[0]
            figure = show(v) if st == "ok" and pd.notna(v) else shown(None, kind, st)
            rng = f"de {show(lo)} à {show(hi)} selon l'EPCI{scope}"
            titre = (f"{ctx.name} : {figure} {SHARE_OF[name]} dans l'industrie {when} ({rng})"
                     if name in SHARE_OF and not label else f"{ctx.name} : {what[0].lower() + what[1:]}, {figure} {when} ({rng})")
    h = table[table.usage == "phrase"]
    parts = []
    if len(h):
        parts.append(f"{ctx.home_name} : {show(h.valeur.iat[0]) if h.statut.iat[0] not in ('secret', 'absent') else shown(None, kind, h.statut.iat[0])}.")
    n_secret, n_absent = int((drawn.statut == "secret").sum()), int((drawn.statut == "absent").sum())
    if n_secret:
        parts.append(f"{n_secret} {unit if n_secret > 1 or niveau == 'epci' else 'commune'} en secret statistique "
                     "(« s », hachuré).")
    if n_absent:
        parts.append(f"{n_absent} {unit if n_absent > 1 or niveau == 'epci' else 'commune'} sans donnée (gris clair).")
    notes = secret_notes(drawn)
    if is_stock(ind):
        notes.append(STOCK_NOTE)
    spec = ChartSpec("carte", cat="territoire", series="indicateur")
    f = Finding(key, titre, " ".join(parts), table, spec, notes=notes, claims=said,
                extra={"carte": dict(name=name, niveau=niveau, annee=year, definition=definition, categorie=categorie,
                                     methode=methode, selection=ctx.focus.code if ctx.focus.niveau == "epci" else None),
                       "categories": _categories(ctx, name, definition)})
    return finish(f, name)


def _categories(ctx: Context, name: str, definition: str) -> list[tuple[str, str]]:
    """(code, label) of the categories the reader may choose (sectors, filières); none for other indicators."""
    ind = get_indicator(name)
    if not ind.dimension:
        return []
    cats = query.categories(ctx.snap, query._groupement(ind, definition))
    return list(zip(cats.groupe_code, cats.libelle))


def industrie(ctx: Context) -> Finding:
    """The Industrie page's map: the industry's share of employment by EPCI."""
    return map_finding(ctx, KEY_INDUSTRIE, INDUSTRIE)


def filieres(ctx: Context) -> Finding:
    """The Filières page's map: the chosen measure of one filière by EPCI (circles: it is a count or an amount)."""
    return map_finding(ctx, KEY_FILIERES, ctx.sel.filiere_mesure, definition=ctx.sel.definition,
                       categorie=ctx.sel.filiere_categorie)


def build(ctx: Context) -> list[Finding]:
    """The Carte page: the indicator, level, classes and category the reader chose (the industry's share by EPCI
    by default)."""
    sel = ctx.sel
    return [map_finding(ctx, KEY_CARTE, sel.carte or INDUSTRIE, sel.carte_niveau, sel.carte_definition,
                        sel.carte_categorie, sel.carte_methode)]
