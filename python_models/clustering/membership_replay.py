"""The program as it ran (or would have run) at every monthly refresh: one row per member, leaver and waiting
customer per refresh date, membership carried from one refresh to the next (insiders/membership.py)."""

from insiders.clustering import read_frame
from insiders.membership import ExitRules, entry_rule, replay


def model(dbt, session):
    exits = dbt.config.get("membership_exit")
    dates = read_frame(dbt.ref("int_membership_refresh_dates"))
    program = dates[dates["is_monthly_refresh"] | dates["is_current"]]["refresh_date"].sort_values().tolist()
    current = dates[dates["is_current"]]["refresh_date"].iloc[0]
    customers = read_frame(dbt.ref("int_customers_at_refreshes").order("refresh_date, customer_id"))
    by_date = dict(tuple(customers.groupby("refresh_date")))
    clusters = read_frame(dbt.ref("customer_clusters"))
    choice = read_frame(dbt.ref("model_selection")).set_index("model_id").loc[clusters["model_id"].iloc[0]]
    qualifies_at = entry_rule(
        choice, dbt.config.get("feature_space"), dbt.config.get("insiders_max_customer_share"),
        dbt.config.get("insiders_max_return_share"), dbt.config.get("random_state"), dbt.config.get("sample_size"),
        dbt.config.get("min_customers"), current, clusters.loc[clusters["is_insider"], "customer_id"],
    )
    return replay(program, lambda date: by_date[date].reset_index(drop=True), qualifies_at,
                  ExitRules(exits["lapse_multiple"], exits["min_lapse_days"], exits["value_quantile"],
                            dbt.config.get("insiders_max_return_share")),
                  dbt.config.get("max_member_share"))
