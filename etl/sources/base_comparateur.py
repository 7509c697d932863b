"""INSEE « base comparateur de territoires » (CSV or xlsx), one row per commune.

Variable names carry a 2-digit year suffix (P18_POP, ETTOT18 -> 2018). The 2022
edition writes statistical secret as an empty cell, the 2025 edition as `s` and
mixes decimal comma and point. Only the variables the dashboard uses are loaded;
the others are listed in the report.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from ..validate import Problem, sql_is_secret, sql_number
from .common import Staged, read_table, year_from_name

KIND = "base_comparateur"
LIBELLE = "INSEE, base comparateur de territoires"
PRODUCTEUR = "INSEE"
LICENCE = "Licence Ouverte 2.0 (Etalab)"

# ETxx establishment counts by INSEE's five broad sectors (a5), their total, and trade (section G).
_ET = {"TOT": ("total", "_T"), "AZ": ("a5", "AZ"), "BE": ("a5", "BE"), "FZ": ("a5", "FZ"),
       "GU": ("a5", "GU"), "OQ": ("a5", "OQ"), "GZ": ("section", "G")}
_VAR = re.compile(r"^(?:P(?P<pyy>\d\d)_(?P<pvar>POP|EMPLT|EMPLT_SAL)|ET(?P<et>TOT|AZ|BE|FZ|GU|OQ|GZ)(?P<eyy>\d\d)|(?P<superf>SUPERF))$")
_MESURES = {"POP": "population", "EMPLT": "emplois", "EMPLT_SAL": "emplois_salaries"}


def detect(header: list[str]) -> bool:
    up = [h.strip().upper() for h in header]
    return "CODGEO" in up and any(re.match(r"^(P\d\d_POP|ETTOT\d\d)$", h) for h in up)


def _year(yy: str) -> int:
    y = int(yy)
    return 2000 + y if y < 70 else 1900 + y


def _variables(header: list[str]) -> tuple[pd.DataFrame, list[str]]:
    rows, ignored = [], []
    for i, name in enumerate(header):
        m = _VAR.match(name.strip().upper())
        if not m:
            if name.strip().upper() not in ("CODGEO", "LIBGEO"):
                ignored.append(name)
            continue
        if m.group("pvar"):
            rows.append((f"c{i}", name, _MESURES[m.group("pvar")], _year(m.group("pyy")), "total", "_T"))
        elif m.group("et"):
            niveau, code = _ET[m.group("et")]
            rows.append((f"c{i}", name, "etablissements", _year(m.group("eyy")), niveau, code))
        else:
            rows.append((f"c{i}", name, "superficie_km2", None, "total", "_T"))
    vars_ = pd.DataFrame(rows, columns=["col", "variable", "mesure", "annee", "naf_niveau", "naf_code"])
    # Superficie has no year: date it with the latest population year of the file.
    pop_years = vars_.loc[vars_.mesure == "population", "annee"].dropna()
    vars_.loc[vars_.mesure == "superficie_km2", "annee"] = int(pop_years.max()) if len(pop_years) else None
    return vars_, ignored


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    # xlsx edition: rows 1-4 titles, row 5 labels, row 6 variable codes, data from row 7.
    header, n = read_table(con, path, lambda cells: "CODGEO" in (c.upper() for c in cells), "CODGEO")
    codgeo = [h.strip().upper() for h in header].index("CODGEO")
    vars_, ignored = _variables(header)
    problems: list[Problem] = []
    name = Path(path).name
    if ignored:
        problems.append(Problem(name, None, None, f"{len(ignored)} variable(s) non utilisée(s) par le tableau de bord, ignorée(s) : "
                                + ", ".join(ignored[:12]) + ("…" if len(ignored) > 12 else ""), grave=False))
    vars_ = vars_.dropna(subset=["annee"])
    con.register("stg_vars", vars_)
    cols = ", ".join(vars_.col)
    # UNPIVOT drops NULL cells, and an empty cell is the 2022 edition's secret mark: keep them as ''.
    # Editions that mark secret with `s` (2025) leave a cell empty when the figure does not exist:
    # there, an empty cell is no fact at all (the read side shows it as absent).
    marks_s = bool(len(vars_)) and con.execute(
        "SELECT count(*) > 0 FROM (SELECT 1 FROM stg_raw WHERE " + " OR ".join(sql_is_secret(c) for c in vars_.col) + " LIMIT 1)"
    ).fetchall()[0][0]
    filled = ", ".join(f"coalesce({c}, '') AS {c}" for c in vars_.col)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_long AS
        SELECT u.ligne, trim(u.c{codgeo}) AS codgeo, v.variable, v.mesure, CAST(v.annee AS INTEGER) AS annee,
               v.naf_niveau, v.naf_code, u.texte
        FROM (UNPIVOT (SELECT ligne, c{codgeo}, {filled} FROM stg_raw) ON {cols} INTO NAME col VALUE texte) u
        JOIN stg_vars v USING (col)
    """) if len(vars_) else con.execute("CREATE OR REPLACE TEMP TABLE stg_long AS SELECT NULL::BIGINT ligne WHERE false")
    bad = con.execute(f"""
        SELECT ligne, variable, texte FROM stg_long
        WHERE texte IS NOT NULL AND trim(texte) <> '' AND NOT {sql_is_secret('texte')}
          AND ({sql_number('texte')} IS NULL OR {sql_number('texte')} < 0)
        ORDER BY ligne LIMIT 50
    """).fetchall()
    for ligne, variable, texte in bad:
        problems.append(Problem(name, ligne, variable, f"nombre positif attendu, trouvé « {texte[:40]} »"))
    bad_codes = con.execute(f"""
        SELECT ligne, c{codgeo} FROM stg_raw
        WHERE c{codgeo} IS NULL OR NOT regexp_full_match(trim(c{codgeo}), '[0-9]{{4,5}}|2[AB][0-9]{{3}}')
        ORDER BY ligne LIMIT 20
    """).fetchall()
    for ligne, code in bad_codes:
        problems.append(Problem(name, ligne, "CODGEO", f"code commune INSEE attendu (5 caractères), trouvé « {(code or '')[:20]} »"))
    # Excel drops the leading zero of 05001: 4-digit codes are padded back.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_facts AS
        SELECT ligne, lpad(codgeo, 5, '0') AS territoire_code, 'commune' AS niveau, annee, mesure, naf_code, naf_niveau,
               CASE WHEN texte IS NULL OR trim(texte) = '' OR {sql_is_secret('texte')} THEN NULL ELSE {sql_number('texte')} END AS valeur,
               CASE WHEN texte IS NULL OR trim(texte) = '' OR {sql_is_secret('texte')} THEN 'secret' ELSE 'ok' END AS statut
        FROM stg_long
        {"WHERE texte IS NOT NULL AND trim(texte) <> ''" if marks_s else ""}
    """)
    if marks_s:
        problems.append(Problem(name, None, None, "secret statistique noté « s » (édition 2025 et suivantes) : "
                                "une cellule vide est une donnée inexistante, non chargée", grave=False))
    years = sorted({int(y) for y in vars_.annee})
    # One fact per key unless a commune has two lines or two variables give the same figure: the load then sums them.
    repeated_lines = con.execute(f"""SELECT count(*) FROM (SELECT 1 FROM stg_raw GROUP BY lpad(trim(c{codgeo}), 5, '0')
                                                           HAVING count(*) > 1)""").fetchall()[0][0]
    unique = repeated_lines == 0 and not vars_.duplicated(["mesure", "annee", "naf_niveau", "naf_code"]).any()
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, year_from_name(path) or (str(max(years)) if years else None),
                  n, facts_table="stg_facts", problems=problems, unique_keys=unique, key_column=header[codgeo].strip())
