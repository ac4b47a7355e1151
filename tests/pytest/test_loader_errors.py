"""Bad raw files stop the build with an error naming the file, column and line.

Each bad file is built (a full `dbt build`) on a copy of a good build: the
build must fail and leave every table and the Insiders CSV as they were (the
fixture build_fails in conftest.py checks it). More bad inputs, and those that
end as rejected lines rather than errors: test_bad_input_corpus.py.
"""

import gzip

import pytest
from dbt_helpers import GOOD_LINES, HEADER, DbtProject, real_raw_file


def write(tmp_path, name, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_missing_file_names_the_path_and_what_to_do(build_fails, tmp_path):
    output = build_fails(tmp_path / "nowhere.csv")
    assert "nowhere.csv" in output and "INSIDERS_RAW_PATH" in output and "make data" in output


def test_empty_file(build_fails, tmp_path):
    output = build_fails(write(tmp_path, "empty.csv", ""))
    assert "empty.csv is empty" in output


def test_header_without_lines(build_fails, tmp_path):
    output = build_fails(write(tmp_path, "header.csv", HEADER))
    assert "header.csv has a header but no invoice lines" in output


def test_renamed_column_is_named(build_fails, tmp_path):
    renamed = HEADER.replace("CustomerID", "Customer ID") + GOOD_LINES
    output = build_fails(write(tmp_path, "renamed.csv", renamed))
    assert "renamed.csv lacks column(s) CustomerID" in output
    assert "Customer ID" in output


@pytest.mark.parametrize(
    "column, bad_line, expected",
    [
        ("Quantity", "536366,22633,HAND WARMER,six,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n", "'six' is not a whole number"),
        ("UnitPrice", "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1,85,17850.0,United Kingdom\n", None),
        ("InvoiceDate", "536366,22633,HAND WARMER,6,2010-13-01 08:28:00,1.85,17850.0,United Kingdom\n", "'2010-13-01 08:28:00' is not a date"),
        ("CustomerID", "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.5,United Kingdom\n", "'17850.5' is not a whole number"),
    ],
)
def test_unparseable_value_names_column_and_line(build_fails, tmp_path, column, bad_line, expected):
    raw = write(tmp_path, "bad.csv", HEADER + GOOD_LINES + bad_line)
    output = build_fails(raw)
    assert "bad.csv" in output
    # The bad line is line 6 of the file: header, four good lines, then it.
    assert "line 6" in output
    if expected:
        assert f"column {column}, line 6: {expected}" in output


@pytest.mark.parametrize(
    "column, bad_line, expected",
    [
        ("CustomerID", "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,12345678901234567890,United Kingdom\n",
         "'12345678901234567890' is out of range (more than 2147483647)"),
        ("Quantity", "536366,22633,HAND WARMER,12345678901234567890,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n",
         "'12345678901234567890' is out of range (more than 2147483647 units either way)"),
        ("Quantity", "536366,22633,HAND WARMER,-1" + "0" * 40 + ".0,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n",
         "'-1" + "0" * 40 + ".0' is out of range (more than 2147483647 units either way)"),
    ],
)
def test_whole_number_too_long_for_a_decimal_is_out_of_range(build_fails, tmp_path, column, bad_line, expected):
    # More than 15 digits overflow the decimal(18, 3) the value is typed through: it is
    # a whole number all the same, out of range, not "not a whole number".
    raw = write(tmp_path, "long_number.csv", HEADER + GOOD_LINES + bad_line + GOOD_LINES)
    output = build_fails(raw)
    assert f"Raw file {raw}: column {column}, line 6: {expected} (1 line(s) like this)" in output
    assert "is not a whole number" not in output


@pytest.mark.parametrize(("name", "value", "size", "not_said"), [
    # Formerly DuckDB's "Error when sniffing file ... not possible to automatically
    # detect the CSV parsing dialect", which names no line.
    ("huge.csv", "X" * 3_000_000, 3000063, "sniffing"),
    # DuckDB keeps a long line's first 10000 bytes, here cut inside an é: it failed with "Invalid
    # unicode (byte sequence mismatch) detected in segment statistics update", which names no line.
    ("huge_accents.csv", "é" * 1_100_000, 2200063, "segment statistics"),
])
def test_line_over_the_maximum_line_size_names_line_and_column(build_fails, tmp_path, name, value, size, not_said):
    huge = "536366,22633," + value + ",6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n"
    raw = write(tmp_path, name, HEADER + GOOD_LINES + huge + GOOD_LINES)
    output = build_fails(raw)
    assert f"Raw file {raw}, line 6, column Description: the line is {size} bytes long, more than the " \
           "maximum line size of 2000000 bytes that the CSV reader accepts; column Description alone holds " \
           "more than " in output
    assert not_said not in output and "Invalid Input Error" not in output


def test_quote_never_closed_names_line_and_column(build_fails, tmp_path):
    # An opening quote without its closing one makes one value of the lines after it
    # (up to the next quote): here 2.5 MB, more than the maximum line size.
    opened = '536366,22633,"HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n'
    closed = '536367,22633,"HAND" WARMER,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n'
    raw = write(tmp_path, "open_quote.csv", HEADER + GOOD_LINES + opened + GOOD_LINES * 8000 + closed)
    output = build_fails(raw)
    assert f"Raw file {raw}, line 6, column Description: the line is " in output
    assert "more than the maximum line size of 2000000 bytes" in output
    assert "('\"HAND WARMER,6,2010-12-01" in output and "is its closing quote missing?" in output


def test_unreadable_encoding(build_fails, tmp_path):
    raw = write(tmp_path, "utf16.csv", (HEADER + GOOD_LINES).encode("utf-16"))
    output = build_fails(raw)
    assert "utf16.csv holds NUL bytes" in output and "UTF-16" in output


def test_truncated_last_line(build_fails, tmp_path):
    truncated = HEADER + GOOD_LINES + "536367,84879,ASSORTED COLOUR BIRD ORN"
    output = build_fails(write(tmp_path, "truncated.csv", truncated))
    assert "truncated.csv" in output and "line 6" in output


def test_two_raw_files_in_the_folder(build_fails, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    write(folder, "a.csv", HEADER + GOOD_LINES)
    write(folder, "b.csv", HEADER + GOOD_LINES)
    output = build_fails(folder)
    assert "More than one raw file" in output and "a.csv" in output and "b.csv" in output


def test_latin1_file_loads_with_its_accents(dbt_project, tmp_path):
    raw = write(tmp_path, "latin1.csv", (HEADER + GOOD_LINES.replace("LANTERN", "LANTERN café")).encode("latin-1"))
    project = dbt_project(raw)
    project.run("build", "--select", "stg_online_retail__invoice_lines")
    assert project.query("select description from staging.stg_online_retail__invoice_lines where line_number = 2") == [
        ("WHITE METAL LANTERN café",)
    ]
    assert project.query("select encoding, lines from raw.invoice_line_loads") == [("latin-1", 4)]


def test_binary_garbage(build_fails, tmp_path):
    garbage = bytes(range(256)) * 8
    output = build_fails(write(tmp_path, "garbage.csv", garbage))
    assert "garbage.csv holds NUL bytes" in output


# --- Line ends ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [
        # LF, then lines appended on Windows; a byte-order mark.
        ("appended.csv", "\ufeff" + HEADER + GOOD_LINES.replace("\n", "\r\n", 2)),
        ("quoted.csv", HEADER + GOOD_LINES.replace("United Kingdom\n", '"United Kingdom"\r\n')),
        # All CRLF, with a blank line at the end: read as before.
        ("windows.csv", (HEADER + GOOD_LINES).replace("\n", "\r\n") + "\r\n"),
        # CR alone (old Mac files), no final line end.
        ("mac.csv", (HEADER + GOOD_LINES).replace("\n", "\r").rstrip("\r")),
    ],
)
def test_line_ends_load_alike(dbt_project, tmp_path, name, content):
    project = dbt_project(write(tmp_path, name, content))
    project.run("build", "--select", "stg_online_retail__invoice_lines")
    assert project.query("select invoice_no, description, country from raw.invoice_lines order by line_number") == [
        ("536365", "WHITE HANGING HEART T-LIGHT HOLDER", "United Kingdom"),
        ("536365", "WHITE METAL LANTERN", "United Kingdom"),
        ("C536379", "Discount", "United Kingdom"),
        ("536414", None, "United Kingdom"),
    ]


def test_real_file_with_crlf_lines_gives_the_same_ledger(tmp_path):
    """The real file with every 7th line and its last lines ended by CRLF (formerly
    "The CSV Parser state machine reached an invalid state", no line named) loads
    line for line like the file itself: same raw lines, same ledger."""
    source = real_raw_file()
    with gzip.open(source, "rb") if source.suffix == ".gz" else open(source, "rb") as handle:
        lines = handle.readlines()
    assert all(line.endswith(b"\n") and not line.endswith(b"\r\n") for line in lines)
    mixed = tmp_path / "mixed" / "online_retail.csv"
    mixed.parent.mkdir()
    with open(mixed, "wb") as handle:
        handle.writelines(line[:-1] + b"\r\n" if number % 7 == 6 or number >= len(lines) - 3 else line
                          for number, line in enumerate(lines))
    projects = {name: DbtProject(tmp_path / name, raw) for name, raw in (("lf", source), ("mixed", mixed))}
    for project in projects.values():
        project.workdir.mkdir(exist_ok=True)
        project.run("build", "--select", "+ledger_reconciliation", "--indirect-selection", "cautious")
    assert projects["mixed"].query("select count(*), count(*) filter (where country like '%' || chr(13)) "
                                   "from raw.invoice_lines") == [(len(lines) - 1, 0)]
    raw = "select * exclude (source_file) from raw.invoice_lines order by line_number"
    assert projects["mixed"].query(raw) == projects["lf"].query(raw)
    ledger = "select * exclude (share_of_lines) from marts.ledger_reconciliation order by disposition"
    assert projects["mixed"].query(ledger) == projects["lf"].query(ledger)
