"""Rebuilding: the same data gives the same bytes, and a killed build heals with the next one.

Both start from the session's good build of the planted file (conftest.py).
The interrupted build is killed (SIGKILL to its process group) once the dbt
log shows it inside the Python models, where a build spends most of its time;
the prod version of this test (published schema kept while the build is down)
is in test_serving.py.
"""

from dbt_helpers import DbtProject, assert_reconciles, copy_build, kill_when_logged, start_build, warehouse_state

CUSTOMERS = "select * from marts.customers order by customer_id"


def test_rerun_without_change_gives_a_byte_identical_csv(good_build, tmp_path):
    # The same database built again from the same file: loaded again (raw_reload), every model rebuilt.
    project = copy_build(good_build, tmp_path)
    before = warehouse_state(project)
    project.run("build", vars={"raw_reload": True})
    assert (project.workdir / "insiders.csv").read_bytes() == (good_build.workdir / "insiders.csv").read_bytes()
    assert project.query(CUSTOMERS) == good_build.query(CUSTOMERS)
    # The same file loaded twice: logged twice, its lines once; every table as before (nobody joined
    # or left, so the membership history has no new version).
    after = warehouse_state(project)
    assert len(after.pop("raw.invoice_line_loads")) == len(before.pop("raw.invoice_line_loads")) + 1
    assert after == before
    assert_reconciles(project)


def test_build_killed_in_the_python_models_heals_with_the_next_build(good_build, tmp_path):
    # A fresh database: the killed build is the first one, the rerun must equal the good build.
    project = DbtProject(tmp_path, good_build.raw_path)
    build = start_build(project)
    kill_when_logged(build, tmp_path / "logs/dbt.log", "START python table model clustering.customer_embeddings")
    assert not (tmp_path / "insiders.csv").exists()

    project.run("build")
    assert (tmp_path / "insiders.csv").read_bytes() == (good_build.workdir / "insiders.csv").read_bytes()
    assert project.query(CUSTOMERS) == good_build.query(CUSTOMERS)
    assert_reconciles(project)
    # The load of the killed build was whole: the rerun found the file unchanged and did not read it again.
    assert project.query("select count(*) from raw.invoice_line_loads") == [(1,)]
