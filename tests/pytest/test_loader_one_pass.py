"""The one-pass load of a clean CSV (loader.clean_csv_select) against the text path:
the same table, or the text path's error, whatever the file."""

import duckdb
import pytest
from dbt_helpers import GOOD_LINES, HEADER

from insiders import loader
from insiders.loader import LoadError

TABLE = "select * exclude (source_file) from raw.invoice_lines order by line_number"
# More than the 64 KiB start that the one pass looks at for CRs.
PREFIX = HEADER + GOOD_LINES * 200


def outcome(path, text_path_only: bool, monkeypatch) -> tuple:
    with monkeypatch.context() as patch:
        if text_path_only:
            patch.setattr(loader, "clean_csv_select", lambda *args: None)
        con = duckdb.connect()
        try:
            message = loader.load_raw_file(con.cursor(), str(path), {})
            return message, con.sql(TABLE).fetchall(), con.sql("describe raw.invoice_lines").fetchall()
        except LoadError as error:
            return (str(error),)
        finally:
            con.close()


@pytest.mark.parametrize("tail", [
    GOOD_LINES,
    GOOD_LINES.replace("\n", "\r\n", 2),  # CRLF lines past the start
    GOOD_LINES.replace("United Kingdom\n", "   \r\n", 1),
    GOOD_LINES + "\r\n" + GOOD_LINES,  # a blank CRLF line
    GOOD_LINES.replace("WHITE", "WH\rITE", 1),
    GOOD_LINES.replace("WHITE", '"WH\r\nITE"', 1),
    GOOD_LINES.replace(",6,", ",6.0,", 1).replace(",6,", ", 6 ,", 1),
    GOOD_LINES.replace("17850.0", "17850.000", 1).replace("2.55", "2.5549", 1),
    GOOD_LINES.replace(",6,", ",-2147483648,", 1),
    GOOD_LINES.replace(",6,", ",2147483647,", 1),
    GOOD_LINES.replace("17850.0", "-2147483648", 1),
    GOOD_LINES.replace(",6,", ",6.5,", 1),
    GOOD_LINES.replace(",17850.0,", ",,", 1),
    GOOD_LINES.replace("536365,", ",", 1),
    GOOD_LINES.replace("2010-12-01 08:26:00", "2010-12-01 08:26", 1),
    GOOD_LINES.replace("2.55", "", 1),
    HEADER + GOOD_LINES,  # the header repeated
    GOOD_LINES + "536367,84879,ASSORTED COLOUR BIRD ORN",
    GOOD_LINES + GOOD_LINES.replace("LANTERN", "LANTERN caf\xe9"),  # not UTF-8: read as ISO-8859-1
])
def test_one_pass_loads_as_the_text_path(tmp_path, monkeypatch, tail):
    raw = tmp_path / "a.csv"
    raw.write_bytes((PREFIX + tail).encode("latin-1"))
    assert outcome(raw, False, monkeypatch) == outcome(raw, True, monkeypatch)


def test_a_clean_file_is_read_once(tmp_path, monkeypatch):
    raw = tmp_path / "a.csv"
    raw.write_text(PREFIX)

    def no_text_path(*args):
        raise AssertionError("read as text")

    # check_values runs on the text path only.
    monkeypatch.setattr(loader, "check_values", no_text_path)
    con = duckdb.connect()
    assert loader.load_raw_file(con.cursor(), str(raw), {}) == (
        f"Loaded 800 lines from {raw} (utf-8, dates as %Y-%m-%d %H:%M:%S).")
