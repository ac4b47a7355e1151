"""Shared helpers: run the real dbt CLI on a DuckDB file of the test's own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))


def real_raw_file() -> Path:
    """The real Online Retail file: INSIDERS_RAW_PATH, else the shared copy."""
    configured = os.environ.get("INSIDERS_RAW_PATH")
    path = Path(configured) if configured else PROJECT_DIR.parent / "shared/data/online_retail.csv.gz"
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the real raw file at {path}")
        pytest.skip(f"no real raw file at {path}")
    return path.resolve()


class DbtProject:
    """One DuckDB database and target folder, built by the real dbt CLI."""

    def __init__(self, workdir: Path, raw_path: Path):
        self.workdir = workdir
        self.raw_path = raw_path
        self.database = workdir / "insiders.duckdb"

    project_dir = PROJECT_DIR

    def command(self, *args: str, vars: dict | None = None) -> list[str]:
        command = [
            DBT, *args,
            "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(self.workdir / "target"), "--log-path", str(self.workdir / "logs"),
        ]
        return command + (["--vars", json.dumps(vars)] if vars else [])

    def environment(self) -> dict:
        return dict(
            os.environ,
            INSIDERS_RAW_PATH=str(self.raw_path),
            INSIDERS_DUCKDB_PATH=str(self.database),
            INSIDERS_CSV_PATH=str(self.workdir / "insiders.csv"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )

    def run(self, *args: str, vars: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args, vars=vars), cwd=PROJECT_DIR, env=self.environment(),
                                capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
        return result

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.sql(sql).fetchall()


@pytest.fixture
def dbt_project(tmp_path):
    """A factory: dbt_project(raw_path) gives a DbtProject in a fresh folder."""

    def make(raw_path: Path) -> DbtProject:
        return DbtProject(tmp_path, Path(raw_path))

    return make
