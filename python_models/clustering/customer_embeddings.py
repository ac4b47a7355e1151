"""2-D coordinates of the sampled customers in every space: one row per customer and space."""

import pandas as pd
from insiders.clustering import embed_all, read_frame, sample_rows


def model(dbt, session):
    random_state = dbt.config.get("random_state")
    feature_space = read_frame(dbt.ref("customer_feature_space").order("customer_id"))
    revenue = read_frame(dbt.ref("int_customers_featurized").order("customer_id").select("net_revenue"))
    revenue = revenue["net_revenue"]
    # t-SNE, UMAP and the grid's distance matrix grow with the square of the
    # customers: they see a fixed-size seeded sample (everyone when smaller).
    sample = sample_rows(len(feature_space), dbt.config.get("sample_size"), random_state)
    sampled = feature_space.iloc[sample]
    coordinates = embed_all(
        dbt.config.get("embedding_spaces"),
        sampled.drop(columns="customer_id").reset_index(drop=True),
        revenue.to_numpy(dtype=float)[sample],
        random_state,
    )
    return pd.concat(
        [
            pd.DataFrame({
                "customer_id": sampled["customer_id"].to_numpy(),
                "space": space,
                "x": xy[:, 0],
                "y": xy[:, 1],
            })
            for space, xy in coordinates.items()
        ],
        ignore_index=True,
    )
