"""Following the plan between committees (read and edit side of `etl/plan_store.py`): the current plan as a
DataFrame, validated edits, committee editions (the plan and the deck's figures, frozen), what changed since
an edition, and the generated French summary « Depuis le dernier comité ».

No Streamlit. The store lives next to the warehouse the snapshot reads (`plan_store.path_for`); an empty
store takes the warehouse's copy of the last imported workbook first.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from etl import plan_store

from . import format as fmt, query
from .catalog import CATALOG
from .content import shown
from .content.chiffres_cles import ITEMS as KEY_FIGURES
from .db import Snapshot

STATUTS = plan_store.STATUTS
# What a status change is called in the summary (feminine: « action »).
STATUT_WORDS = {"en cours": ("lancée", "lancées"), "réalisé": ("réalisée", "réalisées"),
                "abandonné": ("abandonnée", "abandonnées"), "à lancer": ("remise à lancer", "remises à lancer")}
# Figures of the deck named in the summary sentence (slide chiffres_cles, the whole territory).
# Labels as the key figures finding writes them (indicators/content/chiffres_cles.py ITEMS), by indicator.
_LABELS = {name: label for name, label, _ in KEY_FIGURES}
SUMMARY_FIGURES = [_LABELS["part_industrie_effectifs"], _LABELS["ca_total"], _LABELS["entreprises_tpe_pme"]]
SHORT = {_LABELS["part_industrie_effectifs"]: "part de l'industrie", _LABELS["ca_total"]: "chiffre d'affaires",
         _LABELS["entreprises_tpe_pme"]: "TPE et PME"}


def store_path(snap: Snapshot):
    if snap.path is None:
        raise ValueError("snapshot sans fichier d'entrepôt : le suivi du plan ne peut être situé")
    return plan_store.path_for(snap.path)


@contextlib.contextmanager
def store(snap: Snapshot):
    """The plan store of the snapshot's warehouse (seeded from the warehouse's plan when empty)."""
    con = plan_store.connect(store_path(snap))
    try:
        if plan_store.is_empty(con):
            from etl.sources.plan_actions import seed_store

            seed_store(con, snap.cursor, "système")
        yield con
    finally:
        con.close()


def revision(snap: Snapshot) -> str:
    if snap.path is None:
        return ""
    try:
        return plan_store.revision(store_path(snap))
    except Exception:  # noqa: BLE001 (an unreadable store: the page says so where it reads the plan)
        return "?"


def whole_territory(snap: Snapshot) -> tuple[str, str, str]:
    """(niveau, code, short name) of « the whole territory » of the plan: the TI, else the perimeter's département."""
    for niveau in ("ti", "departement"):
        rows = snap.rows("SELECT code, nom_court FROM ref_territoires WHERE niveau = ? AND perimetre ORDER BY ordre, code",
                         [niveau])
        if rows:
            return niveau, rows[0][0], rows[0][1]
    return "departement", "", ""


def _legacy_whole_codes(snap: Snapshot) -> set[str]:
    return {r[0] for r in snap.rows("SELECT code FROM ref_territoires WHERE niveau IN ('ti', 'departement') AND perimetre")}


def producer(snap: Snapshot) -> str:
    """Who keeps the plan, as the Sources page and the exported workbook name it: the imported workbook's declared
    author unless it names a program (« openpyxl »), else the last editor in the plan's history, else the
    loader's generic wording. Never a library."""
    from etl.sources.plan_actions import PRODUCTEUR, is_software

    rows = snap.rows("SELECT producteur FROM sources WHERE kind = 'plan_actions' ORDER BY source_id DESC LIMIT 1")
    declared = " ".join(str(rows[0][0] or "").split()) if rows else ""
    if declared and not is_software(declared) and declared != PRODUCTEUR:
        return declared
    if snap.path is not None:
        with contextlib.suppress(Exception):   # an unreadable store: the generic wording
            with store(snap) as con:
                people = [h["qui"] for h in plan_store.history(con) if h["qui"] and h["qui"] != "système"
                          and not is_software(h["qui"])]
            if people:
                return f"{people[-1]} (dernière modification du suivi)"
    return PRODUCTEUR


def lookups(snap: Snapshot) -> plan_store.Lookups:
    epci = dict(snap.rows("SELECT code, nom_court FROM ref_territoires WHERE niveau = 'epci' AND perimetre ORDER BY ordre"))
    filieres = dict(snap.rows("SELECT groupe_code, libelle FROM ref_groupes WHERE groupement = 'filiere_coeur' ORDER BY 1"))
    _, code, _ = whole_territory(snap)
    return plan_store.Lookups(epci, filieres, code or None, set(CATALOG))


def labels(snap: Snapshot) -> dict[str, str]:
    rows = snap.rows("""SELECT code, nom_court FROM ref_territoires WHERE niveau IN ('epci', 'departement', 'ti')
                        UNION ALL SELECT groupe_code, libelle FROM ref_groupes WHERE groupement = 'filiere_coeur'""")
    return dict(rows)


COLUMNS = ["numero", "axe_num", "axe", "intitule", "porteurs", "territoires", "territoires_noms", "filieres",
           "filieres_noms", "montant_eur", "financements", "statut", "date_debut", "date_fin", "indicateur_suivi",
           "notes", "source", "fichier", "charge_le", "montant_engage", "montant_paye", "binome", "cible_indicateur",
           "cible_sens", "cible_valeur", "cible_annee", "revision", "ordre", "historique_id"]


def frame(rows: list[dict], snap: Snapshot, lineage: dict | None = None, historique_id: int | None = None) -> pd.DataFrame:
    """Plan store rows -> the plan DataFrame every reader uses (codes normalised, names added). `historique_id`:
    the plan's revision the rows were read at (last history id; exports carry it to spot stale re-imports)."""
    names = labels(snap)
    _, whole, _ = whole_territory(snap)
    legacy = _legacy_whole_codes(snap) - {whole}
    lineage = lineage or {}
    out = []
    for r in rows:
        terr = list(dict.fromkeys(whole if c in legacy else c for c in (r.get("territoires") or [])))
        fil = list(r.get("filieres") or [])
        out.append({**r, "territoires": terr, "filieres": fil, "montant_eur": r.get("montant_estime"),
                    "territoires_noms": " ; ".join(names.get(c, c) for c in terr) or None,
                    "filieres_noms": " ; ".join(names.get(c, c) for c in fil) or None,
                    "date_debut": pd.Timestamp(r["date_debut"]) if r.get("date_debut") else pd.NaT,
                    "date_fin": pd.Timestamp(r["date_fin"]) if r.get("date_fin") else pd.NaT,
                    "source": lineage.get("libelle", "Plan d'actions (suivi de l'Agence)"),
                    "fichier": lineage.get("fichier", ""), "charge_le": lineage.get("charge_le"),
                    "historique_id": historique_id})
    df = pd.DataFrame(out, columns=COLUMNS) if out else pd.DataFrame(columns=COLUMNS)
    for c in ("montant_eur", "montant_engage", "montant_paye", "cible_valeur"):
        df[c] = df[c].astype(float)
    if len(df):
        df["charge_le"] = pd.to_datetime(df["charge_le"], errors="coerce")
    return df.reset_index(drop=True)


def actions(snap: Snapshot) -> pd.DataFrame:
    if snap.path is None:
        return pd.DataFrame(columns=COLUMNS)
    with store(snap) as con:
        # The revision first: an edit landing between the two reads is then « since the export », never lost.
        revision = plan_store.last_history_id(con)
        return frame(plan_store.actions(con), snap, plan_store.meta(con), revision)


def binomes(snap: Snapshot) -> pd.DataFrame:
    if snap.path is None:
        return pd.DataFrame(columns=["code", "epci", "elu", "industriel"])
    with store(snap) as con:
        rows = plan_store.binomes(con)
    names = labels(snap)
    return pd.DataFrame({"code": [r["epci_siren"] for r in rows], "epci": [names.get(r["epci_siren"], r["epci_siren"]) for r in rows],
                         "elu": [r["elu"] for r in rows], "industriel": [r["industriel"] for r in rows]})


def plan_actions(snap: Snapshot, axes: list[int] | None = None, statuts: list[str] | None = None,
                 territoire: str | None = None, filiere: str | None = None) -> pd.DataFrame:
    """The fiches actions as followed in the plan store, by axe then workbook order, filtered.
    `territoire`: an EPCI SIREN (actions of the whole territory included); `filiere`: a filière code. Lists of
    codes in `territoires` / `filieres`, their names in `territoires_noms` / `filieres_noms`. An unknown amount
    is NaN, never 0. `montant_eur` is the estimated amount."""
    df = actions(snap)
    if axes is not None:
        df = df[df.axe_num.isin([int(a) for a in axes])]
    if statuts is not None:
        df = df[df.statut.isin(list(statuts))]
    if territoire is not None:
        whole = whole_territory(snap)[1]
        df = df[[territoire in t or whole in t for t in df.territoires]]
    if filiere is not None:
        df = df[[filiere in f for f in df.filieres]]
    return df.reset_index(drop=True)


def plan_axes(snap: Snapshot) -> pd.DataFrame:
    """The axes present in the plan (number, label), in order."""
    df = actions(snap)
    return df.groupby("axe_num", as_index=False).axe.min().sort_values("axe_num").reset_index(drop=True)


def save(snap: Snapshot, numero: str, base: dict, new: dict, qui: str) -> list[plan_store.Change]:
    """Validate and save one editor's changes (plan_store.save: PlanError, Conflict)."""
    with store(snap) as con:
        return plan_store.save(con, numero, base, new, qui, lookups(snap))


def history(snap: Snapshot, numero: str | None = None) -> pd.DataFrame:
    with store(snap) as con:
        rows = plan_store.history(con, numero=numero)
    names = labels(snap)
    return pd.DataFrame({
        "Quand": [r["quand"].replace("T", " ") for r in rows], "Qui": [r["qui"] for r in rows],
        "Origine": [r["origine"] for r in rows], "Action": [r["cle"] for r in rows],
        "Champ": [plan_store.LABELS.get(r["champ"], r["champ"]) for r in rows],
        "Avant": [_shown(r["champ"], r["avant"], names) for r in rows],
        "Après": [_shown(r["champ"], r["apres"], names) for r in rows]})


def _shown(champ, v, names):
    if isinstance(v, float) and math.isnan(v):
        v = None
    if isinstance(v, list):
        v = [names.get(x, x) for x in v]
    return plan_store.shown(champ, v)


# --- targets ---------------------------------------------------------------------------------------

@dataclass
class Target:
    numero: str
    indicateur: str
    titre: str
    unite: str
    sens: str
    cible: float
    annee_cible: int
    valeur: float | None = None
    annee: int | None = None
    statut: str = "absent"
    base: float | None = None
    annee_base: int | None = None
    attendu: float | None = None     # on the straight line from the base to the target, at `annee`

    @property
    def on_track(self) -> bool | None:
        if self.valeur is None or self.attendu is None:
            return None
        return self.valeur >= self.attendu if self.sens == "≥" else self.valeur <= self.attendu

    def sentence(self) -> str:
        v = lambda x: fmt.value(x, self.unite)  # noqa: E731
        head = f"{self.titre} {self.sens} {v(self.cible)} en {self.annee_cible}"
        if self.statut == "secret":
            return f"{head} : valeur couverte par le secret statistique."
        if self.valeur is None:
            return f"{head} : aucune valeur chargée."
        text = f"{head} : {v(self.valeur)} en {self.annee}"
        if self.attendu is not None and self.annee_base is not None and self.annee != self.annee_base:
            text += (f", trajectoire {v(self.attendu)} attendue (droite de {v(self.base)} en {self.annee_base} "
                     f"à la cible) : {'sur la trajectoire' if self.on_track else 'en retard sur la trajectoire'}")
        reached = self.valeur >= self.cible if self.sens == "≥" else self.valeur <= self.cible
        if reached:
            return text + " ; cible atteinte."
        years = self.annee_cible - self.annee
        if years > 0:
            kind = "part" if self.unite == "part" else ("eur" if self.unite == "€" else "count")
            pace = (self.cible - self.valeur) / years
            pace_text = difference_text(kind, pace / 1e6 if kind == "eur" else pace)
            text += f" ; rythme nécessaire {pace_text} par an jusqu'en {self.annee_cible}"
        return text + "."


def axis_targets(snap: Snapshot) -> list[dict]:
    if snap.path is None:
        return []
    with store(snap) as con:
        return plan_store.axis_targets(con)


def set_axis_target(snap: Snapshot, axe_num: int, indicateur: str, sens, valeur, annee, qui: str):
    with store(snap) as con:
        return plan_store.set_axis_target(con, axe_num, indicateur, sens, valeur, annee, qui, lookups(snap))


def targets(snap: Snapshot, actions_df: pd.DataFrame, get=None, axes: bool = True) -> list[Target]:
    """The axes' and each action's targets on catalogue indicators, for the whole territory, against the
    latest value and the trajectory (a straight line from the indicator's first year to the target) or the
    pace still needed. Secret stays secret. An axis's target is numbered « Axe N »."""
    get = get or (lambda name, niveau, **kw: query.get(snap, name, niveau, **kw))
    niveau, code, _ = whole_territory(snap)
    out = []
    wanted = [(f"Axe {t['axe_num']}", t["indicateur"], t["sens"], t["valeur"], t["annee"])
              for t in (axis_targets(snap) if axes else [])]
    wanted += [(a.numero, a.cible_indicateur, a.cible_sens, a.cible_valeur, a.cible_annee) for a in actions_df.itertuples()]
    for numero, name, sens, valeur, annee in wanted:
        if not isinstance(name, str) or name not in CATALOG or pd.isna(valeur) or annee is None or pd.isna(annee):
            continue
        ind = CATALOG[name]
        t = Target(numero, name, ind.titre, ind.unite, sens or "≥", float(valeur), int(annee))
        with contextlib.suppress(Exception):
            df = get(name, niveau, annees=None, territoires=[code])
            df = df[df.code == code] if len(df) else df
            if "categorie" in df:
                df = df[df.categorie.isna()]
            if len(df):
                df = df.sort_values("annee")
                last = df.iloc[-1]
                t.annee, t.statut = int(last.annee), str(last.statut)
                if last.statut not in ("secret", "absent") and pd.notna(last.valeur):
                    t.valeur = float(last.valeur)
                first = df[df.valeur.notna() & ~df.statut.isin(["secret", "absent"])].head(1)
                if len(first) and t.valeur is not None:
                    t.base, t.annee_base = float(first.valeur.iat[0]), int(first.annee.iat[0])
                    span = t.annee_cible - t.annee_base
                    if span > 0:
                        t.attendu = t.base + (t.cible - t.base) * min(1.0, (t.annee - t.annee_base) / span)
        out.append(t)
    return out


# --- committee editions ------------------------------------------------------------------------------

def create_edition(snap: Snapshot, nom: str, date_comite: str | None, qui: str, figures) -> dict:
    """Freeze the plan and `figures` (the deck's figures, `registry.deck_figures`: a list, or a callable computing
    it once the name is known to be free)."""
    with store(snap) as con:   # a taken name is refused before the figures are computed (the store checks again)
        nom = plan_store.check_edition_name(nom)
        if any(e["nom"] == nom for e in plan_store.editions(con)):
            raise plan_store.PlanError(f"une édition « {nom} » existe déjà : une édition est immuable, choisissez un autre nom")
    figures = figures() if callable(figures) else figures
    with store(snap) as con:
        return plan_store.create_edition(con, nom, date_comite or date.today().isoformat(), qui, snap.version, figures)


def editions(snap: Snapshot) -> list[dict]:
    with store(snap) as con:
        return plan_store.editions(con)


@dataclass
class Ecarts:
    edition: dict
    actions: pd.DataFrame          # numero, intitule, champ, libelle, avant, apres, quand, qui
    indicateurs: pd.DataFrame      # diapo, indicateur, territoire, code, categorie, kind, annee/valeur avant-après, difference
    version_avant: str | None = None
    version_apres: str | None = None
    plan_avant: list = field(default_factory=list)
    plan_apres: list = field(default_factory=list)


def ecarts(snap: Snapshot, nom: str | None = None, figures=()) -> Ecarts | None:
    """What changed since the edition `nom` (default: the latest): action fields (net, with who and when from
    the history) and deck figures (value or year), secret on either side left secret. `figures`: the deck's
    figures now (`registry.deck_figures`, a list or a callable, called only when an edition exists); the registry
    builds them, so this module never imports it (the plan's findings are on the registry's pages)."""
    with store(snap) as con:
        ed = plan_store.edition(con, nom) if nom else plan_store.last_edition(con)
        if ed is None:
            if nom:
                known = [e["nom"] for e in plan_store.editions(con)]
                raise plan_store.PlanError(f"aucune édition « {nom} »" + (f" (éditions : {', '.join(known)})" if known
                                                                          else " : aucune édition n'a encore été créée"))
            return None
        current = plan_store.actions(con)
        hist = plan_store.history(con, after_id=ed["historique_id"])
    before = {a["numero"]: a for a in ed["plan"]["actions"]}
    after = {a["numero"]: a for a in current}
    rows = []
    for n in list(before) + [n for n in after if n not in before]:
        a, b = before.get(n), after.get(n)
        fields = ["action"] if a is None or b is None else [k for k in plan_store.ALL_FIELDS
                                                          if k not in ("ordre", "revision") and a.get(k) != b.get(k)]
        for k in fields:
            hk = [h for h in hist if h["objet"] == "action" and h["cle"] == n and h["champ"] == k]
            rows.append({"numero": n, "intitule": (b or a).get("intitule"), "champ": k,
                         "libelle": plan_store.LABELS.get(k, k),
                         "avant": (a or {}).get("intitule" if k == "action" else k) if a else None,
                         "apres": (b or {}).get("intitule" if k == "action" else k) if b else None,
                         "quand": hk[-1]["quand"] if hk else "", "qui": ", ".join(dict.fromkeys(h["qui"] for h in hk))})
    # Binômes and axis targets: one row per changed value, named « binôme <EPCI> » / « Axe N ».
    names = labels(snap)
    with store(snap) as con:
        now_bin = {b["epci_siren"]: b for b in plan_store.binomes(con)}
        now_axes = {(t["axe_num"], t["indicateur"]): t for t in plan_store.axis_targets(con)}
    old_bin = {b["epci_siren"]: b for b in ed["plan"].get("binomes", [])}
    for siren in list(old_bin) + [x for x in now_bin if x not in old_bin]:
        for k in ("elu", "industriel"):
            a, b = old_bin.get(siren, {}).get(k), now_bin.get(siren, {}).get(k)
            if a != b:
                hk = [h for h in hist if h["objet"] == "binome" and h["cle"] == siren and h["champ"] == k]
                rows.append({"numero": f"binôme {names.get(siren, siren)}", "intitule": "", "champ": k,
                             "libelle": plan_store.LABELS[k], "avant": a, "apres": b, "quand": hk[-1]["quand"] if hk else "",
                             "qui": ", ".join(dict.fromkeys(h["qui"] for h in hk))})
    old_axes = {(t["axe_num"], t["indicateur"]): t for t in ed["plan"].get("cibles_axes", [])}
    for key in list(old_axes) + [x for x in now_axes if x not in old_axes]:
        a, b = old_axes.get(key), now_axes.get(key)
        text = lambda t: None if t is None else f"{t['sens']} {fmt.value(t['valeur'], CATALOG[key[1]].unite if key[1] in CATALOG else '')} en {t['annee']}"  # noqa: E731
        if text(a) != text(b):
            hk = [h for h in hist if h["objet"] == "axe" and h["cle"] == str(key[0]) and h["champ"] == f"cible:{key[1]}"]
            rows.append({"numero": f"Axe {key[0]}", "intitule": "", "champ": "cible_axe",
                         "libelle": f"Cible : {CATALOG[key[1]].titre if key[1] in CATALOG else key[1]}",
                         "avant": text(a), "apres": text(b), "quand": hk[-1]["quand"] if hk else "",
                         "qui": ", ".join(dict.fromkeys(h["qui"] for h in hk))})
    acts = pd.DataFrame(rows, columns=["numero", "intitule", "champ", "libelle", "avant", "apres", "quand", "qui"])
    old = {(r["diapo"], r["indicateur"], r["code"], r["categorie"]): r for r in ed["chiffres"]}
    figures = figures() if callable(figures) else figures
    new = {(r["diapo"], r["indicateur"], r["code"], r["categorie"]): r for r in figures}
    irows = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key), new.get(key)
        ov, nv = (o or {}).get("valeur"), (n or {}).get("valeur")
        oy, ny = (o or {}).get("annee"), (n or {}).get("annee")
        os_, ns = (o or {}).get("statut", "absent"), (n or {}).get("statut", "absent")
        if ov == nv and oy == ny and os_ == ns:
            continue
        diff = nv - ov if ov is not None and nv is not None else None
        r = n or o
        irows.append({"diapo": key[0], "indicateur": key[1], "territoire": r["territoire"], "code": key[2],
                      "categorie": key[3], "kind": r["kind"], "annee_avant": oy, "valeur_avant": ov, "statut_avant": os_,
                      "annee_apres": ny, "valeur_apres": nv, "statut_apres": ns, "difference": diff})
    inds = pd.DataFrame(irows, columns=["diapo", "indicateur", "territoire", "code", "categorie", "kind", "annee_avant",
                                        "valeur_avant", "statut_avant", "annee_apres", "valeur_apres", "statut_apres",
                                        "difference"])
    return Ecarts(ed, acts, inds, ed.get("version_donnees"), snap.version, ed["plan"]["actions"], current)


def figure_text(kind: str, value, statut: str = "ok") -> str:
    return shown(value, kind, statut)


def difference_text(kind: str, diff) -> str:
    if diff is None or (isinstance(diff, float) and math.isnan(diff)):
        return ""
    sign = "+" if diff > 0 else ("\u2212" if diff < 0 else "")
    a = abs(diff)
    if kind in ("part", "evolution"):
        pts = fmt.round_half_up(a * 100, 1)
        return f"{sign}{fmt.number(pts, 1)}{fmt.NNBSP}point{'s' if pts >= 2 else ''}"
    if kind == "eur":
        return f"{sign}{fmt.number(a, 1)}{fmt.NNBSP}M€"
    if kind == "km2":
        return f"{sign}{fmt.number(a, 0)}{fmt.NNBSP}km²"
    return f"{sign}{fmt.number(a, 0)}"


def _money(v: float) -> str:
    return fmt.euros(v)


def summary(e: Ecarts | None, focus_code: str | None = None) -> str:
    """« Depuis le comité « X » du 12/03/2027 : 3 actions lancées, 1 réalisée ; 2,4 M€ engagés de plus ;
    part de l'industrie +0,3 point. » — generated from the differences, never typed."""
    if e is None:
        return ("Aucune édition de comité n'est encore enregistrée : à partir de la première, enregistrée par "
                "l'Agence le jour d'un comité, cette page dira ce qui a changé d'un comité à l'autre.")
    ed = e.edition
    d = ed["date_comite"]
    head = f"Depuis le comité « {ed['nom']} » du {d[8:10]}/{d[5:7]}/{d[:4]}"
    parts = []
    st = e.actions[e.actions.champ == "statut"]
    counts = {s: int((st.apres == s).sum()) for s in STATUT_WORDS}
    status_bits = []
    for s in ["en cours", "réalisé", "abandonné", "à lancer"]:
        n = counts[s]
        if n:
            word = STATUT_WORDS[s][0 if n == 1 else 1]
            status_bits.append(f"{n} action{'s' if n > 1 else ''} {word}" if not status_bits else f"{n} {word}")
    added = e.actions[(e.actions.champ == "action") & e.actions.avant.isna()]
    removed = e.actions[(e.actions.champ == "action") & e.actions.apres.isna()]
    if len(added):
        status_bits.append(f"{len(added)} action{'s' if len(added) > 1 else ''} ajoutée{'s' if len(added) > 1 else ''}")
    if len(removed):
        status_bits.append(f"{len(removed)} retirée{'s' if len(removed) > 1 else ''}")
    if status_bits:
        parts.append(", ".join(status_bits))
    before = {a["numero"]: a for a in e.plan_avant}
    after = {a["numero"]: a for a in e.plan_apres}
    for key, word in (("montant_engage", "engagés"), ("montant_paye", "payés"), ("montant_estime", "de montant estimé")):
        delta = sum((after.get(n, {}).get(key) or 0) for n in after) - sum((before.get(n, {}).get(key) or 0) for n in before)
        if abs(delta) >= 1:
            if word.startswith("de "):
                parts.append(f"{'+' if delta > 0 else chr(0x2212)}{_money(abs(delta))} {word}")
            else:
                parts.append(f"{_money(abs(delta))} {word} de {'plus' if delta > 0 else 'moins'}")
    others = e.actions[~e.actions.champ.isin(["statut", "action", "montant_engage", "montant_paye", "montant_estime"])]
    if len(others):
        n_act = others.numero.nunique()
        parts.append(f"{len(others)} autre{'s' if len(others) > 1 else ''} modification{'s' if len(others) > 1 else ''} "
                     f"sur {n_act} action{'s' if n_act > 1 else ''}")
    ind = e.indicateurs
    fig = ind[(ind.diapo == "chiffres_cles") & ind.indicateur.isin(SUMMARY_FIGURES)]
    if focus_code is not None:
        fig = fig[fig.code == focus_code]
    for r in fig.itertuples():
        label = SHORT.get(r.indicateur, r.indicateur)
        if r.difference is not None and not pd.isna(r.difference):
            if r.difference != 0:
                parts.append(f"{label} {difference_text(r.kind, r.difference)}"
                             + (f" ({r.annee_apres} contre {r.annee_avant})" if r.annee_apres != r.annee_avant else ""))
            elif r.annee_apres != r.annee_avant:
                parts.append(f"{label} inchangée en {r.annee_apres}")
        elif "secret" in (r.statut_avant, r.statut_apres):
            parts.append(f"{label} : secret statistique d'un côté")
        elif r.valeur_apres is not None and not pd.isna(r.valeur_apres):
            parts.append(f"{label} désormais disponible ({figure_text(r.kind, r.valeur_apres)})")
    n_other_ind = len(ind) - len(fig)
    if n_other_ind > 0:
        parts.append(f"{n_other_ind} autre{'s' if n_other_ind > 1 else ''} chiffre{'s' if n_other_ind > 1 else ''} "
                     "de la présentation modifié" + ("s" if n_other_ind > 1 else ""))
    if not parts:
        return f"{head} : aucun changement, ni dans le plan d'actions ni dans les chiffres de la présentation."
    return f"{head} : " + " ; ".join(parts) + "."


def action_lines(e: Ecarts, names: dict[str, str] | None = None, limit: int | None = None) -> list[str]:
    """One French line per changed field, the action by number and title: « 1.1 Créer une pépinière — statut :
    à lancer → en cours (Claire Martin, 03/12/2026) »; amounts carry their unit once (« montant estimé : (vide)
    → 2 000 000 € »)."""
    names = names or {}
    out = []
    for r in e.actions.itertuples():
        if r.champ == "action":
            text = f"{r.numero} ajoutée : {r.apres}" if r.avant is None else f"{r.numero} retirée : {r.avant}"
        else:
            who = f"{r.numero} {r.intitule}" if r.intitule else str(r.numero)
            label = str(r.libelle).replace(" (€)", "")
            label = label[:1].lower() + label[1:] if label[1:2].islower() else label
            text = f"{who} — {label} : {_shown(r.champ, r.avant, names)} → {_shown(r.champ, r.apres, names)}"
        if r.qui:
            q = r.quand
            text += f" ({r.qui}, {q[8:10]}/{q[5:7]}/{q[:4]})" if q else f" ({r.qui})"
        out.append(text)
    return out[:limit] if limit else out


def ecarts_table(e: Ecarts, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Both kinds of differences in one French table (CLI CSV, page)."""
    names = names or {}
    rows = []
    for r in e.actions.itertuples():
        rows.append({"Type": "action", "Objet": f"{r.numero} {r.intitule or ''}".strip(), "Territoire": "",
                     "Champ": r.libelle, "Avant": _shown(r.champ, r.avant, names),
                     "Après": _shown(r.champ, r.apres, names), "Différence": "",
                     "Quand": (r.quand or "").replace("T", " "), "Qui": r.qui or ""})
    for r in e.indicateurs.itertuples():
        obj = r.indicateur + (f" — {r.categorie}" if r.categorie and r.categorie != r.indicateur else "")
        rows.append({"Type": "indicateur", "Objet": obj, "Territoire": r.territoire, "Champ": "valeur (année)",
                     "Avant": f"{figure_text(r.kind, r.valeur_avant, r.statut_avant)} ({r.annee_avant})" if r.annee_avant else "–",
                     "Après": f"{figure_text(r.kind, r.valeur_apres, r.statut_apres)} ({r.annee_apres})" if r.annee_apres else "–",
                     "Différence": difference_text(r.kind, r.difference), "Quand": "", "Qui": ""})
    return pd.DataFrame(rows, columns=["Type", "Objet", "Territoire", "Champ", "Avant", "Après", "Différence", "Quand", "Qui"])
