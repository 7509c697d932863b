"""Files uploaded through the dashboard's import page: kept, checked and loaded out of the app's process.

- `store` keeps the uploaded bytes as `data/raw/imports/<sha256>/<file name>` (the name as given,
  made safe; the directory is the content's SHA-256).
- `run("check" | "load", ...)` runs `python -m etl.imports` in a child process with a time limit
  and a memory limit: whatever a file contains, the dashboard's server process neither crashes nor
  swells, and a killed load leaves the warehouse as it was (`etl.load` swaps files atomically).
- `journal_append` / `journal_read`: `data/raw/journal_imports.csv` (when, file, SHA-256, result, who).

The raw directory is `raw/` next to the warehouse (`data/raw/` for `data/warehouse.duckdb`).

    python -m etl.imports check FILE             -> JSON report on stdout
    python -m etl.imports load FILE --warehouse W
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_UPLOAD_MB = int(os.environ.get("TI_MAX_UPLOAD_MB", "200"))
EXTENSIONS = ("csv", "txt", "xlsx", "gz", "parquet", "zip")   # zip: a CNIG « Sites économiques » package
CHECK_TIMEOUT_S = 300
LOAD_TIMEOUT_S = 900
CHILD_MEMORY_BYTES = int(os.environ.get("TI_IMPORT_MEMORY_MB", "6144")) * 1024**2
JOURNAL_NAME = "journal_imports.csv"
JOURNAL_COLUMNS = ["horodatage", "action", "fichier", "sha256", "octets", "resultat", "detail", "qui", "adresse"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Stored:
    path: Path
    sha256: str
    size: int
    name: str


@dataclass
class Outcome:
    """What the child process said: ok, the file reports (dicts) and the French problems of a refusal."""
    ok: bool
    statut: str                        # vérifié, chargé, déjà chargé, refusé, erreur
    reports: list[dict]
    problems: list[dict]
    seconds: float = 0.0

    def summary(self, limit: int = 3) -> str:
        problems = self.problems or [p for r in self.reports for p in r.get("problems", []) if p.get("grave")]
        return " | ".join(_problem_text(p) for p in problems[:limit]) + (
            f" | … ({len(problems) - limit} autre(s))" if len(problems) > limit else "")


def _problem_text(p: dict) -> str:
    where = [p.get("fichier") or ""]
    if p.get("ligne") is not None:
        where.append(f"ligne {p['ligne']}")
    if p.get("colonne"):
        where.append(f"colonne « {p['colonne']} »")
    return f"{', '.join(w for w in where if w)} : {p.get('message', '')}"


def raw_dir_for(warehouse: Path | str) -> Path:
    return Path(warehouse).resolve().parent / "raw"


def safe_name(name: str) -> str:
    """The uploaded file's own name, without directories or characters a shell or a spreadsheet would read."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFC", base).replace("\x00", "")
    base = re.sub(r"[^\w.\- ()]+", "_", base, flags=re.UNICODE).strip(" .")
    base = base.lstrip("=+-@_") or "fichier"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[:100] or "fichier"
    return f"{stem}.{ext[:10]}" if ext else stem


def extension_ok(name: str) -> bool:
    return safe_name(name).lower().rsplit(".", 1)[-1] in EXTENSIONS


def store(data: bytes, name: str, raw_dir: Path) -> Stored:
    """Keep the uploaded bytes under raw_dir/imports/<sha256>/ (written aside, then renamed)."""
    if len(data) > MAX_UPLOAD_MB * 1024**2:
        raise ValueError(f"fichier de {len(data) / 1024**2:.0f} Mo : la limite est {MAX_UPLOAD_MB} Mo")
    sha = hashlib.sha256(data).hexdigest()
    folder = Path(raw_dir) / "imports" / sha
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / safe_name(name)
    if not dest.exists():
        tmp = folder / f".{dest.name}.partiel-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    return Stored(dest, sha, len(data), dest.name)


# --- the child process -------------------------------------------------------------------------------

def _limit_memory(limit: int) -> None:
    """Cap this (child) process's address space: a hostile file ends in MemoryError, not in a swapping server.
    Set by the child itself: `preexec_fn` is unsafe in the threaded Streamlit server."""
    try:
        import resource
    except ImportError:  # Windows: no limit
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run(action: str, path: Path, warehouse: Path | None = None, timeout: float | None = None,
        par: str | None = None) -> Outcome:
    """`check` or `load` one stored file in a child process; never raises for what the file contains.
    An action-plan workbook's report carries `changements`: the changes it makes to the plan (French lines), and
    `conflits`: fields edited online since the workbook's export and changed in it (both versions, not applied),
    against the plan of `warehouse`; `par`: their author at load."""
    import time

    if action not in ("check", "load"):
        raise ValueError(action)
    cmd = [sys.executable, "-m", "etl.imports", action, str(path), "--memory", str(CHILD_MEMORY_BYTES)]
    if warehouse is not None:
        cmd += ["--warehouse", str(warehouse)]
    if par:
        cmd += ["--par", str(par)]
    timeout = timeout or (CHECK_TIMEOUT_S if action == "check" else LOAD_TIMEOUT_S)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Outcome(False, "erreur", [], [{"fichier": Path(path).name, "ligne": None, "colonne": None, "grave": True,
                                              "message": f"contrôle interrompu après {timeout:.0f} s : fichier trop long à lire ; "
                                                         "l'entrepôt n'a pas été modifié"}], time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    try:
        out = json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])
        return Outcome(out["ok"], out["statut"], out["reports"], out["problems"], seconds)
    except (ValueError, IndexError, KeyError):
        err = proc.stderr[-4000:].lower()
        reason = ("mémoire insuffisante pour lire ce fichier" if proc.returncode in (-9, 137)
                  or any(w in err for w in (b"memoryerror", b"memory allocation", b"out of memory", b"cannot allocate",
                                            b"failed to map segment"))
                  else f"le contrôle s'est arrêté (code {proc.returncode})")
        return Outcome(False, "erreur", [], [{"fichier": Path(path).name, "ligne": None, "colonne": None, "grave": True,
                                              "message": f"{reason} ; l'entrepôt n'a pas été modifié"}], seconds)


def _child(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m etl.imports")
    parser.add_argument("action", choices=["check", "load"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--par")
    parser.add_argument("--memory", type=int, default=CHILD_MEMORY_BYTES, help="limite de mémoire (octets)")
    args = parser.parse_args(argv)
    _limit_memory(args.memory)
    from . import load as loader
    from .validate import LoadError

    def report_dict(r) -> dict:
        from .plan_store import LABELS, describe, shown

        changes = [describe(c) for c in r.changes if not c.conflit] if r.plan is not None else None
        conflicts = [{"action": c.cle, "champ": LABELS.get(c.champ, c.champ), "en_ligne": shown(c.champ, c.avant),
                      "classeur": shown(c.champ, c.apres)} for c in r.changes if c.conflit] if r.plan is not None else None
        r.plan, r.changes = None, []
        return {**dataclasses.asdict(r), "changements": changes, "conflits": conflicts}

    def emit(ok: bool, statut: str, reports=(), problems=()) -> int:
        print(json.dumps({"ok": ok, "statut": statut, "reports": [report_dict(r) for r in reports],
                          "problems": [dataclasses.asdict(p) for p in problems]}, ensure_ascii=False, default=str))
        return 0 if ok else 2

    try:
        if args.action == "check":
            reports = loader.check([args.file], warehouse=args.warehouse)
            refused = [r for r in reports if r.statut == "refusé"]
            return emit(not refused, "refusé" if refused else "vérifié", reports)
        reports = loader.load([args.file], args.warehouse, progress=lambda _m: None, par=args.par)
        statut = "chargé" if any(r.statut == "chargé" for r in reports) else "déjà chargé"
        return emit(True, statut, reports)
    except LoadError as exc:
        return emit(False, "refusé", problems=exc.problems)
    except MemoryError:
        from .validate import Problem
        return emit(False, "erreur", problems=[Problem(args.file.name, None, None, "mémoire insuffisante pour lire ce fichier ; "
                                                       "l'entrepôt n'a pas été modifié")])
    except Exception as exc:  # noqa: BLE001 — reported to the page, never a traceback for the user
        from .validate import Problem
        return emit(False, "erreur", problems=[Problem(args.file.name, None, None, f"erreur inattendue ({type(exc).__name__}) ; "
                                                       "l'entrepôt n'a pas été modifié")])


# --- the journal ---------------------------------------------------------------------------------------

def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula; one line."""
    text = "" if value is None else str(value).replace("\r", " ").replace("\n", " ").replace("\x00", "")
    return "'" + text if text.startswith(_FORMULA_START) else text


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as fh:
        try:
            import fcntl
            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:
            pass
        yield


def journal_append(raw_dir: Path, *, action: str, stored: Stored, outcome: Outcome | None, qui: str,
                   adresse: str | None = None, resultat: str | None = None) -> dict:
    journal = Path(raw_dir) / JOURNAL_NAME
    row = {"horodatage": datetime.now().isoformat(timespec="seconds"), "action": action, "fichier": stored.name,
           "sha256": stored.sha256, "octets": stored.size, "resultat": resultat or (outcome.statut if outcome else ""),
           "detail": (outcome.summary() if outcome and not outcome.ok else "")[:500], "qui": qui[:80],
           "adresse": adresse or ""}
    with _locked(journal):
        new = not journal.exists() or journal.stat().st_size == 0
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        if new:
            writer.writerow(JOURNAL_COLUMNS)
        writer.writerow([_cell(row[c]) for c in JOURNAL_COLUMNS])
        with open(journal, "a", encoding="utf-8-sig" if new else "utf-8", newline="") as f:
            f.write(buf.getvalue())
    return row


def journal_read(raw_dir: Path, limit: int = 200) -> list[dict]:
    """The latest entries first."""
    journal = Path(raw_dir) / JOURNAL_NAME
    if not journal.exists():
        return []
    with open(journal, encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter=";")]
    return rows[::-1][:limit]


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
