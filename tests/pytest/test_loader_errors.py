"""Bad raw files stop the build with an error naming the file, column and line.

Each bad file is built (a full `dbt build`) on a copy of a good build: the
build must fail and leave every table and the Insiders CSV as they were (the
fixture build_fails in conftest.py checks it). More bad inputs, and those that
end as rejected lines rather than errors: test_bad_input_corpus.py.
"""

import pytest
from conftest import GOOD_LINES, HEADER


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
