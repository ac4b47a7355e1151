"""Fixtures: dbt projects in the test's own folder, and one good build shared by the session.
The helpers they use (DbtProject, copy_build, warehouse_state, ...) are in dbt_helpers.py."""

import fcntl
from pathlib import Path

import pytest
from dbt_helpers import DbtProject, assert_reconciles, copy_build, warehouse_state
from planted_customers import write_planted_file


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
