"""The full build on the real Online Retail file reconciles and reproduces the seed."""

from decimal import Decimal

import duckdb
from conftest import real_raw_file


def count_duplicates_in_file(path):
    columns = "InvoiceNo, StockCode, Description, Quantity, UnitPrice, CustomerID, Country"
    with duckdb.connect() as con:
        return con.sql(
            f"select count(*) - count(distinct ({columns})) from read_csv('{path}', all_varchar = true)"
        ).fetchall()


def test_ledger_reconciles_to_the_raw_file(dbt_project):
    project = dbt_project(real_raw_file())
    project.run("build")
    dispositions = {
        row[0]: row[1:]
        for row in project.query("select disposition, lines, revenue, raw_lines, raw_revenue from marts.ledger_reconciliation")
    }
    assert set(dispositions) == {"sale", "return", "rejected"}
    # The data set's published checks (shared/data/README.md).
    raw_lines, raw_revenue = next(iter(dispositions.values()))[2:]
    assert raw_lines == 541_909
    assert round(raw_revenue, 2) == Decimal("9747747.93")
    assert sum(lines for lines, *_ in dispositions.values()) == raw_lines
    assert sum(revenue for _, revenue, *_ in dispositions.values()) == raw_revenue
    # Duplicates, counted straight from the file: same invoice, same columns but the time.
    assert project.query("select count(*) from intermediate.int_invoice_lines_classified where is_duplicate") == (
        count_duplicates_in_file(real_raw_file())
    )
    # Guests are sales without a customer; no invented ids.
    assert project.query(
        "select count(*), min(customer_id) from marts.fct_invoice_lines where is_guest and disposition = 'sale'"
    )[0][1] is None


def test_seed_profile_reproduces_the_seed_customer_base(dbt_project):
    project = dbt_project(real_raw_file())
    project.run("build", vars={"profile": "seed"})
    # Figures of the seed notebooks, matched by an independent re-implementation.
    customers, revenue = project.query("select count(*), sum(gross_revenue) from marts.dim_customers")[0]
    assert customers == 5695
    assert revenue == Decimal("10104658.350")
    assert project.query("select min(customer_id) from marts.fct_invoice_lines where is_guest") == [(19000,)]
