"""The chosen model, trained: every customer's cluster (1 = most revenue per customer) and Insiders flag."""

import pandas as pd
from insiders.clustering import choose_model, fit_model, insider_clusters, rank_clusters, space_matrices


def model(dbt, session):
    rule = dbt.config.get("model_choice")
    random_state = dbt.config.get("random_state")
    customers = dbt.ref("int_customers_featurized").order("customer_id").df()
    spaces = space_matrices(dbt.ref("customer_feature_space").df(), dbt.ref("customer_embeddings").df())
    choice = choose_model(
        dbt.ref("model_selection").df(), rule["spaces"], rule["algorithms"], rule["min_clusters"], rule["max_clusters"]
    )
    labels = fit_model(choice, spaces[choice.space], random_state)
    cluster_ids = rank_clusters(labels, customers["gross_revenue"].to_numpy(dtype=float))
    insiders = insider_clusters(cluster_ids, dbt.config.get("insiders_max_customer_share"))
    return pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy(),
        "cluster_id": cluster_ids.astype("int32"),
        "is_insider": pd.Series(cluster_ids).isin(insiders).to_numpy(),
        "model_id": int(choice.model_id),
        "space": choice.space,
        "algorithm": choice.algorithm,
    })
