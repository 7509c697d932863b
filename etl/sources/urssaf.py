"""URSSAF « établissements et effectifs salariés au niveau commune x APE ».

Published layout: UTF-8 with BOM, `;`, French labelled header, `Code commune`,
`Code APE` without the dot (4399A), then pairs of columns
« Nombre d'établissements YYYY ; Effectifs salariés YYYY ». The snake_case export
(`code_commune`, `code_ape`, `nombre_d_etablissements_2024`, ...) is read too.
An empty cell means nothing was published for that year: it is not a fact.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from ..nomenclature import NAF2025, single_nomenclature
from ..validate import Problem, sql_number
from .common import Staged, _norm, find_column, open_text, read_text_table, year_from_name

KIND = "urssaf"
LIBELLE = "URSSAF, établissements et effectifs salariés (commune x APE)"
PRODUCTEUR = "URSSAF"
# open.urssaf.fr publishes its datasets under the ODbL since it opened (March 2020).
LICENCE = "ODbL 1.0 (open data Urssaf)"

_YEAR_COL = re.compile(r"^(nombredetablissements|effectifssalaries)(\d{4})$")
_MESURE = {"nombredetablissements": "etablissements_employeurs", "effectifssalaries": "effectifs_salaries"}


# The APE code column of a file coded in NAF 2025 (from 2027), or the usual one (NAF rév. 2 or NAF 2025,
# told apart by the codes themselves).
_APE_2025 = ("Code APE NAF 2025", "Code APE 2025", "Code NAF 2025", "code_ape_naf2025", "code_ape_naf25", "code_naf2025")
_APE = ("Code APE", "code_ape")


def detect(header: list[str]) -> bool:
    norm = {_norm(h) for h in header}
    has_ape = any(_norm(c) in norm for c in _APE + _APE_2025)
    return has_ape and "codecommune" in norm and any(_YEAR_COL.match(h) for h in norm)


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    tf = open_text(path)
    try:
        header = tf.header
        i_com = find_column(header, "Code commune", "code_commune", required="Code commune", path=path)
        i_ape = find_column(header, *_APE_2025)
        hint = NAF2025 if i_ape is not None else None
        if i_ape is None:
            i_ape = find_column(header, *_APE, required="Code APE", path=path)
        year_cols = []
        for i, h in enumerate(header):
            m = _YEAR_COL.match(_norm(h))
            if m:
                year_cols.append((f"c{i}", h, _MESURE[m.group(1)], int(m.group(2))))
        n = read_text_table(con, tf, "stg_raw")
    finally:
        tf.close()
    name = Path(path).name
    vars_ = pd.DataFrame(year_cols, columns=["col", "variable", "mesure", "annee"]).assign(position=lambda d: range(len(d)))
    con.register("stg_vars", vars_)
    cols = ", ".join(vars_.col)
    # Label columns hold "code + label" (« 76005 Amfreville… »): only the code columns are read. One pass:
    # each non-empty cell becomes a fact, its number parsed once.
    cells = f"(UNPIVOT (SELECT ligne, c{i_com}, upper(replace(trim(c{i_ape}), '.', '')) AS ape, {cols} FROM stg_raw {{where}}) " \
            f"ON {cols} INTO NAME col VALUE texte) u JOIN stg_vars v USING (col)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_facts AS
        SELECT u.ligne, lpad(trim(u.c{i_com}), 5, '0') AS territoire_code, 'commune' AS niveau, v.annee, v.mesure,
               substr(u.ape, 1, 2) || '.' || substr(u.ape, 3) AS naf_code, 'sous_classe' AS naf_niveau,
               {sql_number('u.texte')} AS valeur, 'ok' AS statut
        FROM {cells.format(where='')}
        WHERE trim(u.texte) <> ''
    """)
    problems: list[Problem] = []
    # The cells' text is read again only for the lines holding a bad number (it is not kept in stg_facts).
    bad = "WHERE ligne IN (SELECT ligne FROM stg_facts WHERE valeur IS NULL OR valeur < 0)"
    if con.execute(f"SELECT count(*) FROM stg_raw {bad}").fetchall()[0][0]:
        for ligne, variable, texte in con.execute(f"""
                SELECT u.ligne, v.variable, u.texte FROM {cells.format(where=bad)}
                WHERE trim(u.texte) <> '' AND ({sql_number('u.texte')} IS NULL OR {sql_number('u.texte')} < 0)
                ORDER BY u.ligne, v.position LIMIT 50""").fetchall():
            problems.append(Problem(name, ligne, variable, f"nombre positif attendu, trouvé « {texte[:40]} »"))
    for ligne, ape in con.execute(f"""
            SELECT r.ligne, r.c{i_ape} FROM stg_raw r
            WHERE NOT regexp_full_match(upper(replace(trim(coalesce(r.c{i_ape}, '')), '.', '')), '[0-9]{{4}}[A-Z]')
            ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[i_ape], f"code APE attendu (ex. 4399A ou 43.99A), trouvé « {(ape or '')[:20]} »"))
    for ligne, ape in con.execute(f"""
            SELECT r.ligne, r.c{i_ape} FROM stg_raw r
            WHERE regexp_full_match(upper(replace(trim(coalesce(r.c{i_ape}, '')), '.', '')), '[0-9]{{4}}[A-Z]')
              AND NOT EXISTS (SELECT 1 FROM ref_naf n WHERE n.sous_classe =
                   substr(upper(replace(trim(r.c{i_ape}), '.', '')), 1, 2) || '.' || substr(upper(replace(trim(r.c{i_ape}), '.', '')), 3))
            ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[i_ape], f"code APE « {ape} » inconnu de la NAF rév. 2 et de la NAF 2025"))
    ape = f"upper(replace(trim(coalesce(c{i_ape}, '')), '.', ''))"
    nomenclature, mixed = single_nomenclature(con, "stg_raw", f"substr({ape}, 1, 2) || '.' || substr({ape}, 3)", name,
                                              header[i_ape], hint)
    problems.extend(mixed)
    for ligne, code in con.execute(f"""
            SELECT ligne, c{i_com} FROM stg_raw
            WHERE NOT regexp_full_match(trim(coalesce(c{i_com}, '')), '[0-9]{{4,5}}|2[AB][0-9]{{3}}') ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[i_com], f"code commune INSEE attendu (5 caractères), trouvé « {(code or '')[:20]} »"))
    dups = con.execute(f"""
        SELECT min(ligne), max(ligne), commune, ape FROM (
            SELECT ligne, trim(c{i_com}) commune, upper(replace(trim(c{i_ape}), '.', '')) ape FROM stg_raw)
        GROUP BY commune, ape HAVING count(*) > 1 LIMIT 10""").fetchall()
    for first, second, commune, ape in dups:
        problems.append(Problem(name, second, header[i_ape],
                                f"doublon : la commune {commune} et l'APE {ape} figurent déjà ligne {first}"))
    # One fact per key unless two year columns name the same measure and year, or two lines the same
    # commune once padded (« 5061 » and « 05061 »): then the load sums them, as it always did.
    padded_dups = con.execute(f"""
        SELECT count(*) FROM (SELECT 1 FROM stg_raw GROUP BY lpad(trim(c{i_com}), 5, '0'), upper(replace(trim(c{i_ape}), '.', ''))
                              HAVING count(*) > 1)""").fetchall()[0][0]
    unique = not vars_.duplicated(["mesure", "annee"]).any() and padded_dups == 0
    years = sorted(vars_.annee.unique().tolist())
    millesime = year_from_name(path) or (str(max(years)) if years else None)
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, millesime, n, facts_table="stg_facts", problems=problems,
                  unique_keys=unique, nomenclature=nomenclature)
