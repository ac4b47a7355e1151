"""Do Insiders stay the best customers? The out-of-time check and the stability of the rule."""

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from insiders.clustering import (
    bootstrap_ari,
    feature_matrix,
    is_eligible,
    min_pairwise_jaccard,
    next_period_groups,
    read_frame,
    sample_embeddings,
    sample_rows,
    select_insiders,
)
from insiders.membership import customers_by_date, entry_rule, exit_rules, replay


def model(dbt, session):
    settings = dbt.config.get("feature_space")
    max_share = dbt.config.get("insiders_max_customer_share")
    max_return_share = dbt.config.get("insiders_max_return_share")
    random_state = dbt.config.get("random_state")
    sample_size = dbt.config.get("sample_size")
    membership_settings = dbt.config.get("membership")
    clusters = read_frame(dbt.ref("customer_clusters").order("customer_id"))
    choice = read_frame(dbt.ref("model_selection")).set_index("model_id").loc[clusters["model_id"].iloc[0]]

    # Out of time: the customer base at the cutoff, Insiders picked by the
    # same rule, and what everyone spent in the months after.
    past = read_frame(dbt.ref("int_customers_featurized_at_cutoff").order("customer_id"))
    after = read_frame(dbt.ref("int_customers_revenue_around_cutoff"))
    scaled_past = pd.DataFrame(
        feature_matrix(past, settings["features"], settings["log_features"], settings["scaler"]),
        columns=settings["features"],
    )
    past_revenue = past["net_revenue"].to_numpy(dtype=float)
    insiders_then = select_insiders(scaled_past, past_revenue, choice, max_share, random_state, sample_size) & is_eligible(
        past_revenue, past["gross_revenue"].to_numpy(dtype=float), max_return_share)
    by_customer = after.set_index("customer_id")
    spent = past["customer_id"].map(by_customer["revenue_after_cutoff"]).fillna(0).to_numpy(float)
    spent_before = past["customer_id"].map(by_customer["revenue_before_cutoff"]).fillna(0).to_numpy(float)
    total_after = float(after["revenue_after_cutoff"].astype(float).sum())
    groups = next_period_groups(insiders_then, past["rfm_score"].to_numpy(), past_revenue, max_share, random_state)
    per_customer = {name: spent[mask].mean() for name, mask in groups.items()}
    rows = [
        # The naive forecast made at the cutoff (the last months repeat) and what came.
        ("insiders", "revenue_before_cutoff", spent_before[insiders_then].sum(), None, None),
        ("insiders", "revenue_after_cutoff", spent[insiders_then].sum(), None, None),
    ]
    for name, mask in groups.items():
        rows += [
            (name, "customers", int(mask.sum()), None, None),
            (name, "share_of_customers", mask.mean(), f"<= {max_share}" if name == "insiders" else None,
             bool(mask.mean() <= max_share + 1e-9) if name == "insiders" else None),
            (name, "share_of_revenue_after_cutoff", spent[mask].sum() / total_after,
             ">= 0.5" if name == "insiders" else None,
             bool(spent[mask].sum() / total_after >= 0.5) if name == "insiders" else None),
            (name, "revenue_after_cutoff_per_customer", per_customer[name],
             "> rfm_top and > random" if name == "insiders" else None,
             bool(per_customer[name] > max(per_customer["rfm_top"], per_customer["random"]))
             if name == "insiders" else None),
        ]

    # The program as it would have stood at the cutoff: the membership replayed over the monthly refreshes before
    # it, then the cutoff; its members against the top of the same size by RFM score and by past net revenue.
    dates = read_frame(dbt.ref("int_membership_refresh_dates"))
    cutoff = dates[dates["is_validation_cutoff"]]["refresh_date"].iloc[0]
    replay_dates = sorted(dates[dates["is_monthly_refresh"] & (dates["refresh_date"] < cutoff)]["refresh_date"]) + [cutoff]
    membership = replay(
        replay_dates, customers_by_date(dbt.ref("int_customers_at_refreshes")),
        entry_rule(choice, settings, max_share, max_return_share, random_state, sample_size,
                   dbt.config.get("min_customers")),
        exit_rules(membership_settings["exit"], max_return_share),
        membership_settings["max_member_share"],
    )
    final = membership[(membership["refresh_date"] == membership["refresh_date"].max()) & membership["is_member"]]
    members_then = past["customer_id"].isin(final["customer_id"]).to_numpy()
    size = int(members_then.sum())
    rows_of = np.arange(len(past))
    programs = {
        "members": members_then,
        "rfm_top_members_size": np.isin(rows_of, np.lexsort((-past_revenue, -past["rfm_score"].to_numpy()))[:size]),
        "net_revenue_top_members_size": np.isin(rows_of, np.argsort(-past_revenue, kind="stable")[:size]),
    }
    shares = {name: spent[mask].sum() / total_after for name, mask in programs.items()}
    for name, mask in programs.items():
        rows += [
            (name, "customers", size, None, None),
            (name, "share_of_customers", mask.mean(), None, None),
            (name, "share_of_revenue_after_cutoff", shares[name], ">= 0.51" if name == "members" else None,
             bool(shares[name] >= 0.51) if name == "members" else None),
        ]
    rows.append(("members", "share_of_revenue_after_cutoff_vs_same_size_tops", shares["members"],
                 "> rfm_top_members_size and > net_revenue_top_members_size",
                 bool(shares["members"] > max(shares["rfm_top_members_size"], shares["net_revenue_top_members_size"]))))

    # Stability today: other random states (model and sample), and bootstrap
    # resamples of the sample.
    customers = read_frame(
        dbt.ref("int_customers_featurized").order("customer_id").select("customer_id, gross_revenue, net_revenue")
    )
    feature_space = read_frame(dbt.ref("customer_feature_space").order("customer_id"))
    revenue = customers["net_revenue"].to_numpy(dtype=float)
    # One random state per process, two at a time.
    states = dbt.config.get("validation_random_states")
    selections = Parallel(n_jobs=2)(
        delayed(select_insiders)(feature_space.drop(columns="customer_id"), revenue, choice, max_share, state,
                                 sample_size)
        for state in states
    )
    eligible = is_eligible(revenue, customers["gross_revenue"].to_numpy(dtype=float), max_return_share)
    insider_sets = [set(customers["customer_id"][selected & eligible]) for selected in selections]
    sample = sample_rows(len(feature_space), sample_size, random_state)
    sampled = feature_space.iloc[sample]
    in_space = sample_embeddings(feature_space, sample, read_frame(dbt.ref("customer_embeddings"))).get(
        choice.space, sampled.drop(columns="customer_id").to_numpy(dtype=float))
    sampled_clusters = clusters[clusters["customer_id"].isin(sampled["customer_id"])]
    aris = bootstrap_ari(choice, in_space, sampled_clusters["cluster_id"].to_numpy(),
                         dbt.config.get("validation_bootstrap_resamples"), random_state)
    jaccard = min_pairwise_jaccard(insider_sets)
    rows += [
        ("stability", "random_state_jaccard_min", jaccard, ">= 0.9", bool(jaccard >= 0.9)),
        ("stability", "bootstrap_ari_mean", float(np.mean(aris)), ">= 0.8", bool(np.mean(aris) >= 0.8)),
        ("stability", "bootstrap_ari_min", float(np.min(aris)), None, None),
    ]
    frame = pd.DataFrame(rows, columns=["population", "measure", "value", "goal", "meets_goal"])
    frame.insert(0, "metric", frame["population"] + "." + frame["measure"])
    frame["value"] = frame["value"].astype(float)
    frame["cutoff_date"] = after["cutoff_date"].iloc[0] if len(after) else None
    frame["horizon_end_date"] = after["horizon_end_date"].iloc[0] if len(after) else None
    return frame
