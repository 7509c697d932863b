"""The action plan as it is followed between committees: current actions, history of every change,
committee editions. One small SQLite file next to the warehouse (`<warehouse>.suivi.sqlite`).

Why a file of its own: the warehouse is rewritten by `etl build` / `etl load` (a new file replaces it with
`os.replace`) and is held read-only by the dashboard, so an edit made in the app cannot go into it, and
anything kept only in it would be rebuilt from the workbook. SQLite gives atomic transactions, one writer
at a time with readers undisturbed (WAL), and lives through every rebuild because no ETL step replaces it.
Backups copy it with SQLite's online backup (`backup` / `restore`).

Tables:
- `actions`: one row per fiche action, with a `revision` counter (optimistic concurrency: a save names
  the revision its form was read at; another editor's change in between is a conflict, nothing is lost);
- `binomes`: the binôme élu-industriel of each EPCI;
- `historique(id, quand, qui, origine, objet, cle, champ, avant, apres)`: every change, values as JSON;
- `editions(nom, date_comite, cree_le, par, version_donnees, historique_id, plan, chiffres)`: frozen
  committee editions (triggers refuse any UPDATE or DELETE: an edition is immutable);
- `meta(cle, valeur)`: the lineage of the last imported workbook and the store's revision.

No Streamlit, no DuckDB here: callers pass the allowed codes (`Lookups`) for validation.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .base import PLAN_STATUTS

STATUTS = PLAN_STATUTS
SENS = ["≥", "≤"]
MAX_TEXT = 2000
MAX_AMOUNT = 1e12
BUSY_MS = 15_000

# Editable fields of an action: key -> (French label, kind).
FIELDS: dict[str, tuple[str, str]] = {
    "intitule": ("Intitulé", "text_required"),
    "statut": ("Statut", "statut"),
    "montant_estime": ("Montant estimé (€)", "amount"),
    "montant_engage": ("Montant engagé (€)", "amount"),
    "montant_paye": ("Montant payé (€)", "amount"),
    "date_debut": ("Date de début", "date"),
    "date_fin": ("Date de fin", "date"),
    "porteurs": ("Porteur(s)", "text"),
    "binome": ("Binôme élu-industriel", "text"),
    "territoires": ("EPCI", "territoires"),
    "filieres": ("Filière(s)", "filieres"),
    "financements": ("Financements", "text"),
    "indicateur_suivi": ("Indicateur de suivi", "text"),
    "cible_indicateur": ("Indicateur cible", "indicateur"),
    "cible_sens": ("Sens de la cible", "sens"),
    "cible_valeur": ("Valeur cible", "number"),
    "cible_annee": ("Année cible", "year"),
    "notes": ("Note d'avancement", "text"),
}
# Fields the workbook carries besides the editable ones.
STRUCTURE = ["numero", "ordre", "axe_num", "axe"]
ALL_FIELDS = STRUCTURE + list(FIELDS)
LABELS = {"numero": "N°", "axe": "Axe", "axe_num": "N° d'axe", "ordre": "Ordre", "action": "Action",
          **{k: v[0] for k, v in FIELDS.items()}, "elu": "Élu(e)", "industriel": "Industriel(le)"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    numero TEXT PRIMARY KEY, ordre INTEGER NOT NULL, axe_num INTEGER NOT NULL, axe TEXT NOT NULL,
    intitule TEXT NOT NULL, statut TEXT NOT NULL, montant_estime REAL, montant_engage REAL, montant_paye REAL,
    date_debut TEXT, date_fin TEXT, porteurs TEXT, binome TEXT, territoires TEXT NOT NULL DEFAULT '[]',
    filieres TEXT NOT NULL DEFAULT '[]', financements TEXT, indicateur_suivi TEXT, cible_indicateur TEXT,
    cible_sens TEXT, cible_valeur REAL, cible_annee INTEGER, notes TEXT, revision INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS binomes (epci_siren TEXT PRIMARY KEY, ordre INTEGER NOT NULL, elu TEXT, industriel TEXT);
CREATE TABLE IF NOT EXISTS historique (
    id INTEGER PRIMARY KEY AUTOINCREMENT, quand TEXT NOT NULL, qui TEXT NOT NULL, origine TEXT NOT NULL,
    objet TEXT NOT NULL, cle TEXT NOT NULL, champ TEXT NOT NULL, avant TEXT, apres TEXT);
CREATE TABLE IF NOT EXISTS editions (
    nom TEXT PRIMARY KEY, date_comite TEXT NOT NULL, cree_le TEXT NOT NULL, par TEXT NOT NULL,
    version_donnees TEXT, historique_id INTEGER NOT NULL, plan TEXT NOT NULL, chiffres TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS editions_immuables_maj BEFORE UPDATE ON editions
BEGIN SELECT RAISE(ABORT, 'une édition de comité est immuable'); END;
CREATE TRIGGER IF NOT EXISTS editions_immuables_sup BEFORE DELETE ON editions
BEGIN SELECT RAISE(ABORT, 'une édition de comité est immuable'); END;
CREATE TABLE IF NOT EXISTS meta (cle TEXT PRIMARY KEY, valeur TEXT);
CREATE TABLE IF NOT EXISTS cibles_axes (
    axe_num INTEGER NOT NULL, indicateur TEXT NOT NULL, sens TEXT NOT NULL, valeur REAL NOT NULL,
    annee INTEGER NOT NULL, PRIMARY KEY (axe_num, indicateur));
"""


class PlanError(ValueError):
    """A refused edit (French message naming the action and the field)."""


class Conflict(Exception):
    """Another editor changed the same field(s) since the form was read: nothing was written."""

    def __init__(self, numero: str, fields: list[str], theirs: dict, mine: dict):
        self.numero, self.fields, self.theirs, self.mine = numero, fields, theirs, mine
        names = ", ".join(LABELS.get(f, f) for f in fields)
        super().__init__(f"action {numero} : modifiée entre-temps par une autre personne ({names}) ; "
                         "rien n'a été enregistré, comparez les deux versions")


@dataclass
class Lookups:
    """Allowed codes for validation: EPCI SIREN -> name, filière code -> label, the whole territory's code,
    catalogue indicator names (None: not checked)."""
    epci: dict[str, str] = field(default_factory=dict)
    filieres: dict[str, str] = field(default_factory=dict)
    territoire: str | None = None
    indicateurs: set[str] | None = None


@dataclass
class Change:
    objet: str            # action | binome
    cle: str              # N° of the action, SIREN of the EPCI
    champ: str            # a field, or « action » for an added / removed action
    avant: object
    apres: object
    # An import's field edited online since the workbook's export and changed in the workbook too: never
    # applied; `avant` is the version online, `apres` the workbook's.
    conflit: bool = False


# Key of an imported action's dict: the plan revision (history id) its workbook was exported at.
BASE = "_revision_export"


def path_for(warehouse: Path | str) -> Path:
    w = Path(warehouse)
    return w.with_name(w.stem + ".suivi.sqlite")


def connect(path: Path | str) -> sqlite3.Connection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=BUSY_MS / 1000, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    with contextlib.suppress(sqlite3.DatabaseError):
        con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.executescript(SCHEMA)
    return con


@contextlib.contextmanager
def transaction(con: sqlite3.Connection):
    """One writer transaction (BEGIN IMMEDIATE: a second writer waits, then sees the first one's rows)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
        con.execute("INSERT INTO meta VALUES ('revision', '1') ON CONFLICT(cle) DO UPDATE SET valeur = "
                    "CAST(CAST(valeur AS INTEGER) + 1 AS TEXT)")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# --- values ---------------------------------------------------------------------------------------

def _jsonable(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (date, datetime)):
        return v.isoformat()[:10]
    return v


def dumps(v) -> str | None:
    v = _jsonable(v)
    return None if v is None else json.dumps(v, ensure_ascii=False)


def loads(text):
    return None if text is None else json.loads(text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202e\u202d\u2066-\u2069]")


def _clean_text(v, label: str, required: bool = False) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        v = ""
    if not isinstance(v, str):
        v = str(v)
    if _CONTROL.search(v):
        raise PlanError(f"{label} : caractères de contrôle refusés (retour chariot, caractère nul, inversion du sens…)")
    v = v.strip()
    if len(v) > MAX_TEXT:
        raise PlanError(f"{label} : texte de {len(v)} caractères, au-delà de la limite de {MAX_TEXT}")
    if required and not v:
        raise PlanError(f"{label} : obligatoire")
    return v or None


def _number(v, label: str) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        raise PlanError(f"{label} : nombre attendu")
    if isinstance(v, str):
        s = v.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("€", "")
        s = s.replace("\u2212", "-")
        factor = 1.0
        if s.endswith("%"):
            s, factor = s[:-1], 0.01
        m = re.match(r"^(.*?)(Md|M|k|K)$", s)
        if m:
            s, factor = m.group(1), {"k": 1e3, "K": 1e3, "M": 1e6, "Md": 1e9}[m.group(2)]
        if s.count(",") == 1 and "." not in s:
            s = s.replace(",", ".")
        if not re.fullmatch(r"-?\d+(\.\d+)?", s):
            raise PlanError(f"{label} : nombre attendu, trouvé « {v[:40]} »")
        v = float(s) * factor
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise PlanError(f"{label} : nombre attendu") from None
    if math.isnan(v):
        return None
    if math.isinf(v):
        raise PlanError(f"{label} : nombre fini attendu")
    return v


def _date(v, label: str) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, datetime):
        d = v.date()
    elif isinstance(v, date):
        d = v
    else:
        s = str(v).strip()
        d = None
        for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"), (r"(\d{1,2})/(\d{1,2})/(\d{4})", "dmy")):
            m = re.fullmatch(pattern, s)
            if m:
                y, mo, da = (m.group(1), m.group(2), m.group(3)) if order == "ymd" else (m.group(3), m.group(2), m.group(1))
                try:
                    d = date(int(y), int(mo), int(da))
                except ValueError:
                    raise PlanError(f"{label} : date inexistante « {s[:20]} »") from None
        if d is None:
            raise PlanError(f"{label} : date attendue (JJ/MM/AAAA), trouvé « {s[:40]} »")
    if not 1990 <= d.year <= 2100:
        raise PlanError(f"{label} : date improbable ({d.strftime('%d/%m/%Y')})")
    return d.isoformat()


def _codes(v) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, str):
        v = [p for p in re.split(r"[;\n]", v)]
    return list(dict.fromkeys(str(p).strip() for p in v if str(p).strip()))


def validate(field_name: str, value, lk: Lookups):
    """The canonical value of one field, or PlanError with a French message."""
    if field_name not in FIELDS:
        raise PlanError(f"champ inconnu « {str(field_name)[:40]} »")
    label, kind = FIELDS[field_name]
    if kind in ("text", "text_required"):
        return _clean_text(value, label, kind == "text_required")
    if kind == "statut":
        v = _clean_text(value, label, True)
        if v not in STATUTS:
            raise PlanError(f"{label} : « {v[:40]} » n'est pas admis (valeurs admises : {', '.join(STATUTS)})")
        return v
    if kind == "sens":
        v = _clean_text(value, label)
        if v in (">=", "≥"):
            return "≥"
        if v in ("<=", "≤"):
            return "≤"
        if v is None:
            return None
        raise PlanError(f"{label} : « ≥ » ou « ≤ » attendu")
    if kind == "amount":
        v = _number(value, label)
        if v is not None and v < 0:
            raise PlanError(f"{label} : un montant ne peut pas être négatif")
        if v is not None and v > MAX_AMOUNT:
            raise PlanError(f"{label} : montant improbable (plus de 1 000 Md€)")
        return v
    if kind == "number":
        return _number(value, label)
    if kind == "year":
        v = _number(value, label)
        if v is None:
            return None
        if not v.is_integer() or not 2000 <= v <= 2100:
            raise PlanError(f"{label} : année attendue (AAAA, entre 2000 et 2100)")
        return int(v)
    if kind == "date":
        return _date(value, label)
    if kind == "territoires":
        codes = _codes(value)
        allowed = set(lk.epci) | ({lk.territoire} if lk.territoire else set())
        bad = [c for c in codes if c not in allowed]
        if bad:
            raise PlanError(f"{label} : code inconnu « {bad[0][:40]} » (SIREN d'un EPCI du territoire, ou le territoire entier)")
        return codes
    if kind == "filieres":
        codes = _codes(value)
        bad = [c for c in codes if c not in lk.filieres]
        if bad:
            raise PlanError(f"{label} : filière inconnue « {bad[0][:40]} » (codes admis : {', '.join(lk.filieres)})")
        return codes
    if kind == "indicateur":
        v = _clean_text(value, label)
        if v is None:
            return None
        if not re.fullmatch(r"[a-z0-9_]{1,80}", v) or (lk.indicateurs is not None and v not in lk.indicateurs):
            raise PlanError(f"{label} : « {v[:40]} » n'est pas un indicateur du catalogue (python -m indicators list)")
        return v
    raise PlanError(f"champ inconnu « {field_name} »")


def check_action(values: dict, numero: str = "") -> None:
    """Rules across fields: end after start, paid ≤ committed, a target needs its indicator, value and year."""
    where = f"action {numero} : " if numero else ""
    d0, d1 = values.get("date_debut"), values.get("date_fin")
    if d0 and d1 and d1 < d0:
        raise PlanError(f"{where}la date de fin ({_fr_date(d1)}) est antérieure à la date de début ({_fr_date(d0)})")
    eng, paid = values.get("montant_engage"), values.get("montant_paye")
    if eng is not None and paid is not None and paid > eng:
        raise PlanError(f"{where}le montant payé dépasse le montant engagé")
    target = [values.get(k) for k in ("cible_indicateur", "cible_valeur", "cible_annee")]
    if any(t is not None for t in target) and not all(t is not None for t in target):
        raise PlanError(f"{where}une cible se renseigne en entier : indicateur, valeur et année")


def _fr_date(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


# --- reading -------------------------------------------------------------------------------------

def _row_dict(cur, row) -> dict:
    d = {c[0]: v for c, v in zip(cur.description, row)}
    for k in ("territoires", "filieres"):
        if k in d:
            d[k] = loads(d[k]) or []
    return d


def actions(con: sqlite3.Connection) -> list[dict]:
    cur = con.execute("SELECT * FROM actions ORDER BY axe_num, ordre")
    return [_row_dict(cur, r) for r in cur.fetchall()]


def action(con: sqlite3.Connection, numero: str) -> dict | None:
    cur = con.execute("SELECT * FROM actions WHERE numero = ?", [numero])
    row = cur.fetchone()
    return None if row is None else _row_dict(cur, row)


def binomes(con: sqlite3.Connection) -> list[dict]:
    cur = con.execute("SELECT epci_siren, elu, industriel FROM binomes ORDER BY ordre")
    return [_row_dict(cur, r) for r in cur.fetchall()]


def meta(con: sqlite3.Connection) -> dict[str, str]:
    return dict(con.execute("SELECT cle, valeur FROM meta").fetchall())


def revision(path: Path | str) -> str:
    """A token that changes at every write (cache keys of the read side); '' when there is no store."""
    if not Path(path).exists():
        return ""
    con = connect(path)
    try:
        row = con.execute("SELECT valeur FROM meta WHERE cle = 'revision'").fetchone()
        return row[0] if row else "0"
    finally:
        con.close()


def is_empty(con: sqlite3.Connection) -> bool:
    return con.execute("SELECT count(*) FROM actions").fetchone()[0] == 0 and \
        con.execute("SELECT count(*) FROM historique").fetchone()[0] == 0


def history(con: sqlite3.Connection, after_id: int = 0, numero: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM historique WHERE id > ?", [after_id]
    if numero is not None:
        sql += " AND objet = 'action' AND cle = ?"
        params.append(numero)
    cur = con.execute(sql + " ORDER BY id", params)
    out = []
    for r in cur.fetchall():
        d = {c[0]: v for c, v in zip(cur.description, r)}
        d["avant"], d["apres"] = loads(d["avant"]), loads(d["apres"])
        out.append(d)
    return out


def last_history_id(con: sqlite3.Connection) -> int:
    return con.execute("SELECT coalesce(max(id), 0) FROM historique").fetchone()[0]


# --- writing -------------------------------------------------------------------------------------

def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _log(con, qui: str, origine: str, c: Change, quand: str) -> None:
    con.execute("INSERT INTO historique (quand, qui, origine, objet, cle, champ, avant, apres) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [quand, qui, origine, c.objet, c.cle, c.champ, dumps(c.avant), dumps(c.apres)])


def _author(qui: str | None) -> str:
    qui = " ".join(str(qui or "").split())[:80]
    if not qui or _CONTROL.search(qui):
        raise PlanError("auteur de la modification obligatoire (votre nom, inscrit à l'historique)")
    return qui


def save(con: sqlite3.Connection, numero: str, base: dict, new: dict, qui: str, lk: Lookups) -> list[Change]:
    """Save an editor's changes to one action. `base`: the field values the form was read with; `new`: the
    values submitted. Only fields that differ from `base` are written. If another editor changed one of them
    since (the stored value is neither `base` nor `new`), Conflict is raised and nothing is written; fields
    the other editor changed and this one did not are kept as they are now."""
    qui = _author(qui)
    cleaned = {}
    for k, v in new.items():
        cleaned[k] = validate(k, v, lk)
    base = {k: (validate(k, base.get(k), lk) if k in base else None) for k in cleaned}
    mine = {k: v for k, v in cleaned.items() if v != base.get(k)}
    if not mine:
        return []
    with transaction(con):
        current = action(con, numero)
        if current is None:
            raise PlanError(f"action {str(numero)[:20]} introuvable (supprimée par un import entre-temps ?)")
        clash = [k for k, v in mine.items() if current.get(k) != base.get(k) and current.get(k) != v]
        if clash:
            raise Conflict(numero, clash, {k: current.get(k) for k in clash}, {k: mine[k] for k in clash})
        merged = {**current, **mine}
        check_action(merged, numero)
        changes = [Change("action", numero, k, current.get(k), v) for k, v in mine.items() if current.get(k) != v]
        if not changes:
            return []
        sets = ", ".join(f"{k} = ?" for k in (c.champ for c in changes))
        con.execute(f"UPDATE actions SET {sets}, revision = revision + 1 WHERE numero = ?",
                    [_stored(c.champ, c.apres) for c in changes] + [numero])
        quand = _now()
        for c in changes:
            _log(con, qui, "saisie", c, quand)
    return changes


def _stored(k: str, v):
    return dumps(v or []) if k in ("territoires", "filieres") else v


def _edited_since(con: sqlite3.Connection, new_actions: list[dict]) -> dict[tuple[str, str], object]:
    """(numero, field) -> value at export, for every field of an action changed in the history since the
    revision its workbook was exported at (`BASE`; actions without one are not looked up)."""
    bases = {a["numero"]: a[BASE] for a in new_actions if a.get(BASE) is not None}
    if not bases:
        return {}
    out: dict[tuple[str, str], object] = {}
    rows = con.execute("SELECT id, cle, champ, avant FROM historique WHERE objet = 'action' AND id > ? ORDER BY id",
                       [min(bases.values())]).fetchall()
    for hid, cle, champ, avant in rows:
        if cle in bases and hid > bases[cle]:
            out.setdefault((cle, champ), loads(avant))   # the first change since the export: its « before »
    return out


def diff(con: sqlite3.Connection, new_actions: list[dict], new_binomes: list[dict] | None,
         present: set[str]) -> list[Change]:
    """What importing a workbook would change: fields of `present` (the workbook's columns; a column the
    workbook lacks is left as it is), added and removed actions, binômes.

    An action exported at a revision (`BASE`, the export's « Révision du suivi »): a field changed since
    then (online or by another import) is kept as it is now when the workbook still has the value of the
    export, and is a conflict (`Change.conflit`, both versions, never applied) when the workbook changed it
    too. The other fields are applied as before."""
    old = {a["numero"]: a for a in actions(con)}
    since = _edited_since(con, new_actions)
    out: list[Change] = []
    conflicts: list[Change] = []
    seen = set()
    for a in new_actions:
        n = a["numero"]
        seen.add(n)
        if n not in old:
            out.append(Change("action", n, "action", None, a.get("intitule")))
            continue
        for k in ALL_FIELDS:
            if k in present and k != "ordre" and old[n].get(k) != a.get(k):
                if (n, k) not in since:
                    out.append(Change("action", n, k, old[n].get(k), a.get(k)))
                elif not _same(k, since[(n, k)], a.get(k)):
                    conflicts.append(Change("action", n, k, old[n].get(k), a.get(k), conflit=True))
    for n, a in old.items():
        if n not in seen:
            out.append(Change("action", n, "action", a.get("intitule"), None))
    if new_binomes is not None:
        ob = {b["epci_siren"]: b for b in binomes(con)}
        for b in new_binomes:
            for k in ("elu", "industriel"):
                if ob.get(b["epci_siren"], {}).get(k) != b.get(k):
                    out.append(Change("binome", b["epci_siren"], k, ob.get(b["epci_siren"], {}).get(k), b.get(k)))
    return out + conflicts


def _same(k: str, a, b) -> bool:
    """Two values of field `k` equal once stored (history JSON against a workbook's value)."""
    if k in ("territoires", "filieres"):
        return list(a or []) == list(b or [])
    return _jsonable(a) == _jsonable(b)


def apply_import(con: sqlite3.Connection, new_actions: list[dict], new_binomes: list[dict] | None, present: set[str],
                 qui: str, lineage: dict[str, str], origine: str = "import") -> list[Change]:
    """Apply a workbook as a set of changes, each one recorded in the history (one transaction). Conflicts
    (`diff`) are not applied: they come last in the returned list, marked `conflit`; a field changed since
    the workbook's export that the workbook did not change keeps its current value."""
    qui = _author(qui)
    with transaction(con):
        changes = diff(con, new_actions, new_binomes, present)
        conflicts = [c for c in changes if c.conflit]
        changes = [c for c in changes if not c.conflit]
        changed = {(c.cle, c.champ) for c in changes if c.objet == "action"}
        old = {a["numero"]: a for a in actions(con)}
        quand = _now()
        for a in new_actions:
            n = a["numero"]
            if n not in old:
                row = {k: a.get(k) for k in ALL_FIELDS}
                row["statut"] = row["statut"] or STATUTS[0]
                cols = ", ".join(row)
                con.execute(f"INSERT INTO actions ({cols}) VALUES ({', '.join('?' * len(row))})",
                            [_stored(k, v) for k, v in row.items()])
            else:
                keep = [k for k in ALL_FIELDS if k in present and k != "numero" and old[n].get(k) != a.get(k)
                        and ((n, k) in changed or k == "ordre")]
                if keep:
                    sets = ", ".join(f"{k} = ?" for k in keep)
                    con.execute(f"UPDATE actions SET {sets}, revision = revision + 1 WHERE numero = ?",
                                [_stored(k, a.get(k)) for k in keep] + [n])
        gone = [n for n in old if n not in {a["numero"] for a in new_actions}]
        for n in gone:
            con.execute("DELETE FROM actions WHERE numero = ?", [n])
        if new_binomes is not None:
            con.execute("DELETE FROM binomes")
            con.executemany("INSERT INTO binomes VALUES (?, ?, ?, ?)",
                            [[b["epci_siren"], i, b.get("elu"), b.get("industriel")] for i, b in enumerate(new_binomes)])
        for c in changes:
            _log(con, qui, origine, c, quand)
        for k, v in lineage.items():
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [k, v])
    return changes + conflicts


def axis_targets(con: sqlite3.Connection) -> list[dict]:
    cur = con.execute("SELECT axe_num, indicateur, sens, valeur, annee FROM cibles_axes ORDER BY axe_num, indicateur")
    return [{c[0]: v for c, v in zip(cur.description, r)} for r in cur.fetchall()]


def set_axis_target(con: sqlite3.Connection, axe_num: int, indicateur: str, sens, valeur, annee, qui: str,
                    lk: Lookups) -> Change | None:
    """Set (or, with valeur None, remove) an axis's target on a catalogue indicator; recorded in the history."""
    qui = _author(qui)
    if not con.execute("SELECT 1 FROM actions WHERE axe_num = ?", [axe_num]).fetchone():
        raise PlanError(f"axe {str(axe_num)[:10]} inconnu du plan")
    ind = validate("cible_indicateur", indicateur, lk)
    if ind is None:
        raise PlanError("Indicateur cible : obligatoire")
    v, y, d = validate("cible_valeur", valeur, lk), validate("cible_annee", annee, lk), validate("cible_sens", sens, lk) or "≥"
    if (v is None) != (y is None):
        raise PlanError("une cible se renseigne en entier : indicateur, valeur et année")
    with transaction(con):
        old = con.execute("SELECT sens, valeur, annee FROM cibles_axes WHERE axe_num = ? AND indicateur = ?",
                          [axe_num, ind]).fetchone()
        before = None if old is None else {"sens": old[0], "valeur": old[1], "annee": old[2]}
        after = None if v is None else {"sens": d, "valeur": v, "annee": y}
        if before == after:
            return None
        con.execute("DELETE FROM cibles_axes WHERE axe_num = ? AND indicateur = ?", [axe_num, ind])
        if after:
            con.execute("INSERT INTO cibles_axes VALUES (?, ?, ?, ?, ?)", [axe_num, ind, d, v, y])
        c = Change("axe", str(axe_num), f"cible:{ind}", before, after)
        _log(con, qui, "saisie", c, _now())
    return c


# --- editions --------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[\w][\w .'’()\-/]{0,79}$")


def check_edition_name(nom: str) -> str:
    nom = " ".join(str(nom or "").split())
    if not nom or not _NAME_RE.match(nom) or _CONTROL.search(nom):
        raise PlanError("nom d'édition attendu : 1 à 80 lettres, chiffres, espaces ou . ' ( ) - /")
    return nom


def create_edition(con: sqlite3.Connection, nom: str, date_comite: str, qui: str, version: str | None,
                   chiffres: list[dict]) -> dict:
    nom, qui = check_edition_name(nom), _author(qui)
    date_comite = _date(date_comite, "Date du comité") or date.today().isoformat()
    with transaction(con):
        if con.execute("SELECT 1 FROM editions WHERE nom = ?", [nom]).fetchone():
            raise PlanError(f"une édition « {nom} » existe déjà : une édition est immuable, choisissez un autre nom")
        plan = {"actions": actions(con), "binomes": binomes(con), "cibles_axes": axis_targets(con)}
        row = [nom, date_comite, _now(), qui, version, last_history_id(con), json.dumps(plan, ensure_ascii=False),
               json.dumps(chiffres, ensure_ascii=False, default=_jsonable)]
        con.execute("INSERT INTO editions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    return edition(con, nom)


def editions(con: sqlite3.Connection) -> list[dict]:
    cur = con.execute("""SELECT nom, date_comite, cree_le, par, version_donnees, historique_id,
                                json_array_length(plan, '$.actions') AS actions, json_array_length(chiffres) AS chiffres
                         FROM editions ORDER BY date_comite, cree_le""")
    return [{c[0]: v for c, v in zip(cur.description, r)} for r in cur.fetchall()]


def edition(con: sqlite3.Connection, nom: str) -> dict | None:
    cur = con.execute("SELECT * FROM editions WHERE nom = ?", [nom])
    r = cur.fetchone()
    if r is None:
        return None
    d = {c[0]: v for c, v in zip(cur.description, r)}
    d["plan"], d["chiffres"] = json.loads(d["plan"]), json.loads(d["chiffres"])
    return d


def last_edition(con: sqlite3.Connection) -> dict | None:
    eds = editions(con)
    return edition(con, eds[-1]["nom"]) if eds else None


# --- backup ---------------------------------------------------------------------------------------

def backup(path: Path | str, dest: Path | str) -> Path:
    """A consistent copy of the store (SQLite online backup), written next to `dest` then renamed."""
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".tmp")
    src = connect(path)
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        out = sqlite3.connect(str(tmp))
        try:
            src.backup(out)
        finally:
            out.close()
        os.replace(tmp, dest)
    finally:
        src.close()
    return dest


def restore(path: Path | str, src: Path | str) -> dict:
    """Replace the store by a backup (checked first: a file that is not a store is refused, nothing changed)."""
    src = Path(src)
    if not src.is_file():
        raise PlanError(f"{src.name} : fichier introuvable")
    try:
        probe = sqlite3.connect(f"file:{src.as_posix()}?mode=ro", uri=True)
        try:
            if probe.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise PlanError(f"{src.name} : sauvegarde abîmée (contrôle d'intégrité SQLite)")
            tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"actions", "historique", "editions"} <= tables:
                raise PlanError(f"{src.name} : ce n'est pas une sauvegarde du suivi du plan d'actions")
            counts = {t: probe.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("actions", "historique", "editions")}
        finally:
            probe.close()
    except sqlite3.DatabaseError:
        raise PlanError(f"{src.name} : ce n'est pas une sauvegarde du suivi du plan d'actions (fichier SQLite attendu)") from None
    dst = connect(path)
    try:
        s = sqlite3.connect(f"file:{src.as_posix()}?mode=ro", uri=True)
        try:
            s.backup(dst)
        finally:
            s.close()
    finally:
        dst.close()
    return counts


# --- French text ---------------------------------------------------------------------------------

NNBSP = "\u202f"


def _thousands(n: float, decimals: int = 0) -> str:
    text = f"{abs(n):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return ("\u2212" if n < 0 else "") + text


def shown(champ: str, v) -> str:
    """A stored value as French text (history, diffs, CLI)."""
    if v is None or v == [] or v == "":
        return "(vide)"
    kind = FIELDS.get(champ, ("", "text"))[1]
    if kind == "amount":
        return f"{_thousands(float(v))}{NNBSP}€"
    if kind == "date" and isinstance(v, str) and len(v) >= 10:
        return _fr_date(v)
    if kind == "number":
        f = float(v)
        return _thousands(f) if f.is_integer() else _thousands(f, 4).rstrip("0").rstrip(",")
    if isinstance(v, list):
        return " ; ".join(map(str, v))
    return str(v)


def describe(c: Change, names: dict[str, str] | None = None) -> str:
    """'action 1.1, Statut : « à lancer » → « en cours »' (names: codes -> names for EPCI and filières)."""
    names = names or {}

    def val(v):
        if isinstance(v, list):
            v = [names.get(x, x) for x in v]
        return shown(c.champ, v)
    if c.champ == "action":
        if c.avant is None:
            return f"action {c.cle} ajoutée : « {c.apres} »"
        return f"action {c.cle} retirée du plan : « {c.avant} »"
    what = f"binôme {names.get(c.cle, c.cle)}" if c.objet == "binome" else f"action {c.cle}"
    if c.conflit:
        return (f"{what}, {LABELS.get(c.champ, c.champ)} : conflit, non appliqué (modifié en ligne depuis l'export "
                f"du classeur) — version en ligne « {val(c.avant)} », version du classeur « {val(c.apres)} »")
    return f"{what}, {LABELS.get(c.champ, c.champ)} : « {val(c.avant)} » → « {val(c.apres)} »"
