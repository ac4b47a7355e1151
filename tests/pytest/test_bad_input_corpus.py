"""A corpus of bad raw files: each stops the build with an error naming the file and the problem,
or lands line by line in rejected_invoice_lines with a reason.

The rule applied: what the loader cannot type (a quantity or price that is not
a number, a date that does not parse, a file it cannot split into the eight
columns) stops the build, because such a line has no revenue to reconcile and
usually means a wrong file or a wrong format; what it can type but the shop
cannot have sold (a date before 2000 or after the day of the run, a zero
quantity, a price below the floor, a repeated line, ...) becomes a rejected
line with its reason, and the build goes on.

Errors: every bad file is built (a full `dbt build`) on a copy of a good build
of the planted file; the fixture build_fails (conftest.py) checks that the
build fails and that every table (raw to marts, the membership history) and
the Insiders CSV are as they were. Cases already in test_loader_errors.py
(missing file, empty file, header only, renamed column, unparseable
quantity/price/date/customer, UTF-16, truncated last line, two identical
files in the folder, binary garbage with NUL bytes) are not repeated here;
the same file loaded twice (raw_reload) is in test_rebuilds.py.
"""

import datetime
import gzip
import random

import pytest
from dbt_helpers import GOOD_LINES, HEADER, assert_reconciles


def line(quantity="6", date="2010-12-01 08:28:00", price="1.85", customer="17850.0"):
    return f"536366,22633,HAND WARMER UNION JACK,{quantity},{date},{price},{customer},United Kingdom\n"


def garbage_without_nul() -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(1, 256) for _ in range(4000))


# name: (file name, content, var overrides, what the error must say; {file} is the file's path)
ERRORS = {
    "missing column": ("no_country.csv", HEADER.replace(",Country", "") + "".join(
        row.rsplit(",", 1)[0] + "\n" for row in GOOD_LINES.splitlines()), None,
        ["{file} lacks column(s) Country. Found: InvoiceNo, StockCode, Description, Quantity, InvoiceDate"]),
    "another file altogether": ("orders.csv", "order_id,amount,date\n1,3.50,2011-01-01\n", None,
                                ["{file} lacks column(s) InvoiceNo, StockCode", "Found: order_id, amount, date"]),
    "a line with an extra field": ("extra.csv", HEADER + GOOD_LINES + line().rstrip("\n") + ",oops\n", None,
                                   ["{file} cannot be read as utf-8 CSV: line 6: Expected Number of Columns: 8 "
                                    "Found: 9"]),
    "binary garbage without NUL bytes": ("noise.csv", garbage_without_nul(), None,
                                         ["{file} holds control bytes", "it is not a text file"]),
    "an .xlsx that is no workbook": ("Online Retail.xlsx", b"PK-not-really\n" + (HEADER + GOOD_LINES).encode(), None,
                                     ["{file} is not an Excel workbook"]),
    "a .csv.gz that is not gzip": ("online_retail.csv.gz", HEADER + GOOD_LINES, None,
                                   ["{file} is not gzip-compressed although its name ends in .gz"]),
    "a truncated .csv.gz download": ("cut.csv.gz", gzip.compress((HEADER + GOOD_LINES * 40).encode())[:300], None,
                                     ["{file} cannot be read as utf-8 CSV: line "]),
    "UTF-8 and ISO-8859-1 mixed": ("mixed.csv", (HEADER + GOOD_LINES.replace("LANTERN", "LANTERN café")).encode()
                                   + line().replace("WARMER", "WARMER café").encode("latin-1"), None,
                                   ["{file} mixes encodings: line 6 is not UTF-8, but line 3 holds UTF-8 characters",
                                    "LANTERN cafÃ©"]),
    "UTF-8 and ISO-8859-1 mixed, with bytes ISO-8859-1 lacks": (
        "mixed_c1.csv", (HEADER + GOOD_LINES.replace("LANTERN", "LANTERN CAFÉ")).encode()
        + line().replace("WARMER", "WARMER CAFÉ").encode("latin-1"), None,
        ["{file} is not UTF-8 (line 6 is not) and not ISO-8859-1 either: it holds bytes 0x80 to 0x9F"]),
    "Windows-1252 (curly quotes, euro sign)": ("windows.csv", (HEADER + GOOD_LINES.replace(
        "WHITE METAL", "‘WHITE’ METAL €")).encode("cp1252"), None,
        ["{file} is not UTF-8 (line 3 is not) and not ISO-8859-1 either"]),
    "ISO-8859-1 read as UTF-8 when forced": ("latin1.csv", (HEADER + GOOD_LINES + line().replace(
        "WARMER", "WARMER CAFÉ")).encode("latin-1"), {"raw_encoding": "utf-8"},
        ["{file} cannot be read as utf-8 CSV: line 6: Invalid unicode"]),
    # One file, one bad value per check: the error lists each check's first line.
    "quantity, price, date and customer that cannot be typed": (
        "values.csv", HEADER + GOOD_LINES + line(quantity="1.5") + line(price="NaN")
        + line(date="2011-02-30 10:00:00") + line(quantity="99999999999") + line(customer="17850.0.1"), None,
        ["{file}: column Quantity, line 6: '1.5' is not a whole number (1 line(s) like this)",
         "column InvoiceDate, line 8: '2011-02-30 10:00:00' is not a date in the format %Y-%m-%d %H:%M:%S",
         "column UnitPrice, line 7: 'NaN' is not a number",
         "column CustomerID, line 10: '17850.0.1' is not a whole number",
         "column Quantity, line 9: '99999999999' is out of range"]),
    "empty quantity, price in pounds, date in another format": (
        "values2.csv", HEADER + GOOD_LINES + line(date="01/12/2010 08:28") + line(price="£1.85") + line(quantity=""),
        None, ["{file}: column Quantity, line 8: '' is not a whole number",
               "column InvoiceDate, line 6: '01/12/2010 08:28' is not a date in the format",
               "column UnitPrice, line 7: '£1.85' is not a number"]),
    "the same file twice in one (header repeated)": ("twice.csv", (HEADER + GOOD_LINES) * 2, None,
                                                     ["{file}, line 6 repeats the header line (1 time(s))"]),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_file_stops_the_build_and_keeps_the_last_good_state(build_fails, tmp_path, case):
    name, content, vars, messages = ERRORS[case]
    raw = tmp_path / name
    raw.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    output = build_fails(raw, vars=vars)
    for message in messages:
        assert message.format(file=raw) in output, output[-3000:]


def planted_lines(good_build) -> list[str]:
    return good_build.raw_path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_file_with_every_line_twice_trips_the_quality_gate(build_fails, good_build, tmp_path):
    # Appended to itself without the second header: every line is a duplicate of
    # one before it, half of the file is rejected, far above max_rejected_share.
    lines = planted_lines(good_build)
    raw = tmp_path / "doubled.csv"
    raw.write_text("".join(lines + lines[1:]), encoding="utf-8")
    output = build_fails(raw, loaded=True)
    data_lines, postage = len(lines) - 1, sum(",POST," in row for row in lines)
    # Postage lines are rejected as such (the first rule) in both copies; the other lines of the second are duplicates.
    assert (f"Raw file {raw}: {data_lines + postage} of its {2 * data_lines} lines (50.3 %) are rejected, more "
            f"than max_rejected_share (5.0 %): duplicate_line {data_lines - postage} (first at line "
            f"{len(lines) + 1}); non_product_stock_code {2 * postage} (first at line ") in output
    assert "the marts keep their last good state" in output


def test_file_with_too_few_customers_to_cluster(build_fails, tmp_path):
    # Formerly a scikit-learn traceback from customer_embeddings (t-SNE's perplexity 30 >= 2 customers).
    raw = tmp_path / "sample.csv"
    raw.write_text(HEADER + "".join(GOOD_LINES.splitlines(keepends=True)[:2]) + line(customer=""), encoding="utf-8")
    output = build_fails(raw, loaded=True)
    assert (f"Raw file {raw}: only 1 identified customer(s) with a sale; the clustering needs at least 31 "
            "(var min_customers)") in output


def test_file_of_the_last_month_only(build_fails, good_build, tmp_path):
    # Formerly a scikit-learn traceback from insiders_validation: no customer before the validation cutoff.
    lines = planted_lines(good_build)
    raw = tmp_path / "november.csv"
    raw.write_text(lines[0] + "".join(row for row in lines[1:] if row.split(",")[4] >= "2011-11-01"),
                   encoding="utf-8")
    output = build_fails(raw, loaded=True)
    assert f"Raw file {raw}: only 0 identified customer(s) with a sale before the validation cutoff 2011-0" in output
    assert "Does the file hold the whole history, not only the last months?" in output


def test_file_of_excel_zero_dates_trips_the_quality_gate(build_fails, good_build, tmp_path):
    lines = planted_lines(good_build)
    raw = tmp_path / "zero_dates.csv"
    raw.write_text(lines[0] + "".join(row.replace(row.split(",")[4], "1899-12-30 00:00:00") for row in lines[1:]),
                   encoding="utf-8")
    output = build_fails(raw, loaded=True)
    assert f"Raw file {raw}: {len(lines) - 1} of its {len(lines) - 1} lines (100.0 %) are rejected" in output
    assert f"date_out_of_range {len(lines) - 1} (first at line 2)" in output


SQL_LAYER = ("--select", "+ledger_reconciliation", "+rejected_invoice_lines", "+int_customers_featurized",
             "--indirect-selection", "cautious")


def test_impossible_dates_are_rejected_lines_not_errors(good_build, good_copy, tmp_path):
    lines = planted_lines(good_build)
    today = datetime.date.today()
    odd = {
        "1900-01-01 00:00:00": "date_out_of_range",  # Excel's day 1
        "1999-12-31 23:59:00": "date_out_of_range",  # before 2000: no such sale
        "2099-06-01 12:00:00": "date_out_of_range",
        f"{today + datetime.timedelta(days=2)} 09:00:00": "date_out_of_range",  # after the run
        f"{today} 09:00:00": None,  # today is fine
        "2000-01-01 00:00:00": None,
    }
    extra = [line(date=date, customer=f"{30000 + number}.0").replace("536366", str(700000 + number))
             for number, date in enumerate(odd)]
    raw = tmp_path / "dates.csv"
    raw.write_text("".join(lines + extra), encoding="utf-8")
    project = good_copy(raw)
    project.run("build", *SQL_LAYER)
    first = len(lines)  # line_number of the first appended line
    rejected = dict(project.query(f"select line_number, rejection_reason from marts.rejected_invoice_lines "
                                  f"where line_number >= {first}"))
    expected = {first + number: reason for number, reason in enumerate(odd.values()) if reason}
    assert rejected == expected
    assert project.query(f"select count(*) from marts.invoice_lines where line_number >= {first} "
                         "and disposition = 'sale'") == [(2,)]
    assert_reconciles(project)
    # The customer base is as of the day after the last good line: today's sale, not 2099.
    as_of = project.query("select distinct as_of_date from intermediate.int_customers_featurized")
    assert as_of == [(today + datetime.timedelta(days=1),)]
    customers = {row[0] for row in project.query("select customer_id from intermediate.int_customers_featurized")}
    assert {30004, 30005} <= customers and not customers & {30000, 30001, 30002, 30003}


def test_lines_after_the_as_of_date_stay_in_the_ledger_but_not_in_the_features(good_copy):
    project = good_copy()
    project.run("build", *SQL_LAYER, vars={"as_of_date": "2011-06-01"})
    assert_reconciles(project)
    later = project.query("select count(*) from marts.invoice_lines "
                          "where invoice_date >= '2011-06-01' and disposition = 'sale'")[0][0]
    assert later > 1000  # sales, not rejected lines
    assert project.query("select max(last_purchase_date) < '2011-06-01', min(as_of_date), max(as_of_date) "
                         "from intermediate.int_customers_featurized") == [
        (True, datetime.date(2011, 6, 1), datetime.date(2011, 6, 1))]


def test_harmless_variants_load_like_the_original(good_build, good_copy, tmp_path):
    """A byte-order mark, Windows line ends, no final newline, columns in another
    order and an extra column are all the same file: same ledger."""
    lines = planted_lines(good_build)
    columns = lines[0].rstrip("\n").split(",")
    order = [7, 0, 1, 2, 3, 4, 5, 6]
    shuffled = [",".join([row.rstrip("\n").split(",")[i] for i in order] + ["x"]) + "\n" for row in lines]
    shuffled[0] = ",".join([columns[i] for i in order] + ["Note"]) + "\n"
    variant = "\ufeff" + "".join(shuffled).replace("\n", "\r\n").rstrip("\r\n")
    raw = tmp_path / "variant.csv"
    raw.write_text(variant, encoding="utf-8")
    project = good_copy(raw)
    project.run("build", *SQL_LAYER)
    assert_reconciles(project)
    query = "select * exclude (share_of_lines) from marts.ledger_reconciliation order by disposition"
    assert project.query(query) == good_build.query(query)
