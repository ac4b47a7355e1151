"""The raw load on a real Spark refuses bad files with the DuckDB loader's words.

Each bad file is loaded by insiders.spark_loader (in one Spark session of the
.venv-spark environment) and by insiders.loader on DuckDB: both must stop with
the same message, naming file, line and column."""

import json
import os
import subprocess

import duckdb
import pytest
from dbt_helpers import GOOD_LINES, HEADER, PROJECT_DIR

from insiders import loader

SPARK_PYTHON = PROJECT_DIR / ".venv-spark/bin/python"
# Loads each file named on the command line, prints {file: message or the load's line}.
SPARK_SCRIPT = """
import json, sys
from insiders import loader, spark_loader
spark = spark_loader.spark_session()
spark.sparkContext.setLogLevel("ERROR")
messages = {}
for file in sys.argv[1:]:
    try:
        messages[file] = spark_loader.load(spark, loader.settings_from(file, {"raw_reload": True}))
    except loader.LoadError as error:
        messages[file] = str(error)
print(json.dumps(messages))
"""

BAD_FILES = {
    "not_a_number.csv": HEADER + GOOD_LINES + "536366,22633,HAND WARMER,six,2010-12-01 08:28:00,1.85,17850.0,UK\n",
    "bad_date.csv": HEADER + GOOD_LINES.replace("2010-12-01 09:41:00", "2010-13-01 09:41:00"),
    "bad_price_and_id.csv": HEADER + GOOD_LINES + "536367,84879,BIRD,32,2010-12-01 08:34:00,1.69x,13047.5,UK\n",
    "huge_customer.csv": HEADER + GOOD_LINES + "536368,22960,JAM,6,2010-12-01 08:34:00,4.25,12345678901234567890,UK\n",
    "header_again.csv": HEADER + GOOD_LINES + HEADER + GOOD_LINES,
    "header_only.csv": HEADER,
    "missing_column.csv": HEADER.replace(",Country", "") + "".join(
        line.rsplit(",", 1)[0] + "\n" for line in GOOD_LINES.splitlines()),
    "empty.csv": "",
    "utf16.csv": None,
}


@pytest.fixture(scope="module")
def messages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark_loader")
    files = []
    for name, text in BAD_FILES.items():
        path = folder / name
        if text is None:
            path.write_bytes((HEADER + GOOD_LINES).encode("utf-16"))
        else:
            path.write_text(text)
        files.append(str(path))
    environment = {**os.environ, "INSIDERS_SPARK_MASTER": "local[2]",
                   "INSIDERS_SPARK_WAREHOUSE": str(folder / "warehouse"),
                   "INSIDERS_SPARK_METASTORE": f"jdbc:derby:;databaseName={folder / 'metastore'};create=true",
                   "INSIDERS_SPARK_SHUFFLE_PARTITIONS": "2"}
    result = subprocess.run([str(SPARK_PYTHON), "-c", SPARK_SCRIPT, *files], cwd=PROJECT_DIR, env=environment,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    spark = json.loads(result.stdout.strip().splitlines()[-1])
    duck = {}
    for file in files:
        with duckdb.connect() as con:
            try:
                duck[file] = loader.load_raw_file(con, file, {})
            except loader.LoadError as error:
                duck[file] = str(error)
    return spark, duck


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_spark_refuses_a_bad_file_as_duckdb_does(messages, name):
    spark, duck = messages
    file = next(file for file in spark if file.endswith("/" + name))
    assert duck[file].startswith(("Raw file", "No raw file")), duck[file]
    assert spark[file] == duck[file]
