"""Question 8's bootstrap distribution: the difference of mean gross revenue
(Insiders - others) in every resample; insiders_revenue_difference takes its
interval from it."""

import numpy as np
import pandas as pd
from insiders.statistics import bootstrap_difference, read_customers, revenue_by_group


def model(dbt, session):
    resamples = int(dbt.config.get("resamples"))
    seed = int(dbt.config.get("random_state"))
    customers = read_customers(dbt.ref("customers"))
    result = bootstrap_difference(*revenue_by_group(customers), resamples, seed)
    return pd.DataFrame({"resample_id": np.arange(1, resamples + 1), "difference": result.bootstrap_distribution})
