"""Shared validation rules and the French problem reports every loader uses.

A *problem* names the file, the line and the column. Hard problems refuse the
file (nothing is written); soft ones are kept in the report and in `etl status`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Values producers use to mark statistical secret in a cell.
SECRET_MARKS = {"s", "S", "secret", "nd", "n.d.", "c"}
# Non-breaking spaces used as thousands separators by French spreadsheets.
_SPACES = ("\u00a0", "\u202f", "\u2009", " ")


@dataclass(frozen=True)
class Problem:
    fichier: str
    ligne: int | None
    colonne: str | None
    message: str
    grave: bool = True

    def __str__(self) -> str:
        where = [self.fichier]
        if self.ligne is not None:
            where.append(f"ligne {self.ligne}")
        if self.colonne:
            where.append(f"colonne « {self.colonne} »")
        return f"{', '.join(where)} : {self.message}"


class LoadError(Exception):
    """A file is refused: carries every hard problem found (French messages)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def refuse(path: Path | str, message: str, ligne: int | None = None, colonne: str | None = None):
    raise LoadError([Problem(Path(path).name, ligne, colonne, message)])


_NAF_RE = re.compile(r"^(\d{2})\.?(\d{2})([A-Za-z])$")


def normalise_naf(code: str | None) -> str | None:
    """'3030Z', '30.30Z' or '30.30z' -> '30.30Z'; None when it is not a NAF sous-classe."""
    if code is None:
        return None
    m = _NAF_RE.match(str(code).strip().split(" ", 1)[0])
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2)}{m.group(3).upper()}"


def luhn_ok(digits: str) -> bool:
    """Luhn key of a SIREN/SIRET (La Poste SIRETs, 356000000xxxxx, use a digit sum rule)."""
    if not digits.isdigit():
        return False
    if len(digits) == 14 and digits.startswith("356000000"):
        return sum(int(c) for c in digits) % 5 == 0
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    """`body` plus the digit that makes it Luhn-valid (to generate test and demo SIRENs/SIRETs)."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError(body)


def clean_siret(value: str | None) -> str | None:
    if value is None:
        return None
    s = str(value)
    for ch in _SPACES + ("-", "."):
        s = s.replace(ch, "")
    return s.strip() or None


def parse_number(value, *, allow_negative: bool = False) -> float | None:
    """French or English number text -> float. None for an empty cell.

    Raises ValueError with a French reason for text that is not a number.
    Secret marks are not numbers: callers check SECRET_MARKS first.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        s = str(value).strip()
        if not s:
            return None
        for ch in _SPACES:
            s = s.replace(ch, "")
        if s.count(",") == 1 and s.count(".") == 0:
            s = s.replace(",", ".")
        elif s.count(",") == 1 and s.count(".") >= 1 and s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")  # 1.234,5
        try:
            number = float(s)
        except ValueError:
            raise ValueError(f"nombre attendu, trouvé « {str(value)[:40]} »") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"nombre attendu, trouvé « {value} »")
    if number < 0 and not allow_negative:
        raise ValueError(f"valeur négative interdite ({value})")
    return number


# SQL twin of parse_number for bulk columns read as text by DuckDB.
def sql_number(col: str) -> str:
    expr = f"trim({col})"
    for ch in _SPACES:
        expr = f"replace({expr}, chr({ord(ch)}), '')"
    # '1.234,5' (dots as thousands separators, decimal comma) -> 1234.5; otherwise the comma is decimal.
    dotted = f"regexp_full_match({expr}, '-?[0-9]{{1,3}}(\\.[0-9]{{3}})+,[0-9]*')"
    full = (f"TRY_CAST(CASE WHEN {dotted} THEN replace(replace({expr}, '.', ''), ',', '.') "
            f"ELSE replace({expr}, ',', '.') END AS DOUBLE)")
    # Most cells are plain numbers: a text that casts as is has no comma nor inner space, so the rewriting
    # above would leave it unchanged; only the others pay for it (a regex per cell is the costly part).
    return f"coalesce(TRY_CAST(trim({col}) AS DOUBLE), {full})"


def sql_is_secret(col: str) -> str:
    marks = ", ".join(f"'{m.lower()}'" for m in sorted(SECRET_MARKS))
    return f"lower(trim({col})) IN ({marks})"


def format_report(problems: list[Problem], limit: int = 50) -> str:
    lines = [f"- {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"- … et {len(problems) - limit} autre(s) problème(s)")
    return "\n".join(lines)


# --- repeated keys: one check for every source (etl/load.py calls it on each staged file) ----------

def duplicate_problems(con, fichier: str, facts_table: str | None, firms_table: str | None,
                       colonne: str | None = None, limit: int = 20, key_lines: tuple[str, str, str] | None = None
                       ) -> list[Problem]:
    """A key given by two lines of one file (a commune twice in a base comparateur or populations file, a
    commune x APE twice in an URSSAF file, a SIRET x year twice in a chamber file): one hard problem per
    repeated key, naming its lines. Facts a single line gives twice (two variables read into the same
    figure) are not repeats; lines without a number (aggregated stagings) are not checked."""
    problems = []
    if key_lines:  # the file's own lines, before a loader sums them (communes merged since its vintage…)
        table, level, code = key_lines
        rows = con.execute(f"""
            SELECT k.niveau, k.code, list(k.ligne ORDER BY k.ligne) FROM (SELECT {level} AS niveau, {code} AS code, ligne
                                                                       FROM {table}) k
            WHERE k.code IS NOT NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY min(k.ligne) LIMIT {int(limit)}""").fetchall()
        for niveau, code, lignes in rows:
            what = f"la commune {code}" if niveau == "COM" else f"le territoire {code}"
            problems.append(Problem(fichier, lignes[1], colonne, f"doublon : {what} figure aux lignes {_and(lignes)} ; "
                                    "une seule ligne par territoire est attendue"))
        if problems:
            return problems
    if facts_table:
        rows = con.execute(f"""
            SELECT territoire_code, niveau, CASE WHEN naf_niveau = 'total' THEN NULL ELSE naf_code END AS naf,
                   list(DISTINCT ligne ORDER BY ligne) AS lignes
            FROM (SELECT territoire_code, niveau, annee, mesure, naf_code, naf_niveau, ligne FROM {facts_table}
                  WHERE ligne IS NOT NULL AND territoire_code IS NOT NULL)
            GROUP BY territoire_code, niveau, annee, mesure, naf_code, naf_niveau HAVING count(DISTINCT ligne) > 1
        """).fetchall()
        # One problem per territory and set of lines: a whole line repeated gives many repeated facts.
        seen: dict[tuple, set] = {}
        for code, niveau, naf, lignes in rows:
            seen.setdefault((code, niveau, tuple(lignes)), set()).add(naf)
        for (code, niveau, lignes), nafs in sorted(seen.items(), key=lambda kv: kv[0][2])[:limit]:
            naf = None if None in nafs or len(nafs) > 1 else next(iter(nafs))
            what = (f"la commune {code}" if niveau == "commune" else f"le territoire {code}") + (f", activité {naf}," if naf else "")
            problems.append(Problem(fichier, lignes[1], colonne, f"doublon : {what} figure aux lignes "
                                    f"{_and(lignes)} ; une seule ligne par {'commune' if niveau == 'commune' else 'territoire'}"
                                    f"{' et activité' if naf else ''} est attendue"))
    if firms_table:
        rows = con.execute(f"""
            SELECT siret, annee, list(DISTINCT ligne ORDER BY ligne) AS lignes FROM {firms_table}
            WHERE ligne IS NOT NULL AND siret IS NOT NULL AND annee IS NOT NULL
            GROUP BY siret, annee HAVING count(DISTINCT ligne) > 1 ORDER BY min(ligne) LIMIT {int(limit)}""").fetchall()
        for siret, annee, lignes in rows:
            problems.append(Problem(fichier, lignes[1], colonne, f"doublon : le SIRET {siret} a un chiffre d'affaires {annee} "
                                    f"aux lignes {_and(lignes)} ; une seule ligne par établissement et par année est attendue"))
    return problems


def _and(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]
