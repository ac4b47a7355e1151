"""Extract and load on Spark: the raw Online Retail file into raw.invoice_lines of
the Spark catalog, which the staging source reads on the `spark` target.

    python -m insiders.spark_loader [--reload]

dbt-spark runs no Python hook, so `make spark-run` runs this before
`dbt build --target spark`, with the Spark settings of that target
(profiles.yml, rendered by dbt). The file is the one INSIDERS_RAW_PATH names,
found, checked and reported as insiders/loader.py does on DuckDB: the same
formats (FORMATS), the same checks and the same messages, naming file, line and
column. Spark reads a plain CSV in parallel, split into byte ranges; a folder or
glob of CSV parts (each starting with the header) is one file in name order. A
gzip file cannot be split and is read by one task. An .xlsx is refused.
"""

import argparse
import glob
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from insiders import loader

PROJECT_DIR = Path(__file__).resolve().parents[1]
RAW_SCHEMA = "raw"
# strptime directives of the formats' date shapes, as Spark's datetime patterns
# (one letter takes one or two digits, as strptime does).
JAVA_PATTERNS = {"%Y": "yyyy", "%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s", "%y": "yy", "%b": "MMM"}
INT_MAX = 2147483647


def spark_parameters() -> dict:
    """The server_side_parameters of profiles.yml's spark target, rendered by dbt."""
    import yaml
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    # env_var reads the environment of dbt's invocation context.
    set_invocation_context(dict(os.environ))
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["insiders"]["outputs"]["spark"]
    rendered = ProfileRenderer({}).render_data(profile)
    # As dbt-spark sets it (connections.py), so that the load types values as the build does.
    return {**{str(k): str(v) for k, v in rendered["server_side_parameters"].items()},
            "spark.sql.ansi.enabled": "false"}


def spark_session():
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for name, value in spark_parameters().items():
        builder = builder.config(name, value)
    return builder.getOrCreate()


def find_parts(configured: str) -> list[str]:
    """The file configured names, or the CSV parts of a folder or glob (name order)."""
    matches = sorted(path for path in glob.glob(configured) if os.path.isfile(path))
    if not matches and os.path.isdir(configured):
        matches = sorted(path for path in glob.glob(os.path.join(configured, "*")) if loader.is_raw_file_name(path))
    if not matches:
        raise loader.no_file_error(configured)
    return matches


def java_pattern(date_format: str, file: str) -> str:
    """date_format (strptime) as a Spark datetime pattern, or the error that Spark does not read it."""
    directives = [date_format[i:i + 2] for i, char in enumerate(date_format) if char == "%"]
    if date_format == loader.EXCEL_SERIAL or any(directive not in JAVA_PATTERNS for directive in directives):
        raise loader.LoadError(f"Raw file {file}: dates in the format {date_format} are not read on Spark (it "
                               f"reads {' '.join(JAVA_PATTERNS)}). Load this file on DuckDB (`make run`).")
    pattern = date_format
    for directive, java in JAVA_PATTERNS.items():
        pattern = pattern.replace(directive, java)
    return pattern


def value_conditions(pattern: str) -> list[str]:
    """Spark SQL for each check of loader.value_problems, in its order (the DuckDB loader's checks)."""
    whole = {}
    for column in ("Quantity", "CustomerID"):
        value = f"try_cast(`{column}` as decimal(18, 3))"
        double = f"try_cast(`{column}` as double)"
        too_long = (f"coalesce(not isnan({double}) and abs({double}) < double('infinity') "
                    f"and {double} = round({double}) and abs({double}) > {INT_MAX}, false)")
        whole[column] = (f"case when {value} is not null then {value} <> round({value}) else not {too_long} end",
                         f"case when {value} is not null then abs({value}) > {INT_MAX} else {too_long} end")
    return [
        "`InvoiceNo` is null",
        "`StockCode` is null",
        whole["Quantity"][0],
        f"try_to_timestamp(`InvoiceDate`, '{pattern}') is null",
        "try_cast(`UnitPrice` as decimal(18, 3)) is null",
        "`CustomerID` is not null and " + whole["CustomerID"][0],
        whole["Quantity"][1],
        "`CustomerID` is not null and " + whole["CustomerID"][1],
    ]


def read_text(spark, parts: list[str], settings: loader.LoadSettings):
    """Every cell as text, with the part, the file's line of each row and its line number over all parts.

    Spark reads each part in byte ranges (blocks) in parallel. Within a block,
    rows keep the file's order and consecutive monotonically_increasing_id
    values; counting the rows of each block and adding up the counts of the
    blocks before it gives every row its line, without sorting the lines."""
    from pyspark.sql import functions as F

    head = loader.read_head_text(parts[0])
    delim = loader.choose_delimiter(loader.first_line(head).decode("latin-1"))
    encodings = loader.ENCODINGS if settings.encoding == "auto" else (settings.encoding,)
    for part in parts:
        if os.path.getsize(part) == 0:
            raise loader.empty_file_error(part)
        loader.refuse_binary(part, loader.read_head(part), loader.format_of(part))
    for encoding in encodings:
        columns = loader.header_columns(head, delim, encoding)
        for part in parts[1:]:
            if loader.header_columns(loader.read_head_text(part), delim, encoding) != columns:
                raise loader.LoadError(f"Raw file {part} does not start with the header line of {parts[0]}: every "
                                       "part of a split file starts with the header.")
        schema = ", ".join(f"`{column}` string" for column in columns) + ", _corrupt_record string"
        text = (spark.read.options(header=True, sep=delim, quote='"', escape='"', encoding=encoding,
                                   mode="PERMISSIVE", columnNameOfCorruptRecord="_corrupt_record",
                                   multiLine=False, enforceSchema=True)
                .schema(schema).csv(parts)
                .withColumn("_part", F.input_file_name())
                .withColumn("_block", F.input_file_block_start())
                .withColumn("_row", F.monotonically_increasing_id()))
        # Read as UTF-8, bytes that are not become U+FFFD: then the file is ISO-8859-1.
        if encoding != encodings[-1] and text.where(
                " or ".join(f"`{column}` like '%\ufffd%'" for column in columns)).limit(1).count() > 0:
            continue
        break
    blocks = text.groupBy("_part", "_block").agg(F.count("*").alias("rows"), F.min("_row").alias("first_row"))
    blocks = blocks.collect()
    order = {Path(part).resolve().as_uri(): index for index, part in enumerate(parts)}
    offsets, total, file_totals = [], 0, {}
    for block in sorted(blocks, key=lambda block: (order.get(block["_part"], len(order)), block["_part"],
                                                   block["_block"])):
        in_file = file_totals.get(block["_part"], 0)
        offsets.append((block["_part"], block["_block"], block["first_row"], total, in_file))
        total += block["rows"]
        file_totals[block["_part"]] = in_file + block["rows"]
    offsets_frame = spark.createDataFrame(
        offsets, "_part string, _block bigint, first_row bigint, line_offset bigint, file_offset bigint")
    files = {Path(part).resolve().as_uri(): part for part in parts}
    part_names = F.create_map(*[F.lit(value) for pair in files.items() for value in pair])
    numbered = (text.join(F.broadcast(offsets_frame), ["_part", "_block"])
                .withColumn("line_number", F.col("_row") - F.col("first_row") + F.col("line_offset") + 1)
                # The file's own line: its header is line 1.
                .withColumn("file_line", F.col("_row") - F.col("first_row") + F.col("file_offset") + 2)
                .withColumn("source_file", F.coalesce(part_names[F.col("_part")], F.col("_part"))))
    return numbered, columns, encoding, delim


def check_text(text, columns: list[str], encoding: str, settings: loader.LoadSettings, file: str) -> str:
    """The checks of loader.check_columns, the reading's and loader.check_values; returns the date format."""
    from pyspark.sql import functions as F

    missing = [column for column in loader.COLUMNS if column not in columns]
    if missing:
        raise loader.missing_columns_error(file, missing, columns)
    broken = text.where("_corrupt_record is not null").orderBy("line_number").limit(3).collect()
    if broken:
        raise loader.unreadable_error(file, encoding, "; ".join(
            f"line {row['file_line']}: expected {len(columns)} fields "
            f"[{loader.truncate(row['_corrupt_record'], 80)}]" for row in broken))
    first = text.where("InvoiceDate is not null").orderBy("line_number").select("file_line", "InvoiceDate").first()
    if first is None:
        raise loader.no_lines_error(file)
    date_format = settings.date_format if settings.date_format != "auto" else loader.detected_date_format(
        file, first["file_line"], first["InvoiceDate"])
    pattern = java_pattern(date_format, file)
    header = "InvoiceNo = 'InvoiceNo' and Quantity = 'Quantity'"
    aggregates = [F.expr(f"count_if({header})"), F.expr(f"min_by(file_line, line_number) filter (where {header})")]
    problems = loader.value_problems(date_format)
    for (column, _), condition in zip(problems, value_conditions(pattern), strict=True):
        aggregates += [F.expr(f"count_if({condition})"),
                       F.expr(f"min_by(named_struct('line', file_line, 'file', source_file, 'value', "
                              f"coalesce(`{column}`, '')), line_number) filter (where {condition})")]
    found = text.agg(*aggregates).first()
    bad = []
    for index, (column, problem) in enumerate(problems):
        count, where = found[2 + 2 * index], found[3 + 2 * index]
        if where is None:
            bad.append((column, problem, count, None, None))
            continue
        # A part of a split file is named beside its line.
        line = where["line"] if where["file"] == file else f"{where['line']} of {where['file']}"
        bad.append((column, problem, count, line, where["value"]))
    loader.refuse_bad_values(file, found[0], found[1], bad)
    return date_format


def load(spark, settings: loader.LoadSettings) -> str:
    if not settings.load:
        return "Raw file not loaded (var load_raw is false)."
    parts = find_parts(settings.raw_path)
    file = parts[0] if len(parts) == 1 else settings.raw_path
    for part in parts:
        if loader.format_of(part).read_text is not loader.read_csv_text:
            raise loader.LoadError(f"Raw file {part} is an Excel workbook, which the Spark load does not read: "
                                   "export the sheet as a UTF-8 CSV, or build on DuckDB (`make run`).")
    size = sum(os.path.getsize(part) for part in parts)
    modified = max(datetime.fromtimestamp(os.path.getmtime(part), timezone.utc) for part in parts).isoformat()
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    spark.sql(f"create table if not exists {RAW_SCHEMA}.{loader.LOADS_TABLE} (source_file string, "
              "file_size bigint, file_modified_at string, date_format string, encoding string, lines bigint, "
              "loaded_at timestamp) using parquet")
    last = spark.table(f"{RAW_SCHEMA}.{loader.LOADS_TABLE}").orderBy("loaded_at", ascending=False).first()
    if (last and not settings.reload and (last["source_file"], last["file_size"], last["file_modified_at"])
            == (file, size, modified) and spark.catalog.tableExists(f"{RAW_SCHEMA}.invoice_lines")):
        return f"Raw file {file} unchanged since its last load: not read again."
    if any(part.lower().endswith(".gz") for part in parts):
        print(f"{file} is gzip-compressed, which Spark cannot split: one task reads it. Decompress it (or split "
              "it into CSV parts) to read it in parallel.", file=sys.stderr)
    text, columns, encoding, _ = read_text(spark, parts, settings)
    date_format = check_text(text, columns, encoding, settings, file)
    pattern = java_pattern(date_format, file)
    typed = text.selectExpr(
        "line_number", "InvoiceNo as invoice_no", "StockCode as stock_code", "Description as description",
        "cast(cast(Quantity as decimal(18, 3)) as int) as quantity",
        f"to_timestamp(InvoiceDate, '{pattern}') as invoice_date",
        "cast(UnitPrice as decimal(18, 3)) as unit_price",
        "cast(cast(CustomerID as decimal(18, 3)) as int) as customer_id", "Country as country", "source_file")
    # Every check passed: written aside, then swapped in, so that a failed
    # write leaves the previous load whole.
    spark.sql(f"drop table if exists {RAW_SCHEMA}.invoice_lines_loading")
    typed.write.format("parquet").saveAsTable(f"{RAW_SCHEMA}.invoice_lines_loading")
    spark.sql(f"drop table if exists {RAW_SCHEMA}.invoice_lines")
    spark.sql(f"alter table {RAW_SCHEMA}.invoice_lines_loading rename to {RAW_SCHEMA}.invoice_lines")
    lines = spark.table(f"{RAW_SCHEMA}.invoice_lines").count()
    spark.createDataFrame([(file, size, modified, date_format, encoding, lines)],
                          "source_file string, file_size bigint, file_modified_at string, date_format string, "
                          "encoding string, lines bigint").selectExpr(
        "*", "cast(current_timestamp() as timestamp) as loaded_at").write.insertInto(
        f"{RAW_SCHEMA}.{loader.LOADS_TABLE}")
    return f"Loaded {lines} lines from {file} ({encoding}, dates as {date_format})."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-path", help="overrides INSIDERS_RAW_PATH (as the var raw_path does)")
    parser.add_argument("--encoding", default="auto")
    parser.add_argument("--date-format", default="auto")
    parser.add_argument("--reload", action="store_true", help="read the file even if unchanged")
    args = parser.parse_args()
    try:
        settings = loader.settings_from(os.environ.get("INSIDERS_RAW_PATH", ""), {
            "raw_path": args.raw_path, "raw_encoding": args.encoding, "raw_date_format": args.date_format,
            "raw_reload": args.reload})
        spark = spark_session()
        spark.sparkContext.setLogLevel("ERROR")
        print(load(spark, settings))
    except loader.LoadError as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
