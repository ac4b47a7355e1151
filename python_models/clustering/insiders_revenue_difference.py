"""Question 8: how much more an Insider spends than another customer (mean gross
revenue), with a bootstrap interval and a permutation test. One row."""

import pandas as pd
from insiders.clustering import read_frame
from insiders.statistics import bootstrap_difference, permutation_p_value


def model(dbt, session):
    resamples = int(dbt.config.get("resamples"))
    seed = int(dbt.config.get("random_state"))
    # The mart's stored order: the resamples, and so the interval, depend on it.
    customers = read_frame(dbt.ref("customers").select("as_of_date, is_insider, gross_revenue"))
    is_insider = customers["is_insider"].fillna(False).astype(bool)
    insiders = customers.loc[is_insider, "gross_revenue"].to_numpy(float)
    others = customers.loc[~is_insider, "gross_revenue"].to_numpy(float)
    interval = bootstrap_difference(insiders, others, resamples, seed).confidence_interval
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
        "permutation_p_value": [permutation_p_value(insiders, others, resamples, seed)],
    })
