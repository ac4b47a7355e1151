"""Property: whatever the invoice lines, the ledger reconciles and the customer base is right.

Hypothesis draws the shape of a raw file (how many customers, how often a
line is a guest's, a return, a zero or negative price or quantity, a
non-product code such as POST, M or BANK CHARGES, a duplicate, a date out of
range, how many countries) and a seed; the lines are generated from these and
written as a CSV, and a real `dbt build` (load, ledger, clustering, marts) runs
on it. Then:

- ledger_reconciliation adds up to the file: lines, and sum(quantity x price)
  exactly (prices have at most 3 decimals, so exact is "to the tenth of a
  penny"), per disposition as an independent reading of the rules predicts;
- every identified customer with at least one sale line is in
  marts.customers exactly once, and no one else.

A build takes 15-40 s, so few examples run (the explicit one and
INSIDERS_HYPOTHESIS_EXAMPLES generated ones, 3 by default, about a minute in
all: raise it for a deeper run), without shrinking, from a fixed seed. A failing example prints
its shape and seed, and the file stays in the test's folder.
"""

import csv
import datetime
import os
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_helpers import PROJECT_DIR, DbtProject, assert_reconciles
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
FIRST_DAY = datetime.datetime(2011, 1, 3, 8, 0)
DAYS = 340
PRODUCTS = [f"{code}" for code in ("85123A", "71053", "84406B", "22752", "21730", "22633", "84879", "22745",
                                   "22748", "22310", "84969", "22623", "21754", "21755", "21777", "48187")]
COUNTRIES = ["United Kingdom", "France", "Germany", "EIRE", "Spain", "Netherlands", "Australia", "Unspecified"]
MIN_PRICE = Decimal("0.01")  # var min_unit_price of the default profile
MIN_DATE = datetime.date(2000, 1, 1)  # macro invoice_date_range
OUT_OF_RANGE = [datetime.datetime(1900, 1, 1), datetime.datetime(1999, 12, 31, 23, 59),
                datetime.datetime(2099, 6, 1, 12, 0)]


def non_product_codes() -> tuple[list[str], set[str]]:
    with open(PROJECT_DIR / "seeds/non_product_stock_codes.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["stock_code"] for row in rows], {row["stock_code"] for row in rows
                                                 if row["removed_by_default"] == "true"}


shapes = st.fixed_dictionaries({
    "customers": st.integers(60, 110),
    "guest_share": st.sampled_from([0.0, 0.05, 0.3]),
    "return_share": st.sampled_from([0.0, 0.1, 0.3]),
    "odd_price_share": st.sampled_from([0.0, 0.05, 0.2]),
    "odd_quantity_share": st.sampled_from([0.0, 0.05, 0.2]),
    "non_product_share": st.sampled_from([0.0, 0.05, 0.2]),
    "duplicate_share": st.sampled_from([0.0, 0.05, 0.2]),
    "bad_date_share": st.sampled_from([0.0, 0.01, 0.05]),
    "countries": st.integers(1, len(COUNTRIES)),
    "seed": st.integers(0, 2**32 - 1),
})


def generate(shape: dict) -> list[dict]:
    """Invoice lines of the shape: every customer gets one clean sale first (so
    that the clustering has enough customers), then lines of every kind."""
    rng = random.Random(shape["seed"])
    codes, _ = non_product_codes()
    countries = COUNTRIES[:shape["countries"]]
    today = datetime.datetime.combine(datetime.date.today(), datetime.time(9, 0))
    lines, invoice_no = [], 540000

    def price() -> Decimal:
        if rng.random() < shape["odd_price_share"]:
            return rng.choice([Decimal("0"), Decimal("0.001"), Decimal("-1.5"), Decimal("-11062.06")])
        return Decimal(rng.randint(1, 5000)) / rng.choice([100, 100, 1000])

    def quantity(is_return: bool) -> int:
        if rng.random() < shape["odd_quantity_share"]:
            return rng.choice([0, -3, 1, 12000, -1])  # zero, or the sign that does not fit the invoice
        return -rng.randint(1, 24) if is_return else rng.randint(1, 48)

    def when() -> datetime.datetime:
        if rng.random() < shape["bad_date_share"]:
            return rng.choice(OUT_OF_RANGE + [today + datetime.timedelta(days=30)])
        return FIRST_DAY + datetime.timedelta(days=rng.randrange(DAYS), minutes=rng.randrange(600))

    customers = [12346 + 7 * number for number in range(shape["customers"])]
    for customer in customers:
        invoice_no += 1
        lines.append({"InvoiceNo": str(invoice_no), "StockCode": rng.choice(PRODUCTS), "Description": "ITEM",
                      "Quantity": rng.randint(1, 12), "InvoiceDate": FIRST_DAY + datetime.timedelta(
                          days=rng.randrange(DAYS - 100)), "UnitPrice": Decimal(rng.randint(50, 900)) / 100,
                      "CustomerID": customer, "Country": rng.choice(countries)})
    for _ in range(shape["customers"] * 3):
        invoice_no += 1
        is_return = rng.random() < shape["return_share"]
        customer = None if rng.random() < shape["guest_share"] else rng.choice(customers)
        date, country = when(), rng.choice(countries)
        invoice = f"C{invoice_no}" if is_return else str(invoice_no)
        for _ in range(rng.randint(1, 6)):
            line = {"InvoiceNo": invoice, "Quantity": quantity(is_return), "InvoiceDate": date,
                    "UnitPrice": price(), "CustomerID": customer, "Country": country}
            if rng.random() < shape["non_product_share"]:
                line["StockCode"] = rng.choice(codes)
                line["Description"] = "Postage, fees and adjustments"
            else:
                line["StockCode"] = rng.choice(PRODUCTS)
                line["Description"] = rng.choice(["ITEM", "ITEM, RED", "", "CAFÉ SET"])
            lines.append(line)
            if rng.random() < shape["duplicate_share"]:
                lines.append(dict(line))  # the same line again, in the same invoice
    rng.shuffle(lines)
    return lines


def write(path: Path, lines: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for line in lines:
            customer = line["CustomerID"]
            writer.writerow([line["InvoiceNo"], line["StockCode"], line["Description"], line["Quantity"],
                             line["InvoiceDate"].strftime("%Y-%m-%d %H:%M:%S"), str(line["UnitPrice"]),
                             "" if customer is None else f"{customer}.0", line["Country"]])


def expected_ledger(lines: list[dict]) -> tuple[dict, set]:
    """The rules of the default profile read independently of the SQL: lines and
    revenue per disposition, and the identified customers with a sale line."""
    _, removed = non_product_codes()
    today, seen = datetime.date.today(), Counter()
    totals = {disposition: [0, Decimal("0.000")] for disposition in ("sale", "return", "rejected")}
    customers = set()
    for line in lines:
        # A duplicate repeats an earlier line in every column but the time (an empty description is null).
        key = tuple(line[column] if column != "Description" else line[column] or None
                    for column in COLUMNS if column != "InvoiceDate")
        seen[key] += 1
        quantity, day = line["Quantity"], line["InvoiceDate"].date()
        rejected = (
            not MIN_DATE <= day <= today
            or line["StockCode"] in removed
            or line["UnitPrice"] < MIN_PRICE
            or seen[key] > 1
            or quantity == 0
            or (line["InvoiceNo"].startswith("C") and quantity > 0)
        )
        disposition = "rejected" if rejected else "return" if quantity < 0 else "sale"
        totals[disposition][0] += 1
        totals[disposition][1] += quantity * line["UnitPrice"]
        if disposition == "sale" and line["CustomerID"] is not None:
            customers.add(line["CustomerID"])
    return {disposition: (lines, revenue) for disposition, (lines, revenue) in totals.items()}, customers


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("ledger_properties")


@settings(max_examples=int(os.environ.get("INSIDERS_HYPOTHESIS_EXAMPLES", "3")), deadline=None, derandomize=True,
          database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(shape={"customers": 60, "guest_share": 0.3, "return_share": 0.3, "odd_price_share": 0.2,
                "odd_quantity_share": 0.2, "non_product_share": 0.2, "duplicate_share": 0.2,
                "bad_date_share": 0.05, "countries": 8, "seed": 1})
@given(shape=shapes)
def test_ledger_reconciles_and_customers_are_exactly_the_buyers(workdir, shape):
    lines = generate(shape)
    raw = workdir / "invoice_lines.csv"
    write(raw, lines)
    # One folder for every example (dbt parses once); a fresh database each time.
    project = DbtProject(workdir, raw)
    for suffix in ("", ".wal"):
        Path(str(project.database) + suffix).unlink(missing_ok=True)
    result = project.run("build", vars={"max_rejected_share": 1}, check=False)
    assert result.returncode == 0, f"build failed on {shape}:\n{result.stdout[-5000:]}"

    assert_reconciles(project)
    expected, buyers = expected_ledger(lines)
    ledger = {disposition: (lines, revenue) for disposition, lines, revenue in
              project.query("select disposition, lines, revenue from marts.ledger_reconciliation")}
    assert ledger == expected
    raw_revenue = sum((line["Quantity"] * line["UnitPrice"] for line in lines), Decimal("0"))
    assert project.query("select sum(lines), sum(revenue) from marts.ledger_reconciliation")[0] == (
        len(lines), raw_revenue)

    customers = project.query("select customer_id, count(*) from marts.customers group by customer_id")
    assert all(count == 1 for _, count in customers)
    assert {customer for customer, _ in customers} == buyers
    # Lines dated out of range move nothing: the customer base is as of the day after the last good line.
    last_day = max(line["InvoiceDate"].date() for line in lines
                   if MIN_DATE <= line["InvoiceDate"].date() <= datetime.date.today())
    assert project.query("select distinct as_of_date from marts.customers") == [
        (last_day + datetime.timedelta(days=1),)]
