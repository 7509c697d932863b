"""Generator of the bad input corpus (and of valid carrier files) for the ETL reliability tests.

Every file is written into a directory given by the caller (a temporary one in the
tests), so nothing large is committed. The three published layouts the loaders read
are the carriers: INSEE base comparateur (CSV), URSSAF commune x APE (CSV) and a
chamber export (CSV or xlsx).

    python tests/bad_inputs.py OUTPUT_DIR     # writes the corpus and lists it

`CASES` says, for each file, whether the ETL must load it or refuse it, and where
(line, column) the refusal must point.
"""
from __future__ import annotations

import csv
import io
import json
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "data" / "reference"
if str(REPO) not in sys.path:  # also run as a script: python tests/bad_inputs.py OUT
    sys.path.insert(0, str(REPO))
from etl.validate import luhn_complete  # noqa: E402

URSSAF_HEADER = ["Code commune", "Nom commune", "Code APE", "Nombre d'établissements 2023", "Effectifs salariés 2023",
                 "Nombre d'établissements 2024", "Effectifs salariés 2024"]
BASE_HEADER = ["CODGEO", "LIBGEO", "P22_POP", "ETTOT23", "ETAZ23", "ETBE23"]
CHAMBER_HEADER = ["N° SIRET", "Raison sociale", "Code NAF", "Code commune INSEE", "Tranche effectif", "CA 2022 (k€)"]

# Text a hostile user may put in a cell: SQL fragments and spreadsheet-formula starters.
HOSTILE_TEXTS = [
    "Robert'); DROP TABLE facts; --",
    "x' OR '1'='1",
    "\"; DELETE FROM sources; --",
    "=HYPERLINK(\"http://example.invalid\",\"clic\")",
    "+33 4 92 00 00 00",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "Société « Œuvre » ’ € \u00a0 ; , \t tab",
]


@dataclass(frozen=True)
class Case:
    file: str                  # file name in the corpus directory
    expect: str                # "refuse" or "load"
    what: str                  # what the file is (French-free: for test ids and reports)
    ligne: int | None = None   # line the refusal must name
    colonne: str | None = None # column the refusal must name
    words: tuple[str, ...] = ()  # words the French message must contain (lower case)


CASES = [
    Case("empty.csv", "refuse", "empty file", words=("vide",)),
    Case("header_only.csv", "refuse", "header only (URSSAF)", ligne=2, words=("aucune ligne",)),
    Case("unknown_layout.csv", "refuse", "unknown layout", ligne=1, words=("non reconnu",)),
    Case("binary_garbage.csv", "refuse", "binary garbage", words=("binaire",)),
    Case("binary_garbage.xlsx", "refuse", "binary garbage named .xlsx", words=("xlsx",)),
    Case("csv_named.xlsx", "refuse", "a CSV named .xlsx", words=("xlsx",)),
    Case("xlsx_named.csv", "refuse", "an xlsx named .csv", words=("compress",)),
    Case("truncated.xlsx", "refuse", "truncated xlsx", words=("classeur",)),
    Case("zip_bomb.xlsx", "refuse", "zip bomb: sheet inflating to 1.1 GB", words=("décompress",)),
    Case("zip_bomb_lying.xlsx", "refuse", "zip bomb declaring a small size", words=("classeur",)),
    Case("entity_bomb.xlsx", "refuse", "XML entity expansion bomb", words=("entité",)),
    Case("huge_dimension.xlsx", "load", "xlsx declaring 16 384 columns x 1 048 576 rows (A1:XFD1048576)"),
    Case("formulas.xlsx", "refuse", "formula cells (chamber xlsx)", ligne=3, colonne="CA 2022 (k€)", words=("formule",)),
    Case("text_in_number.csv", "refuse", "text in a number column (URSSAF)", ligne=5,
         colonne="Effectifs salariés 2024", words=("nombre",)),
    Case("text_in_number_base.csv", "refuse", "text in a number column (base comparateur)", ligne=3,
         colonne="ETTOT23", words=("nombre",)),
    Case("negative_counts.csv", "refuse", "negative counts (URSSAF)", ligne=4,
         colonne="Nombre d'établissements 2023", words=("positif",)),
    Case("negative_ca.csv", "refuse", "negative turnover (chamber)", ligne=3, colonne="CA 2022 (k€)", words=("positif",)),
    Case("duplicate_keys.csv", "refuse", "duplicate commune x APE (URSSAF)", ligne=6, colonne="Code APE", words=("doublon",)),
    Case("duplicate_siret.csv", "refuse", "duplicate SIRET (chamber)", ligne=4, colonne="N° SIRET", words=("doublon",)),
    Case("duplicate_commune_base.csv", "refuse", "a commune line repeated (base comparateur)", ligne=8, colonne="CODGEO",
         words=("doublon", "lignes 3 et 8")),
    Case("populations_legales_2023.csv", "refuse", "a commune repeated (populations légales)", ligne=6, colonne="COM",
         words=("doublon",)),
    Case("malformed_commune.csv", "refuse", "malformed commune code", ligne=3, colonne="Code commune", words=("commune",)),
    Case("unknown_commune.csv", "load", "communes outside the perimeter are ignored with a remark",
         words=("hors du périmètre",)),
    Case("unknown_commune_base.csv", "load", "base comparateur: a code no commune has (99999) and an arrondissement "
         "municipal, each its own remark", words=("ligne 4, colonne « codgeo » : code commune « 99999 » inconnu",
                                                  "1 arrondissement(s) municipal(aux)")),
    Case("unknown_naf.csv", "refuse", "unknown NAF code (URSSAF)", ligne=4, colonne="Code APE", words=("inconnu",)),
    Case("unknown_naf_chamber.csv", "refuse", "unknown NAF code (chamber)", ligne=2, colonne="Code NAF", words=("inconnu",)),
    Case("invalid_siret.csv", "refuse", "invalid SIRET key", ligne=3, colonne="N° SIRET", words=("siret",)),
    Case("short_siret.csv", "refuse", "SIRET with 13 digits", ligne=2, colonne="N° SIRET", words=("14 chiffres",)),
    Case("long_line.csv", "refuse", "a 30 MB data line", ligne=3, words=("trop longue",)),
    Case("single_line.csv", "refuse", "a 30 MB file without any line break", ligne=1, words=("ko",)),
    # DuckDB drops a last line longer than its 32 MB buffer without a word, whatever max_line_size says.
    Case("long_last_line.csv", "refuse", "a 40 MB last line (URSSAF)", ligne=4, words=("trop longue", "1\u202f024 ko")),
    Case("huge_last_line.csv", "refuse", "a last line just over 2 GiB (chamber; sparse file, 2 GiB of zeros after "
         "300 KB of text)", ligne=3, words=("trop longue", "1\u202f024 ko")),
    Case("many_members.zip", "refuse", "a CNIG package of 200 000 tiny members", words=("200\u202f001 fichiers",
         "limite de 10\u202f000 fichiers")),
    Case("package_members.zip", "refuse", "a CNIG package of 1 001 members", words=("1\u202f001 fichiers",
         "limite de 1\u202f000 fichiers")),
    Case("climbing_member.zip", "refuse", "a CNIG package member named ../site-eco.csv",
         words=("« ../site-eco.csv »", "chemin")),
    Case("absolute_member.zip", "refuse", "a CNIG package member named /tmp/site-eco.csv",
         words=("« /tmp/site-eco.csv »", "chemin absolu")),
    Case("ragged.csv", "refuse", "a line with more columns than the header", ligne=4, words=("colonnes",)),
    Case("utf16.csv", "load", "URSSAF file in UTF-16 with BOM"),
    Case("cp1252.csv", "load", "chamber file in Windows-1252"),
    Case("hostile_text.csv", "load", "SQL fragments and = + - @ in text cells (chamber CSV)"),
    Case("hostile_text.xlsx", "load", "SQL fragments and = + - @ in text cells (chamber xlsx)"),
    Case("hostile_header.csv", "load", "SQL fragments in an unused header (base comparateur)", words=("ignorée",)),
    Case("hostile_codes.csv", "refuse", "SQL fragments in a code column", ligne=2, colonne="Code commune",
         words=("commune",)),
]


# --- reference data -------------------------------------------------------------------------------

def _reference() -> tuple[list[str], list[str]]:
    with open(REFERENCE / "communes.csv", encoding="utf-8", newline="") as f:
        communes = [r["code_insee"] for r in csv.DictReader(f)]
    with open(REFERENCE / "naf.csv", encoding="utf-8", newline="") as f:
        naf = [r["naf_sous_classe"] for r in csv.DictReader(f)]
    return communes, naf




def siret(i: int) -> str:
    """A valid SIRET (Luhn-valid SIREN and SIRET), distinct for each i."""
    siren = luhn_complete(f"{40_000_000 + i * 7919:08d}")
    return luhn_complete(siren + "0001")


# --- valid carriers -------------------------------------------------------------------------------

def urssaf_rows(n_communes: int | None = 12, apes_per_commune: int = 4) -> list[list[str]]:
    communes, naf = _reference()
    if n_communes is None:   # every commune the default warehouse holds demo data for (not all of France)
        from etl.perimeter import resolve
        held = resolve().core_communes
        communes = [c for c in communes if c in held]
    else:
        communes = [c for c in communes if c.startswith("05")][:n_communes]
    rows = []
    for i, c in enumerate(communes):
        for j in range(apes_per_commune):
            ape = naf[(i * 37 + j * 101) % len(naf)].replace(".", "")
            e = 1 + (i + j) % 9
            rows.append([c, f"Commune {c}", ape, str(e), str(3 * e + j), str(e + 1), str(3 * e + j + 2)])
    return rows


def chamber_rows(n: int = 12) -> list[list[str]]:
    communes, naf = _reference()
    c05 = [c for c in communes if c.startswith("05")]
    return [[siret(i), f"SARL Essai {i:03d}", naf[(i * 53) % len(naf)], c05[(i * 11) % len(c05)], "3 à 5 salariés",
             str(100 + 17 * i)] for i in range(n)]


def base_rows(n: int = 12) -> list[list[str]]:
    communes, _ = _reference()
    return [[c, f"Commune {c}", str(100 + 13 * i), str(10 + i), str(1 + i % 3), str(i % 4)]
            for i, c in enumerate([c for c in communes if c.startswith("05")][:n])]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8",
              delimiter: str = ";") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    Path(path).write_bytes(buf.getvalue().encode(encoding))
    return Path(path)


def write_chamber_xlsx(path: Path, rows: list[list], formulas: dict[tuple[int, int], str] | None = None) -> Path:
    """A chamber export in xlsx; `formulas` maps (data row index, column index) to a formula."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Entreprises")
    ws.write_row(0, 0, CHAMBER_HEADER)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if formulas and (i, j) in formulas:
                ws.write_formula(i + 1, j, formulas[(i, j)])
            elif j == 5 and str(v).isdigit():
                ws.write_number(i + 1, j, int(v))
            else:
                ws.write_string(i + 1, j, str(v))
    wb.close()
    return Path(path)


# --- hand-made zip archives (bombs) ---------------------------------------------------------------

_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  b'<Default Extension="xml" ContentType="application/xml"/>'
                  b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  b'</Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         b'</Relationships>')
_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             b'<sheets><sheet name="Entreprises" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                  b'</Relationships>')
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_TAIL = b"</sheetData></worksheet>"


def _inline_row(r: int, cells: list[str], numbers: tuple[int, ...] = ()) -> bytes:
    """A sheet row: inline strings, or plain numbers for the columns in `numbers`."""
    out = [f'<row r="{r}">']
    for j, v in enumerate(cells):
        if j in numbers:
            out.append(f'<c r="{chr(65 + j)}{r}"><v>{v}</v></c>')
        else:
            out.append(f'<c r="{chr(65 + j)}{r}" t="inlineStr"><is><t>{v}</t></is></c>')
    out.append("</row>")
    return "".join(out).encode()


@dataclass
class _Member:
    name: str
    deflated: bytes     # raw deflate stream
    crc: int
    size: int           # declared uncompressed size


def _member(name: str, data: bytes) -> _Member:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _Member(name, c.compress(data) + c.flush(), zlib.crc32(data), len(data))


def _write_zip(path: Path, members: list[_Member]) -> Path:
    """A zip archive written by hand, so that declared sizes can lie."""
    out = io.BytesIO()
    central = []
    for m in members:
        offset = out.tell()
        name = m.name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x5A21, m.crc & 0xFFFFFFFF,
                              len(m.deflated), m.size, len(name), 0))
        out.write(name)
        out.write(m.deflated)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x5A21, m.crc & 0xFFFFFFFF,
                                   len(m.deflated), m.size, len(name), 0, 0, 0, 0, 0, offset) + name)
    cd_offset = out.tell()
    cd = b"".join(central)
    out.write(cd)
    n = len(members)
    if n > 0xFFFF:   # zip64 end records (as zipfile writes them past 65 535 members)
        at = out.tell()
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(cd), cd_offset))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, at, 1))
        n = 0xFFFF
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), cd_offset, 0))
    Path(path).write_bytes(out.getvalue())
    return Path(path)


def _bomb_sheet(target_bytes: int) -> tuple[bytes, int, int]:
    """Raw deflate stream of a sheet inflating to more than `target_bytes`, its CRC and size.

    The same 1 MB block of rows is compressed once and repeated (a full flush makes the
    compressed blocks independent), so neither the data nor the time grows with the size.
    """
    row = _inline_row(2, ["12345678900012", "Bombe", "01.11Z", "05061", "NN", "1"])
    block = row * ((1 << 20) // len(row))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(_SHEET_HEAD) + c.flush(zlib.Z_FULL_FLUSH)
    body = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    assert body == c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # the block compresses identically each time
    n = target_bytes // len(block) + 1
    tail = c.compress(_SHEET_TAIL) + c.flush()
    crc = zlib.crc32(_SHEET_HEAD)
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(_SHEET_TAIL, crc)
    return head + body * n + tail, crc, len(_SHEET_HEAD) + n * len(block) + len(_SHEET_TAIL)


def _xlsx_members(sheet: _Member) -> list[_Member]:
    return [_member("[Content_Types].xml", _CONTENT_TYPES), _member("_rels/.rels", _RELS),
            _member("xl/workbook.xml", _WORKBOOK), _member("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), sheet]


def write_zip_bomb(path: Path, inflated_bytes: int = 1100 * 1024**2, lie: bool = False) -> Path:
    deflated, crc, size = _bomb_sheet(inflated_bytes)
    declared = 64 * 1024 if lie else size
    return _write_zip(path, _xlsx_members(_Member("xl/worksheets/sheet1.xml", deflated, crc, declared)))


def write_entity_bomb(path: Path) -> Path:
    """An xlsx whose sheet declares nested entities (a « billion laughs » of 10^9 « lol »)."""
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [' + "".join(ents) + "]>\n"
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>').encode()
    xml += _inline_row(1, CHAMBER_HEADER)
    xml += _inline_row(2, [siret(1), "&lol9;", "01.11Z", "05061", "NN", "1"])
    xml += _SHEET_TAIL
    return _write_zip(path, _xlsx_members(_member("xl/worksheets/sheet1.xml", xml)))


def write_huge_dimension(path: Path, rows: list[list[str]]) -> Path:
    """A valid chamber export whose sheet claims to span A1:XFD1048576 (17 billion cells)."""
    xml = _SHEET_HEAD.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
    xml += _inline_row(1, CHAMBER_HEADER)
    for i, row in enumerate(rows, start=2):
        xml += _inline_row(i, row, numbers=(5,))
    xml += _SHEET_TAIL
    return _write_zip(path, _xlsx_members(_member("xl/worksheets/sheet1.xml", xml)))


def _site_eco_header() -> bytes:
    with open(REFERENCE / "cnig_sites_economiques" / "site-eco.schema.json", encoding="utf-8") as f:
        return (";".join(field["name"] for field in json.load(f)["fields"]) + "\n").encode()


def write_package(path: Path, names: list[str], tiny: int = 0) -> Path:
    """A CNIG « Sites économiques » zip: a site-eco table (its header) under each of `names`, then `tiny`
    members of four bytes that are no table. One deflated member repeated: written in about a second."""
    members = [_member(n, _site_eco_header()) for n in names]
    small = _member("x", b"a;b\n")
    members += [_Member(f"x/{i:06d}.csv", small.deflated, small.crc, small.size) for i in range(tiny)]
    return _write_zip(path, members)


# --- the corpus -----------------------------------------------------------------------------------

def generate(dest: Path) -> dict[str, Path]:
    """Write every file of CASES into `dest`; returns {file name: path}."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    p = {c.file: dest / c.file for c in CASES}
    urssaf, chamber, base = urssaf_rows(), chamber_rows(), base_rows()

    p["empty.csv"].write_bytes(b"")
    write_csv(p["header_only.csv"], URSSAF_HEADER, [])
    write_csv(p["unknown_layout.csv"], ["Identifiant", "Valeur", "Commentaire"], [["1", "2", "trois"]] * 5)
    garbage = bytes((i * 131 + (i >> 7) * 17 + 3) % 256 for i in range(200_000))
    p["binary_garbage.csv"].write_bytes(garbage)
    p["binary_garbage.xlsx"].write_bytes(garbage)
    write_csv(p["csv_named.xlsx"], CHAMBER_HEADER, chamber)
    write_chamber_xlsx(p["xlsx_named.csv"], chamber)
    full = write_chamber_xlsx(dest / "_valid_chamber.xlsx", chamber_rows(400))
    data = full.read_bytes()
    p["truncated.xlsx"].write_bytes(data[: len(data) // 2])
    full.unlink()
    write_zip_bomb(p["zip_bomb.xlsx"])
    write_zip_bomb(p["zip_bomb_lying.xlsx"], lie=True)
    write_entity_bomb(p["entity_bomb.xlsx"])
    write_huge_dimension(p["huge_dimension.xlsx"], chamber)
    write_chamber_xlsx(p["formulas.xlsx"], chamber, formulas={(1, 5): "=100*3", (3, 1): "=\"SARL \"&\"Formule\""})

    rows = [r[:] for r in urssaf]
    rows[3][6] = "douze"                       # line 5 (line 1 is the header)
    write_csv(p["text_in_number.csv"], URSSAF_HEADER, rows)
    rows = [r[:] for r in base]
    rows[1][3] = "N/A ou 12 ?"                 # line 3
    write_csv(p["text_in_number_base.csv"], BASE_HEADER, rows)
    rows = [r[:] for r in urssaf]
    rows[2][3] = "-3"                          # line 4
    write_csv(p["negative_counts.csv"], URSSAF_HEADER, rows)
    rows = [r[:] for r in chamber]
    rows[1][5] = "-1 200"                      # line 3
    write_csv(p["negative_ca.csv"], CHAMBER_HEADER, rows)
    rows = [r[:] for r in urssaf]
    rows[4][0], rows[4][2] = rows[1][0], rows[1][2]   # line 6 repeats line 3
    write_csv(p["duplicate_keys.csv"], URSSAF_HEADER, rows)
    rows = [r[:] for r in chamber]
    rows[2][0] = rows[0][0]                    # line 4 repeats line 2's SIRET
    write_csv(p["duplicate_siret.csv"], CHAMBER_HEADER, rows)
    rows = [r[:] for r in base]
    rows.insert(6, rows[1][:])                 # line 8 repeats line 3 whole (its figures would be summed)
    write_csv(p["duplicate_commune_base.csv"], BASE_HEADER, rows)
    communes = [r[0] for r in base]
    rows = [[c, f"Commune {c}", str(100 + i)] for i, c in enumerate(communes[:6])]
    rows[4][0] = rows[1][0]                    # line 6 repeats line 3's commune
    write_csv(p["populations_legales_2023.csv"], ["COM", "Commune", "PMUN"], rows, delimiter=";")
    rows = [r[:] for r in urssaf]
    rows[1][0] = "ABCDE"                       # line 3
    write_csv(p["malformed_commune.csv"], URSSAF_HEADER, rows)
    rows = [r[:] for r in urssaf]
    for k in range(8):                         # two communes (4 lines each): well-formed, outside the perimeter
        rows[k][0] = "75056" if k < 4 else "29019"
    write_csv(p["unknown_commune.csv"], URSSAF_HEADER, rows)
    rows = [r[:] for r in urssaf]
    rows[2][2] = "9999Z"                       # line 4
    write_csv(p["unknown_naf.csv"], URSSAF_HEADER, rows)
    rows = [r[:] for r in chamber]
    rows[0][2] = "99.99Z"                      # line 2
    write_csv(p["unknown_naf_chamber.csv"], CHAMBER_HEADER, rows)
    rows = [r[:] for r in chamber]
    s = rows[1][0]
    rows[1][0] = s[:-1] + str((int(s[-1]) + 1) % 10)   # line 3: wrong Luhn key
    write_csv(p["invalid_siret.csv"], CHAMBER_HEADER, rows)
    rows = [r[:] for r in chamber]
    rows[0][0] = rows[0][0][:13]               # line 2
    write_csv(p["short_siret.csv"], CHAMBER_HEADER, rows)

    with open(p["long_line.csv"], "w", encoding="utf-8", newline="") as f:
        f.write(";".join(URSSAF_HEADER) + "\r\n" + ";".join(urssaf[0]) + "\r\n")
        f.write(urssaf[1][0] + ";" + "A" * (30 * 1024**2) + ";" + ";".join(urssaf[1][2:]) + "\r\n")   # line 3
        f.write(";".join(urssaf[2]) + "\r\n")
    with open(p["single_line.csv"], "wb") as f:
        f.write((";".join(URSSAF_HEADER) + ";").encode())
        block = b"x;" * (512 * 1024)
        for _ in range(30):
            f.write(block)
    with open(p["long_last_line.csv"], "w", encoding="utf-8", newline="") as f:
        f.write(";".join(URSSAF_HEADER) + "\r\n" + ";".join(urssaf[0]) + "\r\n" + ";".join(urssaf[1]) + "\r\n")
        f.write(urssaf[2][0] + ";" + "A" * (40 * 1024**2) + ";" + ";".join(urssaf[2][2:]) + "\r\n")   # line 4, the last
    with open(p["huge_last_line.csv"], "wb") as f:
        f.write((";".join(CHAMBER_HEADER) + "\r\n" + ";".join(chamber[0]) + "\r\n").encode())
        f.write((chamber[1][0] + ";").encode() + b"A" * (300 * 1024))   # line 3: text past the 256 KB the binary checks read
        f.seek(2 * 1024**3, 1)                                          # a hole: no disk space, read as zeros
        f.write((";" + ";".join(chamber[1][2:]) + "\r\n").encode())
    write_package(p["many_members.zip"], ["site-eco.csv"], tiny=200_000)
    write_package(p["package_members.zip"], ["site-eco.csv"], tiny=1_000)
    write_package(p["climbing_member.zip"], ["../site-eco.csv"])
    write_package(p["absolute_member.zip"], ["/tmp/site-eco.csv"])
    rows = [r[:] for r in base]
    rows[2][0] = "99999"                       # line 4: no commune has this code
    rows[4][0] = "75101"                       # line 6: an arrondissement municipal (Paris 1er)
    write_csv(p["unknown_commune_base.csv"], BASE_HEADER, rows)
    rows = [r[:] for r in urssaf]
    rows[2] = rows[2] + ["colonne en trop"]    # line 4
    write_csv(p["ragged.csv"], URSSAF_HEADER, rows)

    write_csv(p["utf16.csv"], URSSAF_HEADER, urssaf, encoding="utf-16")   # BOM + little endian
    rows = [r[:] for r in chamber]
    rows[0][1] = "Société Œuvre d’art – 5 €"
    write_csv(p["cp1252.csv"], CHAMBER_HEADER, rows, encoding="cp1252")
    rows = [r[:] for r in chamber]
    for i, text in enumerate(HOSTILE_TEXTS):
        rows[i][1] = text
    write_csv(p["hostile_text.csv"], CHAMBER_HEADER, rows)
    write_chamber_xlsx(p["hostile_text.xlsx"], rows)
    write_csv(p["hostile_header.csv"], BASE_HEADER + ["x\"); DROP TABLE facts; --", "=cmd|' /C calc'!A0"],
              [r + ["1", "2"] for r in base])
    rows = [r[:] for r in urssaf]
    rows[0][0] = "05001'; DROP TABLE facts; --"   # line 2
    write_csv(p["hostile_codes.csv"], URSSAF_HEADER, rows)
    return p


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/bad_inputs.py OUTPUT_DIR", file=sys.stderr)
        return 2
    paths = generate(Path(argv[0]))
    for case in CASES:
        size = paths[case.file].stat().st_size
        print(f"{case.file:<26} {size:>12,} bytes  {case.expect:<6}  {case.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
