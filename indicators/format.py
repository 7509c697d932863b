"""The one French formatter: numbers, units, signs and typography of every page, chart, slide, annex and CSV.

INSEE typography: U+202F (narrow no-break space) as thousands separator and before « : ; ? ! % »,
a decimal comma, U+2212 for the minus sign, signed changes (« +12 % », « −2,3 M€ »), « Md€ », « M€ »,
« k€ », « 1ᵉʳ, 2ᵉ », plural agreement. Numbers are rounded half up, as French statistics round
(2,15 -> 2,2; 2 150 000 € -> « 2,2 M€ »), everywhere a number is shown or stored rounded.

Imports nothing of the project: every layer may use it.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

NNBSP = "\u202f"     # narrow no-break space
MINUS = "\u2212"
ARROW = "→"
SECRET = "s"
ABSENT = "–"
# Plotly's `separators` (decimal, thousands): « 1 234,5 ».
PLOTLY_SEPARATORS = ",\u202f"
_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"]


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v) or str(v) == "<NA>"
    except TypeError:      # pandas.NA
        return True


# --- rounding -------------------------------------------------------------------------------------------

def _half_up(value, decimals: int) -> Decimal:
    """The decimal value rounded half away from zero; the float is read as it prints (2.15, not 2.1499…)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def round_half_up(value, decimals: int = 0) -> float:
    """round() as French statistics round: 2,15 -> 2,2, 0,125 -> 0,13, −2,5 -> −3 (Python's round gives 2,1)."""
    if _missing(value) or not math.isfinite(float(value)):
        return value
    return float(_half_up(value, decimals)) + 0.0


# --- numbers ----------------------------------------------------------------------------------------

def number(value, decimals: int = 0) -> str:
    """14 866 ; 5,7 ; −3 (U+202F thousands separator, decimal comma, U+2212 minus, rounded half up)."""
    if _missing(value):
        return ABSENT
    if not math.isfinite(float(value)):
        return ABSENT
    d = _half_up(value, decimals)
    text = f"{abs(d):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return (MINUS if d < 0 else "") + text     # no « −0 »: a zero after rounding has no sign


def signed(text_of_abs: str, value) -> str:
    return ("+" if value > 0 else MINUS if value < 0 else "") + text_of_abs


def percent(fraction, decimals: int = 1, sign: bool = False) -> str:
    """12,3 % ; +12 % ; −2,1 % (U+202F before %)."""
    if _missing(fraction):
        return ABSENT
    text = number(abs(fraction) * 100, decimals)
    if round_half_up(abs(fraction) * 100, decimals) == 0:
        return f"{text}{NNBSP}%"
    if sign:
        return signed(text, fraction) + f"{NNBSP}%"
    return (MINUS if fraction < 0 else "") + f"{text}{NNBSP}%"


def growth(fraction, decimals: int = 0) -> str:
    """A rate of change, always signed: « +12 % », « −2,1 % »."""
    return percent(fraction, decimals, sign=True)


def points(diff, decimals: int = 1) -> str:
    """A difference of two shares: « 2,1 points », « 0,5 point »."""
    if _missing(diff):
        return ABSENT
    v = round_half_up(abs(diff) * 100, decimals)
    return f"{number(v, decimals)} point{'s' if v >= 2 else ''}"


EURO_SCALES = (("Md€", 1e9), ("M€", 1e6), ("k€", 1e3), ("€", 1.0))


def euros(value, sign: bool = False, scale: str | None = None, decimals: int | None = None) -> str:
    """4 772 M€, 12,5 Md€, 191 M€, 13,5 M€, 850 k€; +191 M€ / −13,5 M€ when signed. Md€ from 10 000 M€."""
    if _missing(value):
        return ABSENT
    a = abs(float(value))
    if scale is None:
        scale = "Md€" if a >= 1e10 else "M€" if a >= 1e6 else "k€" if a >= 1e3 else "€"
    div = dict(EURO_SCALES)[scale]
    if decimals is None:
        # one decimal under 100 (13,5 M€, not 14 M€ from 13,46), none for whole numbers and from 100 up
        decimals = 1 if (((a / div) < 100 or scale == "Md€") and scale != "€"
                         and round_half_up(a / div, 1) != round_half_up(a / div)) else 0
    text = number(a / div, decimals) + f"{NNBSP}{scale}"
    shown = round_half_up(a / div, decimals)
    if sign:
        return signed(text, value if shown else 0)
    return (MINUS if value < 0 and shown else "") + text


def count(n, singular: str, plural_form: str | None = None) -> str:
    """« 1 année », « 2 années », « 14 866 établissements » (French: 0 and 1 take the singular)."""
    n_ = int(round_half_up(n))
    word = singular if abs(n_) < 2 else (plural_form or plural(singular))
    return f"{number(n_)} {word}"


def plural(word: str) -> str:
    parts = word.split(" ", 1)
    head = parts[0]
    if head.endswith(("s", "x", "z")):
        p = head
    elif head.endswith(("au", "eu")):
        p = head + "x"
    elif head.endswith("al"):
        p = head[:-2] + "aux"
    else:
        p = head + "s"
    return p + (" " + parts[1] if len(parts) > 1 else "")


def ordinal(n: int, gender: str = "m") -> str:
    """1ᵉʳ, 1ʳᵉ, 2ᵉ, 9ᵉ."""
    if n == 1:
        return "1ᵉʳ" if gender == "m" else "1ʳᵉ"
    return f"{n}ᵉ"


SMALL_COUNT = 20


def change(before, after, unit: str = "", noun_singular: str | None = None) -> str:
    """A change between two values: a percentage, or « 8 → 9 établissements » on small counts (< 20)."""
    if _missing(before) or _missing(after):
        return ABSENT
    if noun_singular is not None and min(abs(before), abs(after)) < SMALL_COUNT:
        return f"{number(before)} {ARROW} {count(after, noun_singular)}"
    if not before:
        return ABSENT
    return percent(after / before - 1, 0, sign=True)


def value(v, unite: str, statut: str = "ok", decimals: int | None = None) -> str:
    """Any catalogue value by its unit (€, part, ha, €/m², km², a count); « s » for secret, « – » for absent."""
    if statut == "secret":
        return SECRET
    if statut == "absent" or _missing(v):
        return ABSENT
    if unite == "€":
        return euros(v, decimals=decimals)
    if unite == "part":
        return percent(v, 1 if decimals is None else decimals)
    if unite in ("ha", "€/m²"):
        return f"{number(v, 1 if decimals is None else decimals)}{NNBSP}{unite}"
    if unite == "km²":
        return f"{number(v, 0 if decimals is None else decimals)}{NNBSP}km²"
    return number(v, 0 if decimals is None else decimals)


# --- chart axes ---------------------------------------------------------------------------------------

def step_decimals(step: float) -> int:
    """Decimals a tick step needs: 0 for 5, 1 for 2,5 or 0,5, 2 for 0,25."""
    for dec in range(0, 4):
        if abs(step * 10 ** dec - round(step * 10 ** dec)) < 1e-6:
            return dec
    return 3


def tick(v: float, kind: str, step: float, top: float | None = None) -> str:
    """One axis tick in French: « 500 M€ », « 1,5 Md€ », « 25 % », « +5 % », « 14 866 »; `kind` as the content
    layer's (eur: values in M€; part, evolution: fractions; km2, ha, count); `top`: the largest absolute
    value of the axis (one unit for every tick: Md€ from 1 000 M€)."""
    top = abs(v) if top is None else top
    if v == 0:
        return "0"
    if kind == "eur":
        if top >= 1000:
            return number(v / 1000, step_decimals(step / 1000)) + f"{NNBSP}Md€"
        return number(v, step_decimals(step)) + f"{NNBSP}M€"
    if kind in ("part", "evolution"):
        text = number(abs(v) * 100, step_decimals(round(step * 100, 9)))
        sign = "+" if kind == "evolution" and v > 0 else (MINUS if v < 0 else "")
        return f"{sign}{text}{NNBSP}%"
    if kind == "km2":
        return number(v, step_decimals(step)) + f"{NNBSP}km²"
    if kind == "ha":
        return number(v, step_decimals(step)) + f"{NNBSP}ha"
    if kind == "eur_m2":
        return number(v, step_decimals(step)) + f"{NNBSP}€/m²"
    return number(v, step_decimals(step))


# --- Excel and PowerPoint number formats (annex cells, native chart data and axes) -----------------------
# Written the French way whatever the reader's Office locale: U+202F before the unit and before « % » (a
# literal, the « % » itself unquoted so the cell's fraction is shown ×100), U+2212 for the minus sign.
_S = NNBSP
OFFICE_FORMATS = {
    "eur": f'#,##0.0"{_S}M€"', "part": f'0.0"{_S}"%', "evolution": f'+0.0"{_S}"%;"{MINUS}"0.0"{_S}"%;0.0"{_S}"%',
    "count": "#,##0", "km2": f'#,##0"{_S}km²"', "ha": f'#,##0.0"{_S}ha"', "eur_m2": f'#,##0.0"{_S}€/m²"',
}
# Axes: integers only (no decimal separator), U+202F as thousands separator, all as literals.
OFFICE_AXIS_FORMATS = {
    "eur": f'[>=1000]#"{_S}"##0"{_S}M€";0"{_S}M€"', "part": f'0"{_S}"%',
    "evolution": f'+0"{_S}"%;"{MINUS}"0"{_S}"%;0"{_S}"%"', "count": f'[>=1000]#"{_S}"##0;0',
    "km2": f'[>=1000]#"{_S}"##0"{_S}km²";0"{_S}km²"',
}


# --- years and dates --------------------------------------------------------------------------------

def years_text(years) -> str:
    """« 2022 », « 2021 et 2022 », « 2018 à 2022 »; sorted distinct years."""
    ys = sorted({int(y) for y in years if not _missing(y)})
    if not ys:
        return ""
    if len(ys) == 1:
        return str(ys[0])
    if len(ys) == 2:
        return f"{ys[0]} et {ys[1]}"
    return f"{ys[0]} à {ys[-1]}"


def french_date(d: date | datetime | None = None) -> str:
    """« 1er décembre 2026 », « 7 décembre 2026 »."""
    d = d or date.today()
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {_MONTHS[d.month - 1]} {d.year}"


# --- typography --------------------------------------------------------------------------------------

_BEFORE = re.compile(r"[ \u00a0\u202f]*([:;?!%])")


def typeset(text: str) -> str:
    """One narrow no-break space before « : ; ? ! % » (none after a digit-less URL or time 12:30)."""
    if not text:
        return text

    def fix(m: re.Match) -> str:
        start = m.start()
        prev = text[start - 1] if start else ""
        mark = m.group(1)
        if mark == ":" and prev.isdigit() and m.end() < len(text) and text[m.end()].isdigit():
            return m.group(0)          # 12:30
        if mark == ":" and text[m.end():m.end() + 2] == "//":
            return m.group(0)          # https://
        if not prev or prev in "( «\n":
            return m.group(0)
        return NNBSP + mark
    return unicodedata.normalize("NFC", _BEFORE.sub(fix, text))


def header(label: str) -> str:
    """A table or CSV column header: first letter up, French typography."""
    return typeset(label[:1].upper() + label[1:] if label else label)
