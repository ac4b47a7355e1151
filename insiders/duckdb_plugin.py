"""dbt-duckdb plugin: DuckDB extensions from the pinned wheels, the warehouse's
libpq settings, the raw file's load, and the functions the on-run-end hook calls.

Nothing is downloaded at run time: the excel and postgres extensions ship in
the duckdb-ext-excel / duckdb-ext-postgres packages of requirements.lock.
"""

import gc

import duckdb_ext
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.events.types import JinjaLogInfo
from dbt_common.events.functions import fire_event
from dbt_common.exceptions import CompilationError
from duckdb import DuckDBPyConnection

from insiders import loader, publish

# DuckDB function name -> (Python function, parameter types); each returns a message.
FUNCTIONS = {
    "insiders_publish_marts": (publish.publish_marts,
                               ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER", "INTEGER", "INTEGER"]),
    "insiders_promote_file": (publish.promote_file, ["VARCHAR", "VARCHAR"]),
}

# The format the macro load_online_retail names in its call of adapter.store_relation.
RAW_FILE = "online_retail_raw_file"


def register_functions(conn: DuckDBPyConnection) -> None:
    # A connection dbt-duckdb opens again (after a failed attach) may reach the same database
    # instance, which the plugin keeps alive for the loader, with the functions already there.
    existing = {row[0] for row in conn.execute("select function_name from duckdb_functions()").fetchall()}
    for name, (function, parameters) in FUNCTIONS.items():
        if name not in existing:
            conn.create_function(name, function, parameters, "VARCHAR", side_effects=True)


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        # Before any attach: the password goes to libpq's environment, never into a DSN.
        publish.configure_libpq()
        self.connection = None

    def configure_connection(self, conn):
        # dbt opens the connection once the project is parsed: its ~225,000 objects
        # live until the process ends, and every full garbage collection walked
        # them all with the GIL held (about 1.2 s of a 1x build, and 0.7 s at exit).
        gc.freeze()
        duckdb_ext.init(conn)
        # Cursors share the connection's functions.
        register_functions(conn)
        self.connection = conn

    def store(self, target_config):
        """The on-run-start macro load_online_retail calls adapter.store_relation,
        which calls this in dbt's own thread: the raw file (location.path, or the
        var raw_path) is loaded into target_config.relation, on a cursor of its own.
        Not a DuckDB function called from SQL like the publish: DuckDB mostly runs
        such a call on a worker thread of its own, which the load's parallel CSV
        reading would then lack, and wraps the function's errors in its own words."""
        if target_config.location is None or target_config.location.format != RAW_FILE:
            return super().store(target_config)
        relation = target_config.relation
        cursor = self.connection.cursor()
        try:
            message = loader.load_raw_file(cursor, target_config.location.path, target_config.config,
                                           schema=relation.schema, table=relation.identifier)
        except loader.LoadError as error:
            # As the Jinja macros raised their errors: a compilation error of the hook, the message alone.
            raise CompilationError(str(error)) from None
        finally:
            cursor.close()
        # What the macro's log(message, info=true) printed.
        fire_event(JinjaLogInfo(msg=message))
