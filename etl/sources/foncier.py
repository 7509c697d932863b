"""Inventories of economic zones in the CNIG « Sites économiques » standard (v2024-10).

The standard is a data package of four tables: `pole-eco` (poles), `site-eco` (sites, the ZAE
of the loi Climat et résilience art. 220), `terrain-eco` (land units of a site) and
`etablissement` (establishments on the land units). A file is one table as CSV (any of the four,
recognised by its header) or a zip holding several (a data package, with or without its
datapackage.json); an EPCI's inventory or a regional consolidation covering several EPCI.

Every table is validated against its published Table Schema (data/reference/cnig_sites_economiques/,
copies of the CNIG files) with frictionless; each refusal names the file, the line, the field and
the rule, in French. The published site-eco and terrain-eco schemas put some lists of values
beside the field's constraints, where Table Schema validators do not look (the CNIG's own valid
example uses a value outside one of them): those lists give soft problems, not refusals.

Sites are placed in their commune by `site_comm_insee` (merged communes mapped to the commune
nouvelle), hence in the EPCI, TI and département of the reference; a `site_epci_siren` that
disagrees with the reference is reported. A site outside the perimeter is ignored; a file with
none in it is refused. An identifier repeated within a table is refused (the schemas' primary keys).
Across files, each row keeps its own vintage (its `*_actu_date`): a newer row replaces the one
loaded before for the same identifier, an older one loaded later is ignored and reported.

Rows go to their own tables (foncier_poles, foncier_sites, foncier_terrains,
foncier_etablissements), not to `facts`: indicators/foncier_query.py reads them.
"""
from __future__ import annotations

import csv
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..base import REFERENCE_DIR
from ..lineage import FileReport, departements_label, next_source_id, record
from ..readers import MAX_REPORTED, is_zip, open_zip, sniff_encoding
from ..validate import LoadError, Problem, refuse
from .common import Staged

KIND = "sites_economiques"
LIBELLE = "Inventaire des zones d'activités économiques (standard CNIG « Sites économiques »)"
PRODUCTEUR = "EPCI (inventaire des ZAE, loi Climat et résilience art. 220)"
LICENCE = "Licence Ouverte 2.0 (Etalab)"
SCHEMA_DIR = REFERENCE_DIR / "cnig_sites_economiques"
TABLES = ("pole-eco", "site-eco", "terrain-eco", "etablissement")
# Identifier and vintage column of each table.
KEYS = {"pole-eco": ("pole_id", "pole_actu_date"), "site-eco": ("site_id", "site_actu_date"),
        "terrain-eco": ("terr_id", "terr_actu_date"), "etablissement": ("SIRET", "etab_actu_date")}
TABLE_LABELS = {"pole-eco": "pôles économiques", "site-eco": "sites économiques", "terrain-eco": "terrains économiques",
                "etablissement": "établissements"}
MAX_ZIP_BYTES = 200 * 1024**2       # a zipped package once inflated
MAX_ZIP_MEMBERS = 1_000             # files in a zipped package (four tables, datapackage.json, a few documents)
MAX_TABLE_BYTES = 100 * 1024**2     # one table

DDL = """
CREATE TABLE IF NOT EXISTS foncier_poles (
    source_id INTEGER NOT NULL, ligne INTEGER, pole_id VARCHAR NOT NULL, nom VARCHAR, vocadomi VARCHAR,
    surface_ha DOUBLE, nb_site DOUBLE, nb_etab DOUBLE, nb_emploi DOUBLE, actu_date DATE
);
CREATE TABLE IF NOT EXISTS foncier_sites (
    source_id INTEGER NOT NULL, ligne INTEGER,
    site_id VARCHAR NOT NULL, pole_id VARCHAR, nom VARCHAR NOT NULL, type VARCHAR, vocadomi VARCHAR, etat VARCHAR,
    surf_brute_ha DOUBLE, surf_utile_ha DOUBLE, identif_date DATE, actu_date DATE NOT NULL,
    producteur VARCHAR, epci_siren_fichier VARCHAR, commune_fichier VARCHAR,
    commune VARCHAR NOT NULL,       -- current INSEE code (reference), the site's place
    moa_type VARCHAR, uf_nbre DOUBLE, uf_vacant_nbre DOUBLE, taux_vacance DOUBLE, uf_bati_nbre DOUBLE,
    nb_etab DOUBLE, nb_emploi DOUBLE, lon DOUBLE, lat DOUBLE,
    surf_comm_dispo_ha DOUBLE, surf_projet_ha DOUBLE, voca_industrielle BOOLEAN, url VARCHAR
);
CREATE TABLE IF NOT EXISTS foncier_terrains (
    source_id INTEGER NOT NULL, ligne INTEGER, terr_id VARCHAR NOT NULL, site_id VARCHAR NOT NULL,
    surf_brute_ha DOUBLE, utile BOOLEAN, actu_date DATE NOT NULL, maitrise_fonc VARCHAR, stade_amngt VARCHAR,
    stade_comm VARCHAR, etat_occup VARCHAR, usage VARCHAR, cle_en_main BOOLEAN, cession_date DATE,
    vente_montant DOUBLE, m2_prix DOUBLE
);
CREATE TABLE IF NOT EXISTS foncier_etablissements (
    source_id INTEGER NOT NULL, ligne INTEGER, siret VARCHAR NOT NULL, siren VARCHAR, terr_ids VARCHAR[],
    commune VARCHAR, epci_siren_fichier VARCHAR, actif BOOLEAN, activite_code VARCHAR, effectif_code VARCHAR,
    actu_date DATE NOT NULL
);
"""
# Warehouse table of each CNIG table.
WAREHOUSE_TABLES = {"pole-eco": "foncier_poles", "site-eco": "foncier_sites", "terrain-eco": "foncier_terrains",
                    "etablissement": "foncier_etablissements"}
_WAREHOUSE_KEY = {"pole-eco": "pole_id", "site-eco": "site_id", "terrain-eco": "terr_id", "etablissement": "siret"}

_TYPE_FR = {"number": "un nombre (point décimal, par exemple 37.2)", "integer": "un nombre entier",
            "date": "une date", "geojson": "une géométrie GeoJSON", "geopoint": "un point « longitude, latitude »",
            "string": "un texte", "boolean": "oui ou non", "year": "une année"}


# --- schemas ---------------------------------------------------------------------------------------

_SCHEMAS: dict[str, dict] = {}


def schema_descriptor(table: str) -> dict:
    """The published Table Schema of a CNIG table (a copy in data/reference)."""
    if table not in _SCHEMAS:
        _SCHEMAS[table] = json.loads((SCHEMA_DIR / f"{table}.schema.json").read_text(encoding="utf-8"))
    return _SCHEMAS[table]


def field_names(table: str) -> list[str]:
    return [f["name"] for f in schema_descriptor(table)["fields"]]


def field_description(table: str, name: str) -> str:
    """The standard's own description of a field (used for the indicators' definitions)."""
    for f in schema_descriptor(table)["fields"]:
        if f["name"] == name:
            return f.get("description", "").strip()
    raise KeyError(name)


# Identifier and prefix of each table's own fields (a header is recognised even with columns missing).
_PROBES = (("site-eco", "site_id", "site_"), ("terrain-eco", "terr_id", "terr_"), ("etablissement", "SIRET", "etab_"),
           ("pole-eco", "pole_id", "pole_"))


def table_of(header: list[str]) -> str | None:
    """Which CNIG table a header is: its identifier and at least three of its own fields."""
    h = {c.strip().lstrip("\ufeff") for c in header}
    for table, key, prefix in _PROBES:
        own = {n for n in field_names(table) if n.startswith(prefix)}
        if key in h and len(own & h) >= 3:
            return table
    return None


def detect(header: list[str]) -> bool:
    return table_of(header) is not None


def is_package(path: Path) -> bool:
    """A zip holding at least one CNIG table (or a datapackage.json naming one). Any zip is checked first
    (readers.open_zip: number of files, inflated size, names), its refusal is the file's."""
    try:
        with open_zip(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
            if any(Path(n).name == "datapackage.json" for n in names):
                return True
            for n in names:
                if n.lower().endswith(".csv"):
                    with z.open(n) as f:
                        if table_of(_header_of(f.read(64 * 1024))):
                            return True
    except (zipfile.BadZipFile, OSError, KeyError):
        return False
    return False


def _header_of(raw: bytes) -> list[str]:
    text = raw.decode("utf-8-sig", errors="replace").partition("\n")[0].rstrip("\r")
    delim = ";" if text.count(";") >= text.count(",") else ","
    return next(csv.reader([text], delimiter=delim), [])


# --- reading ---------------------------------------------------------------------------------------

@dataclass
class _Table:
    table: str
    name: str            # file name shown in problems (« archive.zip/site-eco.csv »)
    path: Path           # UTF-8 copy or the file itself
    delimiter: str
    header: list[str]


def _prepare(path: Path, name: str, tmp: Path, n: int = 0) -> _Table | None:
    """A table file ready for the validator: UTF-8, its delimiter, its header. None: not a CNIG table."""
    raw = path.read_bytes()
    if len(raw) > MAX_TABLE_BYTES:
        refuse(name, f"table de {len(raw) // 1024**2} Mo, au-delà de la limite de {MAX_TABLE_BYTES // 1024**2} Mo")
    encoding = sniff_encoding(path)
    if encoding == "utf-16":
        refuse(name, "encodage UTF-16 : enregistrez la table en UTF-8 (format demandé par le standard)")
    text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    first = text.partition("\n")[0].rstrip("\r")
    if not first.strip():
        refuse(name, "la première ligne (en-tête) est vide", 1)
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=counts.get)
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    table = table_of(header)
    if table is None:
        return None
    out = tmp / f"{n}-{table}.csv"
    out.write_text(text, encoding="utf-8", newline="")
    return _Table(table, name, out, delimiter, header)


def _tables(path: Path, tmp: Path) -> list[_Table]:
    """The CNIG tables of a file: one CSV, or the CSV members of a zip (checked before inflating)."""
    if not is_zip(path):
        t = _prepare(path, path.name, tmp)
        if t is None:
            refuse(path, "en-tête non reconnu comme une table du standard CNIG « Sites économiques »", 1)
        return [t]
    try:
        with open_zip(path, MAX_ZIP_MEMBERS, MAX_ZIP_BYTES) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            out = []
            for info in infos:
                if not info.filename.lower().endswith(".csv"):
                    continue
                member = tmp / f"membre-{len(out)}.csv"
                with z.open(info) as src:
                    member.write_bytes(src.read(MAX_TABLE_BYTES + 1))
                t = _prepare(member, f"{path.name}/{info.filename}", tmp, len(out))
                if t is not None:
                    out.append(t)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
        refuse(path, "archive zip illisible ou endommagée")
    if not out:
        refuse(path, "l'archive ne contient aucune table CSV du standard CNIG « Sites économiques » "
                     f"({', '.join(TABLES)})")
    seen: dict[str, str] = {}
    for t in out:
        if t.table in seen:
            refuse(path, f"deux tables « {t.table} » dans l'archive ({seen[t.table]} et {t.name})")
        seen[t.table] = t.name
    return sorted(out, key=lambda t: TABLES.index(t.table))


# --- validation ------------------------------------------------------------------------------------

def _rule(note: str) -> tuple[str, str]:
    """(rule, value) from a frictionless note: « constraint "enum" is "['oui', 'non']" »."""
    m = re.match(r'constraint "(\w+)" is "(.*)"$', note or "", re.S)
    return (m.group(1), m.group(2)) if m else ("", note or "")


def _french(error, t: _Table) -> Problem:
    """One frictionless error as a French problem naming the file, the line, the field and the rule."""
    kind = error.type
    ligne = getattr(error, "row_number", None)
    fld = getattr(error, "field_name", None)
    cell = str(getattr(error, "cell", "") or "")[:60]
    if kind == "type-error":
        fdesc = next((f for f in schema_descriptor(t.table)["fields"] if f["name"] == fld), {})
        ftype, fformat = fdesc.get("type", ""), fdesc.get("format", "default")
        if ftype == "date":
            expected = "une année sur 4 chiffres (AAAA)" if fformat == "%Y" else "une date au format AAAA-MM-JJ"
        else:
            expected = _TYPE_FR.get(ftype, ftype)
        msg = f"valeur « {cell} » : {expected} attendu{'e' if expected.startswith('une') else ''} (règle « type » : {ftype}" \
              + (f", format {fformat}" if fformat and fformat != "default" else "") + ")"
    elif kind == "constraint-error":
        rule, value = _rule(error.note)
        if rule == "required":
            msg = "valeur obligatoire manquante (règle « required »)"
        elif rule == "enum":
            msg = f"valeur « {cell} » hors de la liste autorisée (règle « enum » : {value.strip('[]').replace(chr(39), '')})"
        elif rule == "pattern":
            msg = f"valeur « {cell} » non conforme au motif attendu (règle « pattern » : {value})"
        else:
            msg = f"valeur « {cell} » contraire à la règle « {rule} » ({value})"
    elif kind in ("primary-key", "unique-error"):
        key = KEYS[t.table][0]
        first = re.search(r"position (\d+)", error.note or "")
        msg = "identifiant « {} » en double{} (règle « primaryKey » : un identifiant par ligne)".format(
            getattr(error, "cells", [""])[0] if getattr(error, "cells", None) else "",
            f", déjà ligne {first.group(1)}" if first else "")
        fld = key
    elif kind == "missing-cell":
        msg = "la ligne a moins de colonnes que l'en-tête (cellule manquante)"
    elif kind == "extra-cell":
        msg = "la ligne a plus de colonnes que l'en-tête (cellule en trop)"
    elif kind == "blank-row":
        msg = "ligne vide"
    elif kind in ("duplicate-label", "blank-label", "incorrect-label", "missing-label", "extra-label"):
        msg = f"en-tête : colonne « {getattr(error, 'label', '') or fld or ''} » ({kind})"
        ligne = 1
    else:
        msg = f"non conforme au schéma ({kind} : {(error.note or error.message)[:120]})"
    return Problem(t.name, ligne, fld, msg)


def _validate(t: _Table) -> list[Problem]:
    """Hard problems of a table against its published schema (frictionless 5)."""
    from frictionless import Resource, Schema, formats

    from .geojson_field import register

    register()

    names = set(t.header)
    required = [f["name"] for f in schema_descriptor(t.table)["fields"] if f.get("constraints", {}).get("required")]
    missing = [n for n in required if n not in names]
    if missing:
        return [Problem(t.name, 1, n, "colonne obligatoire du standard absente de l'en-tête (règle « required »)")
                for n in missing[:MAX_REPORTED]]
    dupes = sorted({h for h in t.header if t.header.count(h) > 1})
    if dupes:
        return [Problem(t.name, 1, h, "colonne en double dans l'en-tête") for h in dupes]
    # Columns matched by name, in any order; optional ones may be left out (required ones are checked above).
    schema = Schema.from_descriptor({**schema_descriptor(t.table), "fieldsMatch": "partial"})
    resource = Resource(path=t.path.name, basepath=str(t.path.parent), schema=schema, encoding="utf-8", format="csv",
                        control=formats.CsvControl(delimiter=t.delimiter))
    report = resource.validate(limit_errors=10 * MAX_REPORTED)
    problems, seen_rows = [], set()
    for task in report.tasks:
        for error in task.errors:
            if error.type == "missing-cell":     # one problem per short line, not one per missing cell
                if error.row_number in seen_rows:
                    continue
                seen_rows.add(error.row_number)
            if error.type == "constraint-error" and error.row_number in seen_rows:
                continue                          # the short line's missing required cells: already said
            problems.append(_french(error, t))
            if len(problems) >= MAX_REPORTED:
                return problems
    return problems


def _soft_enums(t: _Table, df: pd.DataFrame) -> list[Problem]:
    """Lists of values the published schema puts beside the constraints: reported, not refused."""
    out = []
    for f in schema_descriptor(t.table)["fields"]:
        if "enum" not in f or f["name"] not in df:
            continue
        allowed = set(f["enum"])
        bad = df[df[f["name"]].notna() & ~df[f["name"]].isin(allowed)]
        if len(bad):
            r = bad.iloc[0]
            out.append(Problem(t.name, int(r["ligne"]), f["name"],
                               f"{len(bad)} valeur(s) hors de la liste du standard (par exemple « {str(r[f['name']])[:40]} » ; "
                               f"liste : {' ; '.join(f['enum'][:6])}{' ; …' if len(f['enum']) > 6 else ''}) : gardée(s)",
                               grave=False))
    return out


# --- parsing (after validation: every cell is known to be well formed) -------------------------

def _read(t: _Table) -> pd.DataFrame:
    with open(t.path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=t.delimiter))
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    lines = [i + 2 for i, r in enumerate(rows[1:]) if any(c.strip() for c in r)]
    df = pd.DataFrame([[c.strip() for c in r] + [""] * (len(header) - len(r)) for r in body], columns=header, dtype=object)
    df = df.replace({"": None, "NA": None, "NaN": None, "N/A": None})
    df.insert(0, "ligne", lines)
    return df


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype(float)


def _date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").dt.date


def _bool(s: pd.Series) -> pd.Series:
    return s.map({"oui": True, "non": False}).astype(object).where(s.notna(), None)


def _geopoint(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """« lon, lat » (Table Schema geopoint, default format) -> two floats."""
    parts = s.fillna("").str.split(",", n=1, expand=True).reindex(columns=[0, 1])
    lon, lat = _num(parts[0].str.strip()), _num(parts[1].str.strip())
    ok = lon.between(-180, 180) & lat.between(-90, 90)
    return lon.where(ok), lat.where(ok)


def _frame(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """A CNIG table -> the columns of its warehouse table (before placement)."""
    g = df.get
    none = pd.Series([None] * len(df), index=df.index, dtype=object)
    col = lambda name: g(name, none)  # noqa: E731
    if table == "pole-eco":
        return pd.DataFrame({"ligne": df.ligne, "pole_id": col("pole_id"), "nom": col("pole_nom"),
                             "vocadomi": col("pole_vocadomi"), "surface_ha": _num(col("pole_surface")),
                             "nb_site": _num(col("pole_nb_site")), "nb_etab": _num(col("pole_nb_etab")),
                             "nb_emploi": _num(col("pole_nb_emploi")),
                             "actu_date": _date(col("pole_actu_date").fillna(col("pole_identif_date")))})
    if table == "site-eco":
        lon, lat = _geopoint(col("site_geompoint"))
        return pd.DataFrame({
            "ligne": df.ligne, "site_id": col("site_id"), "pole_id": col("pole_id"), "nom": col("site_nom"),
            "type": col("site_type"), "vocadomi": col("site_vocadomi"), "etat": col("site_etat"),
            "surf_brute_ha": _num(col("site_surf_brute")), "surf_utile_ha": _num(col("site_surf_utile")),
            "identif_date": _date(col("site_identif_date")), "actu_date": _date(col("site_actu_date")),
            "producteur": col("source_producteur"), "epci_siren_fichier": col("site_epci_siren"),
            "commune_fichier": col("site_comm_insee"), "moa_type": col("site_moa_type"),
            "uf_nbre": _num(col("site_uf_nbre")), "uf_vacant_nbre": _num(col("site_uf_vacant_nbre")),
            "taux_vacance": _num(col("site_taux_vacance")), "uf_bati_nbre": _num(col("site_uf_bati_nbre")),
            "nb_etab": _num(col("site_nb_etab")), "nb_emploi": _num(col("site_nb_emploi")), "lon": lon, "lat": lat,
            "surf_comm_dispo_ha": _num(col("site_surf_comm_dispo")), "surf_projet_ha": _num(col("site_surf_projet")),
            "voca_industrielle": _bool(col("site_voca_industrielle")), "url": col("site_url")})
    if table == "terrain-eco":
        return pd.DataFrame({
            "ligne": df.ligne, "terr_id": col("terr_id"), "site_id": col("site_id"),
            "surf_brute_ha": _num(col("terr_surf_brute")), "utile": _bool(col("terr_utile")),
            "actu_date": _date(col("terr_actu_date")), "maitrise_fonc": col("terr_maitrise_fonc"),
            "stade_amngt": col("terr_stade_amngt"), "stade_comm": col("terr_stade_comm"),
            "etat_occup": col("terr_etat_occup"), "usage": col("terr_usage"), "cle_en_main": _bool(col("terr_cle_en_main")),
            "cession_date": _date(col("terr_cession_date")), "vente_montant": _num(col("terr_vente_montant")),
            "m2_prix": _num(col("terr_m2_prix"))})
    return pd.DataFrame({
        "ligne": df.ligne, "siret": col("SIRET"), "siren": col("SIREN"),
        "terr_ids": [[x.strip() for x in v.split("|") if x.strip()] if isinstance(v, str) else [] for v in col("terr_id")],
        "commune_fichier": col("comm_insee"), "epci_siren_fichier": col("epci_siren"), "actif": _bool(col("etab_actif")),
        "activite_code": col("etab_activite_code"), "effectif_code": col("etab_effectif_code"),
        "actu_date": _date(col("etab_actu_date"))})


# --- staging ---------------------------------------------------------------------------------------

@dataclass
class FoncierStaged(Staged):
    """Staged CNIG tables: `etl.load` hands them their own tables through `apply`."""
    frames: dict | None = None        # CNIG table -> DataFrame of its warehouse columns
    names: dict | None = None         # CNIG table -> file name shown in problems

    def apply(self, con: duckdb.DuckDBPyConnection, path: Path, sha: str, demo: bool):
        return _apply(self, con, Path(path), sha, demo)


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    path = Path(path)
    problems: list[Problem] = []
    frames, names = {}, {}
    with tempfile.TemporaryDirectory(prefix="etl-cnig-") as tmp:
        tables = _tables(path, Path(tmp))
        hard = []
        for t in tables:
            hard += _validate(t)
        if hard:
            raise LoadError(hard[:MAX_REPORTED])
        for t in tables:
            df = _read(t)
            if df.empty:        # a table left empty (header only): nothing to take from it
                continue
            problems += _soft_enums(t, df)
            frames[t.table], names[t.table] = _frame(t.table, df), t.name
    n = sum(len(f) for f in frames.values())
    if n == 0:
        refuse(path, "le fichier ne contient aucune ligne de données (seulement l'en-tête)")
    if "site-eco" in frames:
        s = frames["site-eco"]
        bad = s[~s.commune_fichier.fillna("").str.fullmatch(r"[0-9]{5}|2[AB][0-9]{3}")]
        for r in bad.head(MAX_REPORTED).itertuples():
            problems.append(Problem(names["site-eco"], int(r.ligne), "site_comm_insee",
                                    f"code commune INSEE attendu (5 caractères), trouvé « {str(r.commune_fichier)[:20]} »"))
    dates = pd.concat([pd.Series(f.actu_date) for f in frames.values()]).dropna()
    millesime = max(dates).isoformat() if len(dates) else None
    return FoncierStaged(KIND, LIBELLE, PRODUCTEUR, LICENCE, millesime, n, problems=problems, frames=frames, names=names)


def _place(con, frame: pd.DataFrame, name: str, problems: list[Problem], code_field: str) -> pd.DataFrame:
    """Current commune of each row (merged communes mapped), None outside the warehouse's communes."""
    con.register("stg_cnig_codes", pd.DataFrame({"code": frame.commune_fichier.astype(object).unique()}))
    try:
        mapping = dict(con.execute("""
            SELECT k.code, coalesce(r.code, c.nouveau_code) FROM stg_cnig_codes k
            LEFT JOIN ref_communes r ON r.code = k.code
            LEFT JOIN (SELECT ancien_code, min(nouveau_code) AS nouveau_code FROM ref_communes_changements
                       WHERE nouveau_code IN (SELECT code FROM ref_communes) GROUP BY ALL) c ON c.ancien_code = k.code""").fetchall())
    finally:
        con.unregister("stg_cnig_codes")
    out = frame.copy()
    out["commune"] = out.commune_fichier.map(mapping)
    merged = out[out.commune.notna() & (out.commune != out.commune_fichier)]
    if len(merged):
        problems.append(Problem(name, None, code_field, f"{merged.commune_fichier.nunique()} code(s) de communes fusionnées "
                                "rattaché(s) à leur commune nouvelle (table des changements du COG)", grave=False))
    return out


def _apply(st: FoncierStaged, con: duckdb.DuckDBPyConnection, path: Path, sha: str, demo: bool):
    con.execute(DDL)
    name = path.name
    report = FileReport(name, KIND, "chargé", st.lignes_lues, problems=list(st.problems))
    frames = {k: v.copy() for k, v in st.frames.items()}
    names = st.names
    sid = next_source_id(con)
    kept = {}
    if "site-eco" in frames:
        s = _place(con, frames["site-eco"], names["site-eco"], report.problems, "site_comm_insee")
        outside = s[s.commune.isna()]
        if len(outside):
            report.problems.append(Problem(names["site-eco"], None, "site_comm_insee",
                                           f"{len(outside)} site(s) de {outside.commune_fichier.nunique()} commune(s) hors du "
                                           "périmètre du tableau de bord : ignoré(s)", grave=False))
        s = s[s.commune.notna()]
        # The EPCI named by the file against the commune's EPCI in the reference (the reference places the site).
        if len(s):
            con.register("stg_cnig_s", s[["ligne", "site_id", "commune", "epci_siren_fichier"]])
            try:
                for ligne, sid_, given, ref in con.execute("""
                        SELECT s.ligne, s.site_id, s.epci_siren_fichier, r.epci_siren FROM stg_cnig_s s
                        JOIN ref_communes r ON r.code = s.commune
                        WHERE s.epci_siren_fichier IS DISTINCT FROM r.epci_siren ORDER BY s.ligne LIMIT 20""").fetchall():
                    report.problems.append(Problem(names["site-eco"], int(ligne), "site_epci_siren",
                                                   f"site {sid_} : EPCI {given} dans le fichier, la commune appartient à l'EPCI "
                                                   f"{ref} d'après le référentiel : site rattaché à celui-ci", grave=False))
            finally:
                con.unregister("stg_cnig_s")
        kept["site-eco"] = s
    if "etablissement" in frames:
        e = _place(con, frames["etablissement"], names["etablissement"], report.problems, "comm_insee")
        kept["etablissement"] = e[e.commune.notna()]
    if "pole-eco" in frames:
        kept["pole-eco"] = frames["pole-eco"]
    if "terrain-eco" in frames:
        t = frames["terrain-eco"]
        known = set(kept.get("site-eco", pd.DataFrame({"site_id": []})).site_id) | \
            {r[0] for r in con.execute("SELECT site_id FROM foncier_sites").fetchall()}
        orphan = t[~t.site_id.isin(known)]
        if len(orphan):
            report.problems.append(Problem(names["terrain-eco"], int(orphan.ligne.iat[0]), "site_id",
                                           f"{len(orphan)} terrain(s) rattaché(s) à un site absent de l'entrepôt et du fichier "
                                           f"(par exemple « {orphan.site_id.iat[0][:40]} ») ou hors du périmètre : ignoré(s)",
                                           grave=False))
        kept["terrain-eco"] = t[t.site_id.isin(known)]
    placed = [k for k in frames if k != "pole-eco" and len(frames[k])]   # a file of poles alone has no place to check
    if placed and not any(len(kept[k]) for k in placed):
        given = pd.concat([f.commune_fichier for k, f in frames.items() if k in ("site-eco", "etablissement")]) \
            if any(k in frames for k in ("site-eco", "etablissement")) else pd.Series([], dtype=object)
        deps = sorted({c[:3] if c.startswith("97") else c[:2] for c in given.dropna().astype(str)})
        raise LoadError([Problem(name, None, None, "aucun site ni terrain du fichier ne concerne le périmètre du tableau de "
                                 "bord (communes des EPCI du territoire et des départements de référence)"
                                 + (f" : le fichier porte sur le(s) département(s) {', '.join(deps[:20])}" if deps else ""))])
    # Each row keeps its own vintage: a newer row replaces the same identifier, an older one is ignored.
    for table, frame in kept.items():
        wt, key = WAREHOUSE_TABLES[table], _WAREHOUSE_KEY[table]
        if not len(frame):
            continue
        cols = [c for c in con.execute(f"SELECT * FROM {wt} LIMIT 0").df().columns if c != "source_id"]
        frame = frame.reindex(columns=cols)
        con.register("stg_cnig", frame)
        try:
            older = con.execute(f"""
                SELECT count(*), min(n.{key}), max(w.actu_date) FROM stg_cnig n JOIN {wt} w ON w.{key} = n.{key}
                WHERE w.actu_date > n.actu_date""").fetchall()[0]
            if older[0]:
                report.problems.append(Problem(names[table], None, KEYS[table][1],
                                               f"{older[0]} {TABLE_LABELS[table]} déjà chargé(s) avec une actualisation plus "
                                               f"récente (par exemple « {older[1][:40]} », actualisé le {older[2]:%d/%m/%Y}) : "
                                               "ligne(s) du fichier ignorée(s)", grave=False))
            con.execute(f"""DELETE FROM {wt} w USING stg_cnig n WHERE w.{key} = n.{key} AND w.actu_date <= n.actu_date""")
            con.execute(f"""INSERT INTO {wt} SELECT ?, n.* FROM stg_cnig n
                            WHERE NOT EXISTS (SELECT 1 FROM {wt} w WHERE w.{key} = n.{key})""", [sid])
        finally:
            con.unregister("stg_cnig")
    report.lignes_gardees = sum(con.execute(f"SELECT count(*) FROM {wt} WHERE source_id = ?", [sid]).fetchall()[0][0]
                                for wt in WAREHOUSE_TABLES.values())
    dates = pd.concat([pd.Series(f.actu_date) for f in kept.values() if len(f)]).dropna()
    years = sorted({d.year for d in dates})
    annees = None if not years else (str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}")
    if len(years) > 1:
        report.problems.append(Problem(name, None, None, f"lignes actualisées à des dates différentes ({years[0]} à {years[-1]}) : "
                                       "chaque site et terrain garde sa date d'actualisation", grave=False))
    communes = pd.concat([kept[k].commune for k in ("site-eco", "etablissement") if k in kept and len(kept[k])]) \
        if any(k in kept and len(kept[k]) for k in ("site-eco", "etablissement")) else pd.Series([], dtype=object)
    con.register("stg_cnig_communes", pd.DataFrame({"code": communes.astype(str).unique()}))
    try:
        couverture = departements_label(con, "SELECT code FROM stg_cnig_communes")
        con.execute("INSERT INTO source_couverture SELECT DISTINCT ?, code FROM stg_cnig_communes", [sid])
    finally:
        con.unregister("stg_cnig_communes")
    libelle = st.libelle + (" (données de démonstration)" if demo else "")
    record(con, sid, KIND, libelle, name, sha, st.millesime, annees, st.producteur, st.licence, couverture, demo,
           report.lignes_lues, report.lignes_gardees, report.problems)
    # Inventories whose every row was replaced by newer ones leave the lineage.
    con.execute(f"""DELETE FROM sources s WHERE kind = ? AND source_id <> ? AND NOT EXISTS (
                        {' UNION ALL '.join(f'SELECT 1 FROM {wt} x WHERE x.source_id = s.source_id' for wt in WAREHOUSE_TABLES.values())})""",
                [KIND, sid])
    con.execute("DELETE FROM source_couverture WHERE source_id NOT IN (SELECT source_id FROM sources)")
    con.execute("DELETE FROM problemes WHERE source_id NOT IN (SELECT source_id FROM sources)")
    report.mesures = frozenset()
    return report


__all__ = ["KIND", "TABLES", "detect", "stage", "is_package", "field_names", "field_description", "schema_descriptor"]
