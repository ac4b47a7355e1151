"""Extract and load: the raw Online Retail file into the source table raw.invoice_lines.

The on-run-start macro load_online_retail hands its settings to the dbt-duckdb
plugin (insiders/duckdb_plugin.py), which calls load_raw_file. Every line of
the file becomes one row, typed; the load is logged in raw.invoice_line_loads.
Anything the loader cannot read stops the build with a LoadError that names the
file and, where there is one, the line and the column: no line is dropped
silently. A file that has not changed since the last load (same path, size and
modification time) is not read again.

DuckDB does the reading (its CSV reader is parallel; Python only looks at a
file's first bytes and, for its line ends, scans it once). SQL is built here
only from constants; every value that comes from the file or the settings is
a query parameter.

A new input format is one entry in FORMATS (the table of formats, after the
readers it names).
"""

import contextlib
import csv
import mmap
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import duckdb
from duckdb import DuckDBPyConnection

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")
LOADS_TABLE = "invoice_line_loads"
# Longer lines are rejected by DuckDB's CSV reader; the loader then names them.
MAX_LINE_SIZE = 2_000_000
# How much of a file's start is checked for binary content.
HEAD_BYTES = 4096
# How much is read to find the header line (more for a compressed start).
HEAD_BYTES_READ = 1 << 16
CHUNK_BYTES = 1 << 22
EXCEL_SERIAL = "excel_serial"
ENCODINGS = ("utf-8", "latin-1")
GZIP_SIGNATURE = b"\x1f\x8b"
# A CR inside a line stands in the CSV reader's copy as this byte (the reader
# would end the line there) and is put back after reading.
CR_STAND_IN = b"\x1e"
CR_LF = "\r\n"
# DuckDB's reject of a long line keeps its first REJECT_BYTES bytes, in a CRLF
# file the LF that ended the line before among them: the error looks at the
# line's first LONG_LINE_HEAD, which every reject holds.
REJECT_BYTES = 10_000
LONG_LINE_HEAD = REJECT_BYTES - 1
# A UTF-8 character read as ISO-8859-1 (é as Ã©): a lead byte, then a
# continuation byte. Written alike for RE2 (DuckDB) and Java (Spark); the
# excerpt adds 30 characters before it and 10 after.
UTF8_AS_LATIN1 = "[\\x{00C2}-\\x{00F4}][\\x{0080}-\\x{00BF}]"
UTF8_AS_LATIN1_EXCERPT = "(?s).{0,30}" + UTF8_AS_LATIN1 + ".{0,10}"
# DuckDB's words for a line that is not UTF-8 (the Spark loader repeats them).
NOT_UTF8 = "Invalid unicode (byte sequence mismatch) detected. This file is not utf-8 encoded."
UNCLOSED_QUOTE = "Value with unterminated quote found."


class LoadError(Exception):
    """A raw file or a setting the loader refuses; the message is for the user."""


# The errors that every engine's loader raises in the same words.


def no_file_error(configured: str) -> LoadError:
    return LoadError(
        f"No raw file at '{configured}'. Set INSIDERS_RAW_PATH (or the var raw_path) to the Online Retail "
        "file (.csv, .csv.gz or .xlsx), or run `make data` to download UCI's copy into data/raw/.")


def empty_file_error(file: str) -> LoadError:
    return LoadError(f"Raw file {file} is empty (0 bytes).")


def missing_columns_error(file: str, missing: list[str], found: list[str]) -> LoadError:
    return LoadError(f"Raw file {file} lacks column(s) {', '.join(missing)}. Found: {', '.join(found)}. "
                     f"Expected: {', '.join(COLUMNS)}.")


def no_lines_error(file: str) -> LoadError:
    return LoadError(f"Raw file {file} has a header but no invoice lines.")


def unreadable_error(file: str, encoding: str, details: list[str]) -> LoadError:
    """details: up to three unreadable_line texts."""
    return LoadError(f"Raw file {file} cannot be read as {encoding} CSV: {'; '.join(details)}")


def unreadable_line(line, problem: str, text: str) -> str:
    """What is wrong with a line (DuckDB's words) and its start, without the
    line ends that DuckDB's reject sometimes keeps."""
    return f"line {line}: {problem} [{truncate(text.strip(CR_LF), 80)}]"


def field_count_problem(expected: int, found: int) -> str:
    return f"Expected Number of Columns: {expected} Found: {found}"


def long_line_error(file: str, line, columns: list[str], delim: str, size: int | None, head: str) -> LoadError:
    """A line of MAX_LINE_SIZE bytes or more (size, when known), named with the
    column in which it runs long, found from head, its first LONG_LINE_HEAD characters."""
    index, start = long_line_column(head, delim)
    column = columns[index] if index < len(columns) else f"field {index + 1} (the header has {len(columns)})"
    value = head[start:]
    return LoadError(
        f"Raw file {file}, line {line}, column {column}: the line is "
        + (f"{size} bytes long" if size is not None else "too long")
        + f", more than the maximum line size of {MAX_LINE_SIZE} bytes that the CSV reader accepts; column "
        f"{column} alone holds more than {len(value)} of them ('{truncate(value, 40)}')."
        + (" The value starts with a quote: is its closing quote missing?" if value.startswith('"') else "")
        + " An Online Retail line is about 100 bytes: shorten that value.")


def c1_bytes_error(file: str, invalid_line) -> LoadError:
    return LoadError(
        f"Raw file {file} is not UTF-8 (line {invalid_line} is not) and not ISO-8859-1 either: it holds bytes "
        "0x80 to 0x9F, which are Windows-1252 characters (such as € or curly quotes) or parts of UTF-8 "
        "characters in a file that mixes encodings. Save it as UTF-8.")


def mixed_encoding_error(file: str, invalid_line, line, columns: list[str], excerpts: list[str | None]) -> LoadError:
    """excerpts: per column of the line, what UTF8_AS_LATIN1_EXCERPT extracts
    from its value (empty or None: no match); the first match is named."""
    column, excerpt = next((column, excerpt) for column, excerpt in zip(columns, excerpts, strict=True) if excerpt)
    return LoadError(
        f"Raw file {file} mixes encodings: line {invalid_line} is not UTF-8, but line {line} holds UTF-8 "
        f"characters (column {column}, read as ISO-8859-1: '{excerpt}'). Save the whole file in one encoding "
        "(UTF-8), or set the var raw_encoding.")


def detected_date_format(file: str, line: int, value: str) -> str:
    """The format of the file's first InvoiceDate value (date_format_of), or the error that it has none."""
    date_format = date_format_of(value, file)
    if date_format is None:
        raise LoadError(f"Raw file {file}, column InvoiceDate, line {line}: '{value}' has no known date "
                        "format. Set the var raw_date_format (a strptime format such as '%d/%m/%Y %H:%M').")
    return date_format


# --- Formats -------------------------------------------------------------------


@dataclass(frozen=True)
class DateShape:
    pattern: str  # what the first InvoiceDate of the file looks like (a whole match)
    date_format: str  # how it is parsed: a strptime format, or EXCEL_SERIAL


@dataclass(frozen=True)
class RawFormat:
    name: str
    # A file is recognised by its name's end (lower case); a further `.gz`
    # means gzip, which DuckDB reads as it goes.
    suffixes: tuple[str, ...]
    # How its text is read into the temp table online_retail_text, every cell
    # as text; returns the encoding read (or the format's name).
    read_text: Callable
    # The bytes a file must start with, and what the error says the file is
    # not; None: a text file (no NUL or other control bytes in its first HEAD_BYTES).
    signature: tuple[bytes, str] | None
    date_shapes: tuple[DateShape, ...]


# --- Binary files --------------------------------------------------------------


def read_head(file: str, size: int = HEAD_BYTES_READ) -> bytes:
    with open(file, "rb") as handle:
        return handle.read(size)


def gunzip(data: bytes) -> bytes:
    """What gzip-compressed data holds, as much as there is of a broken or cut stream."""
    return b"".join(inflate([data]))


def inflate(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Decompresses a gzip stream (of one or more members) piece by piece; a
    broken stream ends where it breaks (DuckDB's reading then names the line)."""
    decompressor = zlib.decompressobj(wbits=31)
    for piece in pieces:
        while piece:
            try:
                text = decompressor.decompress(piece)
            except zlib.error:
                return
            if text:
                yield text
            piece = decompressor.unused_data if decompressor.eof else b""
            if decompressor.eof:
                decompressor = zlib.decompressobj(wbits=31)


def refuse_binary(file: str, head: bytes, raw_format: RawFormat) -> None:
    """Refuses what no reading mends, before DuckDB's vaguer errors: a file that
    does not start like its format (an .xlsx is a zip archive, a .gz is gzip),
    and in a text file NUL bytes (UTF-16, or binary) or other control bytes."""
    if raw_format.signature is not None:
        signature, what = raw_format.signature
        if not head.startswith(signature):
            raise LoadError(f"Raw file {file} is not {what}.")
        return
    if file.lower().endswith(".gz"):
        if not head.startswith(GZIP_SIGNATURE):
            raise LoadError(f"Raw file {file} is not gzip-compressed although its name ends in .gz. Rename it "
                            "to .csv, or compress it with gzip.")
        head = gunzip(head)
    head = head[:HEAD_BYTES]
    if b"\x00" in head:
        raise LoadError(f"Raw file {file} holds NUL bytes in its first 4 KiB: it is UTF-16 or not a text file. "
                        "Save it as a UTF-8 or ISO-8859-1 CSV.")
    control = re.search(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]", head)
    if control:
        raise LoadError(f"Raw file {file} holds control bytes (byte 0x{control.group()[0]:02X} at offset "
                        f"{control.start()}) in its first 4 KiB: it is not a text file. Save it as a UTF-8 or "
                        "ISO-8859-1 CSV.")


# --- Line ends -----------------------------------------------------------------


@dataclass(frozen=True)
class LineEnds:
    """How a file's lines end: 'lf', 'crlf' (every line), 'cr' (old Mac files:
    its first line ends with a CR alone) or 'mixed' (LF lines and CRLF lines,
    or a CR inside a line)."""

    kind: str
    cr_inside_lines: bool = False


def chunks_of(file: str, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The file's bytes, decompressed when its name ends in .gz, in pieces."""
    with open(file, "rb") as handle:
        pieces = iter(lambda: handle.read(size), b"")
        yield from inflate(pieces) if file.lower().endswith(".gz") else pieces


def has_cr(file: str) -> bool:
    """Whether the file holds a CR anywhere: a plain file is searched in place."""
    if file.lower().endswith(".gz") or os.path.getsize(file) == 0:
        return any(b"\r" in chunk for chunk in chunks_of(file))
    with open(file, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as content:
        return content.find(b"\r") >= 0


def line_ends(chunks: Iterable[bytes]) -> LineEnds:
    """How the lines of a file end, from its chunks: CRs, LFs and CRLFs counted in one pass."""
    cr = lf = crlf = 0
    first_line_cr = False
    previous = b""
    for chunk in chunks:
        if not previous:
            first_end = re.search(rb"\r\n?|\n", chunk)
            first_line_cr = first_end is not None and first_end.group() == b"\r" and first_end.end() < len(chunk)
        cr += chunk.count(b"\r")
        lf += chunk.count(b"\n")
        crlf += chunk.count(b"\r\n") + (previous == b"\r" and chunk.startswith(b"\n"))
        previous = chunk[-1:]
    if cr == 0:
        return LineEnds("lf")
    if lf == 0 or first_line_cr:
        return LineEnds("cr")
    # A CR at the very end of the file ends its last line.
    cr_inside_lines = cr - crlf - (previous == b"\r") > 0
    if not cr_inside_lines and crlf == lf:
        return LineEnds("crlf")
    return LineEnds("mixed", cr_inside_lines)


def lf_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The file with every line ending in LF: CRLF becomes LF, a CR inside a
    line becomes CR_STAND_IN (DuckDB would end the line there), and a CR at the
    very end ends the last line."""
    held = b""
    for chunk in chunks:
        chunk = held + chunk
        held = b""
        if chunk.endswith(b"\r"):
            chunk, held = chunk[:-1], b"\r"
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", CR_STAND_IN)
    if held:
        yield b"\n"


@contextlib.contextmanager
def csv_to_read(file: str, ends: LineEnds) -> Iterator[str]:
    """The file DuckDB reads: the file itself, or for mixed line ends a
    temporary copy with LF line ends (as many lines, in the same order)."""
    if ends.kind != "mixed":
        yield file
        return
    if ends.cr_inside_lines and any(CR_STAND_IN in chunk for chunk in chunks_of(file)):
        raise LoadError(f"Raw file {file} holds CRs inside its lines and the control byte 0x1E, which the "
                        "loader uses to read such CRs: it is not a text file, or not one the loader can read. "
                        "Save it as a UTF-8 CSV with LF or CRLF line ends.")
    with tempfile.TemporaryDirectory(prefix="insiders-raw-") as folder:
        copy = os.path.join(folder, "lf_lines.csv")
        with open(copy, "wb") as handle:
            for chunk in lf_lines(chunks_of(file)):
                handle.write(chunk)
        yield copy


# --- Reading the text --------------------------------------------------------


def choose_delimiter(first_line: str) -> str:
    """The one of , ; tab | that the header holds most often (a comma on a tie)."""
    best = ","
    for delim in (";", "\t", "|"):
        if first_line.count(delim) > first_line.count(best):
            best = delim
    return best


def first_line(head: bytes) -> bytes:
    """The first line of a file's start, without its line end and byte-order mark."""
    line = re.split(rb"\r\n|\n|\r", head, maxsplit=1)[0]
    return line.removeprefix(b"\xef\xbb\xbf")


def header_names(fields: list[str]) -> list[str]:
    """The header's fields named as DuckDB's sniffer names columns: trimmed (a
    byte-order mark too), 'column<i>' for an empty field, '_<n>' added to a
    name already taken (whatever its case)."""
    names: list[str] = []
    taken: set[str] = set()
    for index, field in enumerate(fields):
        name = field.replace("\ufeff", "").replace("\u00ef\u00bb\u00bf", "").strip() or f"column{index}"
        unique = name
        for n in range(1, len(fields) + 1):
            if unique.lower() in taken:
                unique = f"{name}_{n}"
        names.append(unique)
        taken.add(unique.lower())
    return names


def header_columns(head: bytes, delim: str, encoding: str) -> list[str]:
    line = first_line(head).decode(encoding, errors="replace")
    return header_names(next(csv.reader([line], delimiter=delim, quotechar='"'), []))


def read_head_text(file: str) -> bytes:
    """The first bytes of the file's text (decompressed for .gz)."""
    head = read_head(file)
    return gunzip(head) if file.lower().endswith(".gz") else head


def read_csv_text(con: DuckDBPyConnection, file: str, settings: "LoadSettings") -> str:
    """Reads every cell as text into the temp table online_retail_text. A CSV
    is read as UTF-8, or as ISO-8859-1 when it is not valid UTF-8 and holds no
    UTF-8 character either (setting raw_encoding forces one); any line DuckDB
    cannot split stops the load with its number.

    The dialect is given, not sniffed: DuckDB's sniffer gives up with an error
    that names no line when its sample holds a line longer than max_line_size
    or mixes line ends. Lines end with LF, CRLF, or in old Mac files CR; a file
    that mixes them, or holds a CR inside a line, is read from a copy with LF
    line ends (csv_to_read), so that no line and no part of a value is lost."""
    head = read_head_text(file)
    delim = choose_delimiter(first_line(head).decode("latin-1"))
    ends = line_ends(chunks_of(file)) if has_cr(file) else LineEnds("lf")
    with csv_to_read(file, ends) as path:
        encodings = ENCODINGS if settings.encoding == "auto" else (settings.encoding,)
        invalid_line = None
        for attempt, encoding in enumerate(encodings):
            columns = header_columns(head, delim, encoding)
            drop_rejects(con)
            try:
                con.execute("create or replace temp table online_retail_text as select * from "
                            + csv_reader(ends.kind in ("lf", "mixed")),
                            reader_parameters(path, columns, delim, encoding))
            except duckdb.InvalidInputException as error:
                # DuckDB 1.4 keeps a long line's first 10000 bytes as its reject, and
                # fails to store one cut inside a UTF-8 character: the line is found here.
                if "segment statistics" in str(error):
                    refuse_long_line_of(path, b"\r" if ends.kind == "cr" else b"\n", file, columns, delim, encoding)
                raise
            refuse_long_line(con, file, columns, delim)
            rejects = first_rejects(con)
            if not rejects:
                if ends.cr_inside_lines:
                    put_back_crs(con, columns)
                if invalid_line is not None:
                    refuse_mixed_encoding(con, file, invalid_line, columns)
                return encoding
            only_encoding = {reject[1] for reject in rejects} == {"INVALID ENCODING"}
            if only_encoding and attempt < len(encodings) - 1:
                invalid_line = rejects[0][0]
                refuse_c1_bytes(file, invalid_line)
                continue
            raise unreadable_error(file, encoding, [
                unreadable_line(line, message if found is None else field_count_problem(len(columns), found), text)
                for line, _, found, message, text in rejects])
    raise AssertionError("unreachable: the last encoding returns or raises")


def csv_reader(lf_lines: bool) -> str:
    """DuckDB's reading of a CSV, every cell as text (reader_parameters); lines
    that it cannot split go to the temp table online_retail_rejects."""
    new_line = ", new_line = '\\n'" if lf_lines else ""
    return ("read_csv($file, auto_detect = false, header = true, columns = $columns, delim = $delim, quote = '\"', "
            f"escape = '\"'{new_line}, max_line_size = $max_line_size, encoding = $encoding, store_rejects = true, "
            "rejects_table = 'online_retail_rejects', rejects_scan = 'online_retail_scans')")


def first_rejects(con: DuckDBPyConnection) -> list[tuple]:
    """The first three problems of the reading, each (line, error type, fields
    found, DuckDB's message, the line's text), one per line and type: DuckDB
    rejects a line with missing or extra fields once per field, the count
    going up, so the line's own count is the least (missing) or the most (extra)."""
    return con.execute(
        "select line, error_type, case error_type when 'MISSING COLUMNS' then min(found) "
        "when 'TOO MANY COLUMNS' then max(found) end, arg_min(error_message, position), arg_min(csv_line, position) "
        "from (select line, cast(error_type as varchar) as error_type, error_message, cast(csv_line as varchar) "
        "as csv_line, coalesce(byte_position, 0) as position, "
        "try_cast(regexp_extract(error_message, 'Found: ?([0-9]+)', 1) as integer) as found "
        "from online_retail_rejects) group by line, error_type order by line, min(position) limit 3").fetchall()


def drop_rejects(con: DuckDBPyConnection) -> None:
    con.execute("drop table if exists online_retail_rejects")
    con.execute("drop table if exists online_retail_scans")


def reader_parameters(file: str, columns: list[str], delim: str, encoding: str) -> dict:
    return {"file": file, "columns": {column: "VARCHAR" for column in columns}, "delim": delim,
            "max_line_size": MAX_LINE_SIZE, "encoding": encoding}


def put_back_crs(con: DuckDBPyConnection, columns: list[str]) -> None:
    stand_in = CR_STAND_IN.decode()
    con.execute("update online_retail_text set " + ", ".join(
        f"{quote_name(column)} = replace({quote_name(column)}, $stand_in, chr(13))" for column in columns),
        {"stand_in": stand_in})


def truncate(text: str, length: int) -> str:
    """Jinja's truncate filter: a text longer than length (+ 5) is cut at a word, with '...'."""
    if len(text) <= length + 5:
        return text
    return text[:length - 3].rsplit(" ", 1)[0] + "..."


def long_line_column(text: str, delim: str) -> tuple[int, int]:
    """The index of the field a line's text ends in, and where that field starts
    (a quote opens or closes a quoted field; a delimiter inside one does not count)."""
    index = start = 0
    quoted = False
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == delim and not quoted:
            index, start = index + 1, position + 1
    return index, start


def refuse_long_line(con: DuckDBPyConnection, file: str, columns: list[str], delim: str) -> None:
    """A line longer than MAX_LINE_SIZE is a rejected line (DuckDB's error names
    the size only): stops the load with its number and the column in which it
    runs long, found from the start of the line that the reject keeps."""
    long = con.execute("select line, error_message, csv_line from online_retail_rejects "
                       "where error_type = 'LINE SIZE OVER MAXIMUM' order by line limit 1").fetchone()
    if long is None:
        return
    line, message, text = long[0], str(long[1]), str(long[2])
    size = re.search("Actual Size: ?([0-9]+)", message)
    # In a CRLF file the reject starts with the LF that ended the line before, and counts it.
    head = text.lstrip(CR_LF)
    size = int(size.group(1)) - (len(text) - len(head)) if size else None
    raise long_line_error(file, int(line), columns, delim, size, head[:LONG_LINE_HEAD])


def line_sizes(path: str, line_end: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Each line of the file (its lines ending in line_end): its number, its
    size in bytes and its first REJECT_BYTES bytes (what DuckDB's reject keeps)."""
    line, size, start = 1, 0, b""
    for chunk in chunks_of(path):
        for index, piece in enumerate(chunk.split(line_end)):
            if index > 0:
                yield line, size, start
                line, size, start = line + 1, 0, b""
            size += len(piece)
            start += piece[:REJECT_BYTES - len(start)]
    yield line, size, start


def refuse_long_line_of(path: str, line_end: bytes, file: str, columns: list[str], delim: str,
                        encoding: str) -> None:
    """refuse_long_line from the file's bytes: the first line of MAX_LINE_SIZE bytes or more."""
    for line, size, start in line_sizes(path, line_end):
        if size >= MAX_LINE_SIZE:
            head = start.decode(encoding, errors="replace")[:LONG_LINE_HEAD]
            raise long_line_error(file, line, columns, delim, size, head)


def has_c1_bytes(chunks: Iterable[bytes]) -> bool:
    return any(re.search(rb"[\x80-\x9f]", chunk) for chunk in chunks)


def refuse_c1_bytes(file: str, invalid_line: int) -> None:
    """Bytes 0x80 to 0x9F are no ISO-8859-1 text (DuckDB refuses them with an
    error that names no file): in a file that is not UTF-8 either, they are
    Windows-1252 punctuation (€, curly quotes, dashes) or pieces of UTF-8
    characters in a file that mixes encodings."""
    if has_c1_bytes(chunks_of(file)):
        raise c1_bytes_error(file, invalid_line)


def refuse_mixed_encoding(con: DuckDBPyConnection, file: str, invalid_line: int, columns: list[str]) -> None:
    """A file read as ISO-8859-1 because some line is not UTF-8 must not hold
    UTF-8 characters elsewhere: read as ISO-8859-1 they would turn into two
    characters each (é into Ã©) without any error. Such a file mixes encodings."""
    excerpts = ", ".join(f"regexp_extract({quote_name(column)}, '{UTF8_AS_LATIN1_EXCERPT}')" for column in columns)
    matches = " or ".join(f"regexp_matches({quote_name(column)}, '{UTF8_AS_LATIN1}')" for column in columns)
    utf8 = con.execute(f"select rowid + 2, {excerpts} from online_retail_text where {matches} "
                       "order by rowid limit 1").fetchone()
    if utf8:
        raise mixed_encoding_error(file, invalid_line, utf8[0], columns, list(utf8[1:]))


def read_xlsx_text(con, file: str, settings: "LoadSettings") -> str:
    con.execute("load excel")
    con.execute("create or replace temp table online_retail_text as "
                "select * from read_xlsx($file, all_varchar = true, header = true)", {"file": file})
    return "xlsx"


# --- The table of formats --------------------------------------------------

CSV_SUFFIXES = (".csv", ".csv.gz")
ISO_DATE = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"

FORMATS = (
    # UCI's data as CSV (the shared copy), UTF-8: 2010-12-01 08:26:00.
    RawFormat("UCI Online Retail CSV", CSV_SUFFIXES, read_csv_text, None,
              (DateShape(ISO_DATE + r":\d{2}", "%Y-%m-%d %H:%M:%S"), DateShape(ISO_DATE, "%Y-%m-%d %H:%M"))),
    # Kaggle's "E-Commerce Data" data.csv, ISO-8859-1: 12/1/2010 8:26.
    RawFormat("E-Commerce Data data.csv", CSV_SUFFIXES, read_csv_text, None,
              (DateShape(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}", "%m/%d/%Y %H:%M"),)),
    # The course's Ecommerce.csv, ISO-8859-1, a trailing empty column: 29-Nov-16 (date only).
    RawFormat("course Ecommerce.csv", CSV_SUFFIXES, read_csv_text, None,
              (DateShape(r"\d{1,2}-[A-Za-z]{3}-\d{2}", "%d-%b-%y"),)),
    # UCI's Online Retail.xlsx: a zip archive; date cells read as Excel's day numbers.
    RawFormat("UCI Online Retail.xlsx", (".xlsx",), read_xlsx_text,
              (b"PK\x03\x04", "an Excel workbook: an .xlsx file is a zip archive, and this one does not start like "
                              "one. Save it again from Excel as .xlsx, or export the sheet as a UTF-8 CSV"),
              (DateShape(r"\d+(\.\d+)?", EXCEL_SERIAL),)),
)
RAW_SUFFIXES = tuple(dict.fromkeys(suffix for raw_format in FORMATS for suffix in raw_format.suffixes))


def is_raw_file_name(name: str) -> bool:
    return name.lower().endswith(RAW_SUFFIXES)


def format_of(file: str) -> RawFormat:
    """The first format whose suffix the name ends with: how the file is read and checked.
    Formats of the same suffix differ only in their dates (date_format_of)."""
    return next(raw_format for raw_format in FORMATS if file.lower().endswith(raw_format.suffixes))


def date_format_of(value: str, file: str) -> str | None:
    """The format of an InvoiceDate value: the shapes of the file's own formats
    first, then any other (an .xlsx whose dates are text, a CSV of day numbers)."""
    own = [raw_format for raw_format in FORMATS if file.lower().endswith(raw_format.suffixes)]
    for raw_format in own + [raw_format for raw_format in FORMATS if raw_format not in own]:
        for shape in raw_format.date_shapes:
            if re.fullmatch(shape.pattern, value):
                return shape.date_format
    return None


# --- Settings ------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSettings:
    raw_path: str  # a file, a glob, or a folder holding one raw file
    encoding: str  # auto, utf-8 or latin-1
    date_format: str  # auto, a strptime format, or excel_serial
    load: bool
    reload: bool


def setting_error(name: str, value, expected: str) -> LoadError:
    """The error of macros/settings.sql, word for word."""
    shown = f"'{value}'" if isinstance(value, str) else value
    return LoadError(f"Setting {name} = {shown} is not valid: {expected}. Nothing was built or published.")


def _text(name: str, value) -> str:
    if not isinstance(value, str) or re.search(r"[\x00-\x1f]", value):
        raise setting_error(name, value, "expected text without control characters")
    return value


def _flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise setting_error(name, value, "expected true or false")
    return value


def settings_from(environment_path: str, config: dict) -> LoadSettings:
    """The loader's settings, each checked, from what the macro passes: the
    environment's INSIDERS_RAW_PATH, and the vars raw_path (which wins),
    raw_encoding, raw_date_format, load_raw and raw_reload."""
    if config.get("raw_path") is not None:
        raw_path = _text("raw_path", config["raw_path"])
    else:
        raw_path = _text("INSIDERS_RAW_PATH", environment_path or "data/raw")
    encoding = config.get("raw_encoding", "auto")
    if encoding not in ("auto", *ENCODINGS):
        raise setting_error("raw_encoding", encoding, "expected one of auto, " + ", ".join(ENCODINGS))
    return LoadSettings(
        raw_path=raw_path,
        encoding=encoding,
        date_format=_text("raw_date_format", config.get("raw_date_format", "auto")),
        load=_flag("load_raw", config.get("load_raw", True)),
        reload=_flag("raw_reload", config.get("raw_reload", False)),
    )


# --- The load ------------------------------------------------------------------


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_raw_file(con: DuckDBPyConnection, environment_path: str, config: dict, schema: str = "raw",
                  table: str = "invoice_lines") -> str:
    """Loads the raw file that the settings (settings_from) name into
    schema.table, on con (a connection of its own: its temp tables go with it).
    Returns what to log; raises LoadError on a bad setting or a bad file."""
    settings = settings_from(environment_path, config)
    if not settings.load:
        return "Raw file not loaded (var load_raw is false)."
    file = find_raw_file(con, settings.raw_path)
    size, modified = con.execute("select size, cast(last_modified as varchar) from read_blob($file)",
                                 {"file": file}).fetchone()
    loads_table = f"{quote_name(schema)}.{LOADS_TABLE}"
    con.execute(f"create schema if not exists {quote_name(schema)}")
    con.execute(f"create table if not exists {loads_table} (source_file varchar, file_size bigint, "
                "file_modified_at varchar, date_format varchar, encoding varchar, lines bigint, loaded_at timestamp)")
    unchanged = con.execute(
        f"select count(*) > 0 from {loads_table} where source_file = $file and file_size = $size "
        f"and file_modified_at = $modified and loaded_at = (select max(loaded_at) from {loads_table}) "
        "and exists (select 1 from information_schema.tables where table_schema = $schema and table_name = $table)",
        {"file": file, "size": size, "modified": modified, "schema": schema, "table": table}).fetchone()[0]
    if unchanged and not settings.reload:
        return f"Raw file {file} unchanged since its last load: not read again."
    if size == 0:
        raise empty_file_error(file)

    raw_format = format_of(file)
    refuse_binary(file, read_head(file), raw_format)
    log = {"file": file, "size": size, "modified": modified}
    # A clean CSV is typed in one pass; anything that pass does not take (a bad
    # line or value, another encoding, CRs) is read again as text below, where
    # the checks name the problem, or find none and load it as the pass would have.
    clean = clean_csv_select(con, file, settings) if raw_format.read_text is read_csv_text else None
    if clean is not None:
        select, parameters, encoding, date_format = clean
        try:
            replace_lines(con, schema, table, select, parameters,
                          {**log, "date_format": date_format, "encoding": encoding}, check=refuse_unclean)
        except (duckdb.Error, NotClean):
            clean = None
    if clean is None:
        encoding = raw_format.read_text(con, file, settings)
        date_format = check_columns(con, file, settings.date_format)
        check_values(con, file, date_format)
        replace_lines(con, schema, table, f"select {typed_columns(date_format)}, $file as source_file from online_retail_text",
                      {"file": file, **date_parameters(date_format)},
                      {**log, "date_format": date_format, "encoding": encoding})
    lines = con.execute(f"select count(*) from {quote_name(schema)}.{quote_name(table)}").fetchone()[0]
    return f"Loaded {lines} lines from {file} ({encoding}, dates as {date_format})."


def replace_lines(con: DuckDBPyConnection, schema: str, table: str, select: str, parameters: dict, log: dict,
                  check: Callable[[DuckDBPyConnection, str], None] = lambda con, typed: None) -> None:
    """Every check passed: the typed lines (select, in the file's order, typed
    in parallel) replace the table schema.table_typed, and check(con, that
    table) looks at them. The view schema.table numbers them: a row's place in the table is
    its line, so the lines are written once (numbering them with row_number()
    would take the whole read to one thread, and a copy with the row's place
    would write them twice). The load is logged in the same transaction, so
    that an error or a killed process leaves the previous load whole, and its log true."""
    lines, typed = f"{quote_name(schema)}.{quote_name(table)}", f"{quote_name(schema)}.{quote_name(table + '_typed')}"
    con.execute("begin transaction")
    try:
        con.execute(f"create or replace table {typed} as {select}", parameters)
        check(con, typed)
        drop_relation(con, schema, table)
        con.execute(f"create view {lines} as select rowid + 1 as line_number, * from {typed}")
        con.execute(f"insert into {quote_name(schema)}.{LOADS_TABLE} select $file, $size, $modified, $date_format, "
                    f"$encoding, count(*), current_timestamp from {typed}", log)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def drop_relation(con: DuckDBPyConnection, schema: str, name: str) -> None:
    """Drops schema.name, a table or a view (DuckDB's DROP must name which)."""
    kind = con.execute("select table_type from information_schema.tables where table_catalog = current_database() "
                       "and table_schema = $schema and table_name = $name", {"schema": schema, "name": name}).fetchone()
    if kind:
        con.execute(f"drop {'view' if kind[0] == 'VIEW' else 'table'} {quote_name(schema)}.{quote_name(name)}")


def find_raw_file(con: DuckDBPyConnection, configured: str) -> str:
    """The file configured names; a folder must hold exactly one raw file (RAW_SUFFIXES)."""
    matches = [row[0] for row in con.execute("select file from glob($p) order by file", {"p": configured}).fetchall()]
    if not matches:
        matches = [row[0] for row in con.execute("select file from glob($p) order by file",
                                                 {"p": configured + "/*"}).fetchall() if is_raw_file_name(row[0])]
    if not matches:
        raise no_file_error(configured)
    if len(matches) > 1:
        raise LoadError(f"More than one raw file at '{configured}': {', '.join(matches)}. Keep one, or point "
                        "INSIDERS_RAW_PATH at the one to load.")
    return matches[0]


# --- Checks of the text --------------------------------------------------------


def check_columns(con: DuckDBPyConnection, file: str, configured_date_format: str) -> str:
    """Checks that the eight columns are there and that there is at least one
    line; returns the format of InvoiceDate, detected from its first value
    unless setting raw_date_format names one."""
    found = [row[0] for row in con.execute("describe online_retail_text").fetchall()]
    missing = [column for column in COLUMNS if column not in found]
    if missing:
        raise missing_columns_error(file, missing, found)
    first = con.execute('select rowid + 2, "InvoiceDate" from online_retail_text '
                        'where "InvoiceDate" is not null order by rowid limit 1').fetchone()
    if first is None:
        raise no_lines_error(file)
    if configured_date_format != "auto":
        return configured_date_format
    return detected_date_format(file, first[0], first[1])


def date_parameters(date_format: str) -> dict:
    """The parameters of parse_date's SQL."""
    return {} if date_format == EXCEL_SERIAL else {"date_format": date_format}


def parse_date(date_format: str) -> str:
    """SQL that parses InvoiceDate in date_format, which is the parameter $date_format (date_parameters)."""
    if date_format == EXCEL_SERIAL:
        # Excel stores a day count from 1899-12-30; rounded to the second.
        return 'timestamp \'1899-12-30\' + to_seconds(round(try_cast("InvoiceDate" as double) * 86400))'
    return 'try_strptime("InvoiceDate", $date_format)'


def value_checks(date_format: str) -> list[tuple[str, str, str]]:
    """(column, problem, SQL condition of a bad value) for every check of the values."""
    whole = {}
    for column in ("Quantity", "CustomerID"):
        # A whole number is typed through decimal(18, 3). One too long for it (20
        # digits, say) is no "not a whole number" but out of range: where that
        # cast fails, the value is tried as a double, for those lines only.
        value = f'try_cast("{column}" as decimal(18, 3))'
        double = f'try_cast("{column}" as double)'
        too_long = f"coalesce(isfinite({double}) and {double} = round({double}) and abs({double}) > 2147483647, false)"
        whole[column] = {
            "not_whole": f"case when {value} is not null then {value} <> round({value}) else not {too_long} end",
            "out_of_range": f"case when {value} is not null then abs({value}) > 2147483647 else {too_long} end",
        }
    conditions = [
        '"InvoiceNo" is null',
        '"StockCode" is null',
        whole["Quantity"]["not_whole"],
        f"{parse_date(date_format)} is null",
        'try_cast("UnitPrice" as decimal(18, 3)) is null',
        '"CustomerID" is not null and ' + whole["CustomerID"]["not_whole"],
        whole["Quantity"]["out_of_range"],
        '"CustomerID" is not null and ' + whole["CustomerID"]["out_of_range"],
    ]
    return [(column, problem, condition)
            for (column, problem), condition in zip(value_problems(date_format), conditions, strict=True)]


def value_problems(date_format: str) -> list[tuple[str, str]]:
    """(column, problem) of every check of the values, in the order they are
    reported; each engine's loader supplies its SQL condition for each."""
    return [
        ("InvoiceNo", "is missing"),
        ("StockCode", "is missing"),
        ("Quantity", "is not a whole number"),
        ("InvoiceDate", f"is not a date in the format {date_format}"),
        ("UnitPrice", "is not a number"),
        ("CustomerID", "is not a whole number"),
        ("Quantity", "is out of range (more than 2147483647 units either way)"),
        ("CustomerID", "is out of range (more than 2147483647)"),
    ]


def check_values(con: DuckDBPyConnection, file: str, date_format: str) -> None:
    """Stops the load on the first value that cannot be typed, or a missing
    value where one is required, naming the column, the line and the value.
    All the checks run in one scan of the text table: on 54 million lines one
    scan per check would cost more than the load."""
    checks = value_checks(date_format)
    header = "\"InvoiceNo\" = 'InvoiceNo' and \"Quantity\" = 'Quantity'"
    aggregates = [f"count(*) filter (where {header}), min(rowid) filter (where {header}) + 2"]
    for column, _, condition in checks:
        aggregates.append(f"count(*) filter (where {condition}), min(rowid) filter (where {condition}) + 2, "
                          f"arg_min(coalesce(\"{column}\", ''), rowid) filter (where {condition})")
    found = con.execute(f"select {', '.join(aggregates)} from online_retail_text",
                        date_parameters(date_format)).fetchone()
    refuse_bad_values(file, found[0], found[1],
                      [(column, problem, *found[3 * index + 2:3 * index + 5])
                       for index, (column, problem, _) in enumerate(checks)])


def refuse_bad_values(file: str, header_lines: int, header_line, bad: list[tuple]) -> None:
    """The error of check_values from what it counted: how often and first where
    the header repeats, and per check (column, problem, bad lines, first line, its value)."""
    if header_lines > 0:
        raise LoadError(f"Raw file {file}, line {header_line} repeats the header line ({header_lines} time(s)): "
                        "were several files joined into one, or one file appended to itself? Keep a single "
                        "header at the top, and each invoice line once.")
    details = [f"column {column}, line {line}: '{value}' {problem} ({bad_lines} line(s) like this)"
               for column, problem, bad_lines, line, value in bad if bad_lines > 0]
    if details:
        raise LoadError(f"Raw file {file}: " + "; ".join(details))


def typed_columns(date_format: str) -> str:
    return ('"InvoiceNo" as invoice_no, "StockCode" as stock_code, '
            '"Description" as description, cast(cast("Quantity" as decimal(18, 3)) as integer) as quantity, '
            f"cast({parse_date(date_format)} as timestamp) as invoice_date, "
            'cast("UnitPrice" as decimal(18, 3)) as unit_price, '
            'cast(cast("CustomerID" as decimal(18, 3)) as integer) as customer_id, "Country" as country')


# --- One pass for a clean CSV --------------------------------------------------


class NotClean(Exception):
    """What the one-pass load leaves to the text path, which names it."""


def clean_csv_select(con: DuckDBPyConnection, file: str, settings: LoadSettings) -> tuple | None:
    """The query that types a CSV straight from the file, with its parameters,
    encoding and date format; None where the text path is to read it: a file
    whose start holds a CR (its line ends need a look at the whole file), or
    whose first InvoiceDate has no known format. The file is read as
    read_csv_text reads a file of LF lines, in UTF-8 unless the setting
    raw_encoding names another, with the date format of its first line.
    Every check of check_values is in the query, and a CR in a value (a CRLF
    line further down) is refused too: such a line stops the query with
    error(), and the text path then reads the file."""
    head = read_head_text(file)
    if b"\r" in head:
        return None
    encoding = "utf-8" if settings.encoding == "auto" else settings.encoding
    delim = choose_delimiter(first_line(head).decode("latin-1"))
    parameters = reader_parameters(file, header_columns(head, delim, encoding), delim, encoding)
    reader = csv_reader(lf_lines=True)
    # The first line's InvoiceDate, from the file's start: a short DuckDB read of a bad file can
    # fail an internal assertion (DuckDB 1.4), which ends the database. Without quotes in the
    # first two lines, the csv module splits them as DuckDB does (a line without a date is refused anyway).
    columns = list(parameters["columns"])
    lines = head.split(b"\n", 2)
    if len(lines) < 3 or b'"' in lines[0] + lines[1] or "InvoiceDate" not in columns:
        return None
    first = next(csv.reader([lines[1].decode(encoding, errors="replace")], delimiter=delim), [])
    if len(first) != len(columns):
        return None
    first_date = first[columns.index("InvoiceDate")]
    date_format = settings.date_format
    if date_format == "auto":
        date_format = date_format_of(first_date, file)
        if date_format is None:
            return None
    # The values typed once, then checked as check_values checks them (a NULL
    # condition is a failed one, as in its filters: CASE takes the ELSE).
    typed = (f'select "InvoiceNo", "StockCode", "Description", "Country", "CustomerID" is null as no_customer, '
             'try_cast("Quantity" as decimal(18, 3)) as quantity, '
             f"{parse_date(date_format)} as invoice_date, "
             'try_cast("UnitPrice" as decimal(18, 3)) as unit_price, '
             f'try_cast("CustomerID" as decimal(18, 3)) as customer_id from {reader}')
    whole = "{0} = round({0}) and abs({0}) <= 2147483647"
    clean = " and ".join([
        '"InvoiceNo" is not null', '"StockCode" is not null', whole.format("quantity"),
        "invoice_date is not null", "unit_price is not null", f"(no_customer or {whole.format('customer_id')})",
        *(f"not contains(coalesce({quote_name(column)}, ''), chr(13))"
          for column in ("InvoiceNo", "StockCode", "Description", "Country"))])
    select = (f"select case when {clean} then \"InvoiceNo\" else error('a line for the text path') end "
              'as invoice_no, "StockCode" as stock_code, "Description" as description, '
              "cast(quantity as integer) as quantity, cast(invoice_date as timestamp) as invoice_date, unit_price, "
              'cast(customer_id as integer) as customer_id, "Country" as country, $file as source_file '
              f"from ({typed})")
    drop_rejects(con)
    return select, {**parameters, **date_parameters(date_format)}, encoding, date_format


def refuse_unclean(con: DuckDBPyConnection, typed: str) -> None:
    """Lines the reader could not split (or no line at all) are for the text path to name."""
    if con.execute("select count(*) from online_retail_rejects").fetchone()[0] > 0:
        raise NotClean()
    if con.execute(f"select count(*) = 0 from {typed}").fetchone()[0]:
        raise NotClean()
