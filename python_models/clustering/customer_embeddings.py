"""2-D coordinates of every customer in every space: one row per customer and space."""

import pandas as pd
from insiders.clustering import embed_all


def model(dbt, session):
    feature_space = dbt.ref("customer_feature_space").order("customer_id").df()
    customers = dbt.ref("int_customers_featurized").order("customer_id").df()
    coordinates = embed_all(
        dbt.config.get("spaces"),
        feature_space.drop(columns="customer_id"),
        customers["gross_revenue"].to_numpy(dtype=float),
        dbt.config.get("random_state"),
    )
    return pd.concat(
        [
            pd.DataFrame({
                "customer_id": feature_space["customer_id"].to_numpy(),
                "space": space,
                "x": xy[:, 0],
                "y": xy[:, 1],
            })
            for space, xy in coordinates.items()
        ],
        ignore_index=True,
    )
