"""Times the full `dbt build` at several sizes of the data and prints a table.

    python bench/benchmark.py [--scales 1 10 100] [--runs 1] [--peer-pairs 3] [--engine duckdb|spark]

Scale 1 is the raw file (INSIDERS_RAW_PATH); scale N is its N-times copy
written by bench/scale_data.py into data/scale/ (made once, then reused).
Each build goes into a fresh DuckDB file, so the raw file is loaded again.
Wall time and peak resident memory are those of the whole dbt process tree
(dbt and the workers its Python models start), sampled every 0.2 s; the
times of the raw load (the on-run-start hook) and of each model come from
target/run_results.json. Models run two at a time, so their times add up to
more than the wall time; the SQL models are then timed again one at a time
("alone"), and the SQL layer's cost per million lines is the raw load plus
those times.

Then, side by side with the peer (a pandas re-implementation of the pipeline
this project is compared with, in INSIDERS_PEER_DIR, by default
../shared/anchors beside the checkout), each pair run in turn on the same file:
its full pipeline with the grid against `dbt build` at 1x, its read, clean and
features against the SQL layer at 10x, with that layer's floor (dbt's fixed
cost and a plain typed read_csv of the file). Ratios are the point: machines differ.

--engine spark runs make spark-run's steps instead (from .venv-spark): the
raw load on Spark, `dbt build --target spark`, the hand-over to DuckDB and
the DuckDB build of the rest, each timed; the peak memory is that of the
process tree of each step (the JVM that Spark's session starts and Python
together), the highest of the steps.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
SCALE_DIR = PROJECT_DIR / "data/scale"
GOALS = {1: (60, None), 10: (180, None), 100: (600, 8 * 1024)}  # scale -> (seconds, MiB)
STRICT_100X_GOAL = (150, 4 * 1024)  # the speed issue's: seconds, MiB of the whole process tree
# The pandas re-implementation of the peer pipeline the project is compared with, kept beside the checkout.
PEER_DIR = Path(os.environ.get("INSIDERS_PEER_DIR", PROJECT_DIR.parent / "shared/anchors"))
# (what is compared, scale, peer script and its arguments, dbt arguments, speed goal, memory goal as a share,
#  whether the pair's floor is timed too)
SIDE_BY_SIDE = [
    ("full pipeline with its grid vs `dbt build`", 1, ["peer_pipeline.py", "{raw}", "--grid"], ["build"], 2.5, None,
     False),
    ("read + clean + features vs the SQL layer", 10, ["peer_sql_layer.py", "{raw}"],
     ["build", "--select", "+int_customers_featurized", "--resource-type", "seed", "model"], 3.0, 1 / 3, True),
]
# The least any build of the SQL layer can take: dbt's fixed cost (a run of one small model once the raw
# file is loaded, so the loader finds it unchanged) and a plain typed read_csv of the file (the loader's floor).
FIXED_COST_ARGUMENTS = ["run", "--select", "int_analysis_dates"]


def raw_file(scale: int) -> Path:
    source = Path(os.environ.get("INSIDERS_RAW_PATH", "")).resolve()
    if not source.is_file():
        sys.exit("set INSIDERS_RAW_PATH to the raw file (the 1x data)")
    if scale == 1:
        return source
    copy = SCALE_DIR / f"online_retail_x{scale}.csv"
    if not copy.is_file():
        subprocess.run([sys.executable, str(PROJECT_DIR / "bench/scale_data.py"), "--source", str(source),
                        "--times", str(scale), "--output", str(copy)], check=True)
    return copy


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measured(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Runs a command to the end: (wall seconds, peak MiB of its process tree, output)."""
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    peak, done = [0], threading.Event()

    def sample():
        while not done.wait(0.2):
            try:
                peak[0] = max(peak[0], tree_rss(process))
            except psutil.NoSuchProcess:
                return

    sampler = threading.Thread(target=sample)
    sampler.start()
    output = process.communicate()[0]
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} failed:\n{output[-4000:]}")
    return time.perf_counter() - started, peak[0] / 2**20, output


def dbt_command(workdir: Path, *arguments: str) -> tuple[list[str], dict]:
    """A dbt command on a fresh DuckDB file in workdir (the raw file is loaded again)."""
    env = dict(os.environ, INSIDERS_DUCKDB_PATH=str(workdir / "bench.duckdb"),
               INSIDERS_CSV_PATH=str(workdir / "insiders.csv"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    return [DBT, *arguments, "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
            "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")], env


def build(raw: Path, workdir: Path) -> dict:
    command, env = dbt_command(workdir, "build")
    env["INSIDERS_RAW_PATH"] = str(raw)
    wall, peak_mib, _ = measured(command, env)
    results = json.loads((workdir / "target/run_results.json").read_text())["results"]
    nodes = json.loads((workdir / "target/manifest.json").read_text())["nodes"]
    with duckdb.connect(str(workdir / "bench.duckdb"), read_only=True) as con:
        lines, customers, insiders, share = con.sql("""
            select (select max(raw_lines) from marts.ledger_reconciliation), count(*),
                count(*) filter (where is_insider),
                sum(gross_revenue) filter (where is_insider) / sum(gross_revenue)
            from marts.customers""").fetchone()
    models = [r for r in results if r["unique_id"].startswith("model.")]
    # The build runs two models at a time, so a model's time includes waiting for the core the other
    # holds: the SQL models are timed again one at a time (the raw file, unchanged, is not reloaded).
    subprocess.run([command[0], "run", "--select", "path:models", "--threads", "1", *command[2:]],
                   cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    alone = json.loads((workdir / "target/run_results.json").read_text())["results"]
    return {
        "wall": wall, "peak_mib": peak_mib, "models": models, "lines": lines, "customers": customers,
        "insiders": insiders, "insiders_revenue_share": float(share),
        "sql_alone": sum(r["execution_time"] for r in alone if r["unique_id"].startswith("model.")),
        "sql": sum(r["execution_time"] for r in models if nodes[r["unique_id"]].get("language") == "sql"),
        "load": sum(r["execution_time"] for r in results if "on-run-start" in r["unique_id"]),
        "python": sum(r["execution_time"] for r in models if nodes[r["unique_id"]].get("language") == "python"),
    }


def side_by_side(pairs: int) -> None:
    """Each comparison run in turn (peer, project, peer, project, ...) on the same file; medians and ratios."""
    print("\n| pair | scale | peer | this project | speed (peer / project) | memory (project / peer) | goal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    floors = []
    for name, scale, peer_arguments, dbt_arguments, speed_goal, memory_goal, with_floor in SIDE_BY_SIDE:
        raw = raw_file(scale)
        peer_command = [sys.executable, str(PEER_DIR / peer_arguments[0]),
                        *[argument.format(raw=raw) for argument in peer_arguments[1:]]]
        peer, ours, fixed, read = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            command, env = dbt_command(workdir, *dbt_arguments)
            env["INSIDERS_RAW_PATH"] = str(raw)
            # As a user's next run: the project parsed once before (dbt's partial parsing), the data not.
            measured(dbt_command(workdir, "parse")[0], env)
            for _ in range(pairs):
                peer.append(measured(peer_command)[:2])
                (workdir / "bench.duckdb").unlink(missing_ok=True)
                ours.append(measured(command, env)[:2])
                if with_floor:
                    fixed.append(measured(dbt_command(workdir, *FIXED_COST_ARGUMENTS)[0], env)[0])
                    read.append(measured([sys.executable, str(PROJECT_DIR / "bench/loader_floor.py"), "--one",
                                          "floor", str(raw), str(workdir / "floor.duckdb")])[0])
                    (workdir / "floor.duckdb").unlink()
        (peer_wall, peer_mib), (our_wall, our_mib) = [tuple(statistics.median(v) for v in zip(*runs))
                                                      for runs in (peer, ours)]
        speed, memory = peer_wall / our_wall, our_mib / peer_mib
        met = speed >= speed_goal and (memory_goal is None or memory <= memory_goal)
        goal = f">= {speed_goal}x" + (f" at <= {memory_goal:.2f} of the memory" if memory_goal else "")
        print(f"| {name} | {scale}x | {peer_wall:.1f} s, {peer_mib:,.0f} MiB | {our_wall:.1f} s, {our_mib:,.0f} MiB "
              f"| {speed:.2f} | {memory:.2f} | {goal}: {'met' if met else 'NOT met'} |")
        if with_floor:
            floors.append((name, scale, statistics.median(fixed), statistics.median(read), peer_wall, speed_goal))
    print(f"(medians of {pairs} pair(s); peak memory of each process tree)")
    for name, scale, fixed_wall, read_wall, peer_wall, speed_goal in floors:
        floor, goal_wall = fixed_wall + read_wall, peer_wall / speed_goal
        print(f"{name}, {scale}x: its floor is {floor:.1f} s (dbt's fixed cost, `dbt {' '.join(FIXED_COST_ARGUMENTS)}` "
              f"on the loaded file, {fixed_wall:.1f} s + a plain typed read_csv of the file {read_wall:.1f} s), "
              f"the peer / floor {peer_wall / floor:.2f}: the {speed_goal}x goal asks for at most {goal_wall:.1f} s, "
              f"{'above' if goal_wall >= floor else 'below'} the floor")


def spark_build(raw: Path, workdir: Path) -> dict:
    """make spark-run's steps on a Spark warehouse and metastore of the run's own, each measured."""
    env = dict(os.environ, INSIDERS_RAW_PATH=str(raw), INSIDERS_DUCKDB_PATH=str(workdir / "bench.duckdb"),
               INSIDERS_CSV_PATH=str(workdir / "insiders.csv"), INSIDERS_SPARK_WAREHOUSE=str(workdir / "warehouse"),
               INSIDERS_SPARK_METASTORE=f"jdbc:derby:;databaseName={workdir / 'metastore'};create=true",
               DBT_TARGET_PATH=str(workdir / "target"), DBT_LOG_PATH=str(workdir / "logs"),
               DBT_PROFILES_DIR=str(PROJECT_DIR), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    steps = {
        "raw load": [sys.executable, "-m", "insiders.spark_loader"],
        "SQL layer (Spark)": [DBT, "build", "--target", "spark"],
        "hand-over": [sys.executable, "-m", "insiders.spark_handoff", "--database", str(workdir / "bench.duckdb")],
        "clustering (DuckDB)": [DBT, "build", "--exclude", "path:models/intermediate", "--vars", "{load_raw: false}"],
    }
    figures = {"steps": {}, "peak_mib": 0.0}
    for name, command in steps.items():
        wall, peak_mib, _ = measured(command, env)
        figures["steps"][name] = wall
        figures["peak_mib"] = max(figures["peak_mib"], peak_mib)
    figures["wall"] = sum(figures["steps"].values())
    with duckdb.connect(str(workdir / "bench.duckdb"), read_only=True) as con:
        figures["lines"], figures["customers"], figures["insiders"], share = con.sql("""
            select (select max(raw_lines) from marts.ledger_reconciliation), count(*),
                count(*) filter (where is_insider),
                sum(gross_revenue) filter (where is_insider) / sum(gross_revenue)
            from marts.customers""").fetchone()
    figures["insiders_revenue_share"] = float(share)
    return figures


def spark_table(rows: dict) -> None:
    steps = list(next(iter(rows.values()))["steps"])
    print("\n| scale | lines | customers | wall | peak RSS (JVM + Python) | " + " | ".join(steps)
          + " | Insiders | Insiders' revenue share |")
    print("| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in steps) + " | ---: | ---: |")
    for scale, f in rows.items():
        print(f"| {scale}x | {f['lines']:,} | {f['customers']:,} | {f['wall']:.1f} s | {f['peak_mib']:,.0f} MiB | "
              + " | ".join(f"{f['steps'][step]:.1f} s" for step in steps)
              + f" | {f['insiders']:,} | {f['insiders_revenue_share']:.1%} |")


def verdict(scale: int, figures: dict) -> str:
    seconds, mib = GOALS.get(scale, (None, None))
    met = (seconds is None or figures["wall"] <= seconds) and (mib is None or figures["peak_mib"] <= mib)
    goal = " and ".join(filter(None, [f"<= {seconds} s" if seconds else "", f"<= {mib // 1024} GiB" if mib else ""]))
    return f"{goal}: {'met' if met else 'NOT met'}" if goal else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--peer-pairs", type=int, default=3,
                        help="runs of each side-by-side comparison with the peer (0: none)")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    rows = {}
    for scale in args.scales:
        raw = raw_file(scale)
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as tmp:
                figures = (spark_build if args.engine == "spark" else build)(raw, Path(tmp))
            rows[scale] = figures if scale not in rows or figures["wall"] < rows[scale]["wall"] else rows[scale]
            print(f"\n{scale}x run {run} ({raw.name}): wall {figures['wall']:.1f} s, "
                  f"peak RSS {figures['peak_mib']:,.0f} MiB")
            if args.engine == "spark":
                continue
            print(f"{'model':<60} {'seconds':>8}")
            for result in sorted(figures["models"], key=lambda r: -r["execution_time"])[:12]:
                print(f"{result['unique_id']:<60} {result['execution_time']:>8.2f}")

    if args.engine == "spark":
        spark_table(rows)
        return
    base = rows[min(rows)]
    print("\n| scale | lines | customers | wall | peak RSS | raw load | SQL models | SQL models alone "
          "| SQL layer s per M lines | Python models | Insiders | Insiders' revenue share | goal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for scale, f in rows.items():
        print(f"| {scale}x | {f['lines']:,} | {f['customers']:,} | {f['wall']:.1f} s | {f['peak_mib']:,.0f} MiB "
              f"| {f['load']:.1f} s | {f['sql']:.1f} s | {f['sql_alone']:.1f} s "
              f"| {(f['load'] + f['sql_alone']) / f['lines'] * 1e6:.2f} "
              f"| {f['python']:.1f} s | {f['insiders']:,} "
              f"| {f['insiders_revenue_share']:.1%} | {verdict(scale, f)} |")
    for scale, f in rows.items():
        if scale != min(rows):
            points = abs(f["insiders_revenue_share"] - base["insiders_revenue_share"]) * 100
            print(f"{scale}x: Insiders' share of revenue {f['insiders_revenue_share']:.1%} vs "
                  f"{base['insiders_revenue_share']:.1%} at {min(rows)}x: {points:.1f} points apart "
                  f"({'within' if points <= 5 else 'NOT within'} 5)")
    if 100 in rows:
        (seconds, mib), f = STRICT_100X_GOAL, rows[100]
        print(f"100x against the stricter goal: {f['wall']:.1f} s (<= {seconds} s: "
              f"{'met' if f['wall'] <= seconds else 'NOT met'}), {f['peak_mib']:,.0f} MiB "
              f"(<= {mib:,} MiB: {'met' if f['peak_mib'] <= mib else 'NOT met'})")
    if args.peer_pairs:
        side_by_side(args.peer_pairs)


if __name__ == "__main__":
    main()
