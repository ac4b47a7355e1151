"""The membership rules (insiders/membership.py) on hand-made customer bases, without dbt."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from insiders.membership import ExitRules, exit_conditions, replay

RULES = ExitRules(lapse_multiple=5, min_lapse_days=180, value_quantile=0.5, max_return_share=0.5)


def base(**columns) -> pd.DataFrame:
    """Ten customers (ids 1..10); customer 1 is a good one unless columns say otherwise."""
    frame = pd.DataFrame({
        "customer_id": np.arange(1, 11),
        "gross_revenue": [5000.0] + [100.0 * i for i in range(1, 10)],
        "net_revenue": [5000.0] + [100.0 * i for i in range(1, 10)],
        "net_revenue_12m": [5000.0] + [100.0 * i for i in range(1, 10)],
        "recency_days": [5] + [30] * 9,
        "avg_days_between_purchases": [20.0] + [np.nan] * 9,
    })
    for name, values in columns.items():
        frame[name] = values
    return frame


DATES = [date(2011, month, 15) for month in range(1, 13)]


def run(bases: list[pd.DataFrame], qualified: list[set], max_share: float = 0.2) -> pd.DataFrame:
    return replay(DATES[:len(bases)], lambda day: bases[DATES.index(day)].copy(),
                  lambda day, customers: customers["customer_id"].isin(qualified[DATES.index(day)]).to_numpy(),
                  RULES, max_share)


def changes(result: pd.DataFrame, refresh: int) -> dict:
    rows = result[result.refresh_date == DATES[refresh]]
    return dict(zip(rows.customer_id, rows.membership_change))


def test_a_member_who_no_longer_qualifies_stays_until_an_exit_condition():
    result = run([base(), base(recency_days=[60] + [30] * 9)], [{1}, set()])
    assert changes(result, 0) == {1: "joined"}
    assert changes(result, 1) == {1: "stayed"}  # 60 days without a purchase, limit max(180, 5 x 20) = 180


def test_lapsed_member_leaves_with_the_condition_named():
    result = run([base(), base(recency_days=[181] + [30] * 9)], [{1}, {1}])
    left = result[result.membership_change == "left"]
    assert left.customer_id.tolist() == [1]
    assert left.reason.iloc[0] == "lapsed: no purchase for 181 days (limit 180)"
    assert not left.is_member.iloc[0]


def test_own_interval_sets_the_lapse_limit():
    # Buys every 60 days: 5 x 60 = 300 days allowed.
    slow = base(avg_days_between_purchases=[60.0] + [np.nan] * 9)
    result = run([slow, slow.assign(recency_days=[250] + [30] * 9), slow.assign(recency_days=[301] + [30] * 9)],
                 [{1}, set(), set()])
    assert [changes(result, date)[1] for date in range(3)] == ["joined", "stayed", "left"]


def test_low_value_and_returns_are_exit_conditions():
    low = base(net_revenue_12m=[50.0] + [100.0 * i for i in range(1, 10)])
    result = run([base(), low], [{1}, set()])
    assert result[result.membership_change == "left"].reason.iloc[0].startswith(
        "low value: net revenue of the last 12 months £50.00, below the exit threshold")
    returner = base(net_revenue=[2000.0] + [100.0 * i for i in range(1, 10)])
    result = run([base(), returner], [{1}, set()])
    assert result[result.membership_change == "left"].reason.iloc[0] == "returns: kept £2,000.00 of £5,000.00 bought"


def test_exit_conditions_use_the_quantile_of_all_customers():
    exits = exit_conditions(base().set_index("customer_id", drop=False), RULES)
    assert exits.exit_net_revenue_threshold.iloc[0] == pytest.approx(550.0)
    assert exits.is_low_value.sum() == 5


def test_a_full_program_admits_the_highest_net_revenue_first_and_the_rest_wait():
    result = run([base()], [{1, 7, 8, 9}], max_share=0.2)  # room for 2 of 10
    assert changes(result, 0) == {1: "joined", 9: "joined", 7: "waiting", 8: "waiting"}
    assert result[result.is_member].customer_id.tolist() == [1, 9]


def test_who_meets_an_exit_condition_does_not_enter():
    result = run([base()], [{1, 2}])  # 2's 12-month net revenue is below the median
    assert changes(result, 0) == {1: "joined"}


def test_rejoining_is_flagged():
    bases = [base(), base(recency_days=[181] + [30] * 9), base()]
    result = run(bases, [{1}, set(), {1}])
    assert [changes(result, date)[1] for date in range(3)] == ["joined", "left", "joined"]
    assert result.is_rejoin.tolist() == [False, False, True]


def test_nobody_enters_before_there_are_enough_customers_to_cluster():
    from insiders.membership import entry_rule

    few = base().head(3)
    qualifies_at = entry_rule(choice=None, feature_space={}, max_customer_share=0.2, max_return_share=0.5,
                              random_state=0, sample_size=100, min_customers=31)
    assert not qualifies_at(DATES[0], few).any()
