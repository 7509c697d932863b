"""French number formats: 4 772 M€, +12 %, 5,7 %, 14 866, 22 novembre 2026."""
from __future__ import annotations

import math
from datetime import date, datetime

NBSP = "\u202f"   # narrow no-break space: French thousands separator
SECRET = "s"
ABSENT = "–"
_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value, decimals: int = 0) -> str:
    if _missing(value):
        return ABSENT
    text = f"{value:,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    if text.startswith("-"):       # one minus sign everywhere (U+2212), no « −0 »
        text = "0" + text[2:] if text.strip("-0,") == "" else "−" + text[1:]
    return text


def euros(value, scale: str | None = None, decimals: int | None = None) -> str:
    """4 772 M€; the scale is chosen from the value unless given."""
    if _missing(value):
        return ABSENT
    a = abs(value)
    if scale is None:
        scale = "M€" if a >= 1e6 else ("k€" if a >= 1e3 else "€")
    div = {"€": 1, "k€": 1e3, "M€": 1e6, "Md€": 1e9}[scale]
    if decimals is None:
        decimals = 1 if a / div < 10 and scale != "€" else 0
    return f"{number(value / div, decimals)}{NBSP}{scale}"


def percent(fraction, decimals: int = 1, signed: bool = False) -> str:
    if _missing(fraction):
        return ABSENT
    text = number(fraction * 100, decimals)
    if signed and fraction > 0:
        text = "+" + text
    return f"{text}{NBSP}%"


def points(diff_fraction, decimals: int = 1) -> str:
    """A difference of two shares, in percentage points."""
    if _missing(diff_fraction):
        return ABSENT
    v = abs(diff_fraction * 100)
    return f"{number(v, decimals)} point{'s' if round(v, decimals) >= 2 else ''}"


def value(v, unite: str, statut: str = "ok", decimals: int | None = None) -> str:
    """Any catalogue value by its unit, 's' for secret and '–' for absent."""
    if statut == "secret":
        return SECRET
    if statut == "absent" or _missing(v):
        return ABSENT
    if unite == "€":
        return euros(v, decimals=decimals)
    if unite == "part":
        return percent(v, 1 if decimals is None else decimals)
    if unite in ("ha", "€/m²"):
        return f"{number(v, 1 if decimals is None else decimals)}{NBSP}{unite}"
    if unite == "km²":
        return f"{number(v, 0 if decimals is None else decimals)}{NBSP}km²"
    return number(v, 0 if decimals is None else decimals)


def growth(fraction, decimals: int = 0) -> str:
    return percent(fraction, decimals, signed=True)


def french_date(d: date | datetime | None = None) -> str:
    d = d or date.today()
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {_MONTHS[d.month - 1]} {d.year}"
