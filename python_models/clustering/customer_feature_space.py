"""The features chosen for clustering, rescaled: one row per customer."""

import pandas as pd
from insiders.workers import start_workers


def model(dbt, session):
    # The next models' worker processes import scikit-learn while this one does.
    start_workers()
    from insiders.clustering import feature_matrix, read_frame

    settings = dbt.config.get("feature_space")
    customers = read_frame(dbt.ref("int_customers_featurized").order("customer_id"))
    scaled = feature_matrix(customers, settings["features"], settings["log_features"], settings["scaler"])
    frame = pd.DataFrame(scaled, columns=settings["features"])
    frame.insert(0, "customer_id", customers["customer_id"].to_numpy())
    return frame
