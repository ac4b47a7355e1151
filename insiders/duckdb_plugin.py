"""dbt-duckdb plugin: DuckDB extensions from the pinned wheels, the warehouse's
libpq settings, and the functions the on-run-end hook calls.

Nothing is downloaded at run time: the excel and postgres extensions ship in
the duckdb-ext-excel / duckdb-ext-postgres packages of requirements.lock.
"""

import duckdb_ext
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from insiders import publish

# DuckDB function name -> (Python function, parameter types); each returns a message.
FUNCTIONS = {
    "insiders_publish_marts": (publish.publish_marts,
                               ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER", "INTEGER", "INTEGER"]),
    "insiders_promote_file": (publish.promote_file, ["VARCHAR", "VARCHAR"]),
}


def register_functions(conn: DuckDBPyConnection) -> None:
    for name, (function, parameters) in FUNCTIONS.items():
        conn.create_function(name, function, parameters, "VARCHAR", side_effects=True)


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        # Before any attach: the password goes to libpq's environment, never into a DSN.
        publish.configure_libpq()

    def configure_connection(self, conn):
        duckdb_ext.init(conn)
        # Cursors share the connection's functions.
        register_functions(conn)
