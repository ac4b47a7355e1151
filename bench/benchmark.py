"""Times the full `dbt build` on the raw file and prints per-model figures.

Each run builds into a fresh DuckDB file, so the raw file is loaded again.
Wall time and peak resident memory are those of the dbt process; model times
come from target/run_results.json. Usage: python bench/benchmark.py [--runs N]
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def build_once(workdir: Path) -> tuple[float, float, list[dict], dict]:
    env = dict(os.environ, INSIDERS_DUCKDB_PATH=str(workdir / "bench.duckdb"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    command = [DBT, "build", "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
               "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
    started = time.perf_counter()
    output = subprocess.run(command, cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    load = float(re.search(r"on-run-start\.0 \.+ \S+ in ([\d.]+)s", re.sub(r"\x1b\[[0-9;]*m", "", output)).group(1))
    results = json.loads((workdir / "target/run_results.json").read_text())["results"]
    languages = {k: v.get("language") for k, v in json.loads((workdir / "target/manifest.json").read_text())["nodes"].items()}
    return wall, load, results, languages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    runs = parser.parse_args().runs
    raw = os.environ.get("INSIDERS_RAW_PATH", "data/raw")
    print(f"raw file: {raw}; {os.cpu_count()} cores")
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            wall, load, results, languages = build_once(Path(tmp))
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        models = [r for r in results if r["unique_id"].startswith("model.")]
        sql_models = [r for r in models if languages.get(r["unique_id"]) == "sql"]
        print(f"\nrun {run}: wall {wall:.1f} s, peak RSS {peak_mib:.0f} MiB, raw load {load:.2f} s, "
              f"model time {sum(r['execution_time'] for r in models):.2f} s "
              f"(SQL layer {sum(r['execution_time'] for r in sql_models):.2f} s), "
              f"tests {sum(r['execution_time'] for r in results if r['unique_id'].startswith(('test.', 'unit_test.'))):.2f} s")
        print(f"{'node':<60} {'seconds':>8}")
        for result in sorted(models, key=lambda r: -r["execution_time"]):
            print(f"{result['unique_id']:<60} {result['execution_time']:>8.2f}")


if __name__ == "__main__":
    main()
