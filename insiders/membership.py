"""Insiders as a membership carried from refresh to refresh.

Entry: the clustering's Insiders (customer_clusters' rule, applied to the
customer base of the refresh date), while the program has room. Exit, looser
than entry and about truly lapsing: a member leaves only when they have not
bought for longer than `lapse_multiple` times their own usual interval
between purchases (and never sooner than `min_lapse_days`), when their net
revenue of the last 12 months fell below the `value_quantile` of all
customers' (the median by default: far below any Insiders cluster), or when
they have returned more than the entry rule allows (value is what a customer
keeps).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ExitRules:
    lapse_multiple: float
    min_lapse_days: int
    value_quantile: float
    max_return_share: float


def exit_rules(exit_config: dict, max_return_share: float) -> ExitRules:
    """The var membership.exit, with the entry rule's return limit."""
    return ExitRules(exit_config["lapse_multiple"], exit_config["min_lapse_days"], exit_config["value_quantile"],
                     max_return_share)


def customers_by_date(customers_at_refreshes) -> Callable[[object], pd.DataFrame]:
    """customers_at(date) for replay: the rows of one date of
    int_customers_at_refreshes (a DuckDB relation), read when the replay
    reaches that date. Reading all dates at once held the table about three
    times (Arrow, its float copy, pandas) in each of the two models that
    replay, at the same time: 2.5 GiB more at 100 times the data."""
    from insiders.clustering import read_frame

    def customers_at(date) -> pd.DataFrame:
        day = pd.Timestamp(date).date().isoformat()
        return read_frame(customers_at_refreshes.filter(f"refresh_date = date '{day}'").order("customer_id"))

    return customers_at


COLUMNS = ["refresh_date", "customer_id", "is_member", "membership_change", "reason", "is_rejoin",
           "recency_days", "lapse_limit_days", "net_revenue_12m", "exit_net_revenue_threshold"]


def exit_conditions(customers: pd.DataFrame, rules: ExitRules) -> pd.DataFrame:
    """Per customer (indexed like customers): the lapse limit in days, whether
    it is passed, the value threshold, whether net revenue is below it, and
    whether the customer has returned more than the entry rule allows."""
    interval = customers["avg_days_between_purchases"].astype(float)
    limit = np.maximum(rules.min_lapse_days, (rules.lapse_multiple * interval).fillna(0))
    threshold = float(customers["net_revenue_12m"].astype(float).quantile(rules.value_quantile))
    return pd.DataFrame({
        "lapse_limit_days": limit,
        "is_lapsed": customers["recency_days"] > limit,
        "exit_net_revenue_threshold": threshold,
        "is_low_value": customers["net_revenue_12m"].astype(float) < threshold,
        "is_returner": customers["net_revenue"].astype(float)
        < (1 - rules.max_return_share) * customers["gross_revenue"].astype(float),
    }, index=customers.index)


def replay(dates: list, customers_at: Callable[[object], pd.DataFrame],
           qualifies_at: Callable[[object, pd.DataFrame], np.ndarray], rules: ExitRules,
           max_member_share: float) -> pd.DataFrame:
    """Runs the program over the refresh dates in order, carrying membership.

    customers_at(date) gives the customer base at the date (customer_id,
    net_revenue, net_revenue_12m, recency_days, avg_days_between_purchases);
    qualifies_at(date, customers) the entry mask. Returns one row per member,
    leaver and qualified customer left waiting (program full) at each date."""
    members: set = set()
    ever_left: set = set()
    rows: list[pd.DataFrame] = []
    for date in dates:
        customers = customers_at(date)
        customers.index = customers["customer_id"].to_numpy()
        exits = exit_conditions(customers, rules)
        exiting = exits["is_lapsed"] | exits["is_low_value"] | exits["is_returner"]
        current = customers.index.isin(list(members))
        staying = customers.index[current & ~exiting.to_numpy()]
        leaving = customers.index[current & exiting.to_numpy()]
        qualified = customers[qualifies_at(date, customers) & ~current & ~exiting.to_numpy()]
        # Room for newcomers: the program holds at most max_member_share of the customers; the best net revenue first.
        room = max(0, int(np.floor(max_member_share * len(customers))) - len(staying))
        ranked = qualified.sort_values(["net_revenue", "customer_id"], ascending=[False, True], kind="stable").index
        joining, waiting = ranked[:room], ranked[room:]

        def block(ids, is_member, change, reason):
            chosen, chosen_exits = customers.loc[ids], exits.loc[ids]
            return pd.DataFrame({
                "refresh_date": pd.Timestamp(date).date(), "customer_id": chosen["customer_id"].to_numpy(), "is_member": is_member,
                "membership_change": change,
                "reason": reason if isinstance(reason, str) else reason(chosen, chosen_exits),
                "is_rejoin": change == "joined" and chosen.index.isin(list(ever_left)),
                "recency_days": chosen["recency_days"].astype("int64").to_numpy(),
                "lapse_limit_days": chosen_exits["lapse_limit_days"].astype(float).to_numpy(),
                "net_revenue_12m": chosen["net_revenue_12m"].astype(float).to_numpy(),
                "exit_net_revenue_threshold": chosen_exits["exit_net_revenue_threshold"].to_numpy(),
            })

        rows += [
            block(staying, True, "stayed", "no exit condition met"),
            block(joining, True, "joined", "entered: qualifies as an Insider (Insiders cluster, returns within the "
                                           "limit)"),
            block(leaving, False, "left", leave_reasons),
            block(waiting, False, "waiting", "qualifies, but the program is full: enters when there is room"),
        ]
        ever_left |= set(leaving)
        members = set(staying) | set(joining)
    return pd.concat(rows, ignore_index=True)[COLUMNS]


def leave_reasons(customers: pd.DataFrame, exits: pd.DataFrame) -> list[str]:
    """Which exit condition each leaver met, in words."""
    reasons = []
    for recency, revenue, lapsed, limit, low, threshold, returner, net, gross in zip(
            customers["recency_days"], customers["net_revenue_12m"], exits["is_lapsed"], exits["lapse_limit_days"],
            exits["is_low_value"], exits["exit_net_revenue_threshold"], exits["is_returner"],
            customers["net_revenue"], customers["gross_revenue"]):
        met = ([f"lapsed: no purchase for {int(recency)} days (limit {float(limit):g})"] if lapsed else []) + (
            [f"low value: net revenue of the last 12 months £{float(revenue):,.2f}, below the exit threshold "
             f"£{float(threshold):,.2f}"] if low else []) + (
            [f"returns: kept £{float(net):,.2f} of £{float(gross):,.2f} bought"] if returner else [])
        reasons.append("; ".join(met))
    return reasons


def entry_rule(choice: pd.Series, feature_space: dict, max_customer_share: float, max_return_share: float,
               random_state: int, sample_size: int, min_customers: int, current_date=None,
               current_insiders=()) -> Callable:
    """qualifies_at(date, customers) for replay: customer_clusters' rule at the
    current date (its Insiders as they are), the same rule refitted on the
    customer base of any earlier date; nobody qualifies at a date with fewer
    than min_customers customers (too few to cluster: the program starts later)."""
    from insiders.clustering import feature_matrix, is_eligible, select_insiders

    def qualifies_at(date, customers: pd.DataFrame) -> np.ndarray:
        if date == current_date:
            return customers["customer_id"].isin(list(current_insiders)).to_numpy()
        if len(customers) < min_customers:
            return np.zeros(len(customers), dtype=bool)
        features = feature_space["features"]
        scaled = pd.DataFrame(feature_matrix(customers, features, feature_space["log_features"],
                                             feature_space["scaler"]), columns=features)
        net = customers["net_revenue"].to_numpy(dtype=float)
        return (select_insiders(scaled, net, choice, max_customer_share, random_state, sample_size)
                & is_eligible(net, customers["gross_revenue"].to_numpy(dtype=float), max_return_share))

    return qualifies_at
