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
from dbt_helpers import PG, PROJECT_DIR, DbtProject, admin, kill_when_logged, start_build
from planted_customers import write_planted_file

MARTS = ["cluster_profiles", "customer_embedding_points", "customers", "insiders_feature_comparison",
         "insiders_hypotheses", "insiders_membership_changes", "insiders_revenue_difference",
         "insiders_revenue_difference_bootstrap", "insiders_revenue_forecast", "insiders_revenue_permutation_test",
         "insiders_rules", "insiders_summary",
         "insiders_validation", "invoice_lines", "ledger_reconciliation", "membership_refreshes",
         "membership_replay", "model_selection", "model_selection_seed_comparison", "monthly_revenue",
         "rejected_invoice_lines", "rejection_reasons"]


class Warehouse(DbtProject):
    """A DbtProject whose prod target writes to a PostgreSQL database of its own."""

    def __init__(self, workdir, raw_path, dbname, reader, login, password):
        super().__init__(workdir, raw_path)
        self.dbname, self.reader, self.login, self.password = dbname, reader, login, password

    # The builder's password (trust authentication accepts any): it must never be printed either.
    builder_password = "builder secret $$ 'x' -- p4ss"

    def environment(self) -> dict:
        return dict(super().environment(), INSIDERS_PG_DB=self.dbname, INSIDERS_METABASE_USER=self.login,
                    INSIDERS_METABASE_PASSWORD=self.password, INSIDERS_PG_PASSWORD=self.builder_password)

    def secrets(self) -> list[str]:
        return [self.password, self.builder_password]

    def assert_no_secret(self, *outputs: str) -> None:
        """No password in the given console outputs, nor in any file of the build's folder (logs, target, CSV)."""
        for secret in self.secrets():
            for output in outputs:
                assert secret not in output
            for path in self.workdir.rglob("*"):
                if path.is_file() and path.suffix not in (".duckdb", ".wal"):
                    assert secret.encode() not in path.read_bytes(), path

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
    # A password with a space, quotes and $$ (which broke a DO $$ block).
    project = Warehouse(workdir, workdir / "planted.csv", dbname, reader, login, f"reader $$ 'pw' {suffix}")
    project.first_output = project.run("build", "--target", "prod").stdout
    yield project
    admin(f"drop database if exists {dbname} with (force)")
    for role in (login, reader):
        admin(f"drop role if exists {role}")


def mart_oids(dbname):
    return admin("select relname, oid from pg_class where relnamespace = 'insiders'::regnamespace "
                 "and relkind = 'r' order by 1", dbname)


def test_prod_build_publishes_every_mart(warehouse):
    assert [name for name, _ in mart_oids(warehouse.dbname)] == MARTS
    assert admin("select count(*) from insiders.customers", warehouse.dbname)[0][0] == 400
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
            "update insiders.customers set is_insider = true",
            "delete from insiders.ledger_reconciliation",
            "drop table insiders.model_selection",
            "truncate insiders.invoice_lines",
            "alter table insiders.customers add column x int",
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
        customers.format("insiders.customers"), warehouse.dbname)
    with warehouse.as_reader() as cursor:
        for relation in ["raw.invoice_lines", "staging.stg_online_retail__invoice_lines",
                         "intermediate.int_customers_featurized", "marts.invoice_lines"]:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(f"select 1 from {relation} limit 1")


def test_readers_never_see_a_missing_or_half_built_mart_nor_wait_for_it(warehouse):
    expected = {mart: admin(f"select count(*) from insiders.{mart}", warehouse.dbname)[0][0] for mart in MARTS}
    reads, failures, waits, stop = [], [], [], threading.Event()

    def read_loop():
        with warehouse.as_reader() as cursor:
            while not stop.is_set():
                for mart in MARTS:
                    started = time.monotonic()
                    try:
                        cursor.execute(f"select count(*) from insiders.{mart}")
                        reads.append((mart, cursor.fetchone()[0]))
                    except psycopg2.Error as error:
                        failures.append((mart, str(error)))
                    waits.append(time.monotonic() - started)
                time.sleep(0.01)

    # A long dashboard query: a transaction that read the marts and stays open across the publish.
    busy = psycopg2.connect(dbname=warehouse.dbname, host=PG["host"], port=PG["port"], user=warehouse.login,
                            password=warehouse.password)
    with busy.cursor() as cursor:
        # Idle in its transaction for the whole build: longer than the role's idle timeout, which a session may lift.
        cursor.execute("set idle_in_transaction_session_timeout = 0")
        cursor.execute("select count(*) from insiders.customers")
    reader = threading.Thread(target=read_loop)
    reader.start()
    build = warehouse.start("build", "--target", "prod", vars={"raw_reload": True})
    output, _ = build.communicate(timeout=600)
    time.sleep(0.5)
    stop.set()
    reader.join()
    with busy.cursor() as cursor:  # its snapshot still reads the replaced marts, which wait for it
        cursor.execute("select count(*) from insiders.customers")
        assert cursor.fetchone()[0] == expected["customers"]
    busy.close()
    assert build.returncode == 0, output[-3000:]
    assert "Published the marts" in output
    print(f"reader loop: {len(reads)} reads, {len(failures)} failures, longest wait {max(waits) * 1000:.0f} ms "
          f"(bound: publish_lock_timeout_seconds = 5 s)")
    assert failures == []
    assert len(reads) > 100
    assert all(count == expected[mart] for mart, count in reads)
    assert max(waits) < 5
    warehouse.assert_no_secret(output, warehouse.first_output)


def test_publish_waits_a_bounded_time_then_fails_clearly_and_leaves_no_backend(warehouse):
    # Another session holds the published schema's catalog row (uncommitted DDL): the swap cannot take it.
    before = mart_oids(warehouse.dbname)
    csv_before = (warehouse.workdir / "insiders.csv").read_bytes()
    holder = psycopg2.connect(dbname=warehouse.dbname, **PG)
    with holder.cursor() as cursor:
        cursor.execute("grant usage on schema insiders to public")
    try:
        vars = {"publish_lock_timeout_seconds": 1, "publish_tries": 2, "as_of_date": "2011-11-01"}
        result = warehouse.run("build", "--target", "prod", vars=vars, check=False)
        assert result.returncode != 0
        assert ("Not published: the swap of schema insiders waited 1 s for its locks 2 times" in result.stdout)
        assert mart_oids(warehouse.dbname) == before
        assert (warehouse.workdir / "insiders.csv").read_bytes() == csv_before
        assert publish_backends(warehouse.dbname) == 0
        warehouse.assert_no_secret(result.stdout, result.stderr)

        # Killed while it waits: its backend gives up within the lock timeout instead of waiting on.
        build = start_build(warehouse, "--target", "prod", vars=dict(vars, publish_lock_timeout_seconds=2,
                                                                     publish_tries=100))
        deadline = time.monotonic() + 600
        while publish_backends(warehouse.dbname, waiting=True) == 0:
            assert build.poll() is None and time.monotonic() < deadline, "the publish never waited"
            time.sleep(0.2)
        os.killpg(build.pid, 9)
        build.wait()
        time.sleep(3)
        assert publish_backends(warehouse.dbname) == 0
    finally:
        holder.rollback()
        holder.close()
    assert mart_oids(warehouse.dbname) == before


def publish_backends(dbname: str, waiting: bool = False) -> int:
    return admin("select count(*) from pg_stat_activity where application_name = 'insiders-publish' "
                 f"and datname = '{dbname}'" + (" and wait_event_type = 'Lock'" if waiting else ""))[0][0]


def test_unreachable_server_prints_no_secret(warehouse):
    project = Warehouse(warehouse.workdir / "unreachable", warehouse.raw_path, warehouse.dbname, warehouse.reader,
                        warehouse.login, warehouse.password)
    environment = project.environment
    project.environment = lambda: dict(environment(), INSIDERS_PG_PORT="1")
    result = project.run("build", "--target", "prod", check=False)
    assert result.returncode != 0
    assert "Connection refused" in result.stdout + result.stderr
    project.assert_no_secret(result.stdout, result.stderr)


def test_a_password_in_the_dsn_is_refused_without_printing_it(warehouse):
    environment = warehouse.environment
    dsn = f"host=127.0.0.1 dbname={warehouse.dbname} password=dsn-secret-{warehouse.login}"
    try:
        warehouse.environment = lambda: dict(environment(), INSIDERS_PG_DSN=dsn)
        result = warehouse.run("build", "--target", "prod", check=False)
    finally:
        warehouse.environment = environment
    assert result.returncode != 0
    assert "INSIDERS_PG_DSN must not hold a password" in result.stdout + result.stderr
    assert "dsn-secret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("INSIDERS_METABASE_USER", "x superuser login; create table public.pwned as select current_user --"),
        ("INSIDERS_PG_SCHEMA", "insiders; call postgres_execute('warehouse', 'create table public.pwned (a int)')"),
        ("INSIDERS_PG_SCHEMA", "insiders; copy (select 1) to 'pwned.csv'"),
    ],
)
def test_hostile_setting_is_named_and_runs_nothing(warehouse, setting, value):
    before = mart_oids(warehouse.dbname)
    # pg_roles is shared by the whole cluster, and other test workers create and drop roles at
    # the same time: look for what a hostile value could create, not at the count of roles.
    superusers = admin("select rolname from pg_roles where rolsuper order by rolname")
    environment = warehouse.environment
    try:
        warehouse.environment = lambda: dict(environment(), **{setting: value})
        result = warehouse.run("build", "--target", "prod", check=False)
    finally:
        warehouse.environment = environment
    assert result.returncode != 0
    assert f"Setting {setting} = '{value}' is not valid" in result.stdout
    assert admin("select count(*) from pg_tables where tablename = 'pwned'", warehouse.dbname) == [(0,)]
    assert admin("select count(*) from pg_roles where rolname = 'x'") == [(0,)]
    assert admin("select rolname from pg_roles where rolsuper order by rolname") == superusers
    assert not (warehouse.project_dir / "pwned.csv").exists()
    assert mart_oids(warehouse.dbname) == before


def test_schema_names_behave_the_same_whatever_their_case(warehouse):
    # PostgreSQL folds unquoted names: Insiders is insiders, in the build schema and in the publish.
    environment = warehouse.environment
    try:
        warehouse.environment = lambda: dict(environment(), INSIDERS_PG_SCHEMA="Insiders")
        listed = warehouse.run("ls", "--target", "prod", "--select", "customers", "--output", "json",
                               "--output-keys", "schema", "--quiet").stdout
    finally:
        warehouse.environment = environment
    assert '"schema": "insiders_build"' in listed


def test_reader_has_least_privilege(warehouse):
    with warehouse.as_reader() as cursor:
        for statement in ["create temporary table x (a int)",
                          "create function pg_temp.f() returns int language sql as 'select 1'",
                          "do $$ begin perform 1; end $$"]:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(statement)
        cursor.execute("show statement_timeout")
        assert cursor.fetchone()[0] == "5min"
        cursor.execute("show idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "1min"
    # A role that is not a reader cannot even connect to the warehouse's database.
    stranger = f"stranger_{warehouse.login}"
    admin(f"create role {stranger} login password 'x'")
    try:
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(dbname=warehouse.dbname, host=PG["host"], port=PG["port"], user=stranger,
                             password="x").close()
    finally:
        admin(f"drop role {stranger}")


def test_failed_build_keeps_the_last_good_marts(warehouse):
    before = mart_oids(warehouse.dbname)
    # The data-quality gate fails when more than this share of lines is rejected.
    result = warehouse.run("build", "--target", "prod", vars={"min_customers": 100000}, check=False)
    assert result.returncode != 0
    assert "nothing that users read was changed (PostgreSQL schema insiders" in result.stdout
    assert mart_oids(warehouse.dbname) == before


def test_dashboard_questions_run_on_postgres_as_the_reader(warehouse):
    warehouse.run("compile", "--target", "prod", "--select", "path:analyses")
    questions = sorted((warehouse.workdir / "target/compiled/insiders/analyses").glob("*.sql"))
    assert len(questions) == len(list((PROJECT_DIR / "analyses").glob("*.sql")))  # every question compiled
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
        cursor.execute("select count(*) from insiders.customers")
        assert cursor.fetchone()[0] == before[1]["customers"]
    time.sleep(1)
    assert published() == before
    # The next build publishes again: new tables, the same contents.
    result = warehouse.run("build", "--target", "prod")
    assert "Published the marts" in result.stdout
    oids, counts = published()
    assert [name for name, _ in oids] == MARTS and counts == before[1]
    assert set(oids).isdisjoint(before[0])
