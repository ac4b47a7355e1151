"""Make sure the raw Online Retail file is there, downloading UCI's copy if not.

    python -m insiders.fetch_raw [--dest data/raw] [--url URL] [--sha256 HEX]

If the destination folder already holds a .csv, .csv.gz or .xlsx file, nothing
is downloaded. Otherwise UCI's zip is downloaded next to its destination,
checked against its SHA-256, and its "Online Retail.xlsx" is extracted as
online_retail.xlsx. Exit codes: 0 done, 1 bad download, 2 no network.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from insiders.loader import RAW_SUFFIXES

DEFAULT_URL = "https://archive.ics.uci.edu/static/public/352/online+retail.zip"
DEFAULT_DEST = Path("data/raw")

# SHA-256 of the zip at DEFAULT_URL, or None while no trusted download of it has
# been hashed yet. With None (and no --sha256) the download is used unverified
# and its hash is printed, so that it can be checked and recorded here; once
# this is set, or --sha256 is given, a download with any other hash is rejected.
EXPECTED_SHA256: str | None = None

XLSX_IN_ZIP = "Online Retail.xlsx"
XLSX_NAME = "online_retail.xlsx"

TIMEOUT_SECONDS = 60
CHUNK_BYTES = 1 << 16
BAD_DOWNLOAD_EXIT = 1
NETWORK_EXIT = 2


class FetchError(Exception):
    """An expected failure: its message is for the user, not a traceback."""

    def __init__(self, message: str, exit_code: int = BAD_DOWNLOAD_EXIT):
        super().__init__(message)
        self.exit_code = exit_code


def existing_raw_files(dest: Path) -> list[Path]:
    """The files in dest that the loader would read (RAW_SUFFIXES, from its table of formats), sorted."""
    if not dest.is_dir():
        return []
    return sorted(p for p in dest.iterdir() if p.is_file() and p.name.lower().endswith(RAW_SUFFIXES))


def network_help(url: str, dest: Path, reason: object) -> str:
    """What to do when the download cannot reach the server."""
    return (
        f"Could not download the Online Retail data ({reason}) from\n"
        f"  {url}\n"
        "If this machine has no internet access, either:\n"
        f"  - download that zip on a machine that has, unzip it and put\n"
        f"    '{XLSX_IN_ZIP}' (or a CSV copy of it, .csv or .csv.gz) into {dest}/, or\n"
        "  - set INSIDERS_RAW_PATH to an Online Retail file you already have.\n"
        "Then run this again, or go straight to dbt."
    )


def download(url: str, target: Path, dest: Path) -> str:
    """Stream url into target with a progress bar; return the bytes' SHA-256."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, target.open("wb") as out:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=PurePosixPath(url).name, file=sys.stderr) as bar:
                received = 0
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
                    received += len(chunk)
            # urllib does not notice a connection that closes early.
            if size is not None and received < size:
                raise ConnectionError(f"connection closed after {received} of {size} bytes")
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as error:
        # URLError wraps the cause (refused, DNS, timeout) in .reason; HTTPError reads best whole.
        reason = error if isinstance(error, urllib.error.HTTPError) else getattr(error, "reason", error)
        raise FetchError(network_help(url, dest, reason), NETWORK_EXIT) from error
    return digest.hexdigest()


def check_sha256(actual: str, expected: str | None) -> None:
    """Reject a download whose hash differs from the expected one, if any."""
    if expected is None:
        print(f"SHA-256 of the download: {actual} (not verified: no expected checksum "
              "was given; pass --sha256 or set EXPECTED_SHA256 to check it).", file=sys.stderr)
    elif actual != expected:
        raise FetchError(f"Checksum mismatch: expected SHA-256 {expected}, got {actual}. "
                         "The download was deleted.")


def extract_xlsx(archive: Path, target: Path) -> Path:
    """Copy the Online Retail workbook out of the zip archive to target."""
    part = target.with_name(f".{target.name}.part")
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            # Matched by file name alone, in case a repackaged zip nests it in a folder.
            member = next((n for n in names if PurePosixPath(n).name.lower() == XLSX_IN_ZIP.lower()), None)
            if member is None:
                raise FetchError(f"The downloaded zip has no '{XLSX_IN_ZIP}'; "
                                 f"it holds: {', '.join(names) or 'nothing'}.")
            with zf.open(member) as source, part.open("wb") as out:
                shutil.copyfileobj(source, out)
        part.replace(target)  # only a complete file gets the name dbt looks for
    except zipfile.BadZipFile as error:
        raise FetchError(f"The download is not a readable zip archive ({error}).") from error
    finally:
        part.unlink(missing_ok=True)
    return target


def fetch_raw(dest: Path = DEFAULT_DEST, url: str = DEFAULT_URL, sha256: str | None = None) -> Path:
    """The raw file in dest: the one already there, or UCI's freshly downloaded."""
    existing = existing_raw_files(dest)
    if existing:
        print(f"Raw file already there, nothing downloaded: {existing[0]}")
        if len(existing) > 1:
            print(f"Note: {dest} holds {len(existing)} raw files ({', '.join(p.name for p in existing)}); "
                  "dbt loads only one, so keep one or set INSIDERS_RAW_PATH.", file=sys.stderr)
        return existing[0]

    dest.mkdir(parents=True, exist_ok=True)
    # A hidden temporary name in dest itself: never mistaken for a raw file, and
    # the extracted file lands on the same disk.
    handle, name = tempfile.mkstemp(dir=dest, prefix=".online_retail-", suffix=".zip.part")
    os.close(handle)
    archive = Path(name)
    try:
        actual = download(url, archive, dest)
        check_sha256(actual, sha256 or EXPECTED_SHA256)
        target = extract_xlsx(archive, dest / XLSX_NAME)
    finally:
        archive.unlink(missing_ok=True)
    print(f"Raw file ready: {target}")
    return target


def sha256_hex(value: str) -> str:
    """argparse type: a SHA-256 as 64 hex digits, lower-cased."""
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError(f"not a SHA-256 (64 hex digits): {value!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m insiders.fetch_raw",
        description="Make sure the raw Online Retail file is in DEST, downloading UCI's copy if not.",
    )
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST,
                        help="folder of the raw file (default: %(default)s)")
    parser.add_argument("--url", default=DEFAULT_URL, help="zip to download (default: UCI's)")
    parser.add_argument("--sha256", type=sha256_hex,
                        help="expected SHA-256 of the zip (default: EXPECTED_SHA256)")
    args = parser.parse_args(argv)
    try:
        fetch_raw(args.dest, args.url, args.sha256)
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
