"""Chamber of commerce (CCI) or of trades (CMA) exports: one row per establishment.

No public format exists, so headers are matched tolerantly: `SIRET` / `N° SIRET`,
`Raison sociale`, `Code NAF` / `Code APE` (with or without the dot),
`Code commune INSEE`, `Tranche effectif`, and turnover either as one column per
year (`CA 2022 (k€)`) or in long form (`annee` + `chiffre_affaires`), the unit
read from the header. CSV (`;` or `,`, UTF-8 or cp1252) or xlsx.
These rows are firm-level: they go to the `firmes` table, never out of the warehouse.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from ..nomenclature import NAF2025, single_nomenclature
from ..validate import Problem, refuse, sql_number
from .common import _ACCENTS, Staged, _norm, find_column, read_table, year_from_name

KIND = "chambre"
LIBELLE = "Export CCI / CMA (fichier d'entreprises)"
PRODUCTEUR = "CCI / CMA"
LICENCE = "Diffusion restreinte : données individuelles soumises au secret"

_SIRET = ("SIRET", "N° SIRET", "Numéro SIRET", "No SIRET", "siret")
# A column named for NAF 2025 is read first; the usual ones may hold either nomenclature (told by the codes).
_NAF_2025 = ("Code NAF 2025", "Code APE 2025", "Code APE NAF 2025", "NAF 2025", "code_naf2025", "code_naf25", "code_ape_naf25")
_NAF = ("Code NAF", "Code APE", "NAF", "APE", "code_naf", "code_ape", "Activité principale (NAF)")
_COMMUNE = ("Code commune INSEE", "Code INSEE commune", "Code commune", "code_commune", "Commune (code INSEE)", "code_insee", "Code INSEE")
_NAME = ("Raison sociale", "Dénomination", "raison_sociale", "Nom", "Enseigne")
_TRANCHE = ("Tranche effectif", "Tranche d'effectif", "Tranche effectif salarié", "tranche_effectif", "Effectif")
_CA_WIDE = re.compile(r"^(?:ca|chiffre(?:d)?affaires?)(\d{4})(k|m|keur|meur|eur|euros?|milliersdeuros?|millionsdeuros?)?$")
_UNITS = {None: 1.0, "eur": 1.0, "euro": 1.0, "euros": 1.0, "k": 1e3, "keur": 1e3, "milliersdeuros": 1e3,
          "milliersdeuro": 1e3, "m": 1e6, "meur": 1e6, "millionsdeuros": 1e6, "millionsdeuro": 1e6}


def _unit_norm(header: str) -> str:
    # '€' is not alphanumeric: read it as 'eur' before normalising.
    return _norm(header.replace("€", "eur").replace("K€", "keur"))


def detect(header: list[str]) -> bool:
    norm = {_norm(h) for h in header}
    has_siret = any(_norm(s) in norm for s in _SIRET)
    has_ca = any(_CA_WIDE.match(_unit_norm(h)) for h in header) or (
        any(_is_ca_long(n) for n in norm) and any(n in ("annee", "exercice") for n in norm))
    return has_siret and has_ca


def _is_ca_long(n: str) -> bool:
    """A normalised header naming the turnover column of the long form (« chiffre_affaires (k€) », « CA »)."""
    return n.startswith(("chiffredaffaires", "chiffreaffaires")) or n in ("ca", "cak", "caeur", "cakeur", "cameur", "cam")


def _is_siret_header(cells: list[str]) -> bool:
    return any(_norm(c) in {_norm(x) for x in _SIRET} for c in cells)


def _luhn_sql(col: str) -> str:
    """Luhn key of a 14-digit SIRET; La Poste's establishments (356000000…) use a digit sum multiple of 5.

    Unrolled over the 14 positions (no list per row): from the left, odd positions are the doubled ones.
    """
    digits = [f"(ascii(substr({col}, {p}, 1)) - 48)" for p in range(1, 15)]
    doubled = " + ".join(f"({d} * 2 - CASE WHEN {d} > 4 THEN 9 ELSE 0 END)" if p % 2 else d
                         for p, d in enumerate(digits, start=1))
    return (f"(CASE WHEN {col} LIKE '356000000%' THEN ({' + '.join(digits)}) % 5 = 0 "
            f"ELSE ({doubled}) % 10 = 0 END)")


_POSTCODE = ("Code postal", "CP", "code_postal", "Code postal établissement", "codepostal")
_TOWN = ("Commune", "Ville", "Localité", "Nom commune", "libelle_commune", "Libellé commune", "commune_nom")


def _name_key(name: str) -> str:
    """A town name as a matching key: accents, case, articles and 'St'/'Ste' abbreviations ignored."""
    words = re.sub(r"[^a-z0-9]+", " ", str(name).translate(_ACCENTS).lower()).split()
    words = ["saint" if w == "st" else "sainte" if w == "ste" else w for w in words]
    if words and words[0] in ("le", "la", "les", "l"):
        words = words[1:]
    return "".join(words)


def _commune_from_postcode(con, header: list[str], path: Path, problems: list[Problem]) -> int:
    """No INSEE code column: find each row's commune from its postcode (département) and name.

    Adds a column to stg_raw holding the INSEE code, or 'X' + postcode when the town is not one
    of the perimeter's communes (those rows are then counted as outside the perimeter).
    """
    i_cp = find_column(header, *_POSTCODE)
    i_town = find_column(header, *_TOWN)
    if i_cp is None or i_town is None:
        refuse(path, "colonne obligatoire absente : Code commune INSEE (ou Code postal et Commune)", 1)
    keys: dict[tuple[str, str], str] = {}
    for code, nom, dep in con.execute("SELECT code, nom, departement FROM ref_communes").fetchall():
        keys[(dep, _name_key(nom))] = code
    for old, new, nom in con.execute(
            "SELECT ancien_code, nouveau_code, nom_ancien FROM ref_communes_changements WHERE nom_ancien IS NOT NULL").fetchall():
        dep = old[:2]
        keys.setdefault((dep, _name_key(nom)), new)
    pairs = con.execute(f"SELECT DISTINCT c{i_cp}, c{i_town} FROM stg_raw").fetchall()
    rows = []
    for cp, town in pairs:
        digits = re.sub(r"\D", "", cp or "")
        if len(digits) == 4:
            digits = "0" + digits
        code = None
        if len(digits) == 5:
            dep = "2A" if digits.startswith("20") and digits < "20200" else "2B" if digits.startswith("20") else digits[:2]  # territory-literal: format (Corsican postcodes)
            code = keys.get((dep, _name_key(town or ""))) or "X" + digits
        rows.append((cp, town, code))
    con.register("stg_cp", pd.DataFrame(rows, columns=["cp", "town", "code"], dtype=object))
    new = len(header)
    header.append(f"{header[i_cp]} + {header[i_town]}")
    con.execute(f"ALTER TABLE stg_raw ADD COLUMN c{new} VARCHAR")
    con.execute(f"""UPDATE stg_raw SET c{new} = m.code FROM stg_cp m
                    WHERE stg_raw.c{i_cp} IS NOT DISTINCT FROM m.cp AND stg_raw.c{i_town} IS NOT DISTINCT FROM m.town""")
    con.unregister("stg_cp")
    for ligne, cp in con.execute(f"SELECT ligne, c{i_cp} FROM stg_raw WHERE c{new} IS NULL ORDER BY ligne LIMIT 20").fetchall():
        problems.append(Problem(path.name, ligne, header[i_cp], f"code postal attendu (5 chiffres), trouvé « {(cp or '')[:20]} »"))
    unknown = con.execute(f"""SELECT count(*), min(ligne) FROM stg_raw WHERE c{new} LIKE 'X%'
                              AND substr(c{new}, 2, 2) IN (SELECT DISTINCT departement FROM ref_communes)""").fetchall()[0]
    if unknown[0]:
        problems.append(Problem(path.name, unknown[1], header[i_town],
                                f"{unknown[0]} ligne(s) dont la commune (code postal + nom) n'est pas une commune du périmètre "
                                "(ou dont le nom n'a pas été reconnu) : ignorée(s)", grave=False))
    return new


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    path = Path(path)
    header, n = read_table(con, path, _is_siret_header, "colonne SIRET")
    name = path.name
    i_siret = find_column(header, *_SIRET, required="SIRET", path=path)
    i_naf = find_column(header, *_NAF_2025)
    hint = NAF2025 if i_naf is not None else None
    if i_naf is None:
        i_naf = find_column(header, *_NAF, required="Code NAF (ou Code APE)", path=path)
    problems: list[Problem] = []
    i_com = find_column(header, *_COMMUNE)
    if i_com is None:
        i_com = _commune_from_postcode(con, header, path, problems)
    i_name = find_column(header, *_NAME)
    i_tr = find_column(header, *_TRANCHE)
    wide = []
    for i, h in enumerate(header):
        m = _CA_WIDE.match(_unit_norm(h))
        if m:
            wide.append((f"c{i}", h, int(m.group(1)), _UNITS[m.group(2)]))
    # What describes the establishment is read once per line; only the amounts are one row per year.
    clean_siret = f"regexp_replace(coalesce(c{i_siret}, ''), '[\\s\u00a0\u202f.-]', '', 'g')"
    naf = f"upper(replace(trim(coalesce(c{i_naf}, '')), '.', ''))"
    commune = f"trim(coalesce(c{i_com}, ''))"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_lines AS
        SELECT ligne, siret, substr(siret, 1, 9) AS siren, naf_code, commune, raison_sociale, tranche_txt
        FROM (SELECT ligne, {clean_siret} AS siret, substr({naf}, 1, 2) || '.' || substr({naf}, 3) AS naf_code,
                     CASE WHEN length({commune}) = 4 THEN lpad({commune}, 5, '0') ELSE {commune} END AS commune,
                     {f'trim(c{i_name})' if i_name is not None else 'NULL'} AS raison_sociale,
                     {f"trim(coalesce(c{i_tr}, ''))" if i_tr is not None else "''"} AS tranche_txt
              FROM stg_raw)
    """)
    if wide:
        vars_ = pd.DataFrame(wide, columns=["col", "variable", "annee", "facteur"])
        con.register("stg_vars", vars_)
        cols = ", ".join(vars_.col)
        filled = ", ".join(f"coalesce({c}, '') AS {c}" for c in vars_.col)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE stg_amounts AS
            SELECT u.ligne, v.variable, v.annee, v.facteur, u.texte
            FROM (UNPIVOT (SELECT ligne, {filled} FROM stg_raw) ON {cols} INTO NAME col VALUE texte) u
            JOIN stg_vars v USING (col)
        """)
        con.unregister("stg_vars")
    else:
        i_year = find_column(header, "annee", "année", "exercice", required="année (ou colonnes « CA AAAA »)", path=path)
        i_ca = next((i for i, h in enumerate(header) if _is_ca_long(_unit_norm(h))), None)
        if i_ca is None:
            refuse(path, "colonne de chiffre d'affaires absente (« CA AAAA (k€) » ou « chiffre_affaires »)", 1)
        unit = re.sub(r"^(chiffredaffaires|chiffreaffaires|ca)", "", _unit_norm(header[i_ca])) or None
        facteur = _UNITS.get(unit, 1.0)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE stg_amounts AS
            SELECT ligne, ? AS variable, TRY_CAST(trim(c{i_year}) AS INTEGER) AS annee, {facteur} AS facteur,
                   coalesce(c{i_ca}, '') AS texte
            FROM stg_raw
        """, [header[i_ca]])
        for (ligne,) in con.execute("SELECT ligne FROM stg_amounts WHERE annee IS NULL OR annee NOT BETWEEN 1990 AND 2100 "
                                    "ORDER BY ligne LIMIT 20").fetchall():
            problems.append(Problem(name, ligne, header[i_year], "année attendue (4 chiffres)"))
    for ligne, s in con.execute(f"""
            SELECT ligne, siret FROM stg_lines
            WHERE NOT regexp_full_match(siret, '[0-9]{{14}}') OR NOT {_luhn_sql('siret')}
            ORDER BY ligne LIMIT 50""").fetchall():
        why = "14 chiffres attendus" if not re.fullmatch(r"\d{14}", s) else "clé de contrôle (Luhn) invalide"
        problems.append(Problem(name, ligne, header[i_siret], f"SIRET « {s[:20]} » invalide : {why}"))
    for ligne, code in con.execute("""
            SELECT ligne, naf_code FROM stg_lines n
            WHERE NOT EXISTS (SELECT 1 FROM ref_naf r WHERE r.sous_classe = n.naf_code) ORDER BY ligne LIMIT 50""").fetchall():
        problems.append(Problem(name, ligne, header[i_naf], f"code NAF « {code[:12]} » inconnu de la NAF rév. 2 et de la NAF 2025"))
    nomenclature, mixed = single_nomenclature(con, "stg_lines", "naf_code", name, header[i_naf], hint)
    problems.extend(mixed)
    for ligne, code in con.execute("""
            SELECT ligne, commune FROM stg_lines
            WHERE NOT regexp_full_match(commune, '[0-9]{5}|2[AB][0-9]{3}') AND commune NOT LIKE 'X%'
            ORDER BY ligne LIMIT 20""").fetchall():
        problems.append(Problem(name, ligne, header[i_com], f"code commune INSEE attendu (5 caractères), trouvé « {code[:20]} »"))
    for ligne, variable, texte in con.execute(f"""
            SELECT ligne, variable, texte FROM stg_amounts
            WHERE trim(texte) <> '' AND ({sql_number('texte')} IS NULL OR {sql_number('texte')} < 0)
            ORDER BY ligne LIMIT 50""").fetchall():
        problems.append(Problem(name, ligne, variable, f"montant positif attendu, trouvé « {texte[:40]} »"))
    # Workforce band: a Sirene code ('11') or a label ('10 à 19 salariés', '0 salarié', 'NN'); read once per distinct text.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE stg_bands AS
        SELECT tranche_txt,
               CASE WHEN lower(tranche_txt) IN (SELECT lower(libelle) FROM ref_tranches) THEN
                        (SELECT min(code) FROM ref_tranches t WHERE lower(t.libelle) = lower(tranche_txt))
                    WHEN regexp_full_match(tranche_txt, '[0-9]{1,2}') THEN
                        (SELECT code FROM ref_tranches t WHERE t.code = lpad(tranche_txt, 2, '0'))
                    WHEN upper(tranche_txt) IN ('NN', 'NON EMPLOYEUR', 'NON EMPLOYEUSE') THEN 'NN'
                    WHEN regexp_matches(lower(tranche_txt), '^0\\s*salari') THEN '00'
                    ELSE (SELECT code FROM ref_tranches t WHERE t.code NOT IN ('00', 'NN') AND t.borne_min =
                          TRY_CAST(regexp_extract(regexp_replace(tranche_txt, '[\\s\u00a0\u202f]', '', 'g'), '^(\\d+)', 1) AS INTEGER))
               END AS tranche_effectif
        FROM (SELECT DISTINCT tranche_txt FROM stg_lines)
    """)
    unknown_bands = con.execute("SELECT count(*) FROM stg_lines JOIN stg_bands USING (tranche_txt) "
                                "WHERE tranche_effectif IS NULL AND tranche_txt <> ''").fetchall()[0][0]
    if unknown_bands:
        problems.append(Problem(name, None, header[i_tr] if i_tr is not None else None,
                                f"{unknown_bands} ligne(s) avec une tranche d'effectif non reconnue : tranche laissée vide", grave=False))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_firms AS
        SELECT a.ligne, l.siret, l.siren, l.raison_sociale, l.naf_code, l.commune, b.tranche_effectif, a.annee,
               CASE WHEN trim(a.texte) = '' THEN NULL ELSE {sql_number('a.texte')} * a.facteur END AS ca_eur
        FROM stg_amounts a JOIN stg_lines l USING (ligne) JOIN stg_bands b USING (tranche_txt)
    """)
    for first, second, siret, annee in con.execute("""
            SELECT min(ligne), max(ligne), siret, annee FROM stg_firms WHERE ca_eur IS NOT NULL
            GROUP BY siret, annee HAVING count(*) > 1 ORDER BY 2 LIMIT 20""").fetchall():
        problems.append(Problem(name, second, header[i_siret], f"doublon : le SIRET {siret} a déjà un chiffre d'affaires {annee} ligne {first}"))
    years = [r[0] for r in con.execute("SELECT DISTINCT annee FROM stg_firms WHERE annee IS NOT NULL ORDER BY 1").fetchall()]
    millesime = year_from_name(path) or (str(max(years)) if years else None)
    return Staged(KIND, LIBELLE, PRODUCTEUR, LICENCE, millesime, n, firms_table="stg_firms", problems=problems,
                  nomenclature=nomenclature)
