"""Serving on the real PostgreSQL: the prod target's marts, the read-only role, atomic rebuilds."""

import contextlib
import os
import re
import subprocess
import threading
import time
import uuid

import psycopg2
import pytest
from conftest import DbtProject, kill_when_logged, start_build
from planted_customers import write_planted_file

PG = {"host": os.environ.get("INSIDERS_PG_HOST", "127.0.0.1"), "port": int(os.environ.get("INSIDERS_PG_PORT", "5432")),
      "user": os.environ.get("INSIDERS_PG_USER", "postgres")}
MARTS = ["cluster_profiles", "dim_customers", "fct_invoice_lines", "insiders_membership_changes", "insiders_rules",
         "insiders_validation", "ledger_reconciliation", "model_selection", "monthly_revenue",
         "rejected_invoice_lines"]


def admin(sql: str, dbname: str = "postgres"):
    con = psycopg2.connect(dbname=dbname, **PG)
    con.autocommit = True
    try:
        with con.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else None
    finally:
        con.close()


class Warehouse(DbtProject):
    """A DbtProject whose prod target writes to a PostgreSQL database of its own."""

    def __init__(self, workdir, raw_path, dbname, reader, login, password):
        super().__init__(workdir, raw_path)
        self.dbname, self.reader, self.login, self.password = dbname, reader, login, password

    def environment(self) -> dict:
        return dict(super().environment(), INSIDERS_PG_DB=self.dbname, INSIDERS_METABASE_USER=self.login,
                    INSIDERS_METABASE_PASSWORD=self.password)

    def command(self, *args, vars=None):
        return super().command(*args, vars={"reader_role": self.reader, **(vars or {})})

    def start(self, *args, vars=None) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args, vars=vars), cwd=self.project_dir, env=self.environment(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    @contextlib.contextmanager
    def as_reader(self):
        """A cursor of Metabase's login, each statement its own transaction."""
        con = psycopg2.connect(dbname=self.dbname, host=PG["host"], port=PG["port"], user=self.login,
                               password=self.password)
        con.autocommit = True
        try:
            with con.cursor() as cursor:
                yield cursor
        finally:
            con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    dbname, reader, login = f"insiders_test_{suffix}", f"insiders_reader_{suffix}", f"metabase_{suffix}"
    admin(f"create database {dbname}")
    workdir = tmp_path_factory.mktemp("serving")
    write_planted_file(workdir / "planted.csv")
    project = Warehouse(workdir, workdir / "planted.csv", dbname, reader, login, "reader-" + suffix)
    project.run("build", "--target", "prod")
    yield project
    admin(f"drop database if exists {dbname} with (force)")
    for role in (login, reader):
        admin(f"drop role if exists {role}")


def mart_oids(dbname):
    return admin("select relname, oid from pg_class where relnamespace = 'insiders'::regnamespace "
                 "and relkind = 'r' order by 1", dbname)


def test_prod_build_publishes_every_mart(warehouse):
    assert [name for name, _ in mart_oids(warehouse.dbname)] == MARTS
    assert admin("select count(*) from insiders.dim_customers", warehouse.dbname)[0][0] == 400
    # Nothing of the build schema is left behind; the membership history has its own.
    assert admin("select nspname from pg_namespace where nspname like 'insiders%' order by 1", warehouse.dbname) == [
        ("insiders",), ("insiders_history",)
    ]


def test_reader_reads_every_mart_and_changes_nothing(warehouse):
    with warehouse.as_reader() as cursor:
        for mart in MARTS:
            cursor.execute(f"select count(*) from insiders.{mart}")
            assert cursor.fetchone()[0] > 0, mart
        refused = [
            "create table insiders.x (a int)",
            "create table public.x (a int)",
            f"create schema x_{warehouse.login}",
            "insert into insiders.cluster_profiles (cluster_id) values (99)",
            "update insiders.dim_customers set is_insider = true",
            "delete from insiders.ledger_reconciliation",
            "drop table insiders.model_selection",
            "truncate insiders.fct_invoice_lines",
            "alter table insiders.dim_customers add column x int",
        ]
        for statement in refused:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(statement)


def test_reader_cannot_read_the_sql_layer_built_on_postgres(warehouse):
    # The native dbt-postgres build of the SQL layer, from the raw tables copied over.
    warehouse.run("run-operation", "replicate_raw", "--target", "prod")
    warehouse.run("build", "--target", "postgres")
    ledger = "select disposition, lines, revenue from {}.ledger_reconciliation order by 1"
    # The same SQL gives the same ledger on PostgreSQL as on DuckDB (whose marts prod published).
    assert admin(ledger.format("marts"), warehouse.dbname) == admin(ledger.format("insiders"), warehouse.dbname)
    customers = "select count(*), sum(gross_revenue), sum(recency_days), sum(rfm_score) from {}"
    assert admin(customers.format("intermediate.int_customers_featurized"), warehouse.dbname) == admin(
        customers.format("insiders.dim_customers"), warehouse.dbname)
    with warehouse.as_reader() as cursor:
        for relation in ["raw.invoice_lines", "staging.stg_online_retail__invoice_lines",
                         "intermediate.int_customers_featurized", "marts.fct_invoice_lines"]:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(f"select 1 from {relation} limit 1")


def test_readers_never_see_a_missing_or_half_built_mart(warehouse):
    expected = {mart: admin(f"select count(*) from insiders.{mart}", warehouse.dbname)[0][0] for mart in MARTS}
    reads, failures, stop = [], [], threading.Event()

    def read_loop():
        with warehouse.as_reader() as cursor:
            while not stop.is_set():
                for mart in MARTS:
                    try:
                        cursor.execute(f"select count(*) from insiders.{mart}")
                        reads.append((mart, cursor.fetchone()[0]))
                    except psycopg2.Error as error:
                        failures.append((mart, str(error)))
                time.sleep(0.01)

    reader = threading.Thread(target=read_loop)
    reader.start()
    build = warehouse.start("build", "--target", "prod", vars={"raw_reload": True})
    output, _ = build.communicate(timeout=600)
    time.sleep(0.5)
    stop.set()
    reader.join()
    assert build.returncode == 0, output[-3000:]
    assert "Published the marts" in output
    print(f"reader loop: {len(reads)} reads, {len(failures)} failures")
    assert failures == []
    assert len(reads) > 100
    assert all(count == expected[mart] for mart, count in reads)


def test_failed_build_keeps_the_last_good_marts(warehouse):
    before = mart_oids(warehouse.dbname)
    # The data-quality gate fails when more than this share of lines is rejected.
    result = warehouse.run("build", "--target", "prod", vars={"max_rejected_share": 0.0}, check=False)
    assert result.returncode != 0
    assert "keeps its last good state" in result.stdout
    assert mart_oids(warehouse.dbname) == before


def test_dashboard_questions_run_on_postgres_as_the_reader(warehouse):
    warehouse.run("compile", "--target", "prod", "--select", "path:analyses")
    questions = sorted((warehouse.workdir / "target/compiled/insiders/analyses").glob("*.sql"))
    assert len(questions) == 6
    with warehouse.as_reader() as cursor:
        for question in questions:
            # Compiled for DuckDB's view of the build schema; Metabase reads the published one.
            sql = re.sub(r'"warehouse"\."[a-z_]+_build"\.', "insiders.", question.read_text())
            cursor.execute(sql)
            assert cursor.fetchall(), question.name


def test_build_killed_in_the_python_models_keeps_serving_the_last_good_marts(warehouse):
    def published():
        return mart_oids(warehouse.dbname), {
            mart: admin(f"select count(*) from insiders.{mart}", warehouse.dbname)[0][0] for mart in MARTS}

    before = published()
    build = start_build(warehouse, "--target", "prod", vars={"raw_reload": True})
    kill_when_logged(build, warehouse.workdir / "logs/dbt.log",
                     "START python table model clustering.customer_embeddings")
    # The build is down, half done: readers still get the last good marts, the same tables.
    assert published() == before
    with warehouse.as_reader() as cursor:
        cursor.execute("select count(*) from insiders.dim_customers")
        assert cursor.fetchone()[0] == before[1]["dim_customers"]
    time.sleep(1)
    assert published() == before
    # The next build publishes again: new tables, the same contents.
    result = warehouse.run("build", "--target", "prod")
    assert "Published the marts" in result.stdout
    oids, counts = published()
    assert [name for name, _ in oids] == MARTS and counts == before[1]
    assert set(oids).isdisjoint(before[0])
