"""Tables for people: CSV that French Excel opens (UTF-8 BOM, `;`, decimal comma), safe from formula injection."""
from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text starting like a formula is prefixed with an apostrophe so spreadsheets show it as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def for_people(df: pd.DataFrame) -> pd.DataFrame:
    """Secret/absent values stay empty, text cells neutralised."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_csv_text(df: pd.DataFrame) -> str:
    return for_people(df).to_csv(index=False, sep=";", decimal=",", lineterminator="\n")


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    return ("\ufeff" + to_csv_text(df)).encode("utf-8")
