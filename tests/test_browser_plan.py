"""Real browser: an éditeur signs in on the « Plan d'actions » page, changes an action's status and committed
amount, and `python -m indicators comite ecarts` prints exactly that change with the éditeur's name."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from indicators import auth
from tests.browser_support import CHROMIUM, FLAGS, require_browser, server
from tests.conftest import ROOT

require_browser()
pytestmark = pytest.mark.slow   # real browser (Chromium): python -m pytest -m "not slow" leaves it out

PASSWORD = "mot de passe de l'éditrice"
EDITOR = "Jeanne Éditrice"


def comite(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indicators", "comite", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_an_editeur_changes_an_action_in_the_browser_and_ecarts_prints_it(demo_warehouse, tmp_path):
    from playwright.sync_api import sync_playwright

    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, wh)
    out = comite("creer", "--nom", "Comité de mars", "--date", "2027-03-12", "--par", "Claire", "--warehouse", wh)
    assert out.returncode == 0, out.stderr
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[editeur]\npassword_hash = "{auth.hash_password(PASSWORD, iterations=auth.MIN_ITERATIONS)}"\n',
                       encoding="utf-8")
    with server(wh, args=("--secrets.files", str(secrets))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
        idle = "[data-testid='stApp'][data-test-script-state='notRunning']"
        page.goto(f"{url}/plan-actions")
        page.wait_for_selector(idle, timeout=90_000)
        assert "Depuis le comité « Comité de mars » du 12/03/2027\u202f: aucun changement" in page.inner_text("body")
        page.get_by_text("Se connecter pour modifier le plan").click()
        page.get_by_label("Votre nom (inscrit à l'historique)").fill(EDITOR)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        form = page.locator("[data-testid='stForm']").filter(has_text="Enregistrer les modifications")
        form.wait_for(timeout=60_000)
        page.wait_for_selector(idle, timeout=60_000)
        form.get_by_label("Statut").click()
        page.get_by_role("option", name="en cours", exact=True).click()
        form.get_by_label("Montant engagé (€)").fill("2,4 M€")
        form.get_by_role("button", name="Enregistrer les modifications").click()
        page.get_by_text("Action 1.1 : 2 changement(s) enregistré(s)").wait_for(timeout=60_000)
        page.wait_for_selector(idle, timeout=60_000)
        assert "1 action lancée\u202f; 2,4\u202fM€ engagés de plus" in page.inner_text("body")
        assert page.locator("[data-testid='stException']").count() == 0
        browser.close()
    csv = comite("ecarts", "--depuis", "Comité de mars", "--format", "csv", "--warehouse", wh)
    assert csv.returncode == 0, csv.stderr
    lines = csv.stdout.lstrip("\ufeff").splitlines()[1:]
    assert [line.split(";")[3:6] + [line.split(";")[-1]] for line in lines] == [
        ["Statut", "à lancer", "en cours", EDITOR], ["Montant engagé (€)", "(vide)", "2\u202f400\u202f000\u202f€", EDITOR]]
    assert all(line.startswith("action;1.1 ") for line in lines)
