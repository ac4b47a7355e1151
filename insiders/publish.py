"""What users read, replaced only by a build that passed: the marts Metabase
reads on PostgreSQL (target prod) and the Insiders CSV.

The on-run-end hook calls these functions through DuckDB functions that the
dbt-duckdb plugin registers (insiders/duckdb_plugin.py). They run here, in
Python, so that no password is ever part of an SQL statement that dbt logs:
the connection takes its password from libpq's environment, and Metabase's
password reaches PostgreSQL only as a SCRAM verifier. Names arrive checked by
macros/settings.sql and are quoted again as identifiers here.
"""

import os
import shutil
import time
from contextlib import closing

import psycopg2
from psycopg2 import errors, sql
from psycopg2.extensions import encrypt_password

# INSIDERS_PG_* settings and libpq's own variables, with the project's defaults.
LIBPQ_SETTINGS = {
    "INSIDERS_PG_HOST": ("PGHOST", "127.0.0.1"),
    "INSIDERS_PG_PORT": ("PGPORT", "5432"),
    "INSIDERS_PG_DB": ("PGDATABASE", "insiders"),
    "INSIDERS_PG_USER": ("PGUSER", "postgres"),
    "INSIDERS_PG_PASSWORD": ("PGPASSWORD", None),
}


class PublishError(RuntimeError):
    """The marts could not be published; the last good ones stay in place."""


def configure_libpq(environ=os.environ) -> None:
    """Hands the warehouse settings to libpq through its environment, so that
    neither DuckDB's attach nor psycopg2 ever holds the password in a
    connection string (which their errors print)."""
    dsn = environ.get("INSIDERS_PG_DSN", "")
    if "password" in dsn.lower() or "@" in dsn:
        raise PublishError("INSIDERS_PG_DSN must not hold a password (it would be printed in connection "
                           "errors): set INSIDERS_PG_PASSWORD, or use a ~/.pgpass file.")
    for setting, (libpq, default) in LIBPQ_SETTINGS.items():
        value = environ.get(setting, default)
        if value is not None:
            environ[libpq] = value


APPLICATION_NAME = "insiders-publish"


def connect():
    return psycopg2.connect(os.environ.get("INSIDERS_PG_DSN", ""), connect_timeout=10,
                            application_name=APPLICATION_NAME)


def ensure_reader(con, reader: str, login: str, statement_timeout_s: int, idle_timeout_s: int) -> None:
    """Metabase's group role (NOLOGIN) and its login, with the least they need:
    CONNECT on this database only, no TEMP, no DO blocks, and timeouts."""
    password = os.environ.get("INSIDERS_METABASE_PASSWORD", "")
    reader_id, login_id = sql.Identifier(reader), sql.Identifier(login)
    with con, con.cursor() as cur:
        cur.execute("select current_database(), current_user")
        database, builder = (sql.Identifier(name) for name in cur.fetchone())
        cur.execute("select rolsuper or rolcreaterole or rolcreatedb or rolname = current_user "
                    "from pg_roles where rolname = %s", (login,))
        found = cur.fetchone()
        if found and found[0]:
            raise PublishError(f"INSIDERS_METABASE_USER names the role {login!r}, which can create or administer "
                               "(a superuser, the build's own user, ...): Metabase needs a login of its own.")
        create_role_if_missing(cur, reader, "nologin")
        if password:
            create_role_if_missing(cur, login, "login")
            verifier = encrypt_password(password, login, con, "scram-sha-256")
            cur.execute(sql.SQL("alter role {} with login password {}").format(login_id, sql.Literal(verifier)))
            cur.execute(sql.SQL("grant {} to {}").format(reader_id, login_id))
        # Role settings apply to the role that logs in, so the login gets them too.
        for role in (reader_id, login_id) if password else (reader_id,):
            for setting, seconds in (("statement_timeout", statement_timeout_s),
                                     ("idle_in_transaction_session_timeout", idle_timeout_s)):
                cur.execute(sql.SQL("alter role {} set {} = {}").format(
                    role, sql.Identifier(setting), sql.Literal(f"{seconds}s")))
        # Nobody but the readers (and the builder) connects; nobody makes temporary objects or runs DO.
        cur.execute(sql.SQL("revoke all on database {} from public").format(database))
        cur.execute(sql.SQL("grant connect on database {} to {}, {}").format(database, reader_id, builder))
        cur.execute("revoke create on schema public from public")
        cur.execute("revoke usage on language plpgsql from public")


def create_role_if_missing(cur, role: str, option: str) -> None:
    cur.execute("select 1 from pg_roles where rolname = %s", (role,))
    if not cur.fetchone():
        cur.execute(sql.SQL("create role {} " + option).format(sql.Identifier(role)))


def publish_marts(schema: str, reader: str, login: str, lock_timeout_s: int, tries: int,
                  statement_timeout_s: int, idle_timeout_s: int) -> str:
    """Swaps schema <schema>_build in as <schema> in one transaction that waits
    at most lock_timeout_s for its locks, tries times; then drops the replaced
    marts. A schema rename takes no lock on its tables, so readers never wait
    for the swap, and a reader still inside a transaction on the replaced marts
    finishes on them."""
    live, build, previous = (sql.Identifier(name) for name in (schema, f"{schema}_build", f"{schema}_previous"))
    reader_id = sql.Identifier(reader)
    lock_timeout = sql.SQL("set local lock_timeout = {}").format(sql.Literal(f"{lock_timeout_s}s"))
    with closing(connect()) as con:
        ensure_reader(con, reader, login, statement_timeout_s, idle_timeout_s)
        for attempt in range(1, tries + 1):
            try:
                with con, con.cursor() as cur:
                    cur.execute(lock_timeout)
                    cur.execute(sql.SQL("drop schema if exists {} cascade").format(previous))
                    cur.execute("select 1 from pg_namespace where nspname = %s", (schema,))
                    if cur.fetchone():
                        cur.execute(sql.SQL("alter schema {} rename to {}").format(live, previous))
                    cur.execute(sql.SQL("alter schema {} rename to {}").format(build, live))
                    cur.execute(sql.SQL("revoke all on schema {} from public").format(live))
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(live, reader_id))
                    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(live, reader_id))
                break
            except errors.LockNotAvailable:
                if attempt == tries:
                    raise PublishError(
                        f"Not published: the swap of schema {schema} waited {lock_timeout_s} s for its locks "
                        f"{tries} times (another session holds {schema} or {schema}_previous); the last good "
                        "marts stay in place. Run the build again later.") from None
                time.sleep(lock_timeout_s)
        try:
            with con, con.cursor() as cur:
                cur.execute(lock_timeout)
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(previous))
            leftover = ""
        except errors.LockNotAvailable:
            leftover = f" The replaced marts ({schema}_previous) are still read; the next publish drops them."
    return f"Published the marts to PostgreSQL schema {schema}.{leftover}"


def promote_file(built: str, path: str) -> str:
    """Replaces path by a copy of built, atomically: written beside it, then renamed."""
    partial = f"{path}.partial"
    shutil.copyfile(built, partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return f"Wrote {path}."
