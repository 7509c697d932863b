"""Which findings each page shows, in order; the deck is every page's findings, in page order."""
from __future__ import annotations

from . import Context, Finding, chiffre_affaires, chiffres_cles, comparer, filieres, industrie

BUILDERS = {
    "chiffres_cles": chiffres_cles.build,
    "chiffre_affaires": chiffre_affaires.build,
    "industrie": industrie.build,
    "filieres": filieres.build,
    "comparer": comparer.build,
}
# The finding keys of each page (the deck's keys; page order = deck order).
KEYS = {
    "chiffres_cles": chiffres_cles.KEYS,
    "chiffre_affaires": chiffre_affaires.KEYS,
    "industrie": industrie.KEYS,
    "filieres": filieres.KEYS,
    "comparer": ["comparer"] + [f"comparer_{n}" for n, _, _ in comparer.COMPARE],
}


def build(ctx: Context, page: str) -> list[Finding]:
    """The findings a page shows (the same objects its slides and annex sheets render)."""
    memo = ctx._memo.setdefault(("page",), {})
    if page not in memo:
        memo[page] = BUILDERS[page](ctx)
    return memo[page]
