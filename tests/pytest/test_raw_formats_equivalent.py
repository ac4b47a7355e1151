"""All four formats of the real file give the same ledger and customer features."""

import pytest
import raw_formats
from dbt_helpers import DbtProject, real_raw_file

LEDGER = "select disposition, lines, revenue, customers, raw_lines, raw_revenue from marts.ledger_reconciliation order by 1"
CUSTOMERS = """
    select count(*), sum(gross_revenue), sum(returned_revenue), sum(recency_days), sum(invoices),
        sum(purchase_lines), sum(items), sum(distinct_products), sum(returned_items),
        round(sum(avg_unique_basket_size), 6), sum(rfm_score)
    from intermediate.int_customers_featurized
"""
# The SQL layer only: the clustering does not read the raw file.
SQL_LAYER = ("--select", "+ledger_reconciliation", "+int_customers_featurized", "--indirect-selection", "cautious")


def build(workdir, raw_path):
    project = DbtProject(workdir, raw_path)
    project.run("build", *SQL_LAYER)
    return project.query(LEDGER), project.query(CUSTOMERS)


@pytest.fixture(scope="module")
def canonical(tmp_path_factory):
    return build(tmp_path_factory.mktemp("canonical"), real_raw_file())


@pytest.mark.parametrize(
    "writer, name",
    [
        (raw_formats.write_ecommerce_data, "data.csv"),
        (raw_formats.write_ecommerce_course, "Ecommerce.csv"),
        (raw_formats.write_uci_xlsx, "Online Retail.xlsx"),
    ],
)
def test_format_gives_the_canonical_results(tmp_path, canonical, writer, name):
    raw_path = tmp_path / name
    writer(real_raw_file(), raw_path)
    assert build(tmp_path, raw_path) == canonical
