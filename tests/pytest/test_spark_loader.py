"""The raw load on a real Spark refuses bad files with the DuckDB loader's words, and loads good ones alike.

Each file is loaded by insiders.spark_loader (in one Spark session of the
.venv-spark environment) and by insiders.loader on DuckDB: a bad file must
stop both with the same message, naming file, line and column; a good one
(other line ends, another encoding) must give both the same lines."""

import json
import os
import subprocess

import duckdb
import pytest
from dbt_helpers import GOOD_LINES, HEADER, PROJECT_DIR

from insiders import loader, spark_loader

SPARK_PYTHON = PROJECT_DIR / ".venv-spark/bin/python"
# Every column of raw.invoice_lines as text where engines type it differently.
ROWS = ("select line_number, invoice_no, stock_code, description, quantity, cast(invoice_date as string), "
        "cast(unit_price as string), customer_id, country from raw.invoice_lines order by line_number")
# Loads each file of {file: settings} (argv[1]) and prints {file: {message, rows}}; then the swap
# scenario: a load killed between the renames of its swap (the last load renamed aside), then a bad file.
SPARK_SCRIPT = """
import json, sys
from insiders import loader, spark_loader
spark = spark_loader.spark_session()
spark.sparkContext.setLogLevel("ERROR")
files, good, bad = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
results = {}
for file, config in files.items():
    try:
        message = spark_loader.load(spark, loader.settings_from(file, {"raw_reload": True, **config}))
        rows = [list(row) for row in spark.sql(sys.argv[4]).collect()]
    except loader.LoadError as error:
        message, rows = str(error), None
    results[file] = {"message": message, "rows": rows}
spark_loader.load(spark, loader.settings_from(good, {"raw_reload": True}))
spark.sql(f"alter table {spark_loader.LINES_TABLE} rename to {spark_loader.REPLACED_TABLE}")
try:
    spark_loader.load(spark, loader.settings_from(bad, {"raw_reload": True}))
except loader.LoadError:
    pass
exists = spark.catalog.tableExists(spark_loader.LINES_TABLE)
results["swap"] = {"lines": spark.table(spark_loader.LINES_TABLE).count() if exists else None,
                   "aside": spark.catalog.tableExists(spark_loader.REPLACED_TABLE)}
print(json.dumps(results))
"""

LINE = "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n"
LATIN1_LINES = (GOOD_LINES.replace("HEART", "HEART É").replace("LANTERN", "LANTERN café")
                .replace("Discount", "Discount à"))

# name: (content, settings); text is written as UTF-8.
BAD_FILES = {
    "not_a_number.csv": (HEADER + GOOD_LINES + LINE.replace(",6,", ",six,"), {}),
    "bad_date.csv": (HEADER + GOOD_LINES.replace("2010-12-01 09:41:00", "2010-13-01 09:41:00"), {}),
    "bad_price_and_id.csv": (HEADER + GOOD_LINES + LINE.replace("1.85", "1.69x").replace("17850.0", "13047.5"), {}),
    "huge_customer.csv": (HEADER + GOOD_LINES + LINE.replace("17850.0", "12345678901234567890"), {}),
    "header_again.csv": (HEADER + GOOD_LINES + HEADER + GOOD_LINES, {}),
    "header_only.csv": (HEADER, {}),
    "missing_column.csv": (HEADER.replace(",Country", "") + "".join(
        line.rsplit(",", 1)[0] + "\n" for line in GOOD_LINES.splitlines()), {}),
    "empty.csv": ("", {}),
    "utf16.csv": ((HEADER + GOOD_LINES).encode("utf-16"), {}),
    # Line 6 is ISO-8859-1, line 3 UTF-8.
    "mixed_encodings.csv": ((HEADER + GOOD_LINES.replace("LANTERN", "LANTERN café")).encode()
                            + LINE.replace("WARMER", "WARMER café").encode("latin-1"), {}),
    "windows_1252.csv": ((HEADER + GOOD_LINES.replace("WHITE METAL", "‘WHITE’ METAL €")).encode("cp1252"), {}),
    "latin1_forced_utf8.csv": ((HEADER + GOOD_LINES + LINE.replace("WARMER", "WARMER CAFÉ")).encode("latin-1"),
                               {"raw_encoding": "utf-8"}),
    "long_line.csv": (HEADER + GOOD_LINES + LINE.replace("HAND WARMER UNION JACK", "X" * 3_000_000) + GOOD_LINES, {}),
    "extra_field.csv": (HEADER + GOOD_LINES + LINE.replace("\n", ",oops\n") + GOOD_LINES, {}),
    # DuckDB names a line it cannot read counting blank lines, a bad value's line not.
    "blank_then_extra_field.csv": (HEADER + GOOD_LINES + "\n" + LINE.replace("\n", ",oops\n") + GOOD_LINES, {}),
    # A quote never closed (after a quoted line break, which counts as one line).
    "unclosed_quote.csv": (HEADER + GOOD_LINES.replace("WHITE METAL LANTERN", '"WHITE METAL\nLANTERN"') + "\n"
                           + LINE.replace("HAND WARMER", '"HAND WARMER') + GOOD_LINES, {}),
    # A long line whose first 10000 bytes end inside a UTF-8 character (once a DuckDB error).
    "long_non_ascii_line.csv": (HEADER + GOOD_LINES + LINE.replace("HAND WARMER UNION JACK", "é" * 1_100_000), {}),
    "missing_field.csv": (HEADER + GOOD_LINES + LINE.rsplit(",", 1)[0] + "\n" + GOOD_LINES, {}),
    # Three lines that are not UTF-8 first: read as ISO-8859-1, where lines 6 and 7 have 7 and 6 fields.
    "latin1_missing_fields.csv": ((HEADER + LATIN1_LINES + LINE.rsplit(",", 1)[0] + "\n"
                                   + LINE.rsplit(",", 2)[0] + "\n").encode("latin-1"), {}),
}
GOOD_FILES = {
    "crlf.csv": ((HEADER + GOOD_LINES).replace("\n", "\r\n"), {}),
    # LF lines, then lines appended on Windows.
    "mixed_lf_crlf.csv": (HEADER + GOOD_LINES + GOOD_LINES.replace("\n", "\r\n"), {}),
    "cr_in_quoted_field.csv": (HEADER + GOOD_LINES.replace("WHITE METAL LANTERN", '"WHITE METAL\rLANTERN"'), {}),
    "cr_only.csv": ((HEADER + GOOD_LINES).replace("\n", "\r"), {}),
    "quoted_line_break.csv": (HEADER + GOOD_LINES.replace("WHITE METAL LANTERN", '"WHITE METAL\nLANTERN"')
                              + LINE, {}),
    "latin1.csv": ((HEADER + LATIN1_LINES).encode("latin-1"), {}),
}


def duckdb_load(file: str, config: dict) -> dict:
    with duckdb.connect() as con:
        try:
            message = loader.load_raw_file(con, file, {"raw_reload": True, **config})
        except loader.LoadError as error:
            return {"message": str(error), "rows": None}
        return {"message": message, "rows": [list(row) for row in con.execute(ROWS).fetchall()]}


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark_loader")
    files = {}
    for name, (content, config) in {**BAD_FILES, **GOOD_FILES}.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        files[str(path)] = config
    environment = {**os.environ, "INSIDERS_SPARK_MASTER": "local[2]",
                   "INSIDERS_SPARK_WAREHOUSE": str(folder / "warehouse"),
                   "INSIDERS_SPARK_METASTORE": f"jdbc:derby:;databaseName={folder / 'metastore'};create=true",
                   "INSIDERS_SPARK_SHUFFLE_PARTITIONS": "2"}
    result = subprocess.run([str(SPARK_PYTHON), "-c", SPARK_SCRIPT, json.dumps(files), str(folder / "crlf.csv"),
                             str(folder / "not_a_number.csv"), ROWS],
                            cwd=PROJECT_DIR, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    spark = json.loads(result.stdout.strip().splitlines()[-1])
    duck = {file: duckdb_load(file, config) for file, config in files.items()}
    return spark, duck, folder


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_spark_refuses_a_bad_file_as_duckdb_does(loads, name):
    spark, duck, folder = loads
    file = str(folder / name)
    assert duck[file]["rows"] is None and duck[file]["message"].startswith(("Raw file", "No raw file"))
    assert spark[file]["message"] == duck[file]["message"]


@pytest.mark.parametrize("name, lines", [("crlf.csv", 4), ("mixed_lf_crlf.csv", 8), ("cr_in_quoted_field.csv", 4),
                                         ("cr_only.csv", 4), ("latin1.csv", 4), ("quoted_line_break.csv", 5)])
def test_spark_loads_a_good_file_as_duckdb_does(loads, name, lines):
    spark, duck, folder = loads
    file = str(folder / name)
    assert duck[file]["message"].startswith(f"Loaded {lines} lines from {file} (")
    assert spark[file]["message"] == duck[file]["message"]
    assert len(spark[file]["rows"]) == len(duck[file]["rows"]) == lines
    assert spark[file]["rows"] == duck[file]["rows"]


def test_the_values_of_good_files_survive(loads):
    spark, _, folder = loads
    descriptions = {name: [row[3] for row in spark[str(folder / name)]["rows"]] for name in GOOD_FILES}
    assert descriptions["cr_in_quoted_field.csv"][1] == "WHITE METAL\rLANTERN"
    assert descriptions["quoted_line_break.csv"][1:] == ["WHITE METAL\nLANTERN", "Discount", None,
                                                         "HAND WARMER UNION JACK"]
    assert descriptions["latin1.csv"][:3] == ["WHITE HANGING HEART É T-LIGHT HOLDER", "WHITE METAL LANTERN café",
                                              "Discount à"]
    assert {row[-1] for name in GOOD_FILES for row in spark[str(folder / name)]["rows"]} == {"United Kingdom"}


def test_a_load_killed_in_its_swap_leaves_the_last_load(loads):
    # The last load, renamed aside by a killed swap, is put back by the next load, even a failing one.
    spark, _, _ = loads
    assert spark["swap"] == {"lines": 4, "aside": False}


class Catalog:
    """A Spark session's sql and catalog.tableExists over a set of table names; a rename to fail_to fails."""

    def __init__(self, tables: set[str], fail_to: str | None = None):
        self.tables, self.fail_to, self.catalog = tables, fail_to, self

    def tableExists(self, table: str) -> bool:
        return table in self.tables

    def sql(self, statement: str) -> None:
        words = statement.split()
        if words[:2] == ["drop", "table"]:
            self.tables.discard(words[-1])
        elif words[:2] == ["alter", "table"]:
            assert words[2] in self.tables and words[-1] not in self.tables, statement
            if words[-1] == self.fail_to and words[2] == spark_loader.LOADING_TABLE:
                raise RuntimeError("rename failed")
            self.tables = (self.tables - {words[2]}) | {words[-1]}


def test_swap_in_replaces_the_table_and_puts_it_back_on_a_failed_rename():
    lines, loading = spark_loader.LINES_TABLE, spark_loader.LOADING_TABLE
    spark = Catalog({lines, loading})
    spark_loader.swap_in(spark)
    assert spark.tables == {lines}
    spark = Catalog({lines, loading}, fail_to=lines)
    with pytest.raises(RuntimeError):
        spark_loader.swap_in(spark)
    assert spark.tables == {lines, loading}


@pytest.mark.parametrize("sequence", [
    b"caf\xe9 x", b"caf\xc9", b"\xc0\x80a", b"\xed\xa0\x80b", b"\xf4\x90\x80\x80c", b"\xe2\x82", b"\x80d", b"\xf8e",
    b"\xc3\xa9\xe9\xc3\xa9", b"\xe2\x82\xac\xe2x\x82", b"\xf0\x9f\x98", b"\xc9\xc9\xc9"])
def test_a_line_that_is_not_utf8_is_shown_as_duckdb_shows_it(tmp_path, sequence):
    # Broken, overlong, surrogate and too-high sequences, and sequences cut short by a delimiter or the line's end.
    line = b"1,2," + sequence + b",6,2010-12-01 08:28:00,1.85,1.0,UK"
    raw = tmp_path / "not_utf8.csv"
    raw.write_bytes(HEADER.encode() + line + b"\n")
    message = duckdb_load(str(raw), {"raw_encoding": "utf-8"})["message"]
    assert message == f"Raw file {raw} cannot be read as utf-8 CSV: " + loader.unreadable_line(
        2, loader.NOT_UTF8, spark_loader.as_duckdb_shows(line))
