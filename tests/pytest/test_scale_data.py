"""bench/scale_data.py: N copies of the raw file that keep its distributions exactly."""

import csv
import gzip
import random
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dbt_helpers import PROJECT_DIR, real_raw_file

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
FIRST_AT = datetime(2010, 12, 1, 8, 26)
LAST_AT = datetime(2011, 12, 9, 12, 50)
TIMES = 3


def write_source(path: Path) -> list[list[str]]:
    """A few hundred lines: customers, guests, cancellations, quoted text, invoices at the period's edges."""
    rng = random.Random(7)
    customers = [f"{rng.randint(12346, 18287)}.0" for _ in range(25)]
    products = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2.55"), ("22041", 'RECORD FRAME 7" SINGLE SIZE ', "2.1"),
                ("21506", "FANCY FONT BIRTHDAY CARD, ", "0.42"), ("POST", "POSTAGE", "18.0"), ("M", "Manual", "0.19"),
                ("22423", "REGENCY CAKESTAND 3 TIER", "12.75"), ("B", "Adjust bad debt", "11062.06")]
    countries = ["United Kingdom", "France", "EIRE", "Germany"]
    # The first and last invoices sit on the period's bounds, others near them.
    dates = [FIRST_AT, LAST_AT, FIRST_AT + timedelta(days=1, hours=2), LAST_AT - timedelta(days=2, hours=1)]
    dates += [FIRST_AT + timedelta(minutes=rng.randint(0, 530_000)) for _ in range(76)]
    rows = []
    for number, invoiced_at in enumerate(dates, start=536365):
        customer = "" if number % 5 == 0 else rng.choice(customers)
        prefix = "C" if number % 7 == 3 else ("A" if number == 536400 else "")
        for _ in range(rng.randint(1, 7)):
            stock_code, description, price = rng.choice(products)
            quantity = rng.randint(1, 48) * (-1 if prefix == "C" else 1)
            rows.append([f"{prefix}{number}", stock_code, description, str(quantity),
                         invoiced_at.strftime("%Y-%m-%d %H:%M:%S"), price, customer, rng.choice(countries)])
    with path.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return rows


def scale(source: Path, output: Path, times: int = TIMES, seed: int = 42) -> str:
    result = subprocess.run([sys.executable, "bench/scale_data.py", "--source", str(source), "--times", str(times),
                             "--output", str(output), "--seed", str(seed)],
                            cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    return result.stdout


def read_rows(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == HEADER
    return rows[1:]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """(source rows, output rows in copies of len(source) lines, source path, output path)."""
    folder = tmp_path_factory.mktemp("scale")
    source_rows = write_source(folder / "source.csv")
    output = folder / "scaled.csv"
    stdout = scale(folder / "source.csv", output)
    assert f"{TIMES * len(source_rows):,} lines" in stdout
    rows = read_rows(output)
    copies = [rows[k * len(source_rows):(k + 1) * len(source_rows)] for k in range(TIMES)]
    return source_rows, copies, folder / "source.csv", output


def test_line_count_and_shares_of_returns_and_guests(scaled):
    source, copies, _, _ = scaled
    assert sum(len(copy) for copy in copies) == TIMES * len(source)
    for copy in copies:
        assert len(copy) == len(source)
        assert sum(row[0].startswith("C") for row in copy) == sum(row[0].startswith("C") for row in source) > 0
        assert sum(row[6] == "" for row in copy) == sum(row[6] == "" for row in source) > 0


def test_every_copy_keeps_products_quantities_prices_and_countries(scaled):
    source, copies, _, _ = scaled
    for copy in copies:
        # Line for line, so the multisets of quantities and prices are equal too.
        assert [(r[1], r[2], r[3], r[5], r[7]) for r in copy] == [(r[1], r[2], r[3], r[5], r[7]) for r in source]
        assert Counter(r[3] for r in copy) == Counter(r[3] for r in source)
        assert Counter(r[5] for r in copy) == Counter(r[5] for r in source)


def test_copy_zero_is_the_source(scaled):
    _, _, source_path, output = scaled
    source_text = source_path.read_text()
    assert output.read_text()[:len(source_text)] == source_text


def test_customers_and_invoices_renamed_without_collisions(scaled):
    source, copies, _, _ = scaled
    source_customers = {row[6] for row in source if row[6]}
    customers_per_copy = [{row[6] for row in copy if row[6]} for copy in copies]
    invoices_per_copy = [{row[0] for row in copy} for copy in copies]
    assert len(set().union(*customers_per_copy)) == TIMES * len(source_customers)
    assert len(set().union(*invoices_per_copy)) == TIMES * len({row[0] for row in source})
    for copy in copies:
        for row in copy:
            assert row[6] == "" or (row[6].endswith(".0") and row[6][:-2].isdigit())
            assert row[0].lstrip("AC").isdigit()


def test_each_source_customer_and_invoice_maps_to_one_new_id_per_copy(scaled):
    """So a cancellation keeps the customer of its purchases, and an invoice stays whole."""
    source, copies, _, _ = scaled
    for copy in copies:
        customer_map, invoice_map = defaultdict(set), defaultdict(set)
        for source_row, row in zip(source, copy):
            customer_map[source_row[6]].add(row[6])
            invoice_map[source_row[0]].add(row[0])
            assert row[0].rstrip("0123456789") == source_row[0].rstrip("0123456789")  # "C", "A" or none
        assert all(len(new) == 1 for new in customer_map.values())
        assert all(len(new) == 1 for new in invoice_map.values())
        assert customer_map[""] == {""}
        assert len({next(iter(new)) for new in customer_map.values()}) == len(customer_map)


def test_invoice_dates_move_together_by_whole_days_inside_the_period(scaled):
    source, copies, _, _ = scaled
    shifts = Counter()
    for copy in copies:
        dates_per_invoice = defaultdict(set)
        for source_row, row in zip(source, copy):
            invoiced_at = datetime.fromisoformat(row[4])
            shift = invoiced_at - datetime.fromisoformat(source_row[4])
            assert shift.seconds == 0 and -3 <= shift.days <= 3
            assert FIRST_AT <= invoiced_at <= LAST_AT
            dates_per_invoice[row[0]].add(invoiced_at)
            shifts[shift.days] += 1
        assert all(len(dates) == 1 for dates in dates_per_invoice.values())
    assert len(shifts) >= 5  # the jitter is not a constant


def test_same_seed_gives_the_same_bytes(scaled, tmp_path):
    _, _, source_path, output = scaled
    scale(source_path, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == output.read_bytes()
    scale(source_path, tmp_path / "other_seed.csv", seed=43)
    assert (tmp_path / "other_seed.csv").read_bytes() != output.read_bytes()


def test_gzip_output_holds_the_same_lines(scaled, tmp_path):
    _, _, source_path, output = scaled
    scale(source_path, tmp_path / "scaled.csv.gz")
    assert gzip.decompress((tmp_path / "scaled.csv.gz").read_bytes()) == output.read_bytes()


def test_real_file_twice_doubles_lines_and_revenue(tmp_path):
    source = real_raw_file()
    if not source.name.endswith((".csv", ".csv.gz")):
        pytest.skip(f"the generator reads CSV, not {source.name}")
    output = tmp_path / "online_retail_x2.csv"
    scale(source, output, times=2)
    totals = (
        "select count(*), sum(cast(Quantity as decimal(18, 3)) * cast(UnitPrice as decimal(18, 3)))"
        " from read_csv(?, all_varchar = true)"
    )
    source_lines, source_revenue = duckdb.execute(totals, [str(source)]).fetchone()
    lines, revenue = duckdb.execute(totals, [str(output)]).fetchone()
    assert source_lines == 541_909
    assert lines == 1_083_818
    assert revenue == 2 * source_revenue
