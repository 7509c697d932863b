"""Every finding's claims against its own chart data (indicators/content/claims.py), for the pages of the
registry, on the demo warehouse: each territory of the demo (the TI, its EPCI, the neighbours) × each year
(and « latest ») × both filière definitions. No expected sentence is written here: the claims are those the
content code records beside its words, and the verifier reads the finding's table.

The quick test runs a sample (the TI, an EPCI and the neighbour at the latest and a middle year); the slow
sweep sees the TI every year in both definitions and each EPCI every fourth year (each year by two or three
EPCI), within the suite's time; TI_CLAIMS_FULL=1 runs every territory × every year (about 6 minutes on 2 cores)."""
from __future__ import annotations

import os
from collections import defaultdict
from contextlib import contextmanager

import pytest

from indicators import content, query
from indicators.catalog import SIDEBAR_YEARS
from indicators.content import claims as verifier
from indicators.content import registry


def _territories(snap) -> list[str | None]:
    epci = query.territories(snap, "epci")
    kept = epci[epci.role.isin(["membre", "voisin"])].code.tolist()
    return [None, *kept]


def _years(snap) -> list[int | None]:
    per = content.load_perimeter(snap)
    ys = sorted({y for n in SIDEBAR_YEARS for y in query.years(snap, n, per.home.niveau)})
    return [None, *ys]


@contextmanager
def shared_queries():
    """query.get and query.years memoised across contexts for the sweep (pure functions of the snapshot and
    their arguments; Context already forbids modifying their results): the sweep builds hundreds of contexts."""
    memo = {}
    real_get, real_years = query.get, query.years

    def get(snap, *args, **kwargs):
        key = ("get", id(snap), args, tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                                                   for k, v in kwargs.items())))
        if key not in memo:
            memo[key] = real_get(snap, *args, **kwargs)
        return memo[key]

    def years(snap, *args, **kwargs):
        key = ("years", id(snap), args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = real_years(snap, *args, **kwargs)
        return memo[key]

    mp = pytest.MonkeyPatch()
    mp.setattr(query, "get", get)
    mp.setattr(query, "years", years)
    try:
        yield
    finally:
        mp.undo()


def sweep(snap, selections) -> tuple[list[str], int]:
    """Problems of every claim of every page's findings for these selections; constants across years."""
    with shared_queries():
        return _sweep(snap, selections)


def _sweep(snap, selections) -> tuple[list[str], int]:
    out, seen = [], defaultdict(dict)
    n = 0
    for sel, only in selections:
        ctx = content.context(snap, sel)
        for page in registry.PAGES:
            if page.build is None or (only and page.key not in only):
                continue
            for f in registry.build(ctx, page.key):
                n += len(f.claims)
                where = f"[{sel.focus or 'TI'} {sel.annee or 'dernière'} {sel.definition}] {page.key}"
                out += [f"{where} {p}" for p in verifier.problems(f)]
                for k, v in verifier.constants(f).items():
                    seen[(sel.focus, sel.definition, k)][sel.annee] = v
    for (focus, _d, (key, subject)), by_year in seen.items():
        if len(set(by_year.values())) > 1:
            out.append(f"[{focus or 'TI'}] {key} {subject}: a figure that does not depend on the year changes with it "
                       f"{dict(sorted(by_year.items(), key=lambda kv: kv[0] or 0))}")
    return sorted(set(out)), n


@pytest.fixture(scope="module")
def demo_snap(demo_warehouse):
    from indicators.db import get_warehouse

    return get_warehouse(demo_warehouse).snapshot()


def selections(snap, full: bool, territory: int | None = None) -> list[tuple[content.Selection, tuple[str, ...] | None]]:
    """(selection, pages to build: None = every page of the registry). Full: every territory (or the
    `territory`-th only): the TI every year in both definitions, an EPCI at the latest year and every fourth
    year (all years with TI_CLAIMS_FULL=1), with the wider filière definition at the latest year. Quick: the TI, its first EPCI and the last territory at the latest and a middle year, the
    wider definition for the TI."""
    terrs, years = _territories(snap), _years(snap)
    if full:
        chosen = range(len(terrs)) if territory is None else [territory]
        # The TI every year in both definitions; each EPCI at the latest year and every fourth year, shifted by
        # its rank, so that each year is seen by two or three EPCI (TI_CLAIMS_FULL=1: every EPCI every year).
        every = os.environ.get("TI_CLAIMS_FULL") == "1"
        sels = [(terrs[i], y, "coeur") for i in chosen for k, y in enumerate(years)
                if every or i == 0 or y is None or (k + i) % 4 == 0]
        sels += [(terrs[i], None, "elargi") for i in chosen]
        sels += [(None, y, "elargi") for y in years[1:] if 0 in chosen]
    else:     # the TI, its first member EPCI and the last territory (a neighbour when the warehouse has one)
        middle = years[1:][len(years[1:]) // 2]
        sels = [(t, y, "coeur") for t in (terrs[0], terrs[1], terrs[-1]) for y in (None, middle)]
        sels += [(None, None, "elargi")]
    return [(content.Selection(focus=t, annee=y, definition=d), None) for t, y, d in sels]


def test_claims_quick_sample(demo_snap):
    problems, n = sweep(demo_snap, selections(demo_snap, full=False))
    assert n > 100     # the findings do record their claims
    assert not problems, "\n".join(problems)


# One test per territory of the demo (the TI, 8 EPCI, the neighbour), so that the workers share the sweep.
@pytest.mark.slow
@pytest.mark.parametrize("territory", range(10))
def test_claims_full_sweep(demo_snap, territory):
    if territory >= len(_territories(demo_snap)):
        pytest.skip("the demo has fewer territories")
    problems, _ = sweep(demo_snap, selections(demo_snap, full=True, territory=territory))
    assert not problems, "\n".join(problems)


def test_verifier_catches_what_it_checks(demo_snap):
    """The verifier is not blind: a maximum named wrong, a false « chacun » and a year-dependent area fail."""
    f = next(f for f in registry.build(content.context(demo_snap), "industrie") if f.claims)
    c = next(c for c in f.claims if c.kind in ("max", "min"))
    others = f.table[(f.table.niveau == "epci") & ~f.table.territoire.isin(c.subject)].territoire
    f.claims = [c.__class__(c.kind, (others.iat[0],), c.col, c.where, qualifier=c.qualifier),
                c.__class__("equal", tuple(f.table[f.table.niveau == "epci"].territoire[:2]), "territoire",
                            c.where)]
    found = verifier.problems(f)
    assert any("extreme" in p for p in found) and any("chacun" in p for p in found), found


def test_verifier_catches_a_total_dated_to_one_of_its_years(demo_snap):
    """The review's « 19,5 ha … en 2025 » over inventories of 2024 and 2025: the same total dated to its last
    year only is refused; dated by all its inventories, it holds."""
    f = next(f for f in registry.build(content.context(demo_snap), "foncier") if f.key == "foncier_disponible")
    c = next(c for c in f.claims if c.kind == "dated")
    assert len(c.years) > 1 and not verifier.problems(f)      # the demo's inventories are of two years
    f.claims = [c.__class__("dated", c.subject, c.col, c.where, years=c.years[-1:])]
    assert any("holds data of" in p for p in verifier.problems(f))
