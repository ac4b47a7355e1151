"""Question 8: how much more an Insider spends than another customer (mean gross
revenue), with a bootstrap interval and a permutation test. One row."""

import pandas as pd
from joblib import Parallel, delayed
from insiders.clustering import read_frame
from insiders.statistics import bootstrap_difference, permutation_p_value


def model(dbt, session):
    resamples = int(dbt.config.get("resamples"))
    seed = int(dbt.config.get("random_state"))
    # In customer order: the resamples, and so the interval, depend on the order of the rows, and the
    # mart's stored order changes from build to build.
    customers = read_frame(dbt.ref("customers").select("customer_id, as_of_date, is_insider, gross_revenue")
                           .order("customer_id"))
    is_insider = customers["is_insider"].fillna(False).astype(bool)
    insiders = customers.loc[is_insider, "gross_revenue"].to_numpy(float)
    others = customers.loc[~is_insider, "gross_revenue"].to_numpy(float)
    # Two processes: each statistic draws its resamples one at a time (the same seed gives the
    # same numbers as a plain loop), tens of seconds each at 100 times the data.
    bootstrap, p_value = Parallel(n_jobs=2)([
        delayed(bootstrap_difference)(insiders, others, resamples, seed),
        delayed(permutation_p_value)(insiders, others, resamples, seed),
    ])
    interval = bootstrap.confidence_interval
    return pd.DataFrame({
        "as_of_date": [customers["as_of_date"].max()],
        "insiders": [insiders.size],
        "others": [others.size],
        "insiders_mean_gross_revenue": [insiders.mean()],
        "others_mean_gross_revenue": [others.mean()],
        "difference": [insiders.mean() - others.mean()],
        "difference_low": [float(interval.low)],
        "difference_high": [float(interval.high)],
        "resamples": [resamples],
        "random_state": [seed],
        "permutation_p_value": [p_value],
    })
