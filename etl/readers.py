"""Opening input files safely: encodings, delimiters, xlsx limits.

DuckDB reads UTF-8 itself (and checks it), but not cp1252 (œ, €, ’), so such
files are transcoded once into a temporary UTF-8 copy. Only the first megabyte
is decoded in Python to choose; a file that turns out not to be UTF-8 further
down is transcoded when DuckDB reports it (`common.read_text_table`). Xlsx files are read with openpyxl
in read-only mode after checking the uncompressed size of their members
(defusedxml, installed, makes openpyxl refuse entity bombs). Every zip archive the ETL opens
(workbooks, CNIG packages, downloads) goes through `open_zip`: number of members, inflated size and
member names checked before anything is inflated. Line lengths of a delimited file are checked in
Python (`check_line_lengths`) before DuckDB reads it: DuckDB drops, without a word, a last line longer
than its 32 MB buffer whatever `max_line_size` says.
"""
from __future__ import annotations

import codecs
import csv
import re
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .validate import LoadError, Problem, refuse

# Limits on what a file may contain, checked before anything is parsed (documented in the README).
MAX_FILE_BYTES = 12 * 1024**3          # a delimited text file (a national Sirene stock is ~8 GB)
MAX_XLSX_FILE_BYTES = 50 * 1024**2     # an xlsx workbook as stored (a 100 000-row export is ~4 MB)
MAX_XLSX_UNCOMPRESSED = 150 * 1024**2  # sum of its members once inflated (parsing needs ~7x this in memory)
MAX_ZIP_RATIO = 200                    # inflation ratio of one member larger than 10 MB (any zip archive)
MAX_ZIP_MEMBERS = 10_000               # members of any zip archive (a workbook has a few dozen)
MAX_XLSX_RATIO = MAX_ZIP_RATIO
MAX_XLSX_MEMBERS = MAX_ZIP_MEMBERS
MAX_LINE_BYTES = 1024**2               # a header or data line longer than this is refused (so is any field)
MAX_REPORTED = 50                      # problems of one kind listed in a report
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_CHUNK = 1024**2


@dataclass
class TextFile:
    """A delimited text file ready for DuckDB: UTF-8 path, delimiter, header."""
    source: Path               # the file as given
    path: Path                 # UTF-8 readable path (the source itself or a temporary copy)
    encoding: str
    delimiter: str
    header: list[str]
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def close(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def transcode(self, encoding: str | None = None) -> bool:
        """Point `path` at a UTF-8 copy of the file decoded from `encoding` (default: sniffed over the
        whole file). False when the whole file is valid UTF-8 after all (nothing to transcode)."""
        encoding = encoding or sniff_encoding(self.source)
        if encoding == "utf-8":
            return False
        self.close()
        self._tmp = tempfile.TemporaryDirectory(prefix="etl-")
        self.path = Path(self._tmp.name) / "utf8.csv"
        self.encoding = encoding
        with open(self.source, "r", encoding=encoding, newline="") as src, open(self.path, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        return True


def is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def sniff_encoding(path: Path, limit: int | None = None) -> str:
    """'utf-8' (with or without BOM), 'utf-16' or 'cp1252' (latin-1 as a last resort).

    With `limit`, only about that many first bytes are checked for UTF-8: 'utf-8' then means « valid
    UTF-8 so far » (a multi-byte character cut by the limit is not an error); cp1252 and latin-1 are
    still told apart on the whole file."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            read = 0
            while (limit is None or read < limit) and (chunk := f.read(_CHUNK)):
                read += len(chunk)
                decoder.decode(chunk)
            if limit is None or read < limit:
                decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        f.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # Excel 97-2003 (.xls) and other OLE2 files


def _head(path: Path, encoding: str) -> tuple[str, bool]:
    """The header line and whether anything but blank text follows it."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(MAX_LINE_BYTES + 1)
    text = raw.decode(encoding if encoding != "utf-8" else "utf-8-sig", errors="replace")
    line, sep, rest = text.partition("\n")
    if not sep and len(raw) > MAX_LINE_BYTES:
        refuse(path, f"ligne d'en-tête de plus de {MAX_LINE_BYTES // 1024} Ko : ce n'est pas un fichier CSV lisible", 1)
    has_data = bool(rest.strip(" \t\r\n\ufeff\x00")) or size > len(raw)
    return line.rstrip("\r"), has_data


def _first_line(path: Path, encoding: str) -> str:
    return _head(path, encoding)[0]


def _refuse_misnamed(path: Path, head: bytes) -> None:
    """A file that is not a zip archive: refuse old Excel files and anything named like a workbook."""
    if head.startswith(_OLE2):
        refuse(path, "classeur au format Excel 97-2003 (.xls) : enregistrez-le au format .xlsx ou .csv")
    if path.suffix.lower() in XLSX_SUFFIXES + (".xls", ".ods"):
        refuse(path, f"ce fichier porte l'extension {path.suffix.lower()} mais n'est pas un classeur Excel "
                     "(enregistrez-le au format .xlsx, ou renommez-le en .csv s'il s'agit d'un fichier texte)")


def open_text(path: Path) -> TextFile:
    """Check, sniff and (if needed) transcode a delimited text file."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        refuse(path, "le fichier est vide")
    if size > MAX_FILE_BYTES:
        refuse(path, f"fichier de {size / 1024**3:.1f} Go, au-delà de la limite de {MAX_FILE_BYTES / 1024**3:.0f} Go")
    if is_zip(path):
        if path.suffix.lower() in XLSX_SUFFIXES:
            refuse(path, "fichier compressé (zip ou xlsx) : ouvrez-le avec le lecteur Excel ou décompressez-le")
        refuse(path, f"ce fichier porte l'extension « {path.suffix or '(aucune)'} » mais c'est une archive compressée "
                     "(classeur Excel ou zip) : renommez-le en .xlsx s'il s'agit d'un classeur, sinon décompressez-le")
    with open(path, "rb") as f:
        sample = f.read(64 * 1024)
    _refuse_misnamed(path, sample)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        refuse(path, "contenu binaire : ce n'est pas un fichier texte CSV")
    # The first megabyte decides; DuckDB checks that the rest is UTF-8 as it reads it.
    encoding = sniff_encoding(path, limit=_CHUNK)
    header_line, has_data = _head(path, encoding)
    if not header_line.strip():
        refuse(path, "la première ligne (en-tête) est vide", 1)
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        refuse(path, "une seule colonne trouvée : séparateur attendu « ; », « , » ou tabulation", 1)
    if not has_data:
        refuse(path, "aucune ligne de données après la ligne d'en-tête", 2)
    header = next(csv.reader([header_line], delimiter=delimiter))
    header = [h.strip().lstrip("\ufeff") for h in header]
    tf = TextFile(path, path, encoding, delimiter, header)
    if encoding != "utf-8":  # UTF-16, or not UTF-8 in the first megabyte (the whole file chose cp1252 or latin-1)
        tf.transcode(encoding)
    return tf


def check_line_lengths(path: Path, name: str | None = None) -> None:
    """Refuse a delimited file holding a line longer than MAX_LINE_BYTES (hence a field longer than that),
    naming the line (header = line 1). DuckDB's own `max_line_size` misses the last line when it is longer
    than its buffer (about 32 MB): that line, up to 2 GB and more, is dropped without a word. One pass, by
    blocks of the limit's size, three byte searches per block (a few seconds for a 10 GB file), stopping at
    the first line found too long. A gzip file is checked as it inflates (a Sirene stock .csv.gz)."""
    import gzip

    limit = MAX_LINE_BYTES
    line, start, pos = 1, 0, 0          # number and first byte of the current line, bytes read
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(path, "rb") as f:
        while block := f.read(limit):
            first = block.find(b"\n")
            if (pos + len(block) if first < 0 else pos + first) - start > limit:
                refuse(name or Path(path).name, f"ligne trop longue : plus de {_n(limit // 1024)} Ko, la limite par ligne "
                                                "(un champ de cette taille n'est pas une donnée attendue)", line)
            if first >= 0:
                line += block.count(b"\n")
                start = pos + block.rfind(b"\n") + 1
            pos += len(block)


def check_xlsx(path: Path) -> None:
    """Refuse workbooks that are not zip archives, are too large or inflate too much (zip bombs).

    The sizes checked are the declared ones; `testzip` then inflates every member with
    zipfile, which never produces more than the declared size and checks each CRC, so a
    member lying about its size is refused as damaged.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        refuse(path, "le fichier est vide")
    if size > MAX_XLSX_FILE_BYTES:
        refuse(path, f"classeur de {size / 1024**2:.0f} Mo, au-delà de la limite de {MAX_XLSX_FILE_BYTES // 1024**2} Mo")
    if not is_zip(path):
        refuse(path, "ce fichier porte l'extension .xlsx mais n'est pas un classeur Excel (enregistrez-le en .xlsx ou renommez-le en .csv)")
    if path.suffix.lower() not in XLSX_SUFFIXES:
        refuse(path, f"ce fichier porte l'extension « {path.suffix or '(aucune)'} » mais c'est une archive compressée "
                     "(classeur Excel ou zip) : renommez-le en .xlsx s'il s'agit d'un classeur, sinon décompressez-le")
    try:
        with open_zip(path, MAX_XLSX_MEMBERS, MAX_XLSX_UNCOMPRESSED, "classeur") as z:
            bad = z.testzip()
            if bad:
                refuse(path, f"classeur endommagé (membre « {bad[:60]} » illisible)")
    except NotImplementedError:
        refuse(path, "classeur compressé avec une méthode non prise en charge : enregistrez-le à nouveau en .xlsx")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, OSError):
        refuse(path, "classeur Excel tronqué ou endommagé")


def _n(number: int) -> str:
    """12345 -> « 12 345 » (French thousands separator)."""
    return f"{number:,}".replace(",", "\u202f")


_EOCD = struct.Struct("<4s4H2LH")            # end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CD_BYTES_PER_MEMBER = 1024                  # a central directory entry: 46 bytes, its name, extra field, comment


def _declared_members(path: Path) -> tuple[int, int] | None:
    """(members, central directory bytes) the end record of a zip archive declares; None when not found
    (zipfile then says the archive is damaged). Reads the last 64 KB only."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - _EOCD.size - 65535))
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            return None
        _, _, _, _, members, cd_bytes, _, _ = _EOCD.unpack_from(tail, at)
        if (members == 0xFFFF or cd_bytes == 0xFFFFFFFF) and at >= _ZIP64_LOCATOR.size:
            sig, _, offset, _ = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
            if sig == b"PK\x06\x07" and offset + _ZIP64_EOCD.size <= size:
                f.seek(offset)
                record = f.read(_ZIP64_EOCD.size)
                if record[:4] == b"PK\x06\x06":
                    members, cd_bytes = _ZIP64_EOCD.unpack(record)[7:9]
        return members, cd_bytes


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_member_name(name: str) -> bool:
    """A member name that is absolute (« /etc/x », « C:\\x », « \\\\serveur ») or climbs out of its folder (« ../x »)."""
    return name.startswith(("/", "\\")) or bool(_DRIVE.match(name)) or ".." in re.split(r"[\\/]", name)


def open_zip(path: Path, max_members: int = MAX_ZIP_MEMBERS, max_uncompressed: int = MAX_FILE_BYTES,
             kind: str = "archive", name: str | None = None) -> zipfile.ZipFile:
    """A zip archive opened for reading once its members are checked: at most `max_members` of them (counted
    from the end record before zipfile reads the directory, then from the directory itself), `max_uncompressed`
    bytes once inflated (declared sizes: zipfile never inflates a member past its declared size and checks its
    CRC), no member larger than 10 MB inflating more than MAX_ZIP_RATIO times, no absolute name nor « .. ».
    One pass over the members. `kind` is « archive » or « classeur » (the messages' word); refusals name the
    file (`name`, default the archive's own) and the limit; a damaged archive raises zipfile.BadZipFile."""
    path = Path(path)
    shown = name or path.name
    e = "e" if kind == "archive" else ""
    refused = f"{kind} refusé{e}"
    declared = _declared_members(path)
    if declared is not None:
        members, cd_bytes = declared
        if members > max_members:
            refuse(shown, f"{kind} de {_n(members)} fichiers, au-delà de la limite de {_n(max_members)} fichiers "
                          f"par {kind} : {refused}")
        if cd_bytes > max_members * _CD_BYTES_PER_MEMBER:
            refuse(shown, f"répertoire de l'{kind} de {_n(cd_bytes // 1024)} Ko, trop grand pour la limite de "
                          f"{_n(max_members)} fichiers par {kind} : {refused}")
    z = zipfile.ZipFile(path)
    try:
        infos = z.infolist()
        if len(infos) > max_members:
            refuse(shown, f"{kind} de {_n(len(infos))} fichiers, au-delà de la limite de {_n(max_members)} fichiers "
                          f"par {kind} : {refused}")
        total = 0
        for info in infos:
            if unsafe_member_name(info.filename):
                refuse(shown, f"fichier « {info.filename[:80]} » de l'{kind} : chemin absolu ou remontant d'un dossier "
                              f"(« .. »), interdit : {refused}")
            total += info.file_size
            if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO and info.file_size > 10 * 1024**2:
                refuse(shown, f"le membre « {info.filename[:60]} » se décompresse {info.file_size // info.compress_size} fois "
                              f"(plus de {MAX_ZIP_RATIO} fois) : {refused} (bombe de décompression)")
        if total > max_uncompressed:
            refuse(shown, f"{kind} de {_n(round(total / 1024**2))} Mo une fois décompressé{e}, au-delà de la limite de "
                          f"{_n(max_uncompressed // 1024**2)} Mo : {refused}")
    except BaseException:
        z.close()
        raise
    return z


class Formula(str):
    """The text of a formula cell (« =B2*1000 »): never evaluated, refused by read_xlsx_rows."""


def xlsx_failure(path: Path, exc: BaseException, ligne: int | None = None) -> LoadError:
    """A French refusal for whatever openpyxl or the XML parser raised on a workbook."""
    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a requirement
        DefusedXmlException = ()  # noqa: N806
    from xml.etree.ElementTree import ParseError

    # openpyxl wraps parser errors (« Unable to read workbook… » from the real cause): look down the chain.
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    exc = next((e for e in chain if isinstance(e, DefusedXmlException)), None) \
        or next((e for e in chain if isinstance(e, ParseError)), None) or chain[-1]
    if isinstance(exc, DefusedXmlException):
        why = "le classeur déclare des entités XML (DTD), interdites par sécurité : classeur refusé"
    elif isinstance(exc, ParseError):
        why = f"XML du classeur mal formé ({str(exc)[:80]})"
    elif isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
        why = "classeur Excel tronqué ou endommagé"
    elif isinstance(exc, KeyError):
        why = "classeur Excel incomplet (une partie du fichier manque)"
    elif isinstance(exc, MemoryError):
        why = "classeur trop volumineux pour la mémoire disponible"
    else:
        why = f"classeur Excel illisible ({type(exc).__name__})"
    return LoadError([Problem(Path(path).name, ligne, None, why)])


def read_xlsx_rows(path: Path, sheet: str | None = None):
    """Yield (line_number, tuple of cell values) of the first (or named) sheet.

    Formula cells are not evaluated nor trusted (their cached value may be stale or
    missing): once the sheet is read, a workbook holding any is refused, naming each
    cell. Declared sheet dimensions are ignored, so a forged « A1:XFD1048576 » does
    not pad every row to 16 384 cells.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    path = Path(path)
    check_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types on broken files
        raise xlsx_failure(path, exc) from None
    formulas: list[Problem] = []
    header: list | None = None
    try:
        try:
            ws = wb[sheet] if sheet else wb.worksheets[0]
            ws.reset_dimensions()
            rows = ws.iter_rows()
        except Exception as exc:
            raise xlsx_failure(path, exc) from None
        i = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except LoadError:
                raise
            except Exception as exc:
                raise xlsx_failure(path, exc, i + 1) from None
            i += 1
            values = []
            for j, cell in enumerate(cells):
                value = cell.value
                if getattr(cell, "data_type", None) == "f" and isinstance(value, str):
                    value = Formula(value)
                    if len(formulas) < MAX_REPORTED:
                        letter = get_column_letter(j + 1)
                        name = str(header[j]).strip() if header and j < len(header) and header[j] is not None else ""
                        formulas.append(Problem(path.name, i, name or letter,
                                                f"cellule {letter}{i} : formule Excel « {value[:40]} » ; le fichier doit "
                                                "contenir des valeurs (copier, puis collage spécial « valeurs »)"))
                values.append(value)
            row = tuple(values)
            if header is None and sum(v is not None and str(v).strip() != "" for v in row) >= 2 \
                    and all(v is None or (isinstance(v, str) and not isinstance(v, Formula)) for v in row):
                header = list(row)
            yield i, row
        if formulas:
            raise LoadError(formulas)
    finally:
        wb.close()


def sniff_kind_header(path: Path) -> list[str]:
    """The header of a CSV or xlsx file, for source detection."""
    path = Path(path)
    if is_zip(path):
        for _, row in read_xlsx_rows(path):
            cells = [str(c).strip() for c in row if c is not None]
            if len(cells) >= 2:
                return cells
        return []
    tf = open_text(path)
    try:
        return tf.header
    finally:
        tf.close()


def _head_line(raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character: decode what precedes it.
        try:
            text = raw[:exc.start].decode("utf-8-sig") if exc.start > len(raw) - 4 else raw.decode("cp1252", errors="replace")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    line = text.partition("\n")[0].rstrip("\r")
    counts = {d: line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=counts.get)
    if not line.strip() or counts[delimiter] == 0:
        return []
    return [h.strip().lstrip("\ufeff") for h in next(csv.reader([line], delimiter=delimiter))]


def sniff_kind_headers(path: Path) -> list[list[str]]:
    """Candidate header rows of a file, for source detection, without reading the whole file.

    A CSV (plain or gzip) has one; a workbook gives its first rows (INSEE workbooks put titles
    and a row of labels above the row of variable codes).
    """
    import gzip

    path = Path(path)
    if path.stat().st_size == 0:
        refuse(path, "le fichier est vide")
    if is_zip(path):
        rows = []
        for i, row in read_xlsx_rows(path):
            cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
            if len(cells) >= 2:
                rows.append(cells)
            if i >= 15:
                break
        return rows or [[]]
    with open(path, "rb") as f:
        magic = f.read(8)
    _refuse_misnamed(path, magic)
    magic = magic[:2]
    try:
        if magic == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                raw = f.read(256 * 1024)
        else:
            with open(path, "rb") as f:
                raw = f.read(256 * 1024)
    except (OSError, EOFError):
        refuse(path, "archive gzip illisible ou tronquée")
    if b"\x00" in raw and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        refuse(path, "contenu binaire : ce n'est pas un fichier texte CSV")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        tf = open_text(path)
        tf.close()
        return [tf.header]
    return [_head_line(raw)]
