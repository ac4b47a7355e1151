"""Question 8: how much more an Insider spends than another customer (mean gross
revenue), with the bootstrap interval and the permutation test's p-value. One row.

The two statistics are models of their own (insiders_revenue_difference_bootstrap,
insiders_revenue_permutation_test), which dbt runs side by side: each draws its
resamples one at a time, tens of seconds at 100 times the data."""

import pandas as pd
from insiders.clustering import read_frame
from insiders.statistics import percentile_interval, read_customers, revenue_by_group


def model(dbt, session):
    # As the statistics read them: the means add up in the same order.
    customers = read_customers(dbt.ref("customers"))
    insiders, others = revenue_by_group(customers)
    distribution = read_frame(dbt.ref("insiders_revenue_difference_bootstrap").select("difference"))["difference"]
    low, high = percentile_interval(distribution.to_numpy(float))
    test = read_frame(dbt.ref("insiders_revenue_permutation_test")).iloc[0]
    return pd.DataFrame({
        "as_of_date": [customers["as_of_date"].max()],
        "insiders": [insiders.size],
        "others": [others.size],
        "insiders_mean_gross_revenue": [insiders.mean()],
        "others_mean_gross_revenue": [others.mean()],
        "difference": [insiders.mean() - others.mean()],
        "difference_low": [low],
        "difference_high": [high],
        "resamples": [distribution.size],
        "random_state": [int(test["random_state"])],
        "permutation_p_value": [float(test["p_value"])],
    })
