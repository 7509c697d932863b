"""What the browser tests share: Debian's Chromium for Playwright, and a fresh `python dashboard.py` server."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from tests.conftest import ROOT, in_ci

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# `playwright install` cannot download a browser here: Debian's Chromium, quiet on the network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def require_browser() -> None:
    """Skip the calling test module without a browser; in CI a missing browser is an error."""
    try:
        import playwright  # noqa: F401  (only its presence matters)
        ok = os.path.exists(CHROMIUM)
    except ImportError:
        ok = False
    if ok:
        return
    if in_ci():
        raise RuntimeError("Chromium (paquet Debian « chromium ») ou Playwright manquant : requis en intégration continue")
    pytest.skip("tests navigateur sautés : installez Chromium (apt install chromium) et Playwright (pip)",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(warehouse, log=None, args: tuple[str, ...] = (), app=None, nice: int = 0):
    """A new Streamlit server on the dashboard (or on `app`, a Streamlit script run with `streamlit run`),
    reading `warehouse`; yields its URL. `args`: more Streamlit options (e.g. `--secrets.files`); `nice`: a lower
    scheduling priority for it."""
    port = free_port()
    env = {**os.environ, "TI_WAREHOUSE": str(warehouse)}
    err = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [*(["nice", "-n", str(nice)] if nice else []), sys.executable,
         *(["-m", "streamlit", "run", str(app)] if app else ["dashboard.py"]), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *args],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("le serveur Streamlit n'a pas démarré")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            err.close()


@contextmanager
def chromium(warehouse):
    """A Streamlit server on `warehouse` and a headless Chromium for it: (browser, base url)."""
    from playwright.sync_api import sync_playwright

    with server(warehouse) as url, sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b, url
        finally:
            b.close()
