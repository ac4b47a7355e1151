"""insiders.fetch_raw against a real HTTP server on 127.0.0.1, never the UCI site."""

import hashlib
import importlib
import io
import os
import socket
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
WORKBOOK = b"PK not really a workbook, only extracted " * 100


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Server:
    """Serves fixed bytes per path and records every path requested."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                content = server.files.get(self.path)
                if content is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server(monkeypatch):
    # A proxy in the environment must not intercept requests to the local server.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    running = Server()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


@pytest.fixture
def fetch_raw_module(monkeypatch):
    """The module itself, for the tests that patch EXPECTED_SHA256 in-process."""
    monkeypatch.syspath_prepend(str(PROJECT_DIR))  # pytest puts only tests/pytest on sys.path
    return importlib.import_module("insiders.fetch_raw")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "insiders.fetch_raw", *args],
        cwd=PROJECT_DIR, env=dict(os.environ), capture_output=True, text=True, timeout=30,
    )


def test_downloads_verifies_extracts_and_removes_the_zip(server, tmp_path):
    archive = make_zip({"Online Retail.xlsx": WORKBOOK})
    server.files["/online+retail.zip"] = archive
    dest = tmp_path / "raw"

    result = run_cli("--dest", str(dest), "--url", server.url("/online+retail.zip"), "--sha256", sha256(archive))

    assert result.returncode == 0, result.stderr
    assert [p.name for p in dest.iterdir()] == ["online_retail.xlsx"]
    assert (dest / "online_retail.xlsx").read_bytes() == WORKBOOK
    assert str(dest / "online_retail.xlsx") in result.stdout
    assert server.requests == ["/online+retail.zip"]


def test_without_expected_checksum_prints_the_unverified_hash(server, tmp_path, monkeypatch, capsys, fetch_raw_module):
    archive = make_zip({"Online Retail.xlsx": WORKBOOK})
    server.files["/online+retail.zip"] = archive
    monkeypatch.setattr(fetch_raw_module, "EXPECTED_SHA256", None)

    assert fetch_raw_module.main(["--dest", str(tmp_path), "--url", server.url("/online+retail.zip")]) == 0

    err = capsys.readouterr().err
    assert sha256(archive) in err and "not verified" in err
    assert [p.name for p in tmp_path.iterdir()] == ["online_retail.xlsx"]


def test_wrong_checksum_fails_and_leaves_nothing(server, tmp_path):
    archive = make_zip({"Online Retail.xlsx": WORKBOOK})
    server.files["/online+retail.zip"] = archive
    wrong = "0" * 64

    result = run_cli("--dest", str(tmp_path), "--url", server.url("/online+retail.zip"), "--sha256", wrong)

    assert result.returncode == 1
    assert wrong in result.stderr and sha256(archive) in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_module_checksum_is_enforced_when_set(server, tmp_path, monkeypatch, capsys, fetch_raw_module):
    server.files["/online+retail.zip"] = make_zip({"Online Retail.xlsx": WORKBOOK})
    monkeypatch.setattr(fetch_raw_module, "EXPECTED_SHA256", "f" * 64)

    assert fetch_raw_module.main(["--dest", str(tmp_path), "--url", server.url("/online+retail.zip")]) == 1
    assert "f" * 64 in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_exits_2_with_what_to_do(tmp_path, closed_port):
    dest = tmp_path / "data" / "raw"

    result = run_cli("--dest", str(dest), "--url", f"http://127.0.0.1:{closed_port}/x.zip")

    assert result.returncode == 2
    assert "INSIDERS_RAW_PATH" in result.stderr
    assert "data/raw" in result.stderr.replace(os.sep, "/")
    assert "Online Retail.xlsx" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(dest.iterdir()) == []


def test_http_error_exits_2(server, tmp_path):
    result = run_cli("--dest", str(tmp_path), "--url", server.url("/missing.zip"))

    assert result.returncode == 2
    assert "404" in result.stderr and "INSIDERS_RAW_PATH" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["online_retail.csv", "Online_Retail.CSV.GZ", "mine.xlsx"])
def test_existing_raw_file_means_no_download(server, tmp_path, name):
    (tmp_path / name).write_bytes(b"already here")
    server.files["/online+retail.zip"] = make_zip({"Online Retail.xlsx": WORKBOOK})

    result = run_cli("--dest", str(tmp_path), "--url", server.url("/online+retail.zip"))

    assert result.returncode == 0, result.stderr
    assert str(tmp_path / name) in result.stdout
    assert server.requests == []
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_zip_without_the_workbook_names_its_contents(server, tmp_path):
    archive = make_zip({"readme.txt": b"hello", "data/other.csv": b"a,b\n"})
    server.files["/online+retail.zip"] = archive

    result = run_cli("--dest", str(tmp_path), "--url", server.url("/online+retail.zip"), "--sha256", sha256(archive))

    assert result.returncode == 1
    assert "Online Retail.xlsx" in result.stderr
    assert "readme.txt" in result.stderr and "data/other.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_download_that_is_not_a_zip_is_rejected(server, tmp_path):
    server.files["/online+retail.zip"] = b"<html>maintenance</html>"

    result = run_cli("--dest", str(tmp_path), "--url", server.url("/online+retail.zip"),
                     "--sha256", sha256(b"<html>maintenance</html>"))

    assert result.returncode == 1
    assert "not a readable zip" in result.stderr
    assert list(tmp_path.iterdir()) == []
