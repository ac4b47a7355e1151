"""The sections of the page, in order: ONE list (SECTIONS) from which the page and
its navigation are built. Each render formats marts; it computes nothing."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insiders.report.formatting import (
    GUESTS_COLOR,
    INSIDERS_COLOR,
    OTHERS_COLOR,
    chart,
    day_label,
    formatted,
    missing,
    money,
    month_label,
    number,
    paragraph,
    percent,
    table,
    tagged,
    verdict,
)
from insiders.report.marts import Marts

POPULATIONS = ["insiders", "rfm_top", "random", "rfm_top_same_size"]

# The features a person compares Insiders on (mart insiders_feature_comparison): column -> (label, kind).
FEATURES = {
    "gross_revenue": ("Gross revenue", "money"),
    "net_revenue": ("Net revenue", "money"),
    "recency_days": ("Days since last purchase", "number"),
    "invoices": ("Invoices", "number"),
    "items": ("Items bought", "number"),
    "distinct_products": ("Distinct products", "number"),
    "avg_ticket": ("Average ticket", "money"),
    "avg_basket_size": ("Items per invoice", "number"),
    "purchase_frequency": ("Invoices per active day", "decimal"),
    "returned_items": ("Items returned", "number"),
}


def eligible(marts: Marts, csv_link: str) -> str:
    """1. Who is eligible: the top 50 Insiders, and the whole list as CSV."""
    rows = [[rank, int(c.customer_id), money(c.gross_revenue), money(c.net_revenue), number(c.invoices),
             number(c.recency_days), money(c.avg_ticket), c.rfm_segment]
            for rank, c in enumerate(marts.top_insiders.itertuples(), start=1)]
    clusters = marts.insider_profiles.cluster_name
    link = (f'<a href="{html.escape(csv_link, quote=True)}" data-testid="insiders-csv-link">'
            f"the full list of {int(marts.summary.insiders):,} Insiders (CSV)</a>")
    return (
        paragraph(f"Insiders are the customers of the best cluster(s) by revenue per customer: "
                  f"{html.escape(', '.join(clusters))}, computed from purchases before "
                  f"{tagged('as-of-date', day_label(marts.summary.as_of_date))}. Download {link}. "
                  f"The 50 largest by gross revenue:")
        + table(rows, ["#", "Customer", "Gross revenue", "Net revenue", "Invoices", "Days since last purchase",
                       "Average ticket", "RFM segment"], testid="top-insiders")
    )


def how_many(marts: Marts, csv_link: str) -> str:
    """2. How many: count and share of customers."""
    summary = marts.summary
    return paragraph(f"{tagged('insiders-count', number(summary.insiders))} Insiders out of "
                     f"{tagged('customers-count', number(summary.customers))} identified customers: "
                     f"{tagged('insiders-share-of-customers', percent(summary.insiders_share_of_customers))} of the "
                     f"customer base.")


def profile(marts: Marts, csv_link: str) -> str:
    """3. Main characteristics: mean of each feature, Insiders against the rest."""
    features = marts.features.set_index("feature")
    insiders, others = features.insiders_mean, features.others_mean
    rows = [[FEATURES[f.Index][0], formatted(f.insiders_mean, FEATURES[f.Index][1]),
             formatted(f.others_mean, FEATURES[f.Index][1]),
             "n/a" if missing(f.insiders_to_others) else f"{f.insiders_to_others:.2f}×"]
            for f in features.itertuples()]
    figure = make_subplots(rows=2, cols=5, subplot_titles=[FEATURES[f][0] for f in features.index],
                           vertical_spacing=0.18)
    for i, column in enumerate(features.index):
        figure.add_bar(x=["Insiders", "Others"], y=[insiders[column], others[column]], row=i // 5 + 1,
                       col=i % 5 + 1, marker_color=[INSIDERS_COLOR, OTHERS_COLOR], showlegend=False,
                       hovertemplate="%{x}: %{y:,.2f}<extra></extra>")
        if FEATURES[column][1] == "money":
            figure.update_yaxes(tickprefix="£", row=i // 5 + 1, col=i % 5 + 1)
    figure.update_layout(title="Mean per customer: Insiders vs other customers")
    return (
        paragraph(f"An average Insider spent {tagged('insiders-mean-gross-revenue', money(insiders.gross_revenue))} "
                  f"against {money(others.gross_revenue)} for the other customers, over "
                  f"{number(insiders.invoices, 1)} invoices against {number(others.invoices, 1)}, and last bought "
                  f"{number(insiders.recency_days)} days before the data ends (others: "
                  f"{number(others.recency_days)}).")
        + chart(figure, 520)
        + table(rows, ["Feature (mean per customer)", "Insiders", "Other customers", "Insiders ÷ others"])
    )


def revenue_share(marts: Marts, csv_link: str) -> str:
    """4. Share of revenue: gross revenue of the customers; monthly revenue by segment."""
    summary = marts.summary
    monthly = marts.monthly.pivot_table(index="revenue_month", columns="segment", values="revenue", aggfunc="sum",
                                        fill_value=0.0)
    figure = go.Figure()
    for segment, color in [("Insiders", INSIDERS_COLOR), ("Other customers", OTHERS_COLOR),
                           ("Guests", GUESTS_COLOR)]:
        if segment in monthly:
            figure.add_bar(x=[month_label(m) for m in monthly.index], y=monthly[segment], name=segment,
                           marker_color=color, hovertemplate="%{x}: £%{y:,.0f}<extra>" + segment + "</extra>")
    figure.update_layout(barmode="stack", title="Revenue per month by segment (sales less returns)",
                         yaxis_title="£", yaxis_tickprefix="£", legend_orientation="h", legend_y=-0.15)
    last = summary.last_revenue_month
    profiles = marts.profiles
    shares = go.Figure([
        go.Bar(y=profiles.cluster_name, x=profiles.share_of_customers, name="Share of customers", orientation="h",
               marker_color=OTHERS_COLOR, hovertemplate="%{x:.1%}<extra>customers</extra>"),
        go.Bar(y=profiles.cluster_name, x=profiles.share_of_revenue, name="Share of gross revenue", orientation="h",
               marker_color=INSIDERS_COLOR, hovertemplate="%{x:.1%}<extra>revenue</extra>"),
    ])
    shares.update_layout(title="Each cluster's share of customers and of gross revenue", xaxis_tickformat=".0%",
                         legend_orientation="h", legend_y=-0.2)
    return (
        paragraph(f"Insiders bring "
                  f"{tagged('insiders-share-of-revenue', percent(summary.insiders_share_of_gross_revenue))} "
                  f"of the identified customers' gross revenue ({money(summary.insiders_gross_revenue)} of "
                  f"{money(summary.customers_gross_revenue)}). Counting guest invoices and net of returns, they "
                  f"bring {tagged('insiders-share-of-all-revenue', percent(summary.insiders_share_of_all_revenue))} "
                  f"of all revenue from {month_label(summary.first_revenue_month)} to {month_label(last)} "
                  f"({month_label(last)} ends with the data, so it is partial).")
        + chart(figure, 440)
        + chart(shares, 300)
    )


def months_between(first, last) -> list:
    return [] if missing(first) or pd.isna(first) else list(pd.date_range(first, last, freq="MS"))


def forecast(marts: Marts, csv_link: str) -> str:
    """5. Revenue in the coming months: naive forecast and how it did out of time."""
    result = marts.forecast
    before, after = result.forecast_at_cutoff, result.actual_after_cutoff
    months = ", ".join(month_label(m) for m in months_between(result.first_forecast_month,
                                                                result.last_forecast_month))
    window = ("n/a" if missing(result.first_window_month) or pd.isna(result.first_window_month)
              else f"{month_label(result.first_window_month)} to {month_label(result.last_window_month)}")
    figure = go.Figure([
        go.Bar(x=["Forecast made at the cutoff", "Actual after the cutoff"], y=[before, after],
               marker_color=[OTHERS_COLOR, "#0f766e"], text=[money(before), money(after)]),
        go.Bar(x=["Forecast: next 3 months"], y=[result.forecast_next_3_months], marker_color=INSIDERS_COLOR,
               text=[money(result.forecast_next_3_months)],
               error_y=dict(type="data", array=[result.forecast_high - result.forecast_next_3_months])),
    ])
    figure.update_traces(textposition="inside", hovertemplate="%{x}: £%{y:,.0f}<extra></extra>", showlegend=False)
    figure.update_layout(title="Insiders' revenue over 3 months: out-of-time check and the forecast",
                         yaxis_tickprefix="£", barmode="overlay")
    return (
        paragraph(f"Forecast for the next 3 months: "
                  f"{tagged('forecast-next-3-months', money(result.forecast_next_3_months))}, "
                  f"95% interval {tagged('forecast-low', money(result.forecast_low))} to "
                  f"{tagged('forecast-high', money(result.forecast_high))}.")
        + paragraph(f"Method (naive): the next 3 months repeat the Insiders' revenue of the last 3 complete months "
                    f"({html.escape(months)}). The interval is the forecast ± 1.96 × sd × √3, where sd "
                    f"({money(result.monthly_sd)}) is the standard deviation of the monthly revenue over the last 6 "
                    f"complete months ({window}), taking the 3 months as independent. It ignores trend and "
                    f"seasonality.")
        + paragraph(f"Out of time, the same method made at the cutoff {day_label(result.cutoff_date)} (the Insiders "
                    f"of that day, their revenue of the 3 months before) forecast "
                    f"{tagged('oot-forecast', money(before))}; they actually brought "
                    f"{tagged('oot-actual', money(after))} up to {day_label(result.horizon_end_date)}: an error of "
                    f"{tagged('oot-error', percent(result.forecast_at_cutoff_error))} (forecast − actual, over "
                    f"actual).")
        + chart(figure, 400)
        + paragraph("The same forecast made at every monthly refresh for the members of that refresh, beside "
                    "what came (mart membership_refreshes; where the data holds the 3 months):")
        + table([[day_label(r.refresh_date), money(r.forecast_next_3_months), money(r.forecast_low),
                  money(r.forecast_high), money(r.members_revenue_next_3_months), percent(r.forecast_error),
                  "yes" if r.forecast_interval_held else "no"]
                 for r in marts.refreshes.itertuples()
                 if pd.notna(r.forecast_error)],
                ["Refresh", "Forecast", "95% low", "95% high", "Actual", "Error", "Inside the interval"],
                testid="forecast-backtest")
    )


def rule_rows(rules: pd.DataFrame) -> list[list]:
    return [[int(r.rule_id), r.rule, number(r.customers), number(r.insiders), percent(r.precision),
             percent(r.recall)] for r in rules.itertuples()]


RULE_HEADERS = ["Rule", "Condition", "Customers", "Insiders", "Precision", "Recall"]


def rules(marts: Marts, csv_link: str) -> str:
    """6. What makes a customer eligible: entry rules and the other leaves."""
    rules, summary = marts.rules, marts.summary
    entries = rules[rules.predicts_insider]
    labels = [f"Rule {r.rule_id}" + (" (entry)" if r.predicts_insider else "") for r in rules.itertuples()]
    figure = go.Figure([
        go.Bar(y=labels, x=rules.precision, name="Precision", orientation="h", marker_color=INSIDERS_COLOR),
        go.Bar(y=labels, x=rules.recall, name="Recall", orientation="h", marker_color=OTHERS_COLOR),
    ])
    figure.update_layout(title="Precision and recall of every leaf", xaxis_tickformat=".0%",
                         yaxis_autorange="reversed", legend_orientation="h", legend_y=-0.15)
    return (
        paragraph(f"A decision tree fitted to the membership writes it as rules. A customer who meets an entry "
                  f"rule ({tagged('entry-rules-count', number(summary.entry_rules))} in all) is an Insider with "
                  f"precision {tagged('entry-rules-precision', percent(summary.entry_rules_precision))}; together "
                  f"they cover {tagged('entry-rules-recall', percent(summary.entry_rules_recall))} of the Insiders. "
                  f"Precision: the share of the leaf's customers who are Insiders; recall: the share of all "
                  f"Insiders the leaf holds.")
        + "<h3>Entry rules</h3>" + table(rule_rows(entries), RULE_HEADERS, testid="entry-rules")
        + "<h3>The other leaves (not Insiders)</h3>" + table(rule_rows(rules[~rules.predicts_insider]), RULE_HEADERS)
        + chart(figure, 380)
    )


def exit_rules(marts: Marts, csv_link: str) -> str:
    """7. When does a customer leave: the exit conditions, and the program replayed month by month."""
    rules = last = marts.refreshes.iloc[-1]  # the rules in force, and the last refresh
    rows = [[day_label(r.refresh_date), number(r.customers), number(r.members), percent(r.member_share),
             number(r.joiners), number(r.leavers), number(r.rejoiners), number(r.waiting),
             percent(r.retention) if pd.notna(r.retention) else "n/a",
             percent(r.members_share_next_3_months) if pd.notna(r.members_share_next_3_months) else "n/a"]
            for r in marts.refreshes.itertuples()]
    figure = go.Figure([
        go.Bar(x=marts.refreshes.refresh_date, y=marts.refreshes.members, name="Members", marker_color=INSIDERS_COLOR),
        go.Scatter(x=marts.refreshes.refresh_date, y=marts.refreshes.retention, name="Retention", yaxis="y2",
                   mode="lines+markers", line_color="#0f766e"),
    ])
    figure.update_layout(title="Members and retention at every monthly refresh", yaxis_title="members",
                         yaxis2=dict(overlaying="y", side="right", tickformat=".0%", range=[0, 1.05]))
    leavers = table([[int(c.customer_id), c.reason] for c in marts.last_leavers.head(20).itertuples()],
                    ["Customer", "Exit condition met"], testid="left-last-run") if len(marts.last_leavers) else ""
    return (
        paragraph(f"Insiders is a membership, refreshed on the 15th of every month. <b>Entry:</b> a customer "
                  f"enters when they qualify as an Insider (question 6) and the program has room: it holds at "
                  f"most {percent(rules.max_member_share)} of the customers, newcomers with the highest net "
                  f"revenue first; whoever returned more than {percent(rules.max_return_share)} of what they "
                  f"bought does not qualify.")
        + paragraph(f"<b>Exit:</b> a member stays, even when they no longer qualify, until one of these holds at "
                    f"a refresh: (1) <b>lapsed</b>: no purchase for more than "
                    f"{number(rules.exit_lapse_multiple, 1)} times their own usual time between purchases, and at "
                    f"least {number(rules.exit_min_lapse_days)} days; (2) <b>low value</b>: their net revenue of "
                    f"the last 12 months fell below the {percent(rules.exit_value_quantile)} quantile of all "
                    f"customers'; (3) <b>returns</b>: they have now returned more than "
                    f"{percent(rules.max_return_share)} of what they bought. Entry is strict and exit loose, so "
                    f"a good customer who skips a month stays a member.")
        + paragraph(f"At the last refresh ({day_label(last.refresh_date)}): "
                    f"{tagged('members-last-refresh', number(last.members))} members, "
                    f"{tagged('joined-last-run-count', number(last.joiners))} joined, "
                    f"{tagged('left-last-run-count', number(last.leavers))} left, retention "
                    f"{tagged('retention-last-refresh', percent(last.retention))}.")
        + leavers
        + paragraph("The program replayed over every refresh of the data, membership carried forward "
                    "(mart membership_refreshes):")
        + table(rows, ["Refresh", "Customers", "Members", "Share", "Joined", "Left", "Re-joined", "Waiting",
                       "Retention", "Members' share of the next 3 months"], testid="membership-refreshes")
        + chart(figure, 380)
    )


def guarantee(marts: Marts, csv_link: str) -> str:
    """8. What guarantees that Insiders are better: bootstrap, permutation test, out-of-time validation."""
    test = marts.difference
    resamples, p_value = int(test.resamples), float(test.permutation_p_value)
    histogram = go.Figure(go.Histogram(x=marts.bootstrap.difference.to_numpy(float), nbinsx=60,
                                       marker_color=INSIDERS_COLOR, hovertemplate="£%{x:,.0f}: %{y}<extra></extra>"))
    for x, name in [(test.difference_low, "2.5%"), (test.difference_high, "97.5%")]:
        histogram.add_vline(x=x, line_dash="dash", annotation_text=f"{name}: {money(x)}")
    histogram.update_layout(title=f"Bootstrap of the difference in mean gross revenue ({resamples:,} resamples)",
                            xaxis_title="Insiders − others, £ per customer", xaxis_tickprefix="£",
                            yaxis_title="resamples")
    smallest = math.isclose(p_value, 1 / (resamples + 1))
    return (
        paragraph(f"An Insider spends {tagged('revenue-difference', money(test.difference))} more than another "
                  f"customer on average (mean gross revenue per customer). 95% bootstrap interval: "
                  f"{tagged('revenue-difference-low', money(test.difference_low))} to "
                  f"{tagged('revenue-difference-high', money(test.difference_high))} ({resamples:,} resamples, "
                  f"seed {int(test.random_state)}). Permutation test ({resamples:,} shuffles of the labels): p = "
                  f"{tagged('permutation-p-value', f'{p_value:.4f}')}"
                  + (f" (no shuffle reached the observed difference: p is the smallest possible, 1/{resamples + 1:,})."
                     if smallest else "."))
        + chart(histogram, 360)
        + validation_table(marts)
    )


def validation_value(marts: Marts, metric: str) -> float | None:
    rows = marts.validation[marts.validation.metric == metric]
    return None if rows.empty or missing(rows.value.iloc[0]) else float(rows.value.iloc[0])


def validation_table(marts: Marts) -> str:
    """The out-of-time validation: populations chosen at the cutoff, revenue after it."""
    rows, shares = [], {}
    for population in POPULATIONS:
        value = lambda measure: validation_value(marts, f"{population}.{measure}")  # noqa: E731
        shares[population] = (value("share_of_customers"), value("share_of_revenue_after_cutoff"))
        rows.append([population, number(value("customers")),
                     tagged(f"validation-{population}-share-of-customers", percent(value("share_of_customers"))),
                     tagged(f"validation-{population}-share-of-revenue",
                            percent(value("share_of_revenue_after_cutoff"))),
                     money(value("revenue_after_cutoff_per_customer"))])
    goals = marts.validation[marts.validation.goal.notna() & (marts.validation.population != "stability")]
    goal_rows = [[g.metric, formatted(g.value, "percent" if "share" in g.measure else "decimal")
                  if "per_customer" not in g.measure else money(g.value), html.escape(g.goal),
                  verdict(g.meets_goal)] for g in goals.itertuples()]
    stability = marts.validation[marts.validation.population == "stability"]
    stability_rows = [[s.metric, number(s.value, 3), "" if missing(s.goal) else html.escape(s.goal),
                       verdict(s.meets_goal)] for s in stability.itertuples()]
    figure = go.Figure([
        go.Bar(x=POPULATIONS, y=[shares[p][0] for p in POPULATIONS], name="Share of customers",
               marker_color=OTHERS_COLOR),
        go.Bar(x=POPULATIONS, y=[shares[p][1] for p in POPULATIONS], name="Share of revenue after the cutoff",
               marker_color=INSIDERS_COLOR),
    ])
    figure.update_layout(title="Out of time: who was chosen at the cutoff, and what they brought after",
                         yaxis_tickformat=".0%", legend_orientation="h", legend_y=-0.15)
    cutoff = day_label(marts.validation.cutoff_date.min())
    horizon = day_label(marts.validation.horizon_end_date.max())
    return (
        "<h3>Out-of-time validation</h3>"
        + paragraph(f"Insiders chosen from the data before {cutoff}, against the customers with the best RFM "
                    f"score (rfm_top: the top {percent(shares['rfm_top'][0])}; rfm_top_same_size: as many as the "
                    f"Insiders) and a random draw of {percent(shares['random'][0])}; revenue (sales less returns) "
                    f"from {cutoff} to {horizon}.")
        + table(rows, ["Population", "Customers", "Share of customers", "Share of revenue after cutoff",
                       "Revenue per customer after cutoff"], testid="validation", raw=True)
        + chart(figure, 360)
        + "<h3>Goals</h3>" + table(goal_rows + stability_rows, ["Metric", "Value", "Goal", "Met?"], raw=True,
                                   testid="goals")
        + paragraph("Stability: the Jaccard index of the Insiders between random states (minimum), and the "
                    "adjusted Rand index of the clusters on bootstrap samples (mean and minimum).")
    )


def marketing(marts: Marts, csv_link: str) -> str:
    """9. What marketing can do: one action per cluster, written from its numbers."""
    summary = marts.summary
    mean_recency, mean_revenue = summary.customers_mean_recency_days, summary.customers_mean_gross_revenue
    items = []
    for p in marts.profiles.sort_values("gross_revenue", ascending=False).itertuples():
        facts = (f"{number(p.customers)} customers ({percent(p.share_of_customers)}) bring "
                 f"{percent(p.share_of_revenue)} of gross revenue; on average {money(p.avg_gross_revenue)} each "
                 f"over {number(p.avg_invoices, 1)} invoices, average ticket {money(p.avg_ticket)}, last purchase "
                 f"{number(p.avg_recency_days)} days ago (all customers: {number(mean_recency)} days)")
        if p.is_insiders_cluster:
            action = (f"<b>Retain and reward.</b> Early access, a loyalty tier and a personal contact for the top "
                      f"accounts: each brought {money(p.avg_gross_revenue)} on average. They send back "
                      f"{percent(p.share_of_items_returned)} of the items they buy: review the returns of the largest buyers.")
        elif p.avg_recency_days > mean_recency:
            action = (f"<b>Win back.</b> Lapsed: a reactivation campaign with a time-limited offer. At "
                      f"{money(p.avg_gross_revenue)} per customer the incentive must stay small (e.g. 10% of the "
                      f"{money(p.avg_ticket)} ticket); {money(p.gross_revenue)} of past revenue is at stake.")
        else:
            action = (f"<b>Grow.</b> Still buying but spending {percent(p.avg_gross_revenue_to_insiders)} of an Insider's revenue: cross-sell "
                      f"bundles ({number(p.avg_distinct_products)} distinct products against "
                      f"{number(summary.insiders_clusters_avg_distinct_products)} for Insiders) and second-purchase "
                      f"reminders, so that they meet an entry rule at the next refresh.")
        level = "above" if p.avg_gross_revenue > mean_revenue else "below"
        items.append(f"<li><b>{html.escape(p.cluster_name)}</b>: {facts}; revenue per customer {level} the "
                     f"mean of {money(mean_revenue)}. {action}</li>")
    profiles = marts.profiles
    bubbles = go.Figure(go.Scatter(
        x=profiles.avg_recency_days, y=profiles.avg_gross_revenue, mode="markers+text",
        text=profiles.cluster_name, textposition="top center",
        marker=dict(size=profiles.share_of_customers * 120 + 10, sizemode="diameter",
                    color=[INSIDERS_COLOR if i else OTHERS_COLOR for i in profiles.is_insiders_cluster]),
        hovertemplate="%{text}<br>%{x:.0f} days, £%{y:,.0f}<extra></extra>"))
    bubbles.update_layout(title="Clusters: days since last purchase vs revenue per customer (size: customers)",
                          xaxis_title="Mean days since last purchase", yaxis_title="Mean gross revenue",
                          yaxis_tickprefix="£", xaxis_range=[0, profiles.avg_recency_days.max() * 1.25],
                          yaxis_range=[-profiles.avg_gross_revenue.max() * 0.15,
                                       profiles.avg_gross_revenue.max() * 1.25])
    return f'<ul class="actions" data-testid="marketing-actions">{"".join(items)}</ul>' + chart(bubbles, 420)


# How each hypothesis's figures read (mart insiders_hypotheses).
EVIDENCE = {
    1: lambda h: f"Items returned ÷ items bought: Insiders {percent(h.insiders_value)}, others "
                 f"{percent(h.others_value)}.",
    2: lambda h: f"Mean average ticket: Insiders {money(h.insiders_value)}, others {money(h.others_value)}: "
                 f"{h.insiders_to_others:.2f}×.",
    3: lambda h: f"{percent(h.insiders_value)} of the Insiders bought in the last 30 days of data (recency under "
                 f"30 days).",
}


def hypotheses(marts: Marts, csv_link: str) -> str:
    """Three hypotheses about the customers, each tested on the data."""
    rows = [[int(h.hypothesis_id), html.escape(h.hypothesis),
             tagged(f"hypothesis-{int(h.hypothesis_id)}", "TRUE" if h.is_true is True else "FALSE"),
             html.escape(EVIDENCE[int(h.hypothesis_id)](h))] for h in marts.hypotheses.itertuples()]
    return table(rows, ["#", "Hypothesis", "Verdict", "Evidence"], raw=True, testid="hypotheses")


def model_selection(marts: Marts, csv_link: str) -> str:
    """The grid of models: best silhouette per space × algorithm, beside the seed's table."""
    models = marts.models.dropna(subset=["silhouette"])
    best = models.loc[models.groupby(["space", "algorithm"]).silhouette.idxmax()].sort_values(["space", "algorithm"])
    best_rows = [[m.space, m.algorithm, number(m.silhouette, 3),
                  number(m.n_clusters) if not missing(m.n_clusters)
                  else f"eps quantile {m.dbscan_eps_quantile}, min samples {number(m.dbscan_min_samples)}",
                  number(m.clusters_found), percent(m.noise_share)] for m in best.itertuples()]
    seed_models = marts.seed_models
    seed_rows = [[m.space, m.algorithm, int(m.n_clusters), f"{m.seed_silhouette:.3f}", number(m.silhouette, 3)]
                 for m in seed_models.itertuples()]
    summary = marts.summary
    chosen_text = (f"The model in use: model {int(summary.model_id)}, {summary.model_algorithm} on the "
                   f"{summary.model_space} space with {number(summary.model_clusters)} clusters, silhouette "
                   f"{number(summary.model_silhouette, 3)}." if not missing(summary.model_id) else "No model in use.")
    spaces = list(pd.unique(models.space))  # The grid's spaces (var embedding_spaces), in its order.
    figure = make_subplots(rows=1, cols=len(spaces), subplot_titles=spaces, shared_yaxes=True)
    colors = {"kmeans": INSIDERS_COLOR, "gmm": "#0f766e", "hierarchical": "#1d4ed8"}
    for col, space in enumerate(spaces, start=1):
        for algorithm, color in colors.items():
            grid = models[(models.space == space) & (models.algorithm == algorithm)].sort_values("n_clusters")
            figure.add_scatter(x=grid.n_clusters, y=grid.silhouette, mode="lines+markers", name=algorithm,
                               line_color=color, legendgroup=algorithm, showlegend=col == 1, row=1, col=col)
        seed = seed_models[seed_models.space == space]
        if len(seed):
            figure.add_scatter(x=seed.n_clusters, y=seed.seed_silhouette, mode="markers", name="seed notebooks",
                               marker=dict(symbol="x", size=9, color="black"), legendgroup="seed",
                               showlegend=space == "features", row=1, col=col)
    figure.update_layout(title="Silhouette by number of clusters (crosses: the seed's published values)",
                         legend_orientation="h", legend_y=-0.2)
    return (
        paragraph(html.escape(chosen_text) + " DBSCAN's silhouette counts only the customers it does not call "
                  "noise, so it is not comparable with the others when noise is large. The seed's values come "
                  "from its own features and scaling: read them as a reference, not as the same measurement.")
        + '<div class="columns"><div><h3>This project: best silhouette per space × algorithm</h3>'
        + table(best_rows, ["Space", "Algorithm", "Best silhouette", "Clusters (or DBSCAN setting)",
                            "Clusters found", "Noise"], testid="model-selection")
        + "</div><div><h3>The seed notebooks' published table</h3>"
        + table(seed_rows, ["Space", "Algorithm", "k", "Seed silhouette", "This project, same k"])
        + "</div></div>"
        + chart(figure, 420)
    )


def embeddings(marts: Marts, csv_link: str) -> str:
    """Customers in each embedding space, coloured by cluster, one space at a time (dropdown)."""
    points = marts.embeddings
    names = dict(zip(marts.profiles.cluster_id, marts.profiles.cluster_name))
    insider_clusters = set(marts.insider_profiles.cluster_id)
    palette = ["#64748b", "#0f766e", "#1d4ed8", "#a16207", "#7c3aed", "#be185d", "#15803d", "#0369a1"]
    spaces = list(pd.unique(points.space))
    figure, trace_space = go.Figure(), []
    for space in spaces:
        for i, (cluster, group) in enumerate(points[points.space == space].groupby("cluster_id")):
            color = INSIDERS_COLOR if cluster in insider_clusters else palette[i % len(palette)]
            figure.add_scatter(x=group.x.to_numpy(np.float32), y=group.y.to_numpy(np.float32), mode="markers",
                               name=names.get(cluster, f"cluster {cluster}"), visible=space == spaces[0],
                               marker=dict(size=4, color=color, opacity=0.6), hoverinfo="name")
            trace_space.append(space)
    # One button per space: it shows that space's traces and hides the others.
    buttons = [dict(label=space, method="update", args=[{"visible": [s == space for s in trace_space]},
                                                        {"title.text": f"Customers in the {space} space"}])
               for space in spaces]
    figure.update_layout(title=f"Customers in the {spaces[0] if spaces else ''} space",
                         updatemenus=[dict(buttons=buttons, x=1, xanchor="right", y=1.15)],
                         legend_orientation="h", legend_y=-0.12)
    return (
        paragraph(f"{number(marts.summary.embedded_customers)} customers, coloured by their cluster; choose the "
                  f"space (rescaled features, tree embedding, t-SNE, UMAP) in the menu.")
        + chart(figure, 560)
    )


def ledger(marts: Marts, csv_link: str) -> str:
    """Data quality: where every raw line went, and why lines were rejected."""
    ledger = marts.ledger
    raw_lines = int(ledger.raw_lines.max()) if not ledger.empty else 0
    rows = [[html.escape(d.disposition), tagged(f"ledger-{d.disposition}-lines", number(d.lines)),
             percent(d.share_of_lines), money(d.revenue), number(d.customers)] for d in ledger.itertuples()]
    reason_rows = [[r.rejection_reason, number(r.lines), money(r.revenue)] for r in marts.rejections.itertuples()]
    figure = make_subplots(rows=1, cols=2, subplot_titles=["Lines per disposition", "Rejected lines per reason"])
    figure.add_bar(x=ledger.disposition, y=ledger.lines, marker_color=OTHERS_COLOR, showlegend=False,
                   text=[number(v) for v in ledger.lines], textposition="outside", cliponaxis=False, row=1, col=1)
    figure.add_bar(x=marts.rejections.rejection_reason, y=marts.rejections.lines, marker_color=INSIDERS_COLOR,
                   text=[number(v) for v in marts.rejections.lines], textposition="outside", cliponaxis=False,
                   showlegend=False, row=1, col=2)
    figure.update_yaxes(title_text="lines", row=1, col=1)
    return (
        paragraph(f"{tagged('raw-lines', number(raw_lines))} lines in the raw file "
                  f"({money(ledger.raw_revenue.max() if not ledger.empty else 0)}); "
                  f"{tagged('ledger-lines-total', number(ledger.lines.sum()))} are accounted for below.")
        + '<div class="columns"><div>'
        + table(rows, ["Disposition", "Lines", "Share of lines", "Revenue", "Customers"], raw=True, testid="ledger")
        + "</div><div>" + table(reason_rows, ["Rejection reason", "Lines", "Revenue"], testid="rejections")
        + "</div></div>"
        + chart(figure, 380)
    )


@dataclass(frozen=True)
class Section:
    anchor: str  # the id of the section, and the navigation's link target
    label: str  # the navigation's link text
    title: str
    render: Callable[[Marts, str], str]  # (marts, csv_link) -> the section's HTML below its title


SECTIONS = [
    Section("eligible", "Who", "1. Who is eligible for the Insiders program?", eligible),
    Section("how-many", "How many", "2. How many customers are in the group?", how_many),
    Section("profile", "Profile", "3. What are the Insiders' main characteristics?", profile),
    Section("revenue-share", "Revenue share", "4. What share of revenue comes from the Insiders?", revenue_share),
    Section("forecast", "Forecast", "5. How much revenue will the Insiders bring in the coming months?", forecast),
    Section("rules", "Entry rules", "6. What makes a customer eligible?", rules),
    Section("exit", "Exit", "7. How does a customer enter, and when do they leave the Insiders?", exit_rules),
    Section("guarantee", "Guarantee", "8. What guarantees that the Insiders are better?", guarantee),
    Section("marketing", "Actions", "9. What can marketing do to grow revenue?", marketing),
    Section("hypotheses", "Hypotheses", "Three hypotheses about the customers", hypotheses),
    Section("model-selection", "Models", "Model selection", model_selection),
    Section("embeddings", "Embeddings", "The customers in each space", embeddings),
    Section("ledger", "Ledger", "The ledger: every raw line accounted for", ledger),
]
