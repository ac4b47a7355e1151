"""The build on the real Online Retail file reconciles and reproduces the seed."""

from decimal import Decimal

import duckdb
import pytest
from dbt_helpers import DbtProject, real_raw_file

SQL_LAYER = ("--select", "+ledger_reconciliation", "+int_customers_featurized", "--indirect-selection", "cautious")

# The seed notebooks' published silhouettes of the MinMax-scaled feature space.
SEED_SILHOUETTES = {
    "kmeans": {2: 0.686, 3: 0.629, 4: 0.532, 5: 0.519, 6: 0.490},
    "hierarchical": {2: 0.652, 3: 0.622, 4: 0.545, 5: 0.445, 6: 0.435, 7: 0.399},
}


def count_duplicates_in_file(path):
    columns = "InvoiceNo, StockCode, Description, Quantity, UnitPrice, CustomerID, Country"
    with duckdb.connect() as con:
        return con.sql(
            f"select count(*) - count(distinct ({columns})) from read_csv('{path}', all_varchar = true)"
        ).fetchall()


def test_ledger_reconciles_to_the_raw_file(dbt_project):
    project = dbt_project(real_raw_file())
    project.run("build", *SQL_LAYER)
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
        "select count(*), min(customer_id) from marts.invoice_lines where is_guest and disposition = 'sale'"
    )[0][1] is None


def test_seed_profile_reproduces_the_seed(dbt_project):
    project = dbt_project(real_raw_file())
    project.run(
        "build", "--select", "+model_selection", "--indirect-selection", "cautious",
        # As the README says: the profile alone (it samples all of the seed's customers).
        vars={"profile": "seed"},
    )
    # Figures of the seed notebooks, matched by an independent re-implementation.
    customers, revenue = project.query("select count(*), sum(gross_revenue) from intermediate.int_customers_featurized")[0]
    assert customers == 5695
    assert revenue == Decimal("10104658.350")
    assert project.query("select min(customer_id) from intermediate.int_invoice_lines_classified where is_guest") == [(19000,)]
    grid = project.query("select algorithm, n_clusters, silhouette from marts.model_selection where space = 'features'")
    ours = {(algorithm, int(k)): score for algorithm, k, score in grid if k is not None}
    for algorithm, scores in SEED_SILHOUETTES.items():
        for k, seed_score in scores.items():
            assert ours[(algorithm, k)] == pytest.approx(seed_score, abs=0.005), (algorithm, k)


@pytest.fixture(scope="module")
def membership_build(tmp_path_factory):
    project = DbtProject(tmp_path_factory.mktemp("membership"), real_raw_file())
    project.run("build", "--select", "+membership_refreshes", "+insiders_validation", "+customers",
                "--indirect-selection", "cautious")
    return project


def test_membership_targets_on_the_real_file(membership_build):
    """Issue targets, measured by the replay of the monthly refreshes (README, "Membership")."""
    project = membership_build
    refreshes = project.query("select refresh_date, members, member_share, retention from marts.membership_refreshes "
                              "order by refresh_date")
    print("\n".join(f"{day}: {members} members ({share:.1%}), retention {retention}"
                    for day, members, share, retention in refreshes))
    assert len(refreshes) == 13  # the 15th of Dec 2010 to Nov 2011, and the as-of date 2011-12-10
    assert all(retention >= 0.9 for *_, retention in refreshes[1:])
    assert all(share <= 0.2 for _, _, share, _ in refreshes)
    ever, rejoined = project.query("select count(distinct customer_id), count(distinct case when is_rejoin "
                                   "then customer_id end) from marts.membership_replay where is_member")[0]
    assert rejoined <= 0.03 * ever
    # Net value: a customer who returns what they buy is no member, and no member kept less than half.
    assert project.query("select count(*) from marts.customers where is_insider "
                         "and net_revenue < 0.5 * gross_revenue") == [(0,)]
    assert project.query("select is_insider from marts.customers where customer_id = 16446") == [(False,)]
    # Out of time (cutoff 2011-09-09): the members take at least 51 % of the next three months' revenue.
    shares = dict(project.query("select metric, value from marts.insiders_validation "
                                "where measure = 'share_of_revenue_after_cutoff'"))
    print(shares)
    assert shares["members.share_of_revenue_after_cutoff"] >= 0.51


@pytest.mark.xfail(strict=True, reason="not met on the real file: the members take 54.1 % of the next three "
                                       "months' revenue, the same-size tops by RFM score 54.3 % and by past net "
                                       "revenue 55.1 % (README, Membership)")
def test_members_beat_the_same_size_tops_out_of_time(membership_build):
    shares = dict(membership_build.query("select metric, value from marts.insiders_validation "
                                "where measure = 'share_of_revenue_after_cutoff'"))
    assert shares["members.share_of_revenue_after_cutoff"] > max(
        shares["rfm_top_members_size.share_of_revenue_after_cutoff"],
        shares["net_revenue_top_members_size.share_of_revenue_after_cutoff"])
