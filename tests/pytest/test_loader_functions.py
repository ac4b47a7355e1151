"""The raw-file loader's functions (insiders/loader.py), without dbt: the plain
functions on bytes and strings, and load_raw_file on an in-memory DuckDB.
The same loader run by `dbt build`, with its errors: test_loader_errors.py."""

import datetime
import gzip

import duckdb
import duckdb_ext
import jinja2
import pytest
import raw_formats
from dbt_helpers import GOOD_LINES, HEADER

from insiders import loader
from insiders.loader import LineEnds, LoadError

# --- The table of formats -------------------------------------------------------


def test_formats_of_one_suffix_are_read_and_checked_alike():
    # format_of picks the first format of a suffix: the others must not differ in how they are read.
    for suffix in loader.RAW_SUFFIXES:
        formats = [f for f in loader.FORMATS if suffix in f.suffixes]
        assert {(f.read_text, f.signature) for f in formats} == {(formats[0].read_text, formats[0].signature)}


def test_raw_files_are_recognised_by_name():
    assert loader.RAW_SUFFIXES == (".csv", ".csv.gz", ".xlsx")
    assert loader.format_of("data/Online Retail.XLSX").name == "UCI Online Retail.xlsx"
    assert loader.format_of("x/online_retail.csv.gz").read_text is loader.read_csv_text
    assert loader.is_raw_file_name("a/Ecommerce.CSV") and not loader.is_raw_file_name("a/notes.txt")


@pytest.mark.parametrize(
    "value, file, expected",
    [
        ("2010-12-01 08:26:00", "a.csv", "%Y-%m-%d %H:%M:%S"),
        ("2010-12-01 08:26", "a.csv.gz", "%Y-%m-%d %H:%M"),
        ("12/1/2010 8:26", "data.csv", "%m/%d/%Y %H:%M"),
        ("29-Nov-16", "Ecommerce.csv", "%d-%b-%y"),
        ("40513.35138888889", "a.xlsx", "excel_serial"),
        # Another format's dates are known too: a CSV of day numbers, an .xlsx of text dates.
        ("40513", "a.csv", "excel_serial"),
        ("2010-12-01 08:26:00", "a.xlsx", "%Y-%m-%d %H:%M:%S"),
        ("01/12/2010 08:26:00", "a.csv", None),
        ("2010-12-01 08:26:00 ", "a.csv", None),
    ],
)
def test_date_format_of_the_first_invoice_date(value, file, expected):
    assert loader.date_format_of(value, file) == expected


# --- Settings -------------------------------------------------------------------


def test_settings_defaults_and_raw_path_var_first():
    settings = loader.settings_from("", {})
    assert settings == loader.LoadSettings("data/raw", "auto", "auto", True, False)
    assert loader.settings_from("env.csv", {}).raw_path == "env.csv"
    assert loader.settings_from("env.csv", {"raw_path": "var.csv"}).raw_path == "var.csv"


@pytest.mark.parametrize(
    "config, message",
    [
        ({"raw_encoding": "utf-16"}, "Setting raw_encoding = 'utf-16' is not valid: expected one of auto, utf-8, "
                                     "latin-1. Nothing was built or published."),
        ({"raw_date_format": "%d\n%m"}, "Setting raw_date_format = '%d\n%m' is not valid: expected text without "
                                        "control characters"),
        ({"raw_date_format": 5}, "Setting raw_date_format = 5 is not valid"),
        ({"raw_reload": "yes"}, "Setting raw_reload = 'yes' is not valid: expected true or false"),
        ({"load_raw": 0}, "Setting load_raw = 0 is not valid: expected true or false"),
        ({"raw_path": "a\x00b"}, "Setting raw_path = 'a\x00b' is not valid"),
    ],
)
def test_bad_settings_are_named(config, message):
    with pytest.raises(LoadError) as error:
        loader.settings_from("", config)
    assert message in str(error.value)


def test_environment_path_is_named_when_bad():
    with pytest.raises(LoadError, match="Setting INSIDERS_RAW_PATH = 'a\tb' is not valid"):
        loader.settings_from("a\tb", {})


# --- Binary files ---------------------------------------------------------------

CSV = loader.format_of("a.csv")
XLSX = loader.format_of("a.xlsx")


def test_text_passes():
    loader.refuse_binary("a.csv", (HEADER + GOOD_LINES).encode(), CSV)
    loader.refuse_binary("a.csv", "\ufeffé\t;\r\n".encode(), CSV)
    loader.refuse_binary("a.csv.gz", gzip.compress((HEADER + GOOD_LINES).encode()), CSV)
    loader.refuse_binary("a.xlsx", b"PK\x03\x04\x00\x01\x02", XLSX)


@pytest.mark.parametrize(
    "file, head, message",
    [
        ("a.xlsx", b"InvoiceNo,", "Raw file a.xlsx is not an Excel workbook: an .xlsx file is a zip archive"),
        ("a.csv.gz", b"InvoiceNo,", "Raw file a.csv.gz is not gzip-compressed although its name ends in .gz."),
        ("a.csv", HEADER.encode("utf-16"), "Raw file a.csv holds NUL bytes in its first 4 KiB: it is UTF-16"),
        ("a.csv", b"Invoice\x07No", "Raw file a.csv holds control bytes (byte 0x07 at offset 7) in its first 4 KiB"),
        ("a.csv", b"x" * 5000 + b"\x00", None),  # past the first 4 KiB: not looked at
        # A gzipped file is checked in what it holds (mtime=0: gzip stamps the time, and each xdist
        # worker must collect the same parameters).
        ("a.csv.gz", gzip.compress(HEADER.encode("utf-16"), mtime=0), "Raw file a.csv.gz holds NUL bytes"),
        ("a.csv.gz", gzip.compress(b"ab\x1bc", mtime=0), "(byte 0x1B at offset 2)"),
    ],
)
def test_binary_content_is_refused(file, head, message):
    if message is None:
        loader.refuse_binary(file, head, loader.format_of(file))
        return
    with pytest.raises(LoadError) as error:
        loader.refuse_binary(file, head, loader.format_of(file))
    assert message in str(error.value)


def test_inflate_reads_several_members_and_stops_at_a_cut():
    two_members = gzip.compress(b"first\n") + gzip.compress(b"second\n")
    assert b"".join(loader.inflate([two_members[:7], two_members[7:]])) == b"first\nsecond\n"
    whole = gzip.compress(b"line\n" * 1000)
    assert b"".join(loader.inflate([whole[:-8]])) == b"line\n" * 1000  # all but the checksum
    assert (b"line\n" * 1000).startswith(b"".join(loader.inflate([whole[:len(whole) // 2]])))
    assert loader.gunzip(b"\x1f\x8b\x08\x00garbage") == b""


# --- Line ends --------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks, expected",
    [
        ([b"a,b\n1,2\n"], LineEnds("lf")),
        ([b"a,b\r\n1,2\r\n\r\n"], LineEnds("crlf")),
        ([b"a,b\r\n1,2\r"], LineEnds("crlf")),  # a CR at the very end ends the last line
        ([b"a,b\r", b"\n1,2\r\n"], LineEnds("crlf")),  # a CRLF across two chunks
        ([b"a,b\r1,2\r"], LineEnds("cr")),
        ([b"a,b\r1,2\n"], LineEnds("cr")),  # a CR alone ends the first line: an old Mac file
        ([b"a,b\n1,2\r\n"], LineEnds("mixed")),
        ([b"a,b\r\n1,2\n"], LineEnds("mixed")),
        ([b"a,b\n1,2\r3\n"], LineEnds("mixed", cr_inside_lines=True)),
        ([b"a,b\r\n1,2\r", b"3\r\n"], LineEnds("mixed", cr_inside_lines=True)),
        ([b"a,b\n1,2\r"], LineEnds("mixed")),
        ([], LineEnds("lf")),
    ],
)
def test_line_ends(chunks, expected):
    assert loader.line_ends(chunks) == expected


@pytest.mark.parametrize(
    "chunks, expected",
    [
        ([b"a\r\nb\nc\r\n"], b"a\nb\nc\n"),
        ([b"a\r", b"\nb\r", b"c\r"], b"a\nb\x1ec\n"),
        ([b"a,x\ry\n", b"  \r\n"], b"a,x\x1ey\n  \n"),
    ],
)
def test_lf_lines(chunks, expected):
    assert b"".join(loader.lf_lines(chunks)) == expected


# --- The header -------------------------------------------------------------------


def test_delimiter_and_first_line():
    assert loader.choose_delimiter("a;b;c,d") == ";" and loader.choose_delimiter("a,b;c") == ","
    assert loader.choose_delimiter("a\tb\tc") == "\t" and loader.choose_delimiter("abc") == ","
    assert loader.first_line(b"\xef\xbb\xbfa,b\r\nc") == b"a,b"
    assert loader.first_line(b"a,b\rc\n") == b"a,b" and loader.first_line(b"a,b") == b"a,b"


def test_header_names_as_duckdb_names_them():
    assert loader.header_names([" InvoiceNo ", "", "x", "X", "x", "\ufeffy"]) == [
        "InvoiceNo", "column1", "x", "X_1", "x_2", "y"]
    assert loader.header_columns(b'a,"b,c",\n1,2,3', ",", "utf-8") == ["a", "b,c", "column2"]


# --- Messages -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["short", "x" * 85, "x" * 86, "foo bar " * 20, '"HAND WARMER,6,2010-12-01 08:28:00,1.85'])
@pytest.mark.parametrize("length", [40, 80])
def test_truncate_is_jinjas(text, length):
    assert loader.truncate(text, length) == jinja2.Environment().from_string(
        "{{ text | truncate(length) }}").render(text=text, length=length)


def test_long_line_column():
    assert loader.long_line_column("1,2,xxxx", ",") == (2, 4)
    assert loader.long_line_column('1,"a,b,c', ",") == (1, 2)  # a quote left open
    assert loader.long_line_column('1,"a,""b"",c",d', ",") == (2, 14)


def test_c1_bytes():
    assert loader.has_c1_bytes([b"caf\xe9", "‘x’".encode("cp1252")])
    assert not loader.has_c1_bytes(["café £".encode("latin-1")])


# --- load_raw_file on DuckDB, without dbt -------------------------------------------

LINES = "select line_number, invoice_no, description, quantity, invoice_date, customer_id, country from raw.invoice_lines order by 1"


@pytest.fixture
def con():
    connection = duckdb.connect()
    duckdb_ext.init(connection)
    yield connection
    connection.close()


def load(con, path, **config):
    return loader.load_raw_file(con.cursor(), str(path), config)


def test_loads_and_logs_and_skips_an_unchanged_file(con, tmp_path):
    raw = tmp_path / "a.csv"
    raw.write_text(HEADER + GOOD_LINES)
    assert load(con, raw) == f"Loaded 4 lines from {raw} (utf-8, dates as %Y-%m-%d %H:%M:%S)."
    assert con.sql(LINES).fetchall()[0] == (
        1, "536365", "WHITE HANGING HEART T-LIGHT HOLDER", 6, datetime.datetime(2010, 12, 1, 8, 26), 17850,
        "United Kingdom")
    assert load(con, raw) == f"Raw file {raw} unchanged since its last load: not read again."
    assert load(con, raw, raw_reload=True).startswith("Loaded 4 lines")
    assert con.sql("select source_file, encoding, lines from raw.invoice_line_loads").fetchall() == [
        (str(raw), "utf-8", 4)] * 2
    assert load(con, raw, load_raw=False) == "Raw file not loaded (var load_raw is false)."


@pytest.mark.parametrize("name, writer, encoding, date_format", [
    ("Online Retail.xlsx", raw_formats.write_uci_xlsx, "xlsx", "excel_serial"),
    ("data.csv", raw_formats.write_ecommerce_data, "latin-1", "%m/%d/%Y %H:%M"),
    ("Ecommerce.csv", raw_formats.write_ecommerce_course, "latin-1", "%d-%b-%y"),
])
def test_every_format_loads(con, tmp_path, name, writer, encoding, date_format):
    canonical = tmp_path / "canonical.csv"
    canonical.write_text(HEADER + GOOD_LINES.replace("LANTERN", "LANTERN café"))
    writer(canonical, tmp_path / name)
    assert load(con, tmp_path / name) == f"Loaded 4 lines from {tmp_path / name} ({encoding}, dates as {date_format})."
    assert con.sql(LINES).fetchall()[1][2:4] == ("WHITE METAL LANTERN café", 6)


def test_a_folder_must_hold_one_raw_file(con, tmp_path):
    (tmp_path / "notes.txt").write_text("not data")
    with pytest.raises(LoadError, match="No raw file at"):
        load(con, tmp_path)
    (tmp_path / "a.csv").write_text(HEADER + GOOD_LINES)
    assert load(con, tmp_path).startswith(f"Loaded 4 lines from {tmp_path}/a.csv")


def test_a_bad_file_leaves_the_last_load(con, tmp_path):
    raw = tmp_path / "a.csv"
    raw.write_text(HEADER + GOOD_LINES)
    load(con, raw)
    raw.write_text(HEADER + GOOD_LINES + GOOD_LINES.replace(",6,", ",six,", 1))
    with pytest.raises(LoadError, match=f"Raw file {raw}: column Quantity, line 6: 'six' is not a whole number"):
        load(con, raw)
    assert con.sql("select count(*) from raw.invoice_lines").fetchall() == [(4,)]


# The Jinja loader's known limits, gone: each file loads line for line like its LF copy.

def lines_of(con, tmp_path, name, content: bytes):
    raw = tmp_path / name
    raw.write_bytes(content)
    load(con, raw)
    return con.sql(LINES).fetchall()


def test_lf_lines_in_a_file_that_starts_with_crlf(con, tmp_path):
    # Formerly DuckDB's "The CSV Parser state machine reached an invalid state".
    lf = lines_of(con, tmp_path, "lf.csv", (HEADER + GOOD_LINES).encode())
    crlf_first = (HEADER + GOOD_LINES).replace("\n", "\r\n", 3).encode()
    assert lines_of(con, tmp_path, "crlf_first.csv", crlf_first) == lf


def test_cr_inside_the_last_value_is_kept(con, tmp_path):
    # Formerly cut there: the value lost what followed the CR.
    content = HEADER + GOOD_LINES.replace("United Kingdom\n", "United\rKingdom\n", 1)
    rows = lines_of(con, tmp_path, "cr_inside.csv", content.encode())
    assert rows[0][-1] == "United\rKingdom" and [row[-1] for row in rows[1:]] == ["United Kingdom"] * 3
    # Inside another value, and in a file with CRLF lines too.
    content = (HEADER + GOOD_LINES.replace("WHITE METAL", "WHITE\rMETAL")).replace("\n", "\r\n", 2)
    assert lines_of(con, tmp_path, "cr_and_crlf.csv", content.encode())[1][2] == "WHITE\rMETAL LANTERN"


def test_crlf_line_whose_last_value_is_spaces_is_loaded(con, tmp_path):
    # Formerly dropped without a word by DuckDB, in a file of LF lines.
    content = HEADER + GOOD_LINES.replace("United Kingdom\n", "   \r\n", 1)
    rows = lines_of(con, tmp_path, "spaces.csv", content.encode())
    assert len(rows) == 4 and rows[0][-1] == "   "
    content = (HEADER + GOOD_LINES.replace("United Kingdom\n", "   \n", 1)).replace("\n", "\r\n")
    assert lines_of(con, tmp_path, "spaces_crlf.csv", content.encode())[0][-1] == "   "


def test_mixed_line_ends_in_a_gzipped_file(con, tmp_path):
    content = (HEADER + GOOD_LINES.replace("\n", "\r\n", 2) + GOOD_LINES.replace("WHITE", "WHITE\r")).encode()
    rows = lines_of(con, tmp_path, "mixed.csv.gz", gzip.compress(content))
    assert len(rows) == 8 and rows[4][2] == "WHITE\r HANGING HEART T-LIGHT HOLDER"
    assert {row[-1] for row in rows} == {"United Kingdom"}


def test_a_cr_stand_in_in_the_file_is_refused(con, tmp_path):
    raw = tmp_path / "odd.csv"
    # Past the first 4 KiB, where control bytes are not looked for.
    raw.write_bytes((HEADER + GOOD_LINES.replace("WHITE", "WH\rITE", 1) + GOOD_LINES * 20
                     + GOOD_LINES.replace("WHITE", "\x1e")).encode())
    with pytest.raises(LoadError, match="holds CRs inside its lines and the control byte 0x1E"):
        load(con, raw)
