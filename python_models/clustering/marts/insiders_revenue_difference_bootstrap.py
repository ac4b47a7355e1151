"""Question 8's bootstrap distribution: the difference of mean gross revenue
(Insiders - others) in every resample, the same resamples as the interval of
insiders_revenue_difference (same seed, same count)."""

import numpy as np
import pandas as pd
from insiders.clustering import read_frame
from insiders.statistics import bootstrap_difference


def model(dbt, session):
    resamples = int(dbt.config.get("resamples"))
    seed = int(dbt.config.get("random_state"))
    # In customer order, as in insiders_revenue_difference.
    customers = read_frame(dbt.ref("customers").select("customer_id, is_insider, gross_revenue").order("customer_id"))
    is_insider = customers["is_insider"].fillna(False).astype(bool)
    result = bootstrap_difference(customers.loc[is_insider, "gross_revenue"].to_numpy(float),
                                  customers.loc[~is_insider, "gross_revenue"].to_numpy(float), resamples, seed)
    return pd.DataFrame({"resample_id": np.arange(1, resamples + 1), "difference": result.bootstrap_distribution})
