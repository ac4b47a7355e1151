"""The chosen model, trained on the sample: every customer's cluster (1 = most net revenue per customer) and
whether they qualify as Insiders (the program's entry; membership itself is carried by membership_replay)."""

import pandas as pd
from insiders.clustering import (
    choose_model,
    insider_clusters,
    is_eligible,
    label_everyone,
    rank_clusters,
    read_frame,
    sample_embeddings,
    sample_rows,
)


def model(dbt, session):
    rule = dbt.config.get("model_choice")
    random_state = dbt.config.get("random_state")
    customers = read_frame(
        dbt.ref("int_customers_featurized").order("customer_id").select("customer_id, gross_revenue, net_revenue")
    )
    feature_space = read_frame(dbt.ref("customer_feature_space").order("customer_id"))
    choice = choose_model(
        read_frame(dbt.ref("model_selection")),
        rule["spaces"], rule["algorithms"], rule["min_clusters"], rule["max_clusters"],
    )
    sample = sample_rows(len(feature_space), dbt.config.get("sample_size"), random_state)
    # The chosen space's coordinates as the grid scored them (none when it clusters the features).
    coordinates = sample_embeddings(feature_space, sample, read_frame(dbt.ref("customer_embeddings"))).get(choice.space)
    labels = label_everyone(
        choice, feature_space.drop(columns="customer_id").to_numpy(dtype=float), sample, random_state, coordinates
    )
    cluster_ids = rank_clusters(labels, customers["net_revenue"].to_numpy(dtype=float))
    insiders = insider_clusters(cluster_ids, dbt.config.get("insiders_max_customer_share"))
    eligible = is_eligible(customers["net_revenue"].to_numpy(dtype=float), customers["gross_revenue"].to_numpy(dtype=float),
                           dbt.config.get("insiders_max_return_share"))
    return pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy(),
        "cluster_id": cluster_ids.astype("int32"),
        "is_insider": pd.Series(cluster_ids).isin(insiders).to_numpy() & eligible,
        "model_id": int(choice.model_id),
        "space": choice.space,
        "algorithm": choice.algorithm,
    })
