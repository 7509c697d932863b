"""Opening input files safely: encodings, delimiters, xlsx limits.

DuckDB reads UTF-8 itself, but not cp1252 (œ, €, ’), so such files are
transcoded once into a temporary UTF-8 copy. Xlsx files are read with openpyxl
in read-only mode after checking the uncompressed size of their members
(defusedxml, installed, makes openpyxl refuse entity bombs).
"""
from __future__ import annotations

import codecs
import csv
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .validate import LoadError, Problem, refuse

MAX_FILE_BYTES = 12 * 1024**3          # a national Sirene stock is ~8 GB
MAX_XLSX_FILE_BYTES = 200 * 1024**2
MAX_XLSX_UNCOMPRESSED = 500 * 1024**2  # sum of the members once inflated
MAX_XLSX_RATIO = 200                   # inflation ratio of one member
MAX_LINE_BYTES = 1024**2               # a header or data line longer than this is refused
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


def is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def sniff_encoding(path: Path) -> str:
    """'utf-8' (with or without BOM), 'utf-16' or 'cp1252' (latin-1 as a last resort)."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
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


def _first_line(path: Path, encoding: str) -> str:
    with open(path, "rb") as f:
        raw = f.read(MAX_LINE_BYTES + 1)
    text = raw.decode(encoding if encoding != "utf-8" else "utf-8-sig", errors="replace")
    line, sep, _ = text.partition("\n")
    if not sep and len(raw) > MAX_LINE_BYTES:
        refuse(path, f"ligne d'en-tête de plus de {MAX_LINE_BYTES // 1024} Ko : ce n'est pas un fichier CSV lisible", 1)
    return line.rstrip("\r")


def open_text(path: Path) -> TextFile:
    """Check, sniff and (if needed) transcode a delimited text file."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        refuse(path, "le fichier est vide")
    if size > MAX_FILE_BYTES:
        refuse(path, f"fichier de {size / 1024**3:.1f} Go, au-delà de la limite de {MAX_FILE_BYTES / 1024**3:.0f} Go")
    if is_zip(path):
        refuse(path, "fichier compressé (zip ou xlsx) : ouvrez-le avec le lecteur Excel ou décompressez-le")
    with open(path, "rb") as f:
        sample = f.read(64 * 1024)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        refuse(path, "contenu binaire : ce n'est pas un fichier texte CSV")
    encoding = sniff_encoding(path)
    header_line = _first_line(path, encoding)
    if not header_line.strip():
        refuse(path, "la première ligne (en-tête) est vide", 1)
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        refuse(path, "une seule colonne trouvée : séparateur attendu « ; », « , » ou tabulation", 1)
    header = next(csv.reader([header_line], delimiter=delimiter))
    header = [h.strip().lstrip("\ufeff") for h in header]
    tf = TextFile(path, path, encoding, delimiter, header)
    if encoding != "utf-8":
        tf._tmp = tempfile.TemporaryDirectory(prefix="etl-")
        tf.path = Path(tf._tmp.name) / "utf8.csv"
        with open(path, "r", encoding=encoding, newline="") as src, open(tf.path, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
    return tf


def check_xlsx(path: Path) -> None:
    """Refuse xlsx files that are not zip archives or that inflate too much."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        refuse(path, "le fichier est vide")
    if size > MAX_XLSX_FILE_BYTES:
        refuse(path, f"classeur de {size / 1024**2:.0f} Mo, au-delà de la limite de {MAX_XLSX_FILE_BYTES // 1024**2} Mo")
    if not is_zip(path):
        refuse(path, "ce fichier porte l'extension .xlsx mais n'est pas un classeur Excel (enregistrez-le en .xlsx ou renommez-le en .csv)")
    try:
        with zipfile.ZipFile(path) as z:
            total = 0
            for info in z.infolist():
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > MAX_XLSX_RATIO and info.file_size > 10 * 1024**2:
                    refuse(path, f"le membre « {info.filename} » se décompresse {info.file_size // info.compress_size} fois : classeur refusé (bombe de décompression)")
            if total > MAX_XLSX_UNCOMPRESSED:
                refuse(path, f"classeur de {total / 1024**2:.0f} Mo une fois décompressé, au-delà de la limite de {MAX_XLSX_UNCOMPRESSED // 1024**2} Mo")
            bad = z.testzip()
            if bad:
                refuse(path, f"classeur endommagé (membre « {bad} » illisible)")
    except zipfile.BadZipFile:
        refuse(path, "classeur Excel tronqué ou endommagé")


def read_xlsx_rows(path: Path, sheet: str | None = None):
    """Yield (line_number, tuple of cell values) of the first (or named) sheet.

    Formula cells come back as their formula text (data_only=False would run
    nothing anyway); loaders refuse them as text in number columns.
    """
    import openpyxl

    check_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on broken files
        raise LoadError([Problem(Path(path).name, None, None, f"classeur Excel illisible ({type(exc).__name__})")]) from None
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield i, row
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
        magic = f.read(2)
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
