"""The action plan workbook (data/plan_actions.xlsx): fiches actions and binômes élu-industriel.

Sheet « Actions »: one row per fiche action (N°, Axe, Intitulé de l'action, Porteur(s), EPCI,
Filière(s), Montant estimé (€), Financements, Statut, Date de début, Date de fin, Indicateur de
suivi, Notes); sheet « Binômes »: EPCI, Élu(e), Industriel(le). Headers are matched tolerantly
(case, accents, punctuation). EPCI by short name, full name or SIREN; filière by label or code;
several values separated by « ; ». Any unknown EPCI, filière or statut, unreadable amount or
date refuses the whole workbook with the sheet, line and column: the plan already loaded stays.

Unlike the statistical sources, the plan goes to its own tables (plan_actions, plan_binomes),
not to `facts`: a copy of the last imported workbook. The plan followed between committees lives in the
plan store (`etl/plan_store.py`, next to the warehouse): a workbook is applied to it as a set of changes,
recorded in its history, once the warehouse has been written (`etl.load`). Columns the workbook lacks
(an older workbook without « Montant engagé (€) », say) leave those fields as they are.

« The whole territory » in the EPCI column is the territory of the warehouse (`whole_territory`): the TI
(ref_territoires niveau 'ti') when the warehouse has one, else the perimeter's département; its code, its
name, and the words of older workbooks (« tout le département », the département's code or name) say it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from ..base import PLAN_STATUTS
from ..lineage import FileReport, next_source_id, record
from ..readers import check_xlsx, is_zip, xlsx_failure
from ..validate import Problem, parse_number, refuse
from .common import Staged, _norm

KIND = "plan_actions"
LIBELLE = "Plan d'actions Territoire d'industrie (classeur de suivi de l'Agence)"
PRODUCTEUR = "Agence de développement du territoire (auteur du classeur)"   # the workbook's author when it names one
# Authors that name the program which wrote the workbook, not the organisation keeping the plan (openpyxl writes
# « openpyxl » unless told otherwise; Office and LibreOffice put their own names in files saved without an author).
SOFTWARE_AUTHORS = ("openpyxl", "xlsxwriter", "apache poi", "microsoft office user", "utilisateur de microsoft office",
                    "libreoffice", "python", "pandas", "duckdb")


def is_software(author) -> bool:
    """Whether a workbook's declared author is a program's name (never shown as the plan's producer)."""
    text = " ".join(str(author or "").split()).lower()
    return not text or any(text == w or text.startswith(w + " ") for w in SOFTWARE_AUTHORS)
LICENCE = "Document de travail (candidature Territoires d'industrie 2023-2027)"

STATUTS = PLAN_STATUTS
_STATUT_NORM = {"alancer": "à lancer", "encours": "en cours", "realise": "réalisé", "realisee": "réalisé",
                "realises": "réalisé", "abandonne": "abandonné", "abandonnee": "abandonné"}
# Words meaning "the whole territory" in the EPCI column (besides the territory's own code and name).
_WHOLE_WORDS = {"departement", "toutledepartement", "tous", "touslesepci", "toutleterritoire", "territoire",
                "territoireentier"}
MAX_TEXT = 2000
MAX_PROBLEMS = 50

DDL = """
CREATE TABLE IF NOT EXISTS plan_actions (
    source_id INTEGER NOT NULL,
    ligne INTEGER,                  -- row of the « Actions » sheet
    ordre INTEGER NOT NULL,         -- order in the workbook
    numero VARCHAR NOT NULL,
    axe_num INTEGER NOT NULL,
    axe VARCHAR NOT NULL,
    intitule VARCHAR NOT NULL,
    porteurs VARCHAR,
    territoires VARCHAR[],          -- EPCI SIRENs, or the territory's code (whole_territory); empty: not filled in
    filieres VARCHAR[],             -- filière codes (ref_filieres)
    montant_eur DOUBLE,             -- estimated amount; NULL: not filled in (never 0 for unknown)
    financements VARCHAR,
    statut VARCHAR NOT NULL,        -- à lancer, en cours, réalisé, abandonné
    date_debut DATE,
    date_fin DATE,
    indicateur_suivi VARCHAR,
    notes VARCHAR,
    montant_engage DOUBLE, montant_paye DOUBLE, binome VARCHAR,
    cible_indicateur VARCHAR, cible_sens VARCHAR, cible_valeur DOUBLE, cible_annee INTEGER
);
CREATE TABLE IF NOT EXISTS plan_binomes (
    source_id INTEGER NOT NULL, ligne INTEGER, epci_siren VARCHAR NOT NULL, elu VARCHAR, industriel VARCHAR
);
"""

_COLUMNS = {  # key: (header candidates, required)
    "numero": (("N°", "N", "No", "Numéro", "Num", "Identifiant", "Id"), True),
    "axe": (("Axe",), True),
    "intitule": (("Intitulé de l'action", "Intitulé", "Action", "Fiche action", "Intitulé de la fiche action"), True),
    "porteurs": (("Porteur(s)", "Porteurs", "Porteur"), True),
    "epci": (("EPCI", "EPCI(s)", "Intercommunalité(s)", "Intercommunalité", "Intercommunalités"), False),
    "filieres": (("Filière(s)", "Filières", "Filière"), False),
    "montant": (("Montant estimé (€)", "Montant estimé", "Montant (€)", "Montant", "Montant estimé (euros)"), False),
    "financements": (("Financements", "Financement", "Financements sollicités"), False),
    "statut": (("Statut", "État", "Avancement"), True),
    "date_debut": (("Date de début", "Début", "Date début"), False),
    "date_fin": (("Date de fin", "Fin", "Date fin"), False),
    "indicateur": (("Indicateur de suivi", "Indicateur", "Indicateurs de suivi"), False),
    "notes": (("Notes", "Note", "Note d'avancement", "Commentaires", "Remarques"), False),
    "montant_engage": (("Montant engagé (€)", "Montant engagé", "Engagé (€)"), False),
    "montant_paye": (("Montant payé (€)", "Montant payé", "Payé (€)"), False),
    "binome": (("Binôme élu-industriel", "Binôme", "Élu référent"), False),
    "cible_indicateur": (("Indicateur cible",), False),
    "cible_sens": (("Sens de la cible",), False),
    "cible_valeur": (("Valeur cible",), False),
    "cible_annee": (("Année cible",), False),
    # The plan's revision an export was taken from (indicators/plan.py REVISION): not a field, the base of a re-import.
    "revision": (("Révision du suivi",), False),
}
# Sheet key -> plan store field (the columns a workbook carries are the fields an import may change).
STORE_FIELDS = {"numero": "numero", "axe": "axe", "intitule": "intitule", "porteurs": "porteurs", "epci": "territoires",
                "filieres": "filieres", "montant": "montant_estime", "financements": "financements", "statut": "statut",
                "date_debut": "date_debut", "date_fin": "date_fin", "indicateur": "indicateur_suivi", "notes": "notes",
                "montant_engage": "montant_engage", "montant_paye": "montant_paye", "binome": "binome",
                "cible_indicateur": "cible_indicateur", "cible_sens": "cible_sens", "cible_valeur": "cible_valeur",
                "cible_annee": "cible_annee"}
_BINOME_COLUMNS = {
    "epci": (("EPCI", "Intercommunalité"), True),
    "elu": (("Élu(e)", "Élu", "Élue", "Élu(e)s"), True),
    "industriel": (("Industriel(le)", "Industriel", "Industrielle"), True),
}
# Required columns whose empty cell may be a formula without a computed value (_Sheet.required).
_FORMULA_KEYS = ("numero", "axe", "intitule", "statut")
_AXE_RE = re.compile(r"^\s*axe\s*(\d+)", re.IGNORECASE)
_DATE_RES = [(re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), "dmy"),
             (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"), "ymd"),
             (re.compile(r"^(\d{1,2})[/.-](\d{4})$"), "my")]


def detect(header: list[str]) -> bool:
    norm = {_norm(h) for h in header}
    return "axe" in norm and "statut" in norm and any(_norm(c) in norm for c in _COLUMNS["intitule"][0])


@dataclass
class PlanStaged(Staged):
    """A staged plan: `etl.load` hands it its own tables through `apply` instead of facts/firmes."""
    n_actions: int = 0
    n_binomes: int = 0
    present: frozenset = frozenset()       # plan store fields the workbook carries
    has_binomes: bool = False
    bases: dict = field(default_factory=dict)   # numero -> plan revision of the export (« Révision du suivi »)

    def apply(self, con: duckdb.DuckDBPyConnection, path: Path, sha: str, demo: bool):
        # The copy of the last workbook is replaced entirely (an older layout of the table with it).
        con.execute("DROP TABLE IF EXISTS plan_actions")
        con.execute("DROP TABLE IF EXISTS plan_binomes")
        con.execute(DDL)
        sid = next_source_id(con)
        con.execute("DELETE FROM problemes WHERE source_id IN (SELECT source_id FROM sources WHERE kind = ?)", [KIND])
        con.execute("DELETE FROM sources WHERE kind = ?", [KIND])
        con.execute("INSERT INTO plan_actions SELECT ?, * FROM stg_plan_actions", [sid])
        con.execute("INSERT INTO plan_binomes SELECT ?, * FROM stg_plan_binomes", [sid])
        n = self.n_actions + self.n_binomes
        record(con, sid, KIND, self.libelle, Path(path).name, sha, self.millesime, None, self.producteur, self.licence,
               whole_territory(con)[0], demo, self.lignes_lues, n, self.problems)
        report = FileReport(Path(path).name, KIND, "chargé", self.lignes_lues, n, list(self.problems))
        from .. import plan_store

        actions, binomes = staged_rows(con)
        for a in actions:
            if a["numero"] in self.bases:
                a[plan_store.BASE] = self.bases[a["numero"]]
        report.plan = PlanImport(actions, binomes, set(self.present) | {"axe_num", "ordre"},
                                 {"fichier": Path(path).name, "sha256": sha, "libelle": self.libelle,
                                  "charge_le": datetime.now().isoformat(timespec="seconds")}, self.has_binomes)
        return report


@dataclass
class PlanImport:
    """What a workbook brings to the plan store (applied by etl.load once the warehouse is written)."""
    actions: list[dict]
    binomes: list[dict]
    present: set
    lineage: dict
    has_binomes: bool = True


def _iso(v):
    return None if v is None else v.isoformat()[:10]


def staged_rows(con: duckdb.DuckDBPyConnection, table: str = "stg_plan_actions",
                binomes: str = "stg_plan_binomes") -> tuple[list[dict], list[dict]]:
    """The staged workbook (or the warehouse's copy of the last one) as plan store rows."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    rows = con.execute(f"SELECT * FROM {table} ORDER BY axe_num, ordre").fetchall()
    actions = []
    for r in rows:
        d = dict(zip(cols, r))
        actions.append({
            "numero": d["numero"], "ordre": d["ordre"], "axe_num": d["axe_num"], "axe": d["axe"],
            "intitule": d["intitule"], "statut": d["statut"], "montant_estime": d.get("montant_eur"),
            "montant_engage": d.get("montant_engage"), "montant_paye": d.get("montant_paye"),
            "date_debut": _iso(d.get("date_debut")), "date_fin": _iso(d.get("date_fin")),
            "porteurs": d.get("porteurs"), "binome": d.get("binome"), "territoires": list(d.get("territoires") or []),
            "filieres": list(d.get("filieres") or []), "financements": d.get("financements"),
            "indicateur_suivi": d.get("indicateur_suivi"), "cible_indicateur": d.get("cible_indicateur"),
            "cible_sens": d.get("cible_sens"), "cible_valeur": d.get("cible_valeur"),
            "cible_annee": d.get("cible_annee"), "notes": d.get("notes")})
    bins = [{"epci_siren": s, "elu": e, "industriel": i}
            for s, e, i in con.execute(f"SELECT epci_siren, elu, industriel FROM {binomes} ORDER BY ligne").fetchall()]
    return actions, bins


def whole_territory(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(code, name) of « the whole territory » of the plan: the warehouse's TI, else its perimeter's département."""
    for niveau in ("ti", "departement"):
        rows = con.execute("SELECT code, nom FROM ref_territoires WHERE niveau = ? AND perimetre ORDER BY ordre, code",
                           [niveau]).fetchall()
        if rows:
            return rows[0]
    return ("", "")


def _whole_aliases(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every way a workbook may say « the whole territory »: the territory's code and name, and (older
    workbooks) the perimeter's département code and name, « X (tout le département) »."""
    out = set(_WHOLE_WORDS)
    rows = con.execute("""SELECT code, nom, nom_court FROM ref_territoires
                          WHERE niveau IN ('ti', 'departement') AND perimetre""").fetchall()
    for code, nom, nom_court in rows:
        for v in (code, nom, nom_court):
            if v:
                out |= {_norm(v), _norm(v) + "toutledepartement", _norm(v) + "toutleterritoire"}
    return out


class _Sheet:
    """Rows of one sheet, with problems reported as « fichier (feuille « X ») », line, column."""

    def __init__(self, path: Path, ws, columns: dict):
        self.where = f"{Path(path).name} (feuille « {ws.title} »)"
        self.problems: list[Problem] = []
        self.path = Path(path)
        self.title = ws.title
        self._formulas: dict[tuple[int, int], str] | None = None
        ws.reset_dimensions()          # a forged « A1:XFD1048576 » would pad every row to 16 384 cells
        rows = self._guarded(ws.iter_rows(values_only=True))
        self.header_line, self.header = 0, []
        for i, row in enumerate(rows, start=1):
            cells = ["" if c is None else str(c).strip() for c in (row or ())]
            if sum(1 for c in cells if c) >= 2:
                self.header_line, self.header = i, cells
                break
            if i >= 10:
                break
        self._rows = rows
        norm = [_norm(h) for h in self.header]
        self.index: dict[str, int] = {}
        self.label: dict[str, str] = {}
        for key, (candidates, required) in columns.items():
            found = next((norm.index(_norm(c)) for c in candidates if _norm(c) in norm), None)
            if found is None:
                if required:
                    self.problem(self.header_line or 1, None, f"colonne obligatoire absente : « {candidates[0]} »")
                continue
            self.index[key], self.label[key] = found, self.header[found]

    def _guarded(self, rows):
        """The sheet's rows; a workbook broken mid-sheet is refused in French, naming the line."""
        i = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # openpyxl and the XML parser raise many types
                raise xlsx_failure(self.path, exc, i + 1) from None
            i += 1
            yield row

    def formula(self, ligne: int, key: str) -> str | None:
        """The formula of a cell (line, column of `key`) of the columns in _FORMULA_KEYS, None when it holds none.

        The workbook is read with cached values (data_only): a formula never computed by Excel (written by a
        script, or by openpyxl from text starting with « = ») reads as an empty cell. When a required cell is
        empty, the sheet is read again, once, for its formulas, so the refusal says what the cell holds."""
        j = self.index.get(key)
        if j is None or not is_zip(self.path):
            return None
        if self._formulas is None:
            import openpyxl

            self._formulas = {}
            columns = sorted(self.index[k] for k in _FORMULA_KEYS if k in self.index)
            try:
                wb = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
                try:
                    ws = wb[self.title]
                    ws.reset_dimensions()
                    for i, row in enumerate(ws.iter_rows(), start=1):
                        for c in columns:
                            if c < len(row) and getattr(row[c], "data_type", None) == "f" and len(self._formulas) < 10_000:
                                self._formulas[(i, c)] = str(row[c].value)
                finally:
                    wb.close()
            except Exception:  # the first reading already said what is wrong with the workbook
                pass
        return self._formulas.get((ligne, j))

    def required(self, ligne: int, key: str, what: str, message: str) -> None:
        """A required cell is empty: say it holds a formula (« la cellule C7 contient une formule (=A7&B7), pas
        un intitulé ») when it does, `message` otherwise."""
        from openpyxl.utils import get_column_letter

        formula = self.formula(ligne, key)
        if formula is not None:
            cell = f"{get_column_letter(self.index[key] + 1)}{ligne}"
            shown = formula if len(formula) <= 60 else formula[:60] + "…"
            message = (f"la cellule {cell} contient une formule ({shown}), pas {what} : saisissez le texte lui-même "
                       "(ou copiez, puis collage spécial « valeurs »)")
        self.problem(ligne, key, message)

    def problem(self, ligne, key, message, grave=True):
        if len(self.problems) < MAX_PROBLEMS:
            colonne = self.label.get(key, key) if key else None
            self.problems.append(Problem(self.where, ligne, colonne, message, grave))

    def rows(self):
        """(line, {key: raw value}) of every non-empty data row."""
        for i, row in enumerate(self._rows, start=self.header_line + 1):
            row = row or ()
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                continue
            yield i, {k: (row[j] if j < len(row) else None) for k, j in self.index.items()}


def _text(sheet: _Sheet, ligne: int, key: str, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        sheet.problem(ligne, key, "texte attendu, trouvé une case à cocher (VRAI/FAUX)")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        value = value.strftime("%d/%m/%Y")
    text = " ".join(str(value).split()) if key not in ("notes", "financements") else str(value).strip()
    if len(text) > MAX_TEXT:
        sheet.problem(ligne, key, f"texte de {len(text)} caractères, au-delà de la limite de {MAX_TEXT}")
        return None
    return text or None


def _amount(sheet: _Sheet, ligne: int, value, key: str = "montant") -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or isinstance(value, (datetime, date)):
        sheet.problem(ligne, key, f"montant en euros attendu, trouvé « {value} »")
        return None
    factor = 1.0
    if isinstance(value, str):
        s = value.strip().replace("€", "").replace("EUR", "").replace("euros", "").strip()
        m = re.match(r"^(.*?)\s*(M|Md|k|K)$", s)
        if m:
            s, factor = m.group(1), {"k": 1e3, "K": 1e3, "M": 1e6, "Md": 1e9}[m.group(2)]
        value = s
    try:
        number = parse_number(value)
    except ValueError as exc:
        sheet.problem(ligne, key, f"montant en euros attendu : {exc}")
        return None
    if number is not None and number < 0:
        sheet.problem(ligne, key, "un montant ne peut pas être négatif")
        return None
    return None if number is None else number * factor


def _date(sheet: _Sheet, ligne: int, key: str, value) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    d = None
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    elif isinstance(value, str):
        s = value.strip()
        for pattern, order in _DATE_RES:
            m = pattern.match(s)
            if not m:
                continue
            try:
                if order == "dmy":
                    d = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                elif order == "ymd":
                    d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                else:
                    d = date(int(m.group(2)), int(m.group(1)), 1)
            except ValueError:
                d = None
            break
    if d is None:
        sheet.problem(ligne, key, f"date attendue (JJ/MM/AAAA ou MM/AAAA), trouvé « {str(value)[:40]} »")
        return None
    if not 1990 <= d.year <= 2100:
        sheet.problem(ligne, key, f"date improbable ({d.strftime('%d/%m/%Y')}) : saisir une date JJ/MM/AAAA")
        return None
    return d


def _split(value: str | None) -> list[str]:
    if not value:
        return []
    return [p.strip() for p in re.split(r"[;\n]", value) if p.strip()]


def _lookups(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, dict, dict]:
    epci, names = {}, {}
    for siren, nom, nom_court in con.execute("SELECT siren, nom, nom_court FROM ref_epci ORDER BY ordre").fetchall():
        names[siren] = nom_court
        for k in (siren, nom, nom_court):
            epci[_norm(k)] = siren
    filieres, labels = {}, {}
    for code, label in con.execute("SELECT DISTINCT filiere, filiere_libelle FROM ref_filieres ORDER BY 1").fetchall():
        labels[code] = label
        filieres[_norm(code)] = filieres[_norm(label)] = code
    return epci, names, filieres, labels


def _read_actions(sheet: _Sheet, epci: dict, epci_names: dict, filieres: dict, filiere_labels: dict,
                  whole: tuple[str, str, set]) -> tuple[list, int]:
    from .. import plan_store

    whole_code, whole_name, whole_words = whole
    out, seen, n = [], {}, 0
    sheet.bases = {}
    for ligne, raw in sheet.rows():
        n += 1
        values = {k: _text(sheet, ligne, k, raw.get(k)) for k in ("numero", "axe", "intitule", "porteurs", "epci",
                                                                  "filieres", "financements", "statut", "indicateur", "notes")}
        if isinstance(raw.get("numero"), float) and not raw["numero"].is_integer():
            values["numero"] = f"{raw['numero']:g}"
        numero, axe, intitule = values["numero"], values["axe"], values["intitule"]
        if not numero:
            sheet.required(ligne, "numero", "un numéro d'action", "numéro d'action obligatoire (ex. 3.1)")
        elif numero in seen:
            sheet.problem(ligne, "numero", f"numéro « {numero} » déjà utilisé ligne {seen[numero]} : chaque action a son numéro")
        else:
            seen[numero] = ligne
        axe_num = None
        if not axe:
            sheet.required(ligne, "axe", "un axe", "axe obligatoire (ex. « Axe 1. Foncier et attractivité »)")
        else:
            m = _AXE_RE.match(axe)
            if m:
                axe_num = int(m.group(1))
            else:
                sheet.problem(ligne, "axe", f"l'axe doit commencer par « Axe N. », trouvé « {axe[:60]} »")
        if not intitule:
            sheet.required(ligne, "intitule", "un intitulé", "intitulé de l'action obligatoire")
        statut_txt = values["statut"]
        statut = _STATUT_NORM.get(_norm(statut_txt or ""))
        if statut is None:
            allowed = ", ".join(f"« {s} »" for s in STATUTS)
            if statut_txt:
                sheet.problem(ligne, "statut", f"statut inconnu « {statut_txt[:40]} » : valeurs admises {allowed}")
            else:
                sheet.required(ligne, "statut", "un statut", f"statut obligatoire : {allowed}")
        territoires = []
        for part in _split(values["epci"]):
            key = _norm(part)
            if key in epci:
                territoires.append(epci[key])
            elif key in whole_words:
                territoires.append(whole_code)
            else:
                sheet.problem(ligne, "epci", f"EPCI inconnu « {part[:60]} » : nom court ou SIREN attendu "
                                             f"({_some(epci_names.values())}), ou « {whole_name} » pour tout le territoire")
        codes = []
        for part in _split(values["filieres"]):
            code = filieres.get(_norm(part))
            if code is None:
                sheet.problem(ligne, "filieres", f"filière inconnue « {part[:60]} » : valeurs admises "
                                                 f"{', '.join(filiere_labels.values())} (ou leurs codes {', '.join(filiere_labels)})")
            else:
                codes.append(code)
        montant = _amount(sheet, ligne, raw.get("montant"))
        debut = _date(sheet, ligne, "date_debut", raw.get("date_debut"))
        fin = _date(sheet, ligne, "date_fin", raw.get("date_fin"))
        if debut and fin and fin < debut:
            sheet.problem(ligne, "date_fin", f"date de fin ({fin.strftime('%d/%m/%Y')}) antérieure à la date de début "
                                             f"({debut.strftime('%d/%m/%Y')})")
        extra = []
        for key in ("montant_engage", "montant_paye"):
            extra.append(_amount(sheet, ligne, raw.get(key), key))
        extra.append(_text(sheet, ligne, "binome", raw.get("binome")))
        for key in ("cible_indicateur", "cible_sens", "cible_valeur", "cible_annee"):
            value = raw.get(key)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            try:
                extra.append(plan_store.validate(key, value, plan_store.Lookups()))
            except plan_store.PlanError as exc:
                sheet.problem(ligne, key, str(exc).split(" : ", 1)[-1])
                extra.append(None)
        revision = raw.get("revision")
        if revision is not None and not (isinstance(revision, str) and not revision.strip()):
            try:
                rev = float(str(revision).strip())
                if not rev.is_integer() or rev < 0:
                    raise ValueError
                if numero:
                    sheet.bases[numero] = int(rev)
            except ValueError:
                sheet.problem(ligne, "revision", f"révision du suivi illisible « {str(revision)[:20]} » : colonne écrite "
                                                 "par l'export du tableau de bord, à laisser telle quelle (ou à vider)")
        out.append([ligne, len(out) + 1, numero, axe_num, axe, intitule, values["porteurs"],
                    list(dict.fromkeys(territoires)), list(dict.fromkeys(codes)), montant, values["financements"],
                    statut, debut, fin, values["indicateur"], values["notes"], *extra])
    return out, n


def _has_role(con: duckdb.DuckDBPyConnection) -> bool:
    """ref_territoires.role (membre, reference, voisin) exists in warehouses built since the perimeter module."""
    return bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'ref_territoires' "
                            "AND column_name = 'role'").fetchall()[0][0])


def _read_binomes(sheet: _Sheet, epci: dict, epci_names: dict) -> tuple[list, int]:
    out, seen, n = [], {}, 0
    for ligne, raw in sheet.rows():
        n += 1
        name = _text(sheet, ligne, "epci", raw.get("epci"))
        siren = epci.get(_norm(name or ""))
        if not name:
            sheet.problem(ligne, "epci", "EPCI obligatoire sur chaque ligne de binôme")
            continue
        if siren is None:
            sheet.problem(ligne, "epci", f"EPCI inconnu « {name[:60]} » : nom court ou SIREN attendu ({_some(epci_names.values())})")
            continue
        if siren in seen:
            sheet.problem(ligne, "epci", f"{epci_names[siren]} a déjà un binôme ligne {seen[siren]}")
            continue
        seen[siren] = ligne
        out.append([ligne, siren, _text(sheet, ligne, "elu", raw.get("elu")),
                    _text(sheet, ligne, "industriel", raw.get("industriel"))])
    return out, n


class _CsvSheet:
    def __init__(self, title: str, rows: list[list[str]]):
        self.title, self._rows = title, rows

    def reset_dimensions(self):
        pass

    def iter_rows(self, values_only=True):
        return iter([tuple(r) for r in self._rows])


class _CsvBook:
    """A CSV export of the plan read like a workbook of one sheet « Actions » (binômes: unchanged)."""
    MAX_BYTES = 20 * 1024 * 1024

    def __init__(self, path: Path):
        import csv
        import io

        data = Path(path).read_bytes()[: self.MAX_BYTES + 1]
        if len(data) > self.MAX_BYTES:
            refuse(path, "plan d'actions en CSV de plus de 20 Mo : ce n'est pas un export du plan")
        if b"\x00" in data:
            refuse(path, "le plan d'actions se charge au format Excel (.xlsx) ou CSV (export du tableau de bord)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
        first = text.split("\n", 1)[0]
        rows = list(csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ","))
        # Text the export protected from spreadsheet formulas (a leading apostrophe) is read back as typed.
        rows = [[c[1:] if c[:1] == "'" and c[1:2] in ("=", "+", "-", "@") else c for c in r] for r in rows]
        self.worksheets = [_CsvSheet("Actions", rows)]
        self.properties = type("P", (), {"modified": None})()

    def close(self):
        pass


def _find_sheet(wb, *names: str):
    wanted = {_norm(n) for n in names}
    return next((ws for ws in wb.worksheets if _norm(ws.title) in wanted), None)


def stage(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    import openpyxl

    path = Path(path)
    if not is_zip(path):
        wb = _CsvBook(path)   # the plan exported as CSV (python -m indicators plan-export, page button)
    else:
        check_xlsx(path)
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types on broken files
            raise xlsx_failure(path, exc) from None
    try:
        ws = _find_sheet(wb, "Actions", "Plan d'actions", "Fiches actions") or wb.worksheets[0]
        epci, epci_names, filieres, filiere_labels = _lookups(con)
        actions_sheet = _Sheet(path, ws, _COLUMNS)
        whole = (*whole_territory(con), _whole_aliases(con))
        actions, n_lues = ([], 0) if actions_sheet.problems else _read_actions(actions_sheet, epci, epci_names, filieres,
                                                                              filiere_labels, whole)
        problems = list(actions_sheet.problems)
        if not actions and not problems:
            problems.append(Problem(actions_sheet.where, None, None, "aucune action dans la feuille"))
        binomes, n_bin = [], 0
        ws_b = _find_sheet(wb, "Binômes", "Binômes élu-industriel", "Binomes élus-industriels", "Binômes élus - industriels")
        if ws_b is None:
            problems.append(Problem(path.name, None, None, "feuille « Binômes » absente : aucun binôme chargé", grave=False))
        else:
            binome_sheet = _Sheet(path, ws_b, _BINOME_COLUMNS)
            if not binome_sheet.problems:
                binomes, n_bin = _read_binomes(binome_sheet, epci, epci_names)
            problems += binome_sheet.problems
        modified = wb.properties.modified
        creator = getattr(wb.properties, "creator", None)
    finally:
        wb.close()
    con.execute("""CREATE OR REPLACE TEMP TABLE stg_plan_actions (
        ligne INTEGER, ordre INTEGER, numero VARCHAR, axe_num INTEGER, axe VARCHAR, intitule VARCHAR, porteurs VARCHAR,
        territoires VARCHAR[], filieres VARCHAR[], montant_eur DOUBLE, financements VARCHAR, statut VARCHAR,
        date_debut DATE, date_fin DATE, indicateur_suivi VARCHAR, notes VARCHAR, montant_engage DOUBLE,
        montant_paye DOUBLE, binome VARCHAR, cible_indicateur VARCHAR, cible_sens VARCHAR, cible_valeur DOUBLE,
        cible_annee INTEGER)""")
    con.execute("CREATE OR REPLACE TEMP TABLE stg_plan_binomes (ligne INTEGER, epci_siren VARCHAR, elu VARCHAR, industriel VARCHAR)")
    if not any(p.grave for p in problems):
        if actions:
            con.executemany(f"INSERT INTO stg_plan_actions VALUES ({', '.join('?' * 23)})", actions)
        if binomes:
            con.executemany("INSERT INTO stg_plan_binomes VALUES (?, ?, ?, ?)", binomes)
        # Only the Territoire d'industrie's own EPCI need a binôme (the warehouse also holds neighbours and the
        # other EPCI of the reference départements).
        members = [r[0] for r in con.execute("SELECT code FROM ref_territoires WHERE niveau = 'epci' AND role = 'membre' "
                                             "ORDER BY ordre, code").fetchall()] if _has_role(con) else list(epci_names)
        missing = [" ".join(epci_names[s].split()) for s in members if s in epci_names and s not in {b[1] for b in binomes}]
        if ws_b is not None and missing:
            problems.append(Problem(path.name, None, None, f"{len(missing)} EPCI sans ligne de binôme : {', '.join(missing)}",
                                    grave=False))
    millesime = modified.strftime("%Y-%m-%d") if isinstance(modified, datetime) else None
    present = frozenset(STORE_FIELDS[k] for k in actions_sheet.index if k in STORE_FIELDS)
    producteur = PRODUCTEUR if is_software(creator) else creator
    producteur = " ".join(str(producteur).split())[:200]
    return PlanStaged(KIND, LIBELLE, producteur, LICENCE, millesime, n_lues + n_bin, problems=problems,
                      n_actions=len(actions), n_binomes=len(binomes), present=present, has_binomes=ws_b is not None,
                      bases=getattr(actions_sheet, "bases", {}))


def _some(names, limit: int = 12) -> str:
    """The allowed values in a message, at most `limit` of them."""
    names = list(names)
    return ", ".join(names[:limit]) + (f", … ({len(names)} en tout)" if len(names) > limit else "")


def seed_store(store, con: duckdb.DuckDBPyConnection, qui: str) -> None:
    """An empty plan store takes the plan of the warehouse's copy of the last workbook (warehouses written
    before the store existed, or a store deleted by hand): nothing the warehouse knows is lost. `con`: a
    DuckDB connection or cursor on the warehouse."""
    from .. import plan_store

    if not plan_store.is_empty(store):
        return
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND table_name = 'plan_actions'").fetchall():
        return
    actions, binomes = staged_rows(con, "plan_actions", "plan_binomes")
    if not actions:
        return
    lineage = con.execute("""SELECT fichier, sha256, libelle, strftime(charge_le, '%Y-%m-%dT%H:%M:%S') FROM sources
                             WHERE kind = 'plan_actions' ORDER BY source_id DESC LIMIT 1""").fetchall()
    meta = dict(zip(["fichier", "sha256", "libelle", "charge_le"], lineage[0])) if lineage else {}
    plan_store.apply_import(store, actions, binomes, set(plan_store.ALL_FIELDS), qui, meta, origine="reprise")
