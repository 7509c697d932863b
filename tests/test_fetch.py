"""python -m etl fetch: resumable downloads checked before replacing, against a local HTTP server."""
from __future__ import annotations

import gzip
import http.server
import io
import threading
import zipfile

import pytest

from etl import fetch
from etl.validate import LoadError

BASE_CC = "CODGEO;P21_POP;ETTOT23;ETBE23\r\n05061;40100;4200;310\r\n05023;11000;1500;s\r\n"
SIRENE = ("siren,nic,siret,codeCommuneEtablissement,etatAdministratifEtablissement,activitePrincipaleEtablissement\n"
          + "".join(f"3000000{i:02d},00011,3000000{i:02d}00011,05061,A,25.62B\n" for i in range(2000)))


class _Server:
    """Serves `files` (path -> bytes) on 127.0.0.1 with HTTP Range support; records the requests."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append((self.path, self.headers.get("Range")))
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                    body = body[start:]
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


def _catalog(url: str) -> list[fetch.Download]:
    return [
        fetch.Download("base_comparateur", "base comparateur", f"{url}/base_cc.zip", "base_cc_comparateur_2025.csv",
                       "base_comparateur", member="base_cc_comparateur.csv"),
        fetch.Download("sirene_05", "Sirene 05", f"{url}/geo_siret_05.csv.gz", "geo_siret_05.csv.gz", "sirene"),
    ]


def test_fetch_extracts_checks_and_installs(tmp_path):
    files = {"/base_cc.zip": _zip({"base_cc_comparateur.csv": BASE_CC, "meta_base_cc_comparateur.csv": "COD_VAR;LIB_VAR\n"}),
             "/geo_siret_05.csv.gz": gzip.compress(SIRENE.encode())}
    with _Server(files) as srv:
        installed = fetch.fetch(tmp_path, catalog=_catalog(srv.url), progress=lambda m: None)
    assert [p.name for p in installed] == ["base_cc_comparateur_2025.csv", "geo_siret_05.csv.gz"]
    assert (tmp_path / "base_cc_comparateur_2025.csv").read_bytes() == BASE_CC.encode()
    assert gzip.decompress((tmp_path / "geo_siret_05.csv.gz").read_bytes()).decode() == SIRENE
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".fetch-*"))


def test_fetch_resumes_a_partial_download_with_range(tmp_path):
    body = gzip.compress(SIRENE.encode())
    half = len(body) // 2
    (tmp_path / "geo_siret_05.csv.gz.part").write_bytes(body[:half])
    with _Server({"/geo_siret_05.csv.gz": body}) as srv:
        fetch.fetch(tmp_path, only=["sirene_05"], catalog=_catalog(srv.url), progress=lambda m: None)
    assert srv.requests == [("/geo_siret_05.csv.gz", f"bytes={half}-")]
    assert (tmp_path / "geo_siret_05.csv.gz").read_bytes() == body


def test_fetch_bad_download_keeps_the_previous_file(tmp_path):
    previous = tmp_path / "base_cc_comparateur_2025.csv"
    previous.write_bytes(BASE_CC.encode())
    files = {"/base_cc.zip": b"<html>Service indisponible</html>",
             "/geo_siret_05.csv.gz": _zip({"x.csv": "a;b\n"})}   # not gzip, and not a Sirene file
    with _Server(files) as srv:
        with pytest.raises(LoadError) as exc:
            fetch.fetch(tmp_path, catalog=_catalog(srv.url), progress=lambda m: None)
    text = str(exc.value)
    assert "l'archive zip attendue n'en est pas une" in text
    assert "geo_siret_05.csv.gz" in text
    assert previous.read_bytes() == BASE_CC.encode()
    assert not (tmp_path / "geo_siret_05.csv.gz").exists()
    assert not list(tmp_path.glob("*.part"))


def test_fetch_http_error_is_reported_in_french(tmp_path):
    with _Server({}) as srv:
        with pytest.raises(LoadError) as exc:
            fetch.fetch(tmp_path, only=["sirene_05"], catalog=_catalog(srv.url), progress=lambda m: None)
    assert "téléchargement refusé par le serveur (HTTP 404)" in str(exc.value)


def test_catalog_urls_are_official_and_urssaf_is_filtered_on_the_epcis():
    hosts = {fetch.urllib.parse.urlparse(d.resolved_url()).hostname for d in fetch.CATALOG}
    assert hosts <= {"www.insee.fr", "open.urssaf.fr", "files.data.gouv.fr"}
    urssaf = next(d for d in fetch.CATALOG if d.name == "urssaf").resolved_url()
    assert "code_epci" in fetch.urllib.parse.unquote(urssaf) and "200068765" in urssaf
