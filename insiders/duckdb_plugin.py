"""dbt-duckdb plugin: DuckDB extensions come from the pinned duckdb-ext wheels.

Nothing is downloaded at run time: the excel and postgres extensions ship in
the duckdb-ext-excel / duckdb-ext-postgres packages of requirements.lock.
"""

import duckdb_ext
from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def configure_connection(self, conn):
        duckdb_ext.init(conn)
