"""The writers of raw_formats.py, on a small canonical sample: each written
file is read back with plain Python (csv, gzip, openpyxl), not with dbt."""

import csv
import datetime
import gzip

import openpyxl
import pytest

from raw_formats import (
    COLUMNS,
    read_canonical,
    write_ecommerce_course,
    write_ecommerce_data,
    write_small_canonical,
    write_uci_xlsx,
)

# The sample as canonical text, one tuple per line in COLUMNS order.
SAMPLE = [
    ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "2010-12-01 08:26:00", "2.55", "17850.0", "United Kingdom"),
    ("536365", "71053", "WHITE METAL LANTERN", "6", "2010-12-01 08:26:00", "3.39", "17850.0", "United Kingdom"),
    ("536379", "D", "Discount", "-1", "2010-12-01 09:41:00", "27.5", "14527.0", "United Kingdom"),
    ("C536379", "D", "Discount", "-1", "2010-12-01 09:41:00", "27.5", "14527.0", "United Kingdom"),
    ("536381", "82567", "AIRLINE LOUNGE,METAL SIGN", "2", "2010-12-01 09:41:00", "2.1", "15311.0", "United Kingdom"),
    ("536477", "22041", 'RECORD FRAME 7" SINGLE SIZE ', "48", "2010-12-01 12:27:00", "2.1", "16210.0", "United Kingdom"),
    ("536414", "22139", "", "56", "2010-12-01 11:52:00", "0.0", "", "United Kingdom"),
    ("536544", "21773", "DECORATIVE ROSE BATHROOM BOTTLE", "1", "2010-12-01 14:32:00", "2.51", "", "United Kingdom"),
    ("537226", "gift_0001_40", "Dotcomgiftshop Gift Voucher £40.00", "1", "2010-12-06 09:02:00", "34.04", "", "United Kingdom"),
    ("539993", "22386", "CRÈME BRÛLÉE DISH", "10", "2011-01-04 09:05:00", "1.95", "13313.0", "EIRE"),
    ("540001", "85099B", " JUMBO BAG RED RETROSPOT", "-12", "2011-03-07 00:05:00", "1.65", "12347.0", "Channel Islands"),
    ("C540002", "M", "Manual", "-1", "2011-03-07 23:59:00", "1.0", "12347.0", "Iceland"),
    ("A563185", "B", "Adjust bad debt", "1", "2011-08-12 14:50:00", "11062.06", "", "United Kingdom"),
    ("563186", "POST", "POSTAGE", "3", "2011-08-12 14:51:00", "18.0", "12583.0", "France"),
    ("563187", "02345", "12345", "4", "2011-08-12 14:52:00", "0.001", "12583.0", "France"),
    ("563188", "DCGSSGIRL", "=SUM(A1)", "5", "2011-10-31 10:10:00", "3.75", "16098.0", "Germany"),
    ("563189", "84879", "ASSORTED COLOUR BIRD ORNAMENT", "2400", "2011-11-09 13:07:00", "1.45", "18102.0", "United Kingdom"),
    ("563190", "15056BL", 'EDWARDIAN PARASOL, "BLACK"', "3", "2011-12-09 12:50:00", "5.95", "12680.0", "France"),
    ("563191", "23843", "PAPER CRAFT , LITTLE BIRDIE", "80995", "2011-12-09 09:15:00", "2.08", "16446.0", "United Kingdom"),
    ("C563192", "23843", "PAPER CRAFT , LITTLE BIRDIE", "-80995", "2011-12-09 09:27:00", "2.08", "16446.0", "United Kingdom"),
]

KAGGLE_DATES = [
    "12/1/2010 8:26", "12/1/2010 8:26", "12/1/2010 9:41", "12/1/2010 9:41", "12/1/2010 9:41",
    "12/1/2010 12:27", "12/1/2010 11:52", "12/1/2010 14:32", "12/6/2010 9:02", "1/4/2011 9:05",
    "3/7/2011 0:05", "3/7/2011 23:59", "8/12/2011 14:50", "8/12/2011 14:51", "8/12/2011 14:52",
    "10/31/2011 10:10", "11/9/2011 13:07", "12/9/2011 12:50", "12/9/2011 9:15", "12/9/2011 9:27",
]

COURSE_DATES = [
    "01-Dec-16", "01-Dec-16", "01-Dec-16", "01-Dec-16", "01-Dec-16",
    "01-Dec-16", "01-Dec-16", "01-Dec-16", "06-Dec-16", "04-Jan-17",
    "07-Mar-17", "07-Mar-17", "12-Aug-17", "12-Aug-17", "12-Aug-17",
    "31-Oct-17", "09-Nov-17", "09-Dec-17", "09-Dec-17", "09-Dec-17",
]


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "online_retail.csv"
    write_small_canonical(path, SAMPLE)
    return path


def read_lines(path, encoding):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def without_seconds_or_time(rows, dates, customer):
    """The expected lines: SAMPLE with its dates and CustomerIDs replaced."""
    return [
        [*row[:4], date, row[5], customer(row[6]), *row[7:]]
        for row, date in zip(rows, dates)
    ]


# --- write_small_canonical --------------------------------------------------

def test_small_canonical_writes_utf8_csv_quoted_like_pandas(sample):
    raw = sample.read_bytes()
    lines = raw.split(b"\n")
    assert lines[0] == b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
    assert lines[1] == b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom"
    assert lines[5] == b'536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,2010-12-01 09:41:00,2.1,15311.0,United Kingdom'
    assert lines[6] == b'536477,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,2010-12-01 12:27:00,2.1,16210.0,United Kingdom'
    assert lines[8] == b"536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom"
    assert "£40.00".encode("utf-8") in lines[9]
    assert b"\r" not in raw and raw.endswith(b"\n") and len(lines) == len(SAMPLE) + 2
    assert list(read_canonical(sample)) == SAMPLE


def test_small_canonical_takes_dicts_and_typed_values_and_gzips(tmp_path):
    path = tmp_path / "small.csv.gz"
    write_small_canonical(path, [
        {"InvoiceNo": "536365", "StockCode": "71053", "Description": "WHITE METAL LANTERN",
         "Quantity": 6, "InvoiceDate": datetime.datetime(2010, 12, 1, 8, 26), "UnitPrice": 3.39,
         "CustomerID": 17850, "Country": "United Kingdom"},
        {"InvoiceNo": "C536379", "StockCode": "D", "Quantity": -1,
         "InvoiceDate": datetime.datetime(2011, 1, 4, 9, 5), "UnitPrice": 27.5,
         "CustomerID": None, "Country": "United Kingdom"},
        ("536381", "82567", "AIRLINE LOUNGE,METAL SIGN", 2, "2010-12-01 09:41:00", "2.10", 15311.0, "EIRE"),
    ])
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        assert handle.read() == (
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"
            "C536379,D,,-1,2011-01-04 09:05:00,27.5,,United Kingdom\n"
            '536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,2010-12-01 09:41:00,2.10,15311.0,EIRE\n'
        )


def test_small_canonical_rejects_rows_of_the_wrong_shape(tmp_path):
    with pytest.raises(ValueError):
        write_small_canonical(tmp_path / "bad.csv", [("536365", "71053")])
    with pytest.raises(ValueError):
        write_small_canonical(tmp_path / "bad.csv", [{"Invoice": "536365"}])


# --- write_ecommerce_data (Kaggle data.csv) ---------------------------------

def test_ecommerce_data_lines(sample, tmp_path):
    dest = tmp_path / "data.csv"
    write_ecommerce_data(sample, dest)
    lines = read_lines(dest, "latin-1")
    assert lines[0] == list(COLUMNS)
    expected = without_seconds_or_time(
        SAMPLE, KAGGLE_DATES, lambda customer: customer.removesuffix(".0"))
    assert lines[1:] == expected
    assert lines[8][6] == "" and lines[1][6] == "17850"


def test_ecommerce_data_bytes_are_latin1_quoted_like_pandas(sample, tmp_path):
    dest = tmp_path / "data.csv"
    write_ecommerce_data(sample, dest)
    raw = dest.read_bytes()
    lines = raw.split(b"\n")
    assert lines[1] == b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom"
    assert lines[5] == b'536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,12/1/2010 9:41,2.1,15311,United Kingdom'
    assert lines[6] == b'536477,22041,"RECORD FRAME 7"" SINGLE SIZE ",48,12/1/2010 12:27,2.1,16210,United Kingdom'
    assert lines[9] == b"537226,gift_0001_40,Dotcomgiftshop Gift Voucher \xa340.00,1,12/6/2010 9:02,34.04,,United Kingdom"
    assert lines[10] == b"539993,22386,CR\xc8ME BR\xdbL\xc9E DISH,10,1/4/2011 9:05,1.95,13313,EIRE"
    assert lines[11] == b"540001,85099B, JUMBO BAG RED RETROSPOT,-12,3/7/2011 0:05,1.65,12347,Channel Islands"
    assert b"\r" not in raw and raw.endswith(b"\n")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_ecommerce_data_reads_gzipped_canonical(tmp_path):
    source = tmp_path / "online_retail.csv.gz"
    write_small_canonical(source, SAMPLE)
    dest = tmp_path / "data.csv"
    write_ecommerce_data(source, dest)
    assert read_lines(dest, "latin-1")[10][4] == "1/4/2011 9:05"


# --- write_ecommerce_course (Ecommerce.csv) ---------------------------------

def test_ecommerce_course_lines(sample, tmp_path):
    dest = tmp_path / "Ecommerce.csv"
    write_ecommerce_course(sample, dest)
    lines = read_lines(dest, "latin-1")
    assert lines[0] == [*COLUMNS, ""]
    expected = [
        [*row, ""]
        for row in without_seconds_or_time(SAMPLE, COURSE_DATES, lambda customer: customer)
    ]
    assert lines[1:] == expected


def test_ecommerce_course_bytes_end_with_an_empty_column(sample, tmp_path):
    dest = tmp_path / "Ecommerce.csv"
    write_ecommerce_course(sample, dest)
    raw = dest.read_bytes()
    lines = raw.split(b"\n")
    assert lines[0] == b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country,"
    assert lines[1] == b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,01-Dec-16,2.55,17850.0,United Kingdom,"
    assert lines[5] == b'536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,01-Dec-16,2.1,15311.0,United Kingdom,'
    assert lines[7] == b"536414,22139,,56,01-Dec-16,0.0,,United Kingdom,"
    assert lines[9] == b"537226,gift_0001_40,Dotcomgiftshop Gift Voucher \xa340.00,1,06-Dec-16,34.04,,United Kingdom,"
    assert lines[10] == b"539993,22386,CR\xc8ME BR\xdbL\xc9E DISH,10,04-Jan-17,1.95,13313.0,EIRE,"
    assert all(line.endswith(b",") for line in lines[:-1]) and lines[-1] == b""
    assert b"\r" not in raw


def test_csv_writers_do_not_crash_on_characters_outside_latin1(tmp_path):
    source = tmp_path / "online_retail.csv"
    write_small_canonical(source, [
        ("536365", "71053", "LANTERN 5€ – ✓", "6", "2010-12-01 08:26:00", "3.39", "17850.0", "United Kingdom"),
    ])
    write_ecommerce_data(source, tmp_path / "data.csv")
    write_ecommerce_course(source, tmp_path / "Ecommerce.csv")
    assert read_lines(tmp_path / "data.csv", "latin-1")[1][2] == "LANTERN 5? ? ?"
    assert read_lines(tmp_path / "Ecommerce.csv", "latin-1")[1][2] == "LANTERN 5? ? ?"


# --- write_uci_xlsx (Online Retail.xlsx) ------------------------------------

@pytest.fixture
def xlsx_sheet(sample, tmp_path):
    dest = tmp_path / "Online Retail.xlsx"
    write_uci_xlsx(sample, dest)
    workbook = openpyxl.load_workbook(dest)
    assert workbook.sheetnames == ["Online Retail"]
    return workbook["Online Retail"]


def test_uci_xlsx_header_and_size(xlsx_sheet):
    assert [cell.value for cell in xlsx_sheet[1]] == list(COLUMNS)
    assert all(cell.data_type == "s" for cell in xlsx_sheet[1])
    assert xlsx_sheet.max_row == len(SAMPLE) + 1
    assert xlsx_sheet.max_column == len(COLUMNS)


def test_uci_xlsx_cells_are_typed_like_the_original(xlsx_sheet):
    def cells(row):
        return [(cell.value, cell.data_type) for cell in xlsx_sheet[row]]

    assert cells(2) == [
        (536365, "n"), ("85123A", "s"), ("WHITE HANGING HEART T-LIGHT HOLDER", "s"), (6, "n"),
        (datetime.datetime(2010, 12, 1, 8, 26), "d"), (2.55, "n"), (17850, "n"), ("United Kingdom", "s"),
    ]
    assert cells(3)[:2] == [(536365, "n"), (71053, "n")]
    assert cells(5)[:4] == [("C536379", "s"), ("D", "s"), ("Discount", "s"), (-1, "n")]
    # Empty Description and CustomerID: no value at all.
    assert cells(8) == [
        (536414, "n"), (22139, "n"), (None, "n"), (56, "n"),
        (datetime.datetime(2010, 12, 1, 11, 52), "d"), (0.0, "n"), (None, "n"), ("United Kingdom", "s"),
    ]
    assert cells(10)[2] == ("Dotcomgiftshop Gift Voucher £40.00", "s")
    assert cells(11)[2] == ("CRÈME BRÛLÉE DISH", "s")
    assert cells(11)[4] == (datetime.datetime(2011, 1, 4, 9, 5), "d")
    assert cells(12)[2:5] == [(" JUMBO BAG RED RETROSPOT", "s"), (-12, "n"), (datetime.datetime(2011, 3, 7, 0, 5), "d")]
    assert cells(14) == [
        ("A563185", "s"), ("B", "s"), ("Adjust bad debt", "s"), (1, "n"),
        (datetime.datetime(2011, 8, 12, 14, 50), "d"), (11062.06, "n"), (None, "n"), ("United Kingdom", "s"),
    ]
    # Text that looks like a number or a formula stays text; a stock code with
    # a leading zero stays text so that it reads back the same.
    assert cells(16)[1:3] == [("02345", "s"), ("12345", "s")]
    assert cells(16)[5] == (0.001, "n")
    assert cells(17)[2] == ("=SUM(A1)", "s")
    assert cells(7)[2] == ('RECORD FRAME 7" SINGLE SIZE ', "s")
    assert cells(19)[2] == ('EDWARDIAN PARASOL, "BLACK"', "s")


def test_uci_xlsx_values_match_the_canonical_text(xlsx_sheet):
    for row, line in zip(xlsx_sheet.iter_rows(min_row=2, values_only=True), SAMPLE):
        invoice, stock, description, quantity, date, price, customer, country = row
        assert str(invoice) == line[0] and str(stock) == line[1]
        assert (description or "") == line[2]
        assert isinstance(quantity, int) and quantity == int(line[3])
        assert isinstance(date, datetime.datetime) and date == datetime.datetime.fromisoformat(line[4])
        assert isinstance(price, (int, float)) and price == float(line[5])
        assert customer == (int(float(line[6])) if line[6] else None)
        assert country == line[7]


def test_uci_xlsx_dates_show_as_month_day_year(xlsx_sheet):
    for (cell,) in xlsx_sheet.iter_rows(min_row=2, min_col=5, max_col=5):
        assert cell.is_date
        assert cell.number_format == "m/d/yyyy h:mm"
    numeric_columns = {1: "General", 4: "General", 6: "General", 7: "General"}
    for column, number_format in numeric_columns.items():
        assert xlsx_sheet.cell(row=2, column=column).number_format == number_format
