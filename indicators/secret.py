"""Statistical secret on firm-level aggregates, applied before anything leaves the warehouse.

Primary rule (INSEE's rule for business statistics): an aggregate of firm values is
secret when fewer than `min_firms` firms contribute, or when one firm contributes
`dominance` or more of it. Thresholds are configuration (environment variables
TI_SECRET_MIN_FIRMS and TI_SECRET_DOMINANCE), defaulting to 3 and 0.85.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rules:
    min_firms: int = 3
    dominance: float = 0.85

    @classmethod
    def from_env(cls) -> "Rules":
        return cls(int(os.environ.get("TI_SECRET_MIN_FIRMS", 3)), float(os.environ.get("TI_SECRET_DOMINANCE", 0.85)))


NOTE_FEW = "Secret statistique : moins de {n} entreprises contribuent à ce chiffre"
NOTE_DOMINANT = "Secret statistique : une entreprise représente au moins {p} % de ce chiffre"


def apply_primary(rows: pd.DataFrame, rules: Rules | None = None) -> pd.DataFrame:
    """Mark primary secret on mart rows carrying nb_contrib / max_contrib (firm-level measures).

    Cells with no contributing firm (a true zero) are not secret.
    """
    rules = rules or Rules.from_env()
    n = rows["nb_contrib"].astype("Float64")
    top = rows["max_contrib"].astype("Float64")
    total = rows["valeur"].astype("Float64")
    few = (n > 0) & (n < rules.min_firms)
    dominant = (n >= rules.min_firms) & (total > 0) & (top >= rules.dominance * total)
    rules_mask = (few | dominant).fillna(False).to_numpy(dtype=bool)
    out = rows.copy()
    out.loc[rules_mask, "valeur"] = np.nan
    out.loc[rules_mask, "statut"] = "secret"
    out.loc[few.fillna(False).to_numpy(dtype=bool), "note"] = NOTE_FEW.format(n=rules.min_firms)
    out.loc[dominant.fillna(False).to_numpy(dtype=bool), "note"] = NOTE_DOMINANT.format(p=round(rules.dominance * 100))
    return out
