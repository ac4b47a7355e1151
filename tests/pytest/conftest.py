"""Shared helpers: run the real dbt CLI on a DuckDB file of the test's own."""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from planted_customers import write_planted_file

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


@pytest.fixture
def dbt_project(tmp_path):
    """A factory: dbt_project(raw_path) gives a DbtProject in a fresh folder."""

    def make(raw_path: Path) -> DbtProject:
        return DbtProject(tmp_path, Path(raw_path))

    return make


# --- A good build to start from ---------------------------------------------
#
# Many tests need the marts of a good build first (to show that a bad input
# leaves them untouched, that a rerun changes nothing, ...). One full dev build
# of the planted file is made per test session and shared by every xdist
# worker (the first to ask builds it under a file lock); tests work on copies.

STATE_SCHEMAS = ("raw", "intermediate", "clustering", "marts", "snapshots")


def _shared_dir(tmp_path_factory, worker_id: str) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def good_build(tmp_path_factory, worker_id) -> DbtProject:
    """A finished dev build of the planted file (never modify it: copy it)."""
    workdir = _shared_dir(tmp_path_factory, worker_id) / "good_build"
    with open(str(workdir) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        project = DbtProject(workdir, workdir / "planted.csv")
        if not (workdir / "done").exists():
            workdir.mkdir(exist_ok=True)
            write_planted_file(workdir / "planted.csv")
            project.run("build")
            (workdir / "done").touch()
    return project


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


def warehouse_state(project: DbtProject) -> dict:
    """Every row of every table a build writes (raw to marts, the history), and the CSV's bytes."""
    state = {}
    with duckdb.connect(str(project.database), read_only=True) as con:
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {STATE_SCHEMAS} and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            rows = con.sql(f'select * from {schema}."{table}"').fetchall()
            state[f"{schema}.{table}"] = sorted((tuple(map(_float_digits, row)) for row in rows), key=repr)
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


@pytest.fixture(scope="session")
def scratch_dir(tmp_path_factory) -> Path:
    """One folder per xdist worker, reused by its tests one after the other: the
    same database path and target folder each time let dbt parse partially
    (about 3 s less a build)."""
    return tmp_path_factory.mktemp("scratch")


@pytest.fixture
def good_copy(good_build, scratch_dir):
    """good_copy(raw_path=None): a fresh copy of the good build in the scratch folder."""

    def copy(raw_path=None) -> DbtProject:
        return copy_build(good_build, scratch_dir, raw_path)

    return copy


@pytest.fixture
def build_fails(good_copy):
    """build_fails(raw_path, vars=None, loaded=False): a full `dbt build` of
    raw_path on a copy of the good build must fail and leave every table and the
    CSV as they were; returns dbt's output. loaded=True: the file itself was
    loaded (the build stopped later, at the quality gate), so the raw schema
    holds it; everything built from it must still be as it was."""

    def run(raw_path, vars: dict | None = None, loaded: bool = False) -> str:
        project = good_copy(raw_path)
        before = warehouse_state(project)
        result = project.run("build", vars=vars, check=False)
        assert result.returncode != 0, result.stdout[-3000:]
        after = warehouse_state(project)
        if loaded:
            before = {name: rows for name, rows in before.items() if not name.startswith("raw.")}
            after = {name: rows for name, rows in after.items() if not name.startswith("raw.")}
        assert after == before, "a failed build changed the warehouse"
        if not loaded:
            assert_reconciles(project)
        return result.stdout

    return run


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
