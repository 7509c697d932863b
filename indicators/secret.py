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

**Secret secondaire : intervalles de protection.** Masquer une cellule ne suffit pas quand d'autres chiffres
publiés la retrouvent par différence, ou l'encadrent de près. Le secret est donc décidé **une fois pour chaque
fichier d'entreprises**, sur un jeu de tableaux qui ne dépend pas du territoire de l'entrepôt : tous les EPCI des
communes du fichier (entiers, et leur partie dans chaque département), tous les territoires d'industrie de la
liste officielle qu'elles touchent et leurs départements, croisés avec les secteurs de la candidature, leur total
et les filières (cœur et élargies). Tout entrepôt construit à partir du même fichier, quel que soit son
territoire, applique les mêmes statuts. Sont aussi protégées les cellules que des différences de chiffres publiés
isoleraient sans être publiées : un EPCI moins sa partie dans un département, un territoire moins l'un de ses
EPCI, une filière élargie moins son cœur, chaque commune. Pour chaque année, chaque cellule est écrite comme une
somme de morceaux (le chiffre d'affaires d'une commune dans un groupe d'activités) de valeur positive ou nulle. Par
programmation linéaire (solveur HiGHS), on calcule pour chaque valeur secrète l'intervalle des valeurs compatibles
avec tout ce qui est publié, y compris pour une entreprise seule dans une autre cellule masquée (elle connaît son
propre chiffre ; toutes ces entreprises sont même supposées s'entendre). Cet intervalle doit s'étendre d'au moins
{interval} % de la valeur au-dessous et au-dessus d'elle. Sinon, un programme linéaire en nombres entiers choisit
les cellules complémentaires à masquer qui y suffisent au moindre coût (la plus petite valeur totale masquée),
comme le fait τ-Argus ; une évolution entre deux années n'est publiée que si ses deux niveaux le sont. Les cellules
sans aucune entreprise (zéros connus) ne servent jamais de complément. À l'échelle des communes, le chiffre
d'affaires n'est pas diffusé.

**Ce qui est affiché.** Une valeur en secret s'affiche « s » (secret statistique), sans dire quelle règle l'a
masquée ni quelles cellules sont complémentaires. Ces statuts sont calculés une fois, au chargement des données.
Les dénombrements d'établissements et d'effectifs de l'INSEE et de l'URSSAF arrivent déjà protégés par leurs
producteurs : leurs marques de secret sont reprises telles quelles ; les nombres d'entreprises (TPE-PME) ne sont
pas des montants et sont diffusés.
"""


SUR_MESURE = """\
**Périmètre sur mesure.** Le territoire « {nom} » ne figure pas dans la liste officielle des territoires
d'industrie : son chiffre d'affaires n'est publié que lorsqu'il est la somme de chiffres d'EPCI (ou de parties
d'EPCI) eux-mêmes publiés ; sinon il s'affiche « s ».
"""


def methode(rules: Rules | None = None, custom: list[str] | None = None) -> str:
    """The method with the thresholds in force (French formats); `custom`: names of the warehouse's territories
    outside the official list (a custom perimeter), said once, never which of their cells are withheld."""
    from etl.secret import Rules

    rules = rules or Rules.from_env()
    text = METHODE.format(min_firms=rules.min_firms, dominance=_pct(rules.dominance), interval=_pct(rules.interval))
    return "\n".join([text] + [SUR_MESURE.format(nom=n) for n in custom or []])


def _pct(x: float) -> str:
    v = round(x * 100, 1)
    return (f"{v:.0f}" if v == int(v) else f"{v:.1f}".replace(".", ",")).replace(" ", "\u202f")
