"""The claim verifier: each `Claim` a finding carries (what its title and sentence assert, written by the code
that writes the words) checked against the finding's own table, the rows its chart draws.

`problems(finding) -> [str]` (French-free: messages for developers) is empty when every claim holds. Amounts
are compared as the chart displays them (`labels`): two amounts are equal when their labels are. The sum of
the secret values, when the finding can tell it (the total minus the diffusable values, public), is a row
whose note is `SECRET_SUM_NOTE`: a rank is not claimed over it when it could hide a larger value, and a change
is attributed to it first when it weighs most. `constant` claims are checked across findings
(`constant_problems`): the same figure whatever the selected year.
"""
from __future__ import annotations

import pandas as pd

from . import SECRET_SUM_NOTE, Claim, Finding, euro_decimals, shown
from .. import format as fmt

KINDS = ("max", "min", "rank", "share", "equal", "attribution", "direction", "dated", "constant")


def _select(table: pd.DataFrame, where, any_usage: bool = False) -> pd.DataFrame:
    t = table
    pairs = dict(where)
    if "usage" not in pairs and not any_usage and "usage" in t:
        t = t[t.usage == "graphique"]
    for col, val in pairs.items():
        if col not in t:
            return t.iloc[0:0]
        t = t[t[col].isin(val)] if isinstance(val, (tuple, list, set)) else t[t[col] == val]
    return t


def _shown(t: pd.DataFrame, f: Finding) -> pd.DataFrame:
    """The rows with their label as the chart displays it (amounts with the chart's decimals)."""
    t = t.copy()
    chart = f.chart_rows()
    dec = euro_decimals(chart.valeur[chart.kind == "eur"]) if len(chart) else None
    t["_label"] = [shown(v, k, s, dec if k == "eur" else None) for v, k, s in zip(t.valeur, t.kind, t.statut)]
    t["_known"] = t.valeur.notna() & t.statut.isin(["ok"]) if len(t) else []
    return t


def _is_sum(t: pd.DataFrame) -> pd.Series:
    return t.note.astype(str) == SECRET_SUM_NOTE if "note" in t else pd.Series(False, index=t.index)


def _label_value(label: str) -> float:
    """A displayed label back to a number, for comparing magnitudes as shown."""
    s = label.replace(fmt.NNBSP, "").replace("\u00a0", "").replace(" ", "").replace(fmt.MINUS, "-").replace(",", ".")
    num = "".join(ch for ch in s if ch.isdigit() or ch in ".-+")
    try:
        v = float(num)
    except ValueError:
        return float("nan")
    if "Md€" in label:
        v *= 1000
    elif "k€" in label:
        v /= 1000
    return v


def _extreme(f: Finding, c: Claim) -> list[str]:
    rows = _shown(_select(f.table, c.where), f)
    every = _shown(_select(f.table, c.where, any_usage=True), f)
    sums = every[_is_sum(every)]
    rows = rows[~_is_sum(rows)]
    known = rows[rows._known]
    doubtful = rows[~rows._known]
    out = []
    if not len(known):
        return [f"{c.kind} claimed ({c.subject}) over no diffusable value"]
    vals = known._label.map(_label_value)
    target = vals.max() if c.kind == "max" else vals.min()
    tied = set(known[vals == target][c.col].astype(str))
    if set(c.subject) != tied:
        out.append(f"{c.kind} names {sorted(c.subject)} but the chart's extreme is {sorted(tied)} "
                   f"({known[vals == target]._label.iat[0]})")
    bounded = (c.kind == "max" and len(sums) and (doubtful.statut == "secret").all()
               and sums._label.map(_label_value).max() < target)     # no secret value can reach the maximum
    if len(doubtful) and c.qualifier != "diffusable" and not bounded:
        out.append(f"{c.kind} {sorted(c.subject)} claimed over {len(doubtful)} secret or partial value(s) without "
                   "« diffusable »")
    if c.kind == "max" and len(sums):
        hidden = sums._label.map(_label_value).max()
        n_hidden = int((rows.statut == "secret").sum()) or 1
        if hidden > target:      # one of the secret values may exceed the claimed maximum
            out.append(f"max {sorted(c.subject)} ({target}) claimed while the secret values together weigh {hidden} "
                       f"({n_hidden} value(s)): one of them could be larger")
    return out


def _rank(f: Finding, c: Claim) -> list[str]:
    rows = _shown(_select(f.table, c.where), f)
    rows = rows[~_is_sum(rows)]
    known = rows[rows._known]
    me = known[known[c.col].astype(str) == c.subject[0]]
    if not len(me):
        return [f"rank of {c.subject} claimed but it has no diffusable value"]
    vals = known._label.map(_label_value)
    pos = 1 + int((vals > _label_value(me._label.iat[0])).sum())
    out = [] if pos == c.value else [f"rank {c.value} claimed for {c.subject[0]}, the chart ranks it {pos}"]
    if (~rows._known).any() and c.qualifier != "diffusable":
        out.append(f"rank of {c.subject[0]} claimed over a secret or partial value")
    return out


def _share(f: Finding, c: Claim) -> list[str]:
    me = _select(f.table, c.where + ((c.col, c.subject),) if c.subject else c.where)
    of = _select(f.table, c.of)
    if not len(me) or not len(of) or me.valeur.isna().all():
        return [f"share of {c.subject} claimed without its rows"]
    total = of.valeur.sum()
    if len(c.years) == 2:     # the share of a change: of the `of` rows' change from years[0] to years[1]
        total = of[of.annee == c.years[1]].valeur.sum() - of[of.annee == c.years[0]].valeur.sum()
    if not total:
        return [f"share of {c.subject} of a zero total"]
    actual = me.valeur.sum() / total
    decimals = len(c.text.split(",")[1].split(fmt.NNBSP)[0]) if "," in c.text else 0
    said = fmt.percent(actual, decimals)
    return [] if said == c.text.replace(" ", fmt.NNBSP) else [f"share of {c.subject} said {c.text}, chart gives {said}"]


def _equal(f: Finding, c: Claim) -> list[str]:
    rows = _shown(_select(f.table, c.where + ((c.col, c.subject),)), f)
    texts = set(rows._label)
    if len(rows) < len(c.subject):
        return [f"equal amounts claimed for {c.subject}, {len(rows)} found"]
    return [] if len(texts) == 1 else [f"« chacun » over {c.subject}, displayed {sorted(texts)}"]


def _attribution(f: Finding, c: Claim) -> list[str]:
    rows = _shown(_select(f.table, c.where), f)
    rows = rows[rows.valeur.notna()]
    sign = -1 if c.direction == "baisse" else 1
    cand = rows[(rows.valeur * sign) > 0].copy()
    cand["_mag"] = cand._label.map(_label_value).abs()
    out = []
    named = [cand[cand[c.col].astype(str) == s] for s in c.subject]
    if any(not len(n) for n in named):
        return [f"attribution names {c.subject}, not all among the chart's {c.direction} rows"]
    mags = [n._mag.iat[0] for n in named]
    if mags[0] < cand._mag.max():
        top = cand.sort_values("_mag", ascending=False).iloc[0]
        out.append(f"{c.direction} attributed first to {c.subject[0]} ({named[0]._label.iat[0]}) while "
                   f"{top[c.col]} weighs more ({top._label})")
    if any(a < b for a, b in zip(mags, mags[1:])):
        out.append(f"attribution {c.subject} not in order of weight {mags}")
    unnamed = cand[~cand[c.col].astype(str).isin(c.subject)]
    if len(unnamed) and mags and (unnamed._mag >= mags[-1]).any():
        u = unnamed[unnamed._mag >= mags[-1]].iloc[0]
        out.append(f"{u[c.col]} ({u._label}) weighs as much as {c.subject[-1]} ({named[-1]._label.iat[0]}) "
                   "but is not named")
    return out


def _direction(f: Finding, c: Claim) -> list[str]:
    rows = _shown(_select(f.table, c.where + ((c.col, c.subject),)), f)
    a, b = rows[rows.annee == c.years[0]], rows[rows.annee == c.years[-1]]
    if not len(a) or not len(b) or not a._known.iat[0] or not b._known.iat[0]:
        return [f"direction of {c.subject} from {c.years[0]} to {c.years[-1]} claimed without both values"]
    va, vb = a.valeur.iat[0], b.valeur.iat[0]
    actual = "stable" if a._label.iat[0] == b._label.iat[0] else ("hausse" if vb > va else "baisse")
    return [] if actual == c.direction else [f"{c.subject} said « {c.direction} », the chart shows {actual}"]


def _dated(f: Finding, c: Claim) -> list[str]:
    rows = _select(f.table, c.where, any_usage=True)
    if not len(rows):
        return [f"figure dated {c.years} ({c.subject}) without rows"]
    ys = {int(a) for a in rows.annee.dropna()}
    if "annee_base" in rows:
        ys |= {int(a) for a in rows.annee_base.dropna()}
    extra = ys - set(c.years)
    return [] if not extra else [f"{c.subject or c.text} dated {c.years} holds data of {sorted(extra)}"]


CHECKS = {"max": _extreme, "min": _extreme, "rank": _rank, "share": _share, "equal": _equal,
          "attribution": _attribution, "direction": _direction, "dated": _dated, "constant": lambda f, c: []}


def problems(f: Finding) -> list[str]:
    out = []
    for c in f.claims:
        if c.kind not in CHECKS:
            out.append(f"unknown claim kind {c.kind}")
            continue
        out += [f"{f.key}: {p}" for p in CHECKS[c.kind](f, c)]
    return out


def constants(f: Finding) -> dict[tuple, float | None]:
    """(finding key, subject) -> value of its `constant` claims."""
    return {(f.key, c.subject): c.value for c in f.claims if c.kind == "constant"}
