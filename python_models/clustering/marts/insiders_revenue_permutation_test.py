"""Question 8's permutation test: could the Insiders' higher mean gross revenue
come from labelling customers at random? One row; insiders_revenue_difference
reports its p-value."""

import pandas as pd
from insiders.statistics import permutation_p_value, read_customers, revenue_by_group


def model(dbt, session):
    permutations = int(dbt.config.get("resamples"))
    seed = int(dbt.config.get("random_state"))
    customers = read_customers(dbt.ref("customers"))
    insiders, others = revenue_by_group(customers)
    return pd.DataFrame({
        "as_of_date": [customers["as_of_date"].max()],
        "permutations": [permutations],
        "random_state": [seed],
        "p_value": [permutation_p_value(insiders, others, permutations, seed)],
    })
