"""The program as it ran (or would have run) at every monthly refresh: one row per member, leaver and waiting
customer per refresh date, membership carried from one refresh to the next (insiders/membership.py)."""

from insiders.clustering import read_frame
from insiders.membership import customers_by_date, entry_rule, exit_rules, replay


def model(dbt, session):
    dates = read_frame(dbt.ref("int_membership_refresh_dates"))
    program = dates[dates["is_monthly_refresh"] | dates["is_current"]]["refresh_date"].sort_values().tolist()
    current = dates[dates["is_current"]]["refresh_date"].iloc[0]
    clusters = read_frame(dbt.ref("customer_clusters"))
    choice = read_frame(dbt.ref("model_selection")).set_index("model_id").loc[clusters["model_id"].iloc[0]]
    qualifies_at = entry_rule(
        choice, dbt.config.get("feature_space"), dbt.config.get("insiders_max_customer_share"),
        dbt.config.get("insiders_max_return_share"), dbt.config.get("random_state"), dbt.config.get("sample_size"),
        dbt.config.get("min_customers"), current, clusters.loc[clusters["is_insider"], "customer_id"],
    )
    membership = dbt.config.get("membership")
    return replay(program, customers_by_date(dbt.ref("int_customers_at_refreshes")), qualifies_at,
                  exit_rules(membership["exit"], dbt.config.get("insiders_max_return_share")),
                  membership["max_member_share"])
