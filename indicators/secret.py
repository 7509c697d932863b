"""Statistical secret as the read side shows it: « s » and one generic note, never which rule applied.

The status of every firm-level cell (primary, complementary or publishable) is computed once, when the marts
are built (etl/secret.py), and stored in `mart.secret`; indicators/query.py only filters on it. `METHODE` is the
method as the Sources page and the README explain it.
"""
from __future__ import annotations



def __getattr__(name: str):
    """`Rules` (the thresholds, read from the TI_SECRET_* settings) from etl/secret.py, imported when first
    asked for: a visitor's page never loads the ETL."""
    if name == "Rules":
        from etl.secret import Rules
        return Rules
    raise AttributeError(name)


NOTE = "Secret statistique"
SYMBOL = "s"

METHODE = """\
**Secret primaire.** Un agrégat de chiffre d'affaires est en secret quand moins de {min_firms} entreprises y
contribuent, ou quand une seule entreprise en représente au moins {dominance} %.

**Secret secondaire : intervalles de protection.** Masquer une cellule ne suffit pas quand le tableau publie aussi
ses totaux : la valeur cachée se retrouverait par différence, ou serait encadrée de près. Pour chaque année, toutes
les cellules publiées ensemble sont protégées en une seule fois : tous les niveaux diffusés (EPCI, territoire
d'industrie, département, région, France : ceux de la table d'appartenance de l'entrepôt) croisés avec les
secteurs de la candidature, leur total et les filières (cœur et élargies), tels que les pages, diaporamas,
annexes et CSV peuvent les montrer ; une évolution entre deux années n'est publiée que si ses deux niveaux le
sont. Chaque cellule est écrite comme une somme de morceaux (les communes ayant les mêmes territoires de
rattachement, les activités ayant les mêmes catégories) de valeur positive ou nulle. Par programmation linéaire
(solveur HiGHS), on calcule pour chaque valeur secrète l'intervalle des valeurs compatibles avec tout ce qui est
publié, y compris pour une entreprise seule dans une autre cellule masquée (elle connaît son propre chiffre ;
toutes ces entreprises sont même supposées s'entendre). Cet intervalle doit s'étendre d'au moins {interval} % de
la valeur au-dessous et au-dessus d'elle. Sinon, un programme linéaire en nombres entiers choisit les cellules
complémentaires à masquer qui y suffisent au moindre coût (la plus petite valeur totale masquée), comme le fait
τ-Argus. Les cellules sans aucune entreprise (zéros connus) ne servent jamais de complément. À l'échelle des
communes, le chiffre d'affaires n'est pas diffusé.

**Ce qui est affiché.** Une valeur en secret s'affiche « s » (secret statistique), sans dire quelle règle l'a
masquée ni quelles cellules sont complémentaires. Ces statuts sont calculés une fois, au chargement des données.
Les dénombrements d'établissements et d'effectifs de l'INSEE et de l'URSSAF arrivent déjà protégés par leurs
producteurs : leurs marques de secret sont reprises telles quelles ; les nombres d'entreprises (TPE-PME) ne sont
pas des montants et sont diffusés.
"""


def methode(rules: Rules | None = None) -> str:
    """The method with the thresholds in force (French formats)."""
    from etl.secret import Rules

    rules = rules or Rules.from_env()
    return METHODE.format(min_firms=rules.min_firms, dominance=_pct(rules.dominance), interval=_pct(rules.interval))


def _pct(x: float) -> str:
    v = round(x * 100, 1)
    return (f"{v:.0f}" if v == int(v) else f"{v:.1f}".replace(".", ",")).replace(" ", "\u202f")
