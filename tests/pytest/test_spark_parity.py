"""The SQL layer on a real Spark (local, two cores) against the DuckDB build, on the real file.

`make spark-run` loads the file into Spark, builds and tests the SQL layer
there with dbt-spark, hands its tables to DuckDB and builds the clustering
on them. The same file built on DuckDB alone must give the same raw lines,
ledger, customer features and Insiders. Spark runs in the .venv-spark
environment (requirements-spark.lock; Java 17), which CI installs."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import PROJECT_DIR, DbtProject, admin, real_raw_file, sorted_rows

SPARK_PYTHON = PROJECT_DIR / ".venv-spark/bin/python"
# Built on Spark and handed over (raw, intermediate), or rebuilt on DuckDB from them (marts).
TABLES = ["raw.invoice_lines", "intermediate.int_invoice_lines_classified", "intermediate.int_analysis_dates",
          "intermediate.int_customer_days", "intermediate.int_membership_refresh_dates",
          "intermediate.int_customers_featurized_at_dates", "intermediate.int_customers_at_refreshes",
          "intermediate.int_customers_revenue_around_cutoff", "marts.invoice_lines", "marts.ledger_reconciliation",
          "marts.rejection_reasons", "marts.customers", "marts.cluster_profiles", "marts.membership_refreshes"]


def rows(database: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted_rows(con, table)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    raw = real_raw_file()
    duck = DbtProject(tmp_path_factory.mktemp("duckdb"), raw)
    duck.run("build")
    workdir = tmp_path_factory.mktemp("spark")
    environment = dict(
        os.environ, INSIDERS_RAW_PATH=str(raw), INSIDERS_DUCKDB_PATH=str(workdir / "insiders.duckdb"),
        INSIDERS_CSV_PATH=str(workdir / "insiders.csv"), INSIDERS_SPARK_MASTER="local[2]",
        INSIDERS_SPARK_WAREHOUSE=str(workdir / "warehouse"),
        INSIDERS_SPARK_METASTORE=f"jdbc:derby:;databaseName={workdir / 'metastore'};create=true",
        INSIDERS_SPARK_SHUFFLE_PARTITIONS="2", DBT_TARGET_PATH=str(workdir / "target"),
        DBT_LOG_PATH=str(workdir / "logs"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    result = subprocess.run(["make", "-C", str(PROJECT_DIR), "--no-print-directory", "spark-run"],
                            env=environment, capture_output=True, text=True)
    assert result.returncode == 0, f"make spark-run failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return duck, workdir, result.stdout


def test_spark_builds_and_tests_the_sql_layer(builds):
    _, _, output = builds
    # dbt build --target spark ran every test of the SQL layer, none failed.
    spark_build = output.split("dbt build --target spark", 1)[1].split("spark_handoff", 1)[0]
    assert "Completed successfully" in spark_build
    assert "ERROR=0" in spark_build and "PASS=" in spark_build


@pytest.mark.parametrize("table", TABLES)
def test_spark_gives_the_same_table(builds, table):
    duck, workdir, _ = builds
    expected = rows(duck.database, table)
    assert expected, table
    assert rows(workdir / "insiders.duckdb", table) == expected


def test_spark_gives_the_same_insiders(builds):
    duck, workdir, _ = builds
    assert (workdir / "insiders.csv").read_bytes() == (duck.workdir / "insiders.csv").read_bytes()
    members = "select customer_id from marts.customers where is_insider order by customer_id"
    with duckdb.connect(str(workdir / "insiders.duckdb"), read_only=True) as spark_side, \
            duckdb.connect(str(duck.database), read_only=True) as duckdb_side:
        insiders = spark_side.sql(members).fetchall()
        assert insiders and insiders == duckdb_side.sql(members).fetchall()


def test_prod_publishes_what_spark_built(builds):
    """make spark-run's DuckDB step with INSIDERS_TARGET=prod, on the tables Spark handed over (a copy
    of the DuckDB file): the marts reach PostgreSQL with the same Insiders."""
    duck, workdir, _ = builds
    suffix = uuid.uuid4().hex[:8]
    dbname, reader, login = f"insiders_spark_{suffix}", f"insiders_reader_{suffix}", f"metabase_{suffix}"
    shutil.copy(workdir / "insiders.duckdb", workdir / "prod.duckdb")
    admin(f"create database {dbname}")
    try:
        environment = dict(
            os.environ, INSIDERS_RAW_PATH=str(real_raw_file()), INSIDERS_DUCKDB_PATH=str(workdir / "prod.duckdb"),
            INSIDERS_CSV_PATH=str(workdir / "prod.csv"), INSIDERS_TARGET="prod", INSIDERS_PG_DB=dbname,
            INSIDERS_METABASE_USER=login, INSIDERS_METABASE_PASSWORD=f"pw {suffix}",
            DBT_TARGET_PATH=str(workdir / "target-prod"), DBT_LOG_PATH=str(workdir / "logs-prod"),
            DBT_PROFILES_DIR=str(PROJECT_DIR), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        result = subprocess.run(
            [str(PROJECT_DIR / ".venv-spark/bin/dbt"), "build", "--exclude", "path:models/intermediate",
             "--vars", json.dumps({"load_raw": False, "reader_role": reader})],
            cwd=PROJECT_DIR, env=environment, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-6000:]
        members = "select customer_id from {}customers where is_insider order by customer_id"
        published = admin(members.format("insiders."), dbname)
        assert published and [tuple(row) for row in published] == duck.query(members.format("marts."))
    finally:
        admin(f"drop database if exists {dbname} with (force)")
        for role in (login, reader):
            admin(f"drop role if exists {role}")
