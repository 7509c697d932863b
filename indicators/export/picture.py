"""Plotly figure -> PNG through kaleido and a system Chromium, for the slides PowerPoint cannot draw (maps).

kaleido 1.x drives an installed Chrome/Chromium. Each image would start a browser (2-6 s), so a
sync server is started once per process. Without a browser, `figure_png` returns None and the
slide says how to get one (NO_BROWSER) instead of failing.
"""
from __future__ import annotations

import atexit
import os
import shutil
import threading
import warnings

NO_BROWSER = (
    "Carte non disponible dans ce fichier : aucun navigateur Chromium ou Google Chrome n'a été trouvé sur "
    "l'ordinateur qui a produit la présentation, et il en faut un pour dessiner l'image de la carte. "
    "Installez-en un (Debian ou Ubuntu : « sudo apt-get install chromium » ; Windows ou macOS : Google Chrome), "
    "ou indiquez son chemin dans la variable d'environnement BROWSER_PATH, puis générez à nouveau la présentation. "
    "La carte interactive reste disponible dans le tableau de bord."
)
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_lock = threading.Lock()
_server_started = False


def browser_path() -> str | None:
    """The browser kaleido will drive: BROWSER_PATH if it exists, else the first Chromium/Chrome on PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def figure_png(fig, width: int = 1600, height: int = 900) -> bytes | None:
    """PNG bytes of a plotly figure, or None when no browser is available (or it fails to draw)."""
    global _server_started
    path = browser_path()
    if path is None:
        return None
    import kaleido

    from ..maps import TOPOJSON_URL

    with _lock:
        try:
            if not _server_started:
                os.environ.setdefault("BROWSER_PATH", path)
                kaleido.start_sync_server(silence_warnings=True)
                _server_started = True
                atexit.register(_stop)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "kopts ignored when using a server"
                # The empty base map from indicators.maps: kaleido fetches nothing from the network.
                return kaleido.calc_fig_sync(fig, opts=dict(format="png", width=width, height=height),
                                             topojson=TOPOJSON_URL)
        except Exception:  # noqa: BLE001 (any browser failure becomes the explanatory slide)
            return None


def _stop() -> None:
    try:
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
    except Exception:  # noqa: BLE001 (the browser may already be gone at exit)
        pass
