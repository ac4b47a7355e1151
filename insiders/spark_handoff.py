"""The Spark build's tables into the DuckDB file, for the clustering.

    python -m insiders.spark_handoff --database insiders.duckdb

After `dbt build --target spark`, `make spark-run` runs this, then `dbt build`
on DuckDB without the SQL layer's intermediate models: the Python models, the
marts and the Insiders CSV read the raw lines and the intermediate tables that
Spark wrote. Each is a folder of parquet files in Spark's warehouse
(<warehouse>/<schema>.db/<table>), read here by DuckDB's read_parquet: nothing
is copied by hand and no model knows which engine built its inputs. All
tables are replaced in one transaction.
"""

import argparse
import glob
import os
from urllib.parse import urlparse

import duckdb

from insiders.loader import drop_relation
from insiders.spark_loader import spark_parameters

# The schemas whose tables the DuckDB build reads (raw: the source tables, for
# the staging view, the ledger marts and the reconciliation test).
SCHEMAS = ("raw", "intermediate")
# Left in raw by a load that failed while writing.
SKIPPED = {"invoice_lines_loading"}


def warehouse_dir() -> str:
    """Spark's warehouse directory (spark.sql.warehouse.dir of the spark target), as a local path."""
    location = spark_parameters()["spark.sql.warehouse.dir"]
    parsed = urlparse(location)
    return os.path.abspath(parsed.path if parsed.scheme == "file" else location)


def spark_tables(warehouse: str) -> list[tuple[str, str, str]]:
    """(schema, table, parquet glob) of every table of SCHEMAS in the warehouse."""
    tables = []
    for schema in SCHEMAS:
        for folder in sorted(glob.glob(os.path.join(warehouse, f"{schema}.db", "*"))):
            table = os.path.basename(folder)
            if table not in SKIPPED and glob.glob(os.path.join(folder, "*.parquet")):
                tables.append((schema, table, os.path.join(folder, "*.parquet")))
    return tables


def hand_over(database: str, warehouse: str) -> list[str]:
    tables = spark_tables(warehouse)
    missing = {"raw.invoice_lines", "intermediate.int_invoice_lines_classified"} - {
        f"{schema}.{table}" for schema, table, _ in tables}
    if missing:
        raise SystemExit(f"No Spark table {', '.join(sorted(missing))} in {warehouse}: run the raw load and "
                         "`dbt build --target spark` first (make spark-run).")
    with duckdb.connect(database) as con:
        con.execute("begin transaction")
        for schema in SCHEMAS:
            con.execute(f'create schema if not exists "{schema}"')
        for schema, table, files in tables:
            # raw.invoice_lines is a view after a DuckDB load.
            drop_relation(con, schema, table)
            con.execute(f'create table "{schema}"."{table}" as select * from read_parquet($files)', {"files": files})
        con.execute("commit")
    return [f"{schema}.{table}" for schema, table, _ in tables]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="the DuckDB file of the DuckDB build")
    args = parser.parse_args()
    warehouse = warehouse_dir()
    names = hand_over(args.database, warehouse)
    print(f"Read {len(names)} Spark tables from {warehouse} into {args.database}: {', '.join(names)}")


if __name__ == "__main__":
    main()
