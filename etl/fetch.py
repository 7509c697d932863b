"""Downloading the official open-data files of the perimeter (python -m etl fetch).

Every URL is in `CATALOG` below: when a producer publishes a new edition, change it there.
Downloads go to `<name>.part` and resume with an HTTP Range request after an interruption;
a finished download is checked (archive integrity, then the loader's own detection of the
source kind) before it replaces the previous file, so a broken download never overwrites a
good one. Only the standard library is used (urllib).
"""
from __future__ import annotations

import gzip
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .perimeter import Perimeter, resolve
from .readers import open_zip
from .validate import LoadError, Problem

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = ROOT / "data" / "raw"
USER_AGENT = "tableau-de-bord-territoires-industrie (python urllib)"
_CHUNK = 256 * 1024


def _urssaf_url(sirens: list[str]) -> str:
    """URSSAF commune x APE, restricted on the server to the communes of the territory's EPCIs."""
    where = "code_epci IN (" + ", ".join(f'"{s}"' for s in sirens) + ")"
    return ("https://open.urssaf.fr/api/explore/v2.1/catalog/datasets/"
            "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last/exports/csv?"
            + urllib.parse.urlencode({"delimiter": ";", "where": where}))


@dataclass(frozen=True)
class Download:
    name: str                 # key used by --only
    label: str                # French label shown while downloading
    url: str | Callable[[], str]
    file: str                 # file name in the destination folder (the loaded file)
    kind: str                 # source kind the loader must detect in the file
    member: str | None = None  # for a zip: the member to extract (its name ends with this text)

    def resolved_url(self) -> str:
        return self.url() if callable(self.url) else self.url


def catalog(perimeter: Perimeter | None = None) -> list[Download]:
    """What `fetch` downloads for a perimeter (default: the default TI): national files, and the URSSAF and
    Sirene extracts of its EPCI (members and neighbours) and reference départements."""
    p = perimeter or resolve()
    sirens = sorted(set(p.member_epci) | set(p.neighbour_epci))
    items = [
        Download("base_comparateur", "INSEE, base comparateur de territoires (édition 2025)",
                 "https://www.insee.fr/fr/statistiques/fichier/2521169/base_cc_comparateur_csv.zip",
                 "base_cc_comparateur_2025.csv", "base_comparateur", member="base_cc_comparateur.csv"),
        Download("populations_legales", "INSEE, populations légales 2022 (communes)",
                 "https://www.insee.fr/fr/statistiques/fichier/8290591/ensemble.zip",
                 "populations_legales_2022_communes.csv", "populations_legales", member="donnees_communes.csv"),
        Download("urssaf", "URSSAF, établissements et effectifs salariés commune x APE (EPCI du territoire)",
                 lambda: _urssaf_url(sirens), "urssaf_commune_ape_epci.csv", "urssaf"),
    ]
    for dep in p.departements:
        items.append(Download(f"sirene_{dep}", f"INSEE, Sirene : établissements du département {dep} (extrait géolocalisé Etalab)",
                              f"https://files.data.gouv.fr/geo-sirene/last/dep/geo_siret_{dep}.csv.gz",
                              f"geo_siret_{dep}.csv.gz", "sirene"))
    return items


CATALOG: list[Download] = catalog()


def _progress_bar(label: str, stream=sys.stderr):
    state = {"last": 0.0}

    def show(done: int, total: int | None, final: bool = False):
        now = time.monotonic()
        if not final and now - state["last"] < 0.2:
            return
        state["last"] = now
        if total:
            pct = done / total
            bar = "#" * int(pct * 30)
            text = f"\r  {label[:38]:<38} [{bar:<30}] {pct:6.1%} {done / 1e6:8.1f} Mo"
        else:
            text = f"\r  {label[:38]:<38} {done / 1e6:8.1f} Mo"
        stream.write(text + ("\n" if final else ""))
        stream.flush()
    return show


def download(url: str, target: Path, label: str = "", timeout: float = 60, retries: int = 3) -> Path:
    """Download `url` to `target.part`, resuming a previous partial download. Returns the .part path."""
    part = target.with_name(target.name + ".part")
    show = _progress_bar(label or target.name)
    attempt = 0
    while True:
        start = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": USER_AGENT}
        if start:
            headers["Range"] = f"bytes={start}-"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
                status = resp.status
                length = resp.headers.get("Content-Length")
                if start and status == 206:
                    mode, done = "ab", start
                    total = start + int(length) if length else None
                else:  # the server ignored the Range header: start again
                    mode, done = "wb", 0
                    total = int(length) if length else None
                with open(part, mode) as out:
                    while chunk := resp.read(_CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        show(done, total)
                show(done, total, final=True)
                if total is not None and done < total:
                    raise ConnectionError(f"transfert interrompu ({done} octets sur {total})")
                return part
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and start:   # nothing left to send: the part file is complete
                return part
            raise LoadError([Problem(target.name, None, None, f"téléchargement refusé par le serveur (HTTP {exc.code}) : {url}")]) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            attempt += 1
            if attempt > retries:
                reason = getattr(exc, "reason", exc)
                raise LoadError([Problem(target.name, None, None, f"téléchargement impossible ({reason}) ; relancez la commande : "
                                         "il reprendra là où il s'est arrêté")]) from None
            time.sleep(min(2 ** attempt, 10) * 0.1)


def _checked_candidate(item: Download, part: Path, workdir: Path) -> Path:
    """The file to install from a finished download, after checking it; LoadError if it is wrong."""
    with open(part, "rb") as f:
        magic = f.read(4)
    candidate = workdir / item.file
    if item.member:
        if magic != b"PK\x03\x04":
            raise LoadError([Problem(item.file, None, None, "l'archive zip attendue n'en est pas une (page d'erreur du serveur ?)")])
        try:
            with open_zip(part, name=item.file) as z:   # number of files, inflated size, names checked first
                if z.testzip() is not None:
                    raise zipfile.BadZipFile
                names = [n for n in z.namelist() if n.lower().endswith(item.member.lower())]
                if not names:
                    raise LoadError([Problem(item.file, None, None, f"« {item.member} » absent de l'archive téléchargée "
                                             f"(contenu : {', '.join(z.namelist()[:6])})")])
                with z.open(names[0]) as src, open(candidate, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
        except zipfile.BadZipFile:
            raise LoadError([Problem(item.file, None, None, "archive zip endommagée ou tronquée")]) from None
    else:
        if magic[:2] == b"\x1f\x8b":
            try:
                with gzip.open(part, "rb") as f:
                    while f.read(4 * 1024 * 1024):
                        pass
            except (OSError, EOFError):
                raise LoadError([Problem(item.file, None, None, "archive gzip endommagée ou tronquée")]) from None
        os.replace(part, candidate)
    from . import sources

    module = sources.detect(candidate)
    if module.KIND != item.kind:
        raise LoadError([Problem(item.file, None, None, f"le fichier téléchargé n'a pas le format attendu ({item.kind}, "
                                 f"trouvé {module.KIND})")])
    return candidate


def fetch(dest: Path = DEFAULT_DEST, only: list[str] | None = None, catalog: list[Download] | None = None,
          progress=print) -> list[Path]:
    """Download (or resume) every catalogued file into `dest`; returns the installed files."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    items = [i for i in (catalog or CATALOG) if not only or i.name in only]
    if only and len(items) != len(set(only)):
        known = ", ".join(i.name for i in (catalog or CATALOG))
        raise LoadError([Problem("fetch", None, None, f"source inconnue dans --only (sources : {known})")])
    installed, problems = [], []
    for item in items:
        target = dest / item.file
        progress(f"{item.label}")
        try:
            part = download(item.resolved_url(), target, item.label)
            with tempfile.TemporaryDirectory(dir=dest, prefix=".fetch-") as work:
                candidate = _checked_candidate(item, part, Path(work))
                os.replace(candidate, target)
            part.unlink(missing_ok=True)
            installed.append(target)
            progress(f"  -> {target}")
        except LoadError as exc:
            # A finished but wrong download is discarded; an interrupted one is kept to be resumed.
            if part_complete(exc):
                target.with_name(target.name + ".part").unlink(missing_ok=True)
            problems.extend(exc.problems)
            progress(f"  échec : {exc.problems[0].message}" + (" (le fichier précédent est conservé)" if target.exists() else ""))
    if problems:
        raise LoadError(problems)
    return installed


def part_complete(exc: LoadError) -> bool:
    return not any("relancez la commande" in p.message for p in exc.problems)
