"""Extract and load on Spark: the raw Online Retail file into raw.invoice_lines of
the Spark catalog, which the staging source reads on the `spark` target.

    python -m insiders.spark_loader [--reload]

dbt-spark runs no Python hook, so `make spark-run` runs this before
`dbt build --target spark`, with the Spark settings of that target
(profiles.yml, rendered by dbt). The file is the one INSIDERS_RAW_PATH names,
found, checked and reported as insiders/loader.py does on DuckDB: the same
formats (FORMATS), the same checks and the same messages, naming file, line and
column, and the same lines loaded. Spark reads the lines of a plain CSV in
parallel, split into byte ranges, and splits each line into its fields
itself, so that the checks of the reading see the line's bytes: UTF-8, else
ISO-8859-1 as DuckDB decides (C1 bytes and mixed encodings refused), the
maximum line size, the field count (in the words of DuckDB's rejects). A file
of LF, CRLF or CR lines is read as it is; one that mixes them, or holds a CR
inside a line, from the DuckDB loader's copy with LF line ends. A file with a
line break inside a quoted value (a line of an odd number of quotes), which
DuckDB reads, is read again by Spark's CSV reader whole (multiLine), one task
per file, a record one line as on DuckDB; a quote never closed is refused in
DuckDB's words. A folder or glob of CSV parts (each starting with the header) is one
file in name order. A gzip file cannot be split and is read by one task. An
.xlsx is refused. The new lines replace the last load by renames (swap_in).
"""

import argparse
import contextlib
import csv
import functools
import glob
import io
import operator
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from insiders import loader

PROJECT_DIR = Path(__file__).resolve().parents[1]
RAW_SCHEMA = "raw"
LINES_TABLE = f"{RAW_SCHEMA}.invoice_lines"
# The new load, written beside the last one; the last one, renamed aside during the swap.
LOADING_TABLE = f"{LINES_TABLE}_loading"
REPLACED_TABLE = f"{LINES_TABLE}_replaced"
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


def readable_parts(parts: list[str], stack: contextlib.ExitStack) -> tuple[dict[str, str], bool]:
    """The files Spark reads, each with the part it stands for, and whether CRs
    inside lines are to be put back: a part with mixed line ends is read from
    the DuckDB loader's copy with LF line ends (loader.csv_to_read), which
    lives as long as stack. Spark's text source ends a line at LF, CRLF or CR,
    so a part of LF, CRLF or CR lines is read as it is."""
    paths, crs_inside = {}, False
    for part in parts:
        ends = loader.line_ends(loader.chunks_of(part)) if loader.has_cr(part) else loader.LineEnds("lf")
        paths[stack.enter_context(loader.csv_to_read(part, ends))] = part
        crs_inside = crs_inside or ends.cr_inside_lines
    return paths, crs_inside


def numbered_lines(spark, paths: dict[str, str], rows=None):
    """The lines of the files (their bytes, without the line end, as value)
    but the header, each with its part (source_file), its line over all parts
    (line_number) and its part's own line (file_line: the header is line 1).
    Blank lines are skipped and not counted, as DuckDB's rows are. rows: other
    rows of the files to number so (the records of Spark's CSV reader).

    Spark reads each file in byte ranges (blocks) in parallel. Within a block,
    lines keep the file's order and consecutive monotonically_increasing_id
    values; counting the lines of each block and adding up the counts of the
    blocks before it gives every line its number, without sorting the lines."""
    from pyspark.sql import functions as F

    rows = spark.read.text(list(paths)).where("value <> ''") if rows is None else rows
    lines = (rows.withColumn("_part", F.input_file_name())
             .withColumn("_block", F.input_file_block_start())
             .withColumn("_row", F.monotonically_increasing_id()))
    blocks = lines.groupBy("_part", "_block").agg(F.count("*").alias("rows"), F.min("_row").alias("first_row"))
    uris = {Path(path).resolve().as_uri(): part for path, part in paths.items()}
    order = {uri: index for index, uri in enumerate(uris)}
    offsets, total, file_totals = [], 0, {}
    for block in sorted(blocks.collect(), key=lambda block: (order.get(block["_part"], len(order)), block["_part"],
                                                             block["_block"])):
        in_file = file_totals.get(block["_part"], 0)
        # A file's first block starts with its header, which is no invoice line.
        header = 1 if in_file == 0 else 0
        offsets.append((block["_part"], block["_block"], block["first_row"], total - header, in_file))
        total += block["rows"] - header
        file_totals[block["_part"]] = in_file + block["rows"]
    offsets_frame = spark.createDataFrame(
        offsets, "_part string, _block bigint, first_row bigint, line_offset bigint, file_offset bigint")
    part_names = F.create_map(*[F.lit(value) for pair in uris.items() for value in pair])
    return (lines.join(F.broadcast(offsets_frame), ["_part", "_block"])
            .withColumn("line_number", F.col("_row") - F.col("first_row") + F.col("line_offset") + 1)
            .withColumn("file_line", F.col("_row") - F.col("first_row") + F.col("file_offset") + 1)
            .where("file_line > 1")
            .withColumn("source_file", F.coalesce(part_names[F.col("_part")], F.col("_part")))
            .select(*rows.columns, "line_number", "file_line", "source_file"))


def split_fields(text, count: int, delim: str):
    """The fields of each line's text (a column), as Spark's CSV reader splits
    them: a struct of _c0 to _c<count - 1> and _corrupt_record, which holds
    the text of a line that has fewer or more fields."""
    from pyspark.sql import functions as F

    return F.from_csv(text, fields_schema(count), {"sep": delim, "quote": '"', "escape": '"', "mode": "PERMISSIVE",
                                     "columnNameOfCorruptRecord": "_corrupt_record"})


def fields_schema(count: int) -> str:
    """The schema that Spark's CSV reader splits a line of count fields into."""
    return ", ".join(f"_c{index} string" for index in range(count)) + ", _corrupt_record string"


def fields_in(text: str, delim: str) -> int:
    """How many fields a line (or a record across lines) holds, split as a CSV reader splits it."""
    return len(next(csv.reader(io.StringIO(text), delimiter=delim, quotechar='"')))


def named_cells(rows, cells: list, columns: list[str], crs_inside: bool):
    """The cells named as the header (columns), with the line's numbers and
    part; CRs inside lines put back (loader.put_back_crs)."""
    from pyspark.sql import functions as F

    if crs_inside:
        cells = [F.translate(cell, loader.CR_STAND_IN.decode(), "\r") for cell in cells]
    return rows.select(*[cell.alias(column) for cell, column in zip(cells, columns, strict=True)],
                       "line_number", "file_line", "source_file")


def refuse_c1_bytes(paths: dict[str, str], file: str, invalid_line) -> None:
    """loader.refuse_c1_bytes over every part."""
    if any(loader.has_c1_bytes(loader.chunks_of(part)) for part in paths.values()):
        raise loader.c1_bytes_error(file, invalid_line)


def text_columns(lines, columns: list[str], delim: str, encoding: str, crs_inside: bool):
    """Every cell as text in encoding (named_cells)."""
    from pyspark.sql import functions as F

    text = F.col("value") if encoding == "utf-8" else F.decode(F.col("value").cast("binary"), "ISO-8859-1")
    fields = split_fields(text, len(columns), delim)
    return named_cells(lines, [fields[f"_c{index}"] for index in range(len(columns))], columns, crs_inside)


def read_text(spark, parts: list[str], settings: loader.LoadSettings, file: str, stack: contextlib.ExitStack):
    """Every cell as text (text_columns), after the checks of
    loader.read_csv_text; returns it with the header's columns and the encoding."""
    head = loader.read_head_text(parts[0])
    delim = loader.choose_delimiter(loader.first_line(head).decode("latin-1"))
    encodings = loader.ENCODINGS if settings.encoding == "auto" else (settings.encoding,)
    for part in parts:
        if os.path.getsize(part) == 0:
            raise loader.empty_file_error(part)
        loader.refuse_binary(part, loader.read_head(part), loader.format_of(part))
    for part in parts[1:]:
        if any(loader.header_columns(loader.read_head_text(part), delim, encoding)
               != loader.header_columns(head, delim, encoding) for encoding in encodings):
            raise loader.LoadError(f"Raw file {part} does not start with the header line of {parts[0]}: every "
                                   "part of a split file starts with the header.")
    paths, crs_inside = readable_parts(parts, stack)
    lines = numbered_lines(spark, paths)
    try:
        encoding, invalid_line = check_lines(lines, loader.header_columns(head, delim, encodings[0]), delim,
                                             settings.encoding, paths, file)
    except QuoteAcrossLines:
        return read_records(spark, paths, lines, head, delim, settings.encoding, file, crs_inside)
    columns = loader.header_columns(head, delim, encoding)
    text = text_columns(lines, columns, delim, encoding, crs_inside)
    if invalid_line is not None:
        refuse_mixed_encoding(text, columns, file, invalid_line)
    return text, columns, encoding


def read_records(spark, paths: dict[str, str], lines, head: bytes, delim: str, configured: str, file: str,
                 crs_inside: bool):
    """read_text of a file with a quoted value across lines (QuoteAcrossLines):
    Spark's CSV reader reads its records whole (multiLine), a file by one task,
    and numbered_lines numbers them, a record one line as on DuckDB. Checked as
    DuckDB checks such a file: a quote never closed, a record of another field
    count; ISO-8859-1 when a line is not UTF-8 (raw_encoding auto), with the
    checks of that encoding."""
    from pyspark.sql import functions as F

    print(f"{file} holds a quoted value that goes on in the next line (a line with an odd number of quotes), "
          "which Spark reads only from the file's start: one task reads each file.", file=sys.stderr)
    not_utf8 = (lines.where(~F.is_valid_utf8("value")).orderBy("line_number").first()
                if configured == "auto" else None)
    encoding = "latin-1" if configured == "latin-1" or not_utf8 else "utf-8"
    columns = loader.header_columns(head, delim, encoding)
    records = numbered_lines(spark, paths, spark.read.csv(
        list(paths), schema=fields_schema(len(columns)), sep=delim, quote='"', escape='"', multiLine=True, mode="PERMISSIVE",
        columnNameOfCorruptRecord="_corrupt_record", encoding="UTF-8" if encoding == "utf-8" else "ISO-8859-1"))
    blanks = blank_lines(spark, paths)
    refuse_unclosed_quote(lines, records, file, encoding, blanks)
    bad = records.where("_corrupt_record is not null").orderBy("line_number").limit(3).collect()
    if bad:
        raise loader.unreadable_error(file, encoding, [loader.unreadable_line(
            reading_line(row, file, blanks),
            loader.field_count_problem(len(columns), fields_in(row["_corrupt_record"], delim)),
            row["_corrupt_record"]) for row in bad])
    text = named_cells(records, [F.col(f"_c{index}") for index in range(len(columns))], columns, crs_inside)
    if not_utf8:
        invalid_line = reading_line(not_utf8, file, blanks)
        refuse_c1_bytes(paths, file, invalid_line)
        refuse_mixed_encoding(text, columns, file, invalid_line)
    return text, columns, encoding


def refuse_unclosed_quote(lines, records, file: str, encoding: str, blanks: dict[str, list[int]]) -> None:
    """DuckDB's error for a quote never closed. Lines of an odd number of
    quotes pair up, one opening a value across lines and the next closing it:
    an odd count of them leaves the last one open, and its value runs to the
    end of its file, in the last record (whose text DuckDB's reject shows).
    DuckDB names it by the records and the blank lines before it."""
    from pyspark.sql import functions as F

    odd = lines.where(odd_quotes()).agg(F.count("*").alias("count"), F.max_by(
        F.struct("file_line", "source_file"), "line_number").alias("last")).first()
    if odd["count"] % 2 == 0:
        return
    part = odd["last"]["source_file"]
    last = records.where(F.col("source_file") == part).orderBy(F.desc("line_number")).first()
    opened = with_blank_lines(odd["last"], blanks)
    line = last["file_line"] + sum(blank < opened for blank in blanks.get(part, []))
    raise loader.unreadable_error(file, encoding, [loader.unreadable_line(
        line_name({"file_line": line, "source_file": part}, file), loader.UNCLOSED_QUOTE, last["_corrupt_record"])])


def line_name(row, file: str):
    """A line as the messages name it: a part of a split file beside its line."""
    return row["file_line"] if row["source_file"] == file else f"{row['file_line']} of {row['source_file']}"


def blank_lines(spark, paths: dict[str, str]) -> dict[str, list[int]]:
    """Per part, its blank lines (the header is line 1), in order."""
    blanks: dict[str, list[int]] = {}
    for row in (numbered_lines(spark, paths, spark.read.text(list(paths))).where("value = ''")
                .orderBy("line_number").select("source_file", "file_line").collect()):
        blanks.setdefault(row["source_file"], []).append(row["file_line"])
    return blanks


def with_blank_lines(row, blanks: dict[str, list[int]]) -> int:
    """A line's file_line (a row's place, as the errors of values name it)
    counting the blank lines before it, as DuckDB's rejects do."""
    line = row["file_line"]
    for blank in blanks.get(row["source_file"], []):
        line += blank <= line
    return line


def reading_line(row, file: str, blanks: dict[str, list[int]]):
    """A line as an error of the reading names it (line_name, with_blank_lines)."""
    return line_name({"file_line": with_blank_lines(row, blanks), "source_file": row["source_file"]}, file)


def as_duckdb_shows(line: bytes) -> str:
    """A line as DuckDB's reject shows it (Utf8Proc::MakeValid): each byte of
    a broken UTF-8 sequence, up to the byte that breaks it, as '?'."""
    shown = bytearray(line)
    i = 0
    while i < len(line):
        lead = line[i]
        extra = 1 if lead & 0xE0 == 0xC0 else 2 if lead & 0xF0 == 0xE0 else 3 if lead & 0xF8 == 0xF0 else 0
        if extra == 0 or len(line) - i < extra + 1:
            # ASCII; a byte that starts no sequence, or one cut short by the line's end: that byte alone.
            if lead >= 0x80:
                shown[i] = ord("?")
            i += 1
            continue
        end, code = i, lead & (0x3F >> extra)
        while end < i + extra and line[end + 1] & 0xC0 == 0x80:
            end += 1
            code = code << 6 | line[end] & 0x3F
        broken = end < i + extra
        # Too long a sequence for its character (overlong), past U+10FFFF, or a UTF-16 surrogate.
        overlong = code < (0x80, 0x800, 0x10000)[extra - 1]
        if broken or overlong or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            end += broken  # the byte that breaks the sequence goes too
            shown[i:end + 1] = b"?" * (end + 1 - i)
        i = end + 1
    return shown.decode("utf-8")


def shown_text(line: bytes, encoding: str) -> str:
    return as_duckdb_shows(line) if encoding == "utf-8" else line.decode("latin-1")


def first_bad_lines(lines, field_count: int, delim: str, utf8: bool) -> list:
    """The first three lines of MAX_LINE_SIZE bytes or more, not UTF-8 (if
    utf8), not of field_count fields or with an odd number of quotes
    (unbalanced: a quoted value goes on in the next line, or is never
    closed): a long line first (DuckDB's loader names it before any other),
    then in the file's order."""
    from pyspark.sql import functions as F

    size = F.octet_length("value")
    raw = F.col("value").cast("binary")
    return (lines.select(
        "line_number", "file_line", "source_file", size.alias("size"),
        (~F.is_valid_utf8("value") if utf8 else F.lit(False)).alias("not_utf8"),
        split_fields(F.col("value"), field_count, delim)["_corrupt_record"].isNotNull().alias("split_badly"),
        odd_quotes().alias("unbalanced"),
        # Of a long line, the start that DuckDB's reject keeps.
        F.when(size >= loader.MAX_LINE_SIZE, F.substring(raw, 1, loader.REJECT_BYTES)).otherwise(raw).alias("raw"))
        .where(f"size >= {loader.MAX_LINE_SIZE} or not_utf8 or split_badly or unbalanced")
        .orderBy(F.col("size") < loader.MAX_LINE_SIZE, "line_number").limit(3).collect())


def odd_quotes():
    """Whether a line (value) holds an odd number of quotes."""
    from pyspark.sql import functions as F

    return (F.size(F.split("value", '"', -1)) - 1) % 2 == 1


def line_problems(rows: list, encoding: str, field_count: int, delim: str, file: str,
                  blanks: dict[str, list[int]]) -> list[tuple]:
    """The first three problems of the rows (first_bad_lines), each (line, what is wrong, its text), in the words
    of the DuckDB loader's details (loader.first_rejects)."""
    problems = []
    for row in rows:
        line, raw = reading_line(row, file, blanks), bytes(row["raw"])
        text = shown_text(raw, encoding)
        if row["not_utf8"]:
            problems.append((line, loader.NOT_UTF8, text))
        if row["split_badly"]:
            # Delimiters and quotes are ASCII: read as ISO-8859-1, any line splits as in UTF-8.
            found = fields_in(raw.decode("latin-1"), delim)
            problems.append((line, loader.field_count_problem(field_count, found) if found != field_count else
                             f"Spark's CSV reader cannot split it into {field_count} fields", text))
    return problems[:3]


class QuoteAcrossLines(Exception):
    """A line with an odd number of quotes: the file is for read_records to read."""


def check_lines(lines, columns: list[str], delim: str, configured: str, paths: dict[str, str], file: str) -> tuple:
    """The checks of loader.read_csv_text, in its order: the first line of
    MAX_LINE_SIZE bytes or more; then the first three lines that cannot be
    read as UTF-8 (not UTF-8, or not of the header's field count). If those
    are only lines that are not UTF-8, the file is ISO-8859-1, unless it holds
    C1 bytes (loader.refuse_c1_bytes), and is checked for field counts again.
    The setting raw_encoding (configured) forces one encoding. Returns the
    encoding and the first line that is not UTF-8 (None for a UTF-8 file).
    Raises QuoteAcrossLines where a line among those has an odd number of quotes."""
    encoding, field_count = ("utf-8" if configured in ("auto", "utf-8") else "latin-1"), len(columns)
    bad = first_bad_lines(lines, field_count, delim, utf8=encoding == "utf-8")
    # Blank lines are counted only for a bad file's messages, which a second reading of its lines finds.
    blanks = blank_lines(lines.sparkSession, paths) if bad else {}
    if bad and bad[0]["size"] >= loader.MAX_LINE_SIZE:
        head = shown_text(bytes(bad[0]["raw"]), encoding)[:loader.LONG_LINE_HEAD]
        raise loader.long_line_error(file, reading_line(bad[0], file, blanks), columns, delim, bad[0]["size"], head)
    if any(row["unbalanced"] for row in bad):
        raise QuoteAcrossLines()
    problems = line_problems(bad, encoding, field_count, delim, file, blanks)
    invalid_line = None
    if configured == "auto" and problems and all(problem == loader.NOT_UTF8 for _, problem, _ in problems):
        invalid_line = problems[0][0]
        refuse_c1_bytes(paths, file, invalid_line)
        encoding = "latin-1"
        # Fewer than three bad lines are all there are.
        bad = [row for row in bad if row["split_badly"] or row["unbalanced"]] if len(bad) < 3 else first_bad_lines(
            lines, field_count, delim, utf8=False)
        if any(row["unbalanced"] for row in bad):
            raise QuoteAcrossLines()
        problems = line_problems(bad, encoding, field_count, delim, file, blanks)
    if problems:
        raise loader.unreadable_error(file, encoding, [loader.unreadable_line(*problem) for problem in problems])
    return encoding, invalid_line


def refuse_mixed_encoding(text, columns: list[str], file: str, invalid_line) -> None:
    """loader.refuse_mixed_encoding: the first line of a file read as ISO-8859-1 that holds a UTF-8 character."""
    from pyspark.sql import functions as F

    cells = [text[index] for index in range(len(columns))]
    utf8 = (text.where(functools.reduce(operator.or_, [cell.rlike(loader.UTF8_AS_LATIN1) for cell in cells]))
            .orderBy("line_number")
            .select("file_line", "source_file",
                    *[F.regexp_extract(cell, loader.UTF8_AS_LATIN1_EXCERPT, 0) for cell in cells]).first())
    if utf8:
        raise loader.mixed_encoding_error(file, invalid_line, line_name(utf8, file), columns, list(utf8[2:]))


def check_text(text, columns: list[str], settings: loader.LoadSettings, file: str) -> str:
    """The checks of loader.check_columns and loader.check_values; returns the date format."""
    from pyspark.sql import functions as F

    missing = [column for column in loader.COLUMNS if column not in columns]
    if missing:
        raise loader.missing_columns_error(file, missing, columns)
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
                       F.expr(f"min_by(named_struct('file_line', file_line, 'source_file', source_file, 'value', "
                              f"coalesce(`{column}`, '')), line_number) filter (where {condition})")]
    found = text.agg(*aggregates).first()
    bad = []
    for index, (column, problem) in enumerate(problems):
        count, where = found[2 + 2 * index], found[3 + 2 * index]
        if where is None:
            bad.append((column, problem, count, None, None))
            continue
        bad.append((column, problem, count, line_name(where, file), where["value"]))
    loader.refuse_bad_values(file, found[0], found[1], bad)
    return date_format


def put_back_replaced(spark) -> None:
    """A load killed between the renames of swap_in left the last load aside: it gets its name back."""
    if spark.catalog.tableExists(REPLACED_TABLE) and not spark.catalog.tableExists(LINES_TABLE):
        spark.sql(f"alter table {REPLACED_TABLE} rename to {LINES_TABLE}")


def swap_in(spark) -> None:
    """LOADING_TABLE replaces LINES_TABLE. The catalog has no transactions: the
    old table is renamed aside, the new one takes its name, then the old one is
    dropped. A failed rename puts the old table back; a killed load leaves it
    aside, and the next load puts it back (put_back_replaced)."""
    spark.sql(f"drop table if exists {REPLACED_TABLE}")
    replacing = spark.catalog.tableExists(LINES_TABLE)
    if replacing:
        spark.sql(f"alter table {LINES_TABLE} rename to {REPLACED_TABLE}")
    try:
        spark.sql(f"alter table {LOADING_TABLE} rename to {LINES_TABLE}")
    except Exception:
        if replacing:
            spark.sql(f"alter table {REPLACED_TABLE} rename to {LINES_TABLE}")
        raise
    spark.sql(f"drop table if exists {REPLACED_TABLE}")


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
    put_back_replaced(spark)
    spark.sql(f"create table if not exists {RAW_SCHEMA}.{loader.LOADS_TABLE} (source_file string, "
              "file_size bigint, file_modified_at string, date_format string, encoding string, lines bigint, "
              "loaded_at timestamp) using parquet")
    last = spark.table(f"{RAW_SCHEMA}.{loader.LOADS_TABLE}").orderBy("loaded_at", ascending=False).first()
    if (last and not settings.reload and (last["source_file"], last["file_size"], last["file_modified_at"])
            == (file, size, modified) and spark.catalog.tableExists(LINES_TABLE)):
        return f"Raw file {file} unchanged since its last load: not read again."
    if any(part.lower().endswith(".gz") for part in parts):
        print(f"{file} is gzip-compressed, which Spark cannot split: one task reads it. Decompress it (or split "
              "it into CSV parts) to read it in parallel.", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        text, columns, encoding = read_text(spark, parts, settings, file, stack)
        date_format = check_text(text, columns, settings, file)
        pattern = java_pattern(date_format, file)
        typed = text.selectExpr(
            "line_number", "InvoiceNo as invoice_no", "StockCode as stock_code", "Description as description",
            "cast(cast(Quantity as decimal(18, 3)) as int) as quantity",
            f"to_timestamp(InvoiceDate, '{pattern}') as invoice_date",
            "cast(UnitPrice as decimal(18, 3)) as unit_price",
            "cast(cast(CustomerID as decimal(18, 3)) as int) as customer_id", "Country as country", "source_file")
        # Every check passed: written aside, then swapped in, so that a failed
        # write leaves the previous load whole.
        spark.sql(f"drop table if exists {LOADING_TABLE}")
        typed.write.format("parquet").saveAsTable(LOADING_TABLE)
    swap_in(spark)
    lines = spark.table(LINES_TABLE).count()
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
