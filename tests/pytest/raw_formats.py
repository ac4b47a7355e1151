"""Writers of the Online Retail file in the other formats that users have.

Every function reads a file in the canonical format (the UCI data as a UTF-8
CSV, gzipped or not: InvoiceDate as ``2010-12-01 08:26:00``, CustomerID as
``17850.0`` or empty) and writes the same lines, in the same order, in another
format:

- ``write_ecommerce_data``: Kaggle's "E-Commerce Data" ``data.csv``;
- ``write_ecommerce_course``: the course variant ``Ecommerce.csv``;
- ``write_uci_xlsx``: UCI's original ``Online Retail.xlsx``.

``write_small_canonical`` writes a canonical file from rows made up by a test.
The functions stream line by line and need nothing but the standard library
and openpyxl; they are plain functions so that tests and scripts can share them.
"""

import csv
import datetime
import gzip
import os

COLUMNS = (
    "InvoiceNo", "StockCode", "Description", "Quantity",
    "InvoiceDate", "UnitPrice", "CustomerID", "Country",
)

# English month abbreviations, whatever the locale (strftime's %b is not).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The course variant moves every date six years on (2010 -> 2016).
COURSE_YEAR_SHIFT = 6

XLSX_SHEET = "Online Retail"
XLSX_DATE_FORMAT = "m/d/yyyy h:mm"


def _open_text(path, mode):
    """A text file, through gzip when the name ends in .gz (writing) or the
    content starts with gzip's magic bytes (reading)."""
    path = os.fspath(path)
    if mode == "r":
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
    else:
        gzipped = path.lower().endswith(".gz")
    opener = gzip.open if gzipped else open
    return opener(path, mode + "t", encoding="utf-8", newline="")


def read_canonical(src):
    """Yields the lines of a canonical file as tuples of 8 strings, in
    COLUMNS order ('' for an empty field)."""
    with _open_text(src, "r") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{src}: empty file, expected the header {','.join(COLUMNS)}")
        missing = [column for column in COLUMNS if column not in header]
        if missing:
            raise ValueError(f"{src}: header lacks {', '.join(missing)}; found {header}")
        order = [header.index(column) for column in COLUMNS]
        in_order = order == list(range(len(COLUMNS))) and len(header) == len(COLUMNS)
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{src}, line {number}: {len(row)} fields, expected {len(header)}")
            yield tuple(row) if in_order else tuple(row[i] for i in order)


def _timestamp(text):
    """A canonical InvoiceDate ('2010-12-01 08:26:00') as a datetime."""
    return datetime.datetime.fromisoformat(text)


def _customer_number(text):
    """A canonical CustomerID ('17850.0', '17850' or '') as an int, or None."""
    if text == "":
        return None
    whole, dot, fraction = text.partition(".")
    if not whole.lstrip("-").isdigit() or fraction.strip("0"):
        raise ValueError(f"CustomerID {text!r} is not a whole number")
    return int(whole)


def _latin1_writer(dest, header):
    """A csv writer on dest in ISO-8859-1 that quotes like pandas' to_csv
    (QUOTE_MINIMAL, doubled quotes, LF line ends). A character outside
    ISO-8859-1 is written as '?' (the real file has none: its only non-ASCII
    character is '£')."""
    handle = open(dest, "w", encoding="latin-1", errors="replace", newline="")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    return handle, writer


def write_ecommerce_data(src, dest):
    """Kaggle's "E-Commerce Data" data.csv: ISO-8859-1, InvoiceDate as
    '12/1/2010 8:26' (no seconds: a canonical time's seconds are dropped),
    CustomerID as '17850' (empty when missing), every other field as in src."""
    handle, writer = _latin1_writer(dest, COLUMNS)
    with handle:
        for invoice, stock, description, quantity, date, price, customer, country in read_canonical(src):
            at = _timestamp(date)
            customer_id = _customer_number(customer)
            writer.writerow((
                invoice, stock, description, quantity,
                f"{at.month}/{at.day}/{at.year} {at.hour}:{at.minute:02d}",
                price, "" if customer_id is None else str(customer_id), country,
            ))


def write_ecommerce_course(src, dest):
    """The course variant Ecommerce.csv: ISO-8859-1, InvoiceDate as the date
    only, '29-Nov-16' (%d-%b-%y, English months) with the year moved
    COURSE_YEAR_SHIFT years on, CustomerID as '17850.0', and a ninth, unnamed
    and empty column (every line, the header too, ends with ',')."""
    handle, writer = _latin1_writer(dest, COLUMNS + ("",))
    with handle:
        for invoice, stock, description, quantity, date, price, customer, country in read_canonical(src):
            at = _timestamp(date)
            year = at.year + COURSE_YEAR_SHIFT
            customer_id = _customer_number(customer)
            writer.writerow((
                invoice, stock, description, quantity,
                f"{at.day:02d}-{MONTHS[at.month - 1]}-{year % 100:02d}",
                price, "" if customer_id is None else f"{customer_id}.0", country, "",
            ))


def _code(text):
    """InvoiceNo / StockCode as UCI's xlsx holds it: a number when all digits
    (and it reads back the same: no leading zero, at most 15 digits), else text."""
    if text.isascii() and text.isdigit() and len(text) <= 15 and (text[0] != "0" or text == "0"):
        return int(text)
    return text


def write_uci_xlsx(src, dest):
    """UCI's Online Retail.xlsx: one sheet 'Online Retail', a header row and
    typed cells: InvoiceNo and StockCode numbers when all digits, else text;
    Description text (no cell when empty); Quantity an integer; InvoiceDate a
    datetime shown as m/d/yyyy h:mm; UnitPrice a number; CustomerID an
    integer (no cell when empty); Country text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(XLSX_SHEET)

    def text(value):
        if value == "":
            return None
        if value.startswith("="):
            # openpyxl would write it as a formula; keep it a string.
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
        return value

    sheet.append(list(COLUMNS))
    for invoice, stock, description, quantity, date, price, customer, country in read_canonical(src):
        date_cell = WriteOnlyCell(sheet, _timestamp(date))
        date_cell.number_format = XLSX_DATE_FORMAT
        sheet.append((
            _code(invoice), _code(stock), text(description), int(quantity),
            date_cell, float(price), _customer_number(customer), text(country),
        ))
    workbook.save(dest)


def _canonical_text(column, value):
    """One value of a test's row as the canonical file writes it."""
    if value is None:
        return ""
    if column == "InvoiceDate" and isinstance(value, (datetime.datetime, datetime.date)):
        if not isinstance(value, datetime.datetime):
            value = datetime.datetime(value.year, value.month, value.day)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if column == "CustomerID" and isinstance(value, (int, float)):
        if value != int(value):
            raise ValueError(f"CustomerID {value!r} is not a whole number")
        return f"{int(value)}.0"
    if column == "UnitPrice" and isinstance(value, float):
        return repr(value)
    return str(value)


def write_small_canonical(dest, rows):
    """Writes rows to dest as a canonical file (UTF-8 CSV, gzipped when dest
    ends in .gz). A row is a dict keyed by COLUMNS (a missing key is an empty
    field) or a sequence in COLUMNS order. Values may be strings (written as
    they are), None (empty), numbers, and for InvoiceDate a datetime; a
    numeric CustomerID is written as '17850.0'."""
    with _open_text(dest, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            if isinstance(row, dict):
                unknown = set(row) - set(COLUMNS)
                if unknown:
                    raise ValueError(f"unknown column(s) {sorted(unknown)} in {row}")
                values = [row.get(column) for column in COLUMNS]
            else:
                values = list(row)
                if len(values) != len(COLUMNS):
                    raise ValueError(f"{len(values)} values, expected {len(COLUMNS)}: {row}")
            writer.writerow([_canonical_text(column, value) for column, value in zip(COLUMNS, values)])
