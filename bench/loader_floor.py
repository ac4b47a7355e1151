"""The raw loader against the floor: a plain typed DuckDB read_csv of the same file.

    python bench/loader_floor.py FILE [FILE ...] [--pairs 3]

For each file, the loader (insiders.loader.load_raw_file, every check) and a
`create table ... as select * from read_csv(...)` with the columns typed run in
turn (A B A B ...), each in a fresh process on a fresh DuckDB file with the
profile's settings; prints the medians of wall time, CPU time (user + sys)
and peak memory, and the loader's ratio to the floor (issue 14's target: 1.5).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
# As profiles.yml sets them (INSIDERS_DUCKDB_MEMORY_LIMIT).
SETTINGS = {"memory_limit": os.environ.get("INSIDERS_DUCKDB_MEMORY_LIMIT", "3GB"),
            "disabled_compression_methods": "fsst"}
FLOOR_TYPES = {"InvoiceNo": "VARCHAR", "StockCode": "VARCHAR", "Description": "VARCHAR", "Quantity": "INTEGER",
               "InvoiceDate": "TIMESTAMP", "UnitPrice": "DECIMAL(18, 3)", "CustomerID": "DOUBLE",
               "Country": "VARCHAR"}


def run_one(kind: str, file: str, database: str) -> None:
    """One run, in this (child) process."""
    import duckdb
    import duckdb_ext

    sys.path.insert(0, str(PROJECT_DIR))
    from insiders import loader

    con = duckdb.connect(database, config=SETTINGS)
    duckdb_ext.init(con)
    if kind == "loader":
        print(loader.load_raw_file(con.cursor(), file, {}), file=sys.stderr)
        return
    # The floor reads the dates in the format the loader finds in them.
    first = con.execute("select InvoiceDate from read_csv($file, all_varchar = true) limit 1",
                        {"file": file}).fetchone()[0]
    con.execute("create table invoice_lines as select * from read_csv($file, columns = $columns, header = true, "
                "timestampformat = $format)",
                {"file": file, "columns": FLOOR_TYPES, "format": loader.date_format_of(first, file)})


def measure(kind: str, file: str) -> dict:
    """Wall and CPU seconds and peak resident MiB of one run in a child process."""
    with tempfile.TemporaryDirectory(prefix="loader-floor-") as folder:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--one", kind, file, os.path.join(folder, "db.duckdb")],
                                 stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        error = child.stderr.read().decode()
        child.stderr.close()
        if status != 0:
            sys.exit(f"{kind} failed on {file}:\n{error}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "mib": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # kind, file, database: one child run
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    print("| file | run | wall s (median) | CPU s (median) | peak MiB | runs (wall s) |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for file in args.files:
        runs = {"loader": [], "floor": []}
        # The file read once first: the first run would otherwise be the one to fetch it from disk.
        with open(file, "rb") as handle:
            while handle.read(1 << 24):
                pass
        for _ in range(args.pairs):
            for kind in runs:
                runs[kind].append(measure(kind, file))
        medians = {}
        for kind, figures in runs.items():
            medians[kind] = {key: statistics.median(run[key] for run in figures) for key in ("wall", "cpu", "mib")}
            walls = ", ".join(f"{run['wall']:.2f}" for run in figures)
            print(f"| {Path(file).name} | {kind} | {medians[kind]['wall']:.2f} | {medians[kind]['cpu']:.2f} | "
                  f"{max(run['mib'] for run in figures):.0f} | {walls} |", flush=True)
        print(f"| {Path(file).name} | ratio | {medians['loader']['wall'] / medians['floor']['wall']:.2f} | "
              f"{medians['loader']['cpu'] / medians['floor']['cpu']:.2f} | | target 1.5 |", flush=True)


if __name__ == "__main__":
    main()
