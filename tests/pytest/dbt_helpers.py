"""Helpers for the tests: run the real dbt CLI on a DuckDB file of the test's own,
compare warehouses, kill a build midway. The fixtures that use them are in conftest.py."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg2
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))

# The header and four real lines (two sales, a return, a guest line at price 0) the bad files start from.
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
GOOD_LINES = (
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom\n"
    "536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom\n"
)


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


# The schemas a build writes (raw to marts, the history): what warehouse_state compares.
STATE_SCHEMAS = ("raw", "intermediate", "clustering", "marts", "snapshots")


def copy_build(source: DbtProject, workdir: Path, raw_path: Path | None = None) -> DbtProject:
    """A DbtProject in workdir with a copy of source's DuckDB file and CSV."""
    workdir.mkdir(parents=True, exist_ok=True)
    copy = DbtProject(workdir, Path(raw_path) if raw_path else source.raw_path)
    for suffix in ("", ".wal"):
        Path(str(copy.database) + suffix).unlink(missing_ok=True)
        if Path(str(source.database) + suffix).exists():
            shutil.copyfile(str(source.database) + suffix, str(copy.database) + suffix)
    shutil.copyfile(source.workdir / "insiders.csv", workdir / "insiders.csv")
    return copy


def _float_digits(value):
    # Parallel float sums and averages (cluster_profiles) differ in the last bits from one run to the next.
    return float(f"{value:.12g}") if isinstance(value, float) else value


def sorted_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """Every row of a table, floats to 12 significant digits, in an order that does not depend on the build."""
    return sorted((tuple(map(_float_digits, row)) for row in con.sql(f"select * from {table}").fetchall()), key=repr)


def warehouse_state(project: DbtProject) -> dict:
    """Every row of every table a build writes (raw to marts, the history), and the CSV's bytes."""
    state = {}
    with duckdb.connect(str(project.database), read_only=True) as con:
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {STATE_SCHEMAS} and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            state[f"{schema}.{table}"] = sorted_rows(con, f'{schema}."{table}"')
    csv = project.workdir / "insiders.csv"
    state["insiders.csv"] = csv.read_bytes() if csv.exists() else None
    return state


def assert_reconciles(project: DbtProject) -> None:
    """ledger_reconciliation adds up to raw.invoice_lines, in lines and revenue."""
    ledger = project.query("select sum(lines), sum(revenue), min(raw_lines), max(raw_revenue) "
                           "from marts.ledger_reconciliation")[0]
    raw = project.query("select count(*), cast(sum(quantity * unit_price) as decimal(18, 3)) from raw.invoice_lines")[0]
    assert ledger == (raw[0], raw[1], raw[0], raw[1])
    fact = project.query("select count(*), count(distinct line_number) from marts.invoice_lines")[0]
    assert fact == (raw[0], raw[0])


def start_build(project: DbtProject, *args: str, vars: dict | None = None) -> subprocess.Popen:
    """`dbt build` in a process group of its own (to be killed whole), output to the project's folder."""
    output = open(project.workdir / "killed-build.out", "w")
    return subprocess.Popen(project.command("build", *args, vars=vars), cwd=project.project_dir,
                            env=project.environment(), stdout=output, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill_when_logged(process: subprocess.Popen, log: Path, marker: str, after: float = 2.0,
                     timeout: float = 300) -> None:
    """SIGKILLs the process group `after` seconds past the first line of dbt's log
    holding marker (lines logged before the call do not count)."""
    offset = log.stat().st_size if log.exists() else 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the build ended (exit {process.returncode}) before logging {marker!r}")
        if log.exists():
            with open(log, errors="replace") as handle:
                handle.seek(offset)
                if marker in handle.read():
                    time.sleep(after)
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    assert process.returncode == -signal.SIGKILL, "the build ended before it could be killed"
                    return
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"{marker!r} never appeared in {log}")


# The local PostgreSQL of the serving tests (trust authentication).
PG = {"host": os.environ.get("INSIDERS_PG_HOST", "127.0.0.1"), "port": int(os.environ.get("INSIDERS_PG_PORT", "5432")),
      "user": os.environ.get("INSIDERS_PG_USER", "postgres")}


def admin(sql: str, dbname: str = "postgres"):
    con = psycopg2.connect(dbname=dbname, **PG)
    con.autocommit = True
    try:
        with con.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else None
    finally:
        con.close()
