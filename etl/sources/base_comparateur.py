"""INSEE « base comparateur de territoires » (CSV or xlsx), one row per commune.

Variable names carry a 2-digit year suffix (P18_POP, ETTOT18 -> 2018). The 2022
edition writes statistical secret as an empty cell, the 2025 edition as `s` and
mixes decimal comma and point. Only the variables the dashboard uses are loaded;
the others are listed in the report.

Communes are mapped to the current ones and, for a file covering whole régions (the national file),
the région and France totals are computed over all its communes (etl/france.py). A file may also carry
published totals: a column NIVGEO (COM, REG or FRANCE; CODGEO is then the région code or FR) and a
column VARS_PARTIELLES listing (space-separated) the variables whose total is partial — the layout of
the embedded extract data/default/ (scripts/build_default_data.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from ..nomenclature import NAF2008, NAF2025, NAF2025_FIRST_YEAR
from .. import france
from ..perimeter import FRANCE_CODE
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
# Columns of published totals (the embedded extract's layout): level of the row, partial variables.
NIVGEO, VARS_PARTIELLES = "NIVGEO", "VARS_PARTIELLES"
_NIVEAUX = {"COM": "commune", "REG": "region", "FRANCE": "france"}


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
            if name.strip().upper() not in ("CODGEO", "LIBGEO", NIVGEO, VARS_PARTIELLES):
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
    upper = [h.strip().upper() for h in header]
    codgeo = upper.index("CODGEO")
    # Published totals (NIVGEO / VARS_PARTIELLES columns); a plain INSEE file has only commune rows.
    niv = f"upper(trim(coalesce(c{upper.index(NIVGEO)}, '')))" if NIVGEO in upper else "'COM'"
    partiels = f"coalesce(c{upper.index(VARS_PARTIELLES)}, '')" if VARS_PARTIELLES in upper else "''"
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
               v.naf_niveau, v.naf_code, u.texte, u.nivgeo,
               list_contains(string_split(upper(u.partiels), ' '), upper(v.variable)) AS total_partiel
        FROM (UNPIVOT (SELECT ligne, c{codgeo}, {niv} AS nivgeo, {partiels} AS partiels, {filled} FROM stg_raw)
              ON {cols} INTO NAME col VALUE texte) u
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
        WHERE {niv} = 'COM' AND (c{codgeo} IS NULL OR NOT regexp_full_match(trim(c{codgeo}), '[0-9]{{4,5}}|2[AB][0-9]{{3}}'))
        ORDER BY ligne LIMIT 20
    """).fetchall()
    for ligne, code in bad_codes:
        problems.append(Problem(name, ligne, "CODGEO", f"code commune INSEE attendu (5 caractères), trouvé « {(code or '')[:20]} »"))
    for ligne, level in con.execute(f"SELECT ligne, {niv} FROM stg_raw WHERE {niv} NOT IN ('COM', 'REG', 'FRANCE') ORDER BY ligne LIMIT 20").fetchall():
        problems.append(Problem(name, ligne, NIVGEO, f"niveau COM, REG ou FRANCE attendu, trouvé « {(level or '')[:20]} »"))
    # Excel drops the leading zero of 05001: 4-digit codes are padded back.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_facts AS
        SELECT ligne, CASE nivgeo WHEN 'COM' THEN lpad(codgeo, 5, '0') WHEN 'FRANCE' THEN '{FRANCE_CODE}' ELSE codgeo END
                   AS territoire_code,
               CASE nivgeo {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _NIVEAUX.items())} END AS niveau,
               annee, mesure, naf_code, naf_niveau,
               CASE WHEN texte IS NULL OR trim(texte) = '' OR {sql_is_secret('texte')} THEN NULL ELSE {sql_number('texte')} END AS valeur,
               CASE WHEN texte IS NULL OR trim(texte) = '' OR {sql_is_secret('texte')} THEN 'secret'
                    WHEN total_partiel THEN 'partiel' ELSE 'ok' END AS statut
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
    # --- Current communes, région and France totals, from the France-wide reference (etl/france.py) ---
    if len(vars_) and not any(p.grave for p in problems) and france.create_tables(con):
        arrondissements, unknown, n_unknown = france.left_out(con, "stg_facts")
        mapped, _ = france.current_communes(con, "stg_facts")
        if mapped:
            problems.append(Problem(name, None, None, f"{mapped} code(s) de communes fusionnées depuis le millésime du fichier "
                                    "additionné(s) dans leur commune actuelle (une partie secrète rend la somme partielle)",
                                    grave=False))
        if arrondissements:
            problems.append(Problem(name, None, None, f"{arrondissements} arrondissement(s) municipal(aux) de Paris, Lyon ou "
                                    "Marseille, déjà compté(s) dans leur commune : ignoré(s)", grave=False))
        for code, ligne in unknown:
            problems.append(Problem(name, ligne, header[codgeo].strip(), f"code commune « {code[:20]} » inconnu du COG "
                                    "(ni commune actuelle, ni ancienne commune, ni arrondissement municipal) : ligne ignorée",
                                    grave=False))
        if n_unknown > len(unknown):
            problems.append(Problem(name, None, header[codgeo].strip(), f"… et {n_unknown - len(unknown)} autre(s) code(s) "
                                    "commune inconnu(s) du COG : ligne(s) ignorée(s)", grave=False))
        regions, whole = france.add_totals(con, "stg_facts")
        if regions:
            problems.append(Problem(name, None, None, f"totaux calculés sur toutes les communes du fichier pour {len(regions)} "
                                    "région(s)" + (" et la France" if whole else ""), grave=False))
        # One fact per key now (communes summed on their current code): taken as they are, statut `partiel` kept.
        unique = True
    # --- end ---
    # Establishments by activity (ETAZ…, ETGZ): INSEE counts them in the APE nomenclature of their year, NAF 2025
    # from 2027 (the file names its year, not its nomenclature).
    by_activity = [int(y) for y, lvl in zip(vars_.annee, vars_.naf_niveau) if lvl != "total"]
    nomenclature = None if not by_activity else (NAF2025 if max(by_activity) >= NAF2025_FIRST_YEAR else NAF2008)
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, year_from_name(path) or (str(max(years)) if years else None),
                  n, facts_table="stg_facts", problems=problems, unique_keys=unique, nomenclature=nomenclature,
                  key_column=header[codgeo].strip(), key_lines=("stg_raw", niv, f"lpad(trim(c{codgeo}), 5, '0')"))
