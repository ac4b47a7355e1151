"""What makes a customer eligible: a shallow decision tree that reproduces is_insider."""

from insiders.clustering import entry_rules, read_frame


def model(dbt, session):
    features = dbt.config.get("feature_space")["features"]
    customers = read_frame(dbt.ref("int_customers_featurized").order("customer_id"))
    clusters = read_frame(dbt.ref("customer_clusters").order("customer_id"))
    return entry_rules(
        customers[features].astype(float),
        clusters["is_insider"].to_numpy(),
        dbt.config.get("insiders_rules_depth"),
        dbt.config.get("random_state"),
    )
