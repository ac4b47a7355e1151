"""The Insiders report: one self-contained HTML page that answers marketing's
questions from the marts of a built DuckDB file.

    python -m insiders.report --database insiders.duckdb --output output/report.html --csv-link insiders.csv

Every chart is Plotly; plotly.js is inlined once, so the page opens offline.
"""

from __future__ import annotations

import argparse
import html
import math
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
from plotly.subplots import make_subplots

SEED = 42  # Bootstrap and permutation test: the same page for the same data.
RESAMPLES = 2_000
Z95 = 1.96
POPULATIONS = ["insiders", "rfm_top", "random", "rfm_top_same_size"]
INSIDERS_COLOR, OTHERS_COLOR, GUESTS_COLOR = "#c2410c", "#64748b", "#cbd5e1"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}

# The features a person compares Insiders on: column -> (label, kind).
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

# The seed notebooks' published silhouettes: (space, algorithm, k) -> silhouette.
SEED_SILHOUETTES = {
    **{("features", "kmeans", k): s for k, s in zip(range(2, 7), [0.686, 0.629, 0.532, 0.519, 0.490])},
    **{("features", "hierarchical", k): s for k, s in zip(range(2, 8), [0.652, 0.622, 0.545, 0.445, 0.435, 0.399])},
    ("umap", "kmeans", 13): 0.568,
    ("tree", "kmeans", 14): 0.552,
}


# --- Numbers for people -----------------------------------------------------

def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def money(value, decimals: int = 0) -> str:
    """£1,234 (a minus sign before the pound for negatives)."""
    if missing(value):
        return "n/a"
    sign = "-" if float(value) < 0 else ""
    return f"{sign}£{abs(float(value)):,.{decimals}f}"


def number(value, decimals: int = 0) -> str:
    return "n/a" if missing(value) else f"{float(value):,.{decimals}f}"


def percent(share) -> str:
    """A share (0.123) as a percentage with one decimal (12.3%)."""
    return "n/a" if missing(share) else f"{float(share) * 100:.1f}%"


def formatted(value, kind: str) -> str:
    return {"money": money, "number": lambda v: number(v, 1), "decimal": lambda v: number(v, 3),
            "percent": percent}[kind](value)


def month_label(month) -> str:
    return pd.Timestamp(month).strftime("%b %Y")


def day_label(day) -> str:
    return "n/a" if missing(day) or pd.isna(day) else pd.Timestamp(day).strftime("%d %b %Y")


# --- HTML pieces ------------------------------------------------------------

def tagged(testid: str, text: str) -> str:
    """A key number the browser test reads back and compares with the marts."""
    return f'<span class="key" data-testid="{testid}">{html.escape(text)}</span>'


def verdict(ok) -> str:
    if missing(ok):
        return '<span class="na">no goal</span>'
    return '<span class="ok">met</span>' if ok else '<span class="ko">not met</span>'


def numeric(cell: str) -> bool:
    """A number, an amount, a percentage or a ratio (tags aside): aligned right."""
    text = re.sub(r"<[^>]+>", "", cell)
    return text == "n/a" or (re.fullmatch(r"-?£?[\d,.]+[%×]?", text) is not None)


def table(rows: list[list], headers: list[str], testid: str | None = None, raw: bool = False) -> str:
    """A plain HTML table; cells are escaped unless raw (already HTML). Columns of
    numbers are aligned right."""
    cells = [[str(v) if raw else html.escape(str(v)) for v in row] for row in rows]
    align = [' class="num"' if cells and all(numeric(row[i]) for row in cells) else "" for i in range(len(headers))]
    head = "".join(f"<th{a}>{html.escape(h)}</th>" for h, a in zip(headers, align))
    body = "".join("<tr>" + "".join(f"<td{a}>{v}</td>" for v, a in zip(row, align)) + "</tr>" for row in cells)
    attribute = f' data-testid="{testid}"' if testid else ""
    return f'<table class="data"{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def chart(figure: go.Figure, height: int = 420) -> str:
    """The figure's div and script, without plotly.js (the page loads it once)."""
    figure.update_layout(height=height, template="plotly_white", margin=dict(l=60, r=20, t=60, b=50))
    return '<figure class="chart">' + figure.to_html(full_html=False, include_plotlyjs=False,
                                                      config=PLOT_CONFIG) + "</figure>"


def section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{"".join(parts)}</section>'


def paragraph(text: str) -> str:
    """Text with key numbers already marked up: the caller escapes its inputs."""
    return f"<p>{text}</p>"


# --- The marts ----------------------------------------------------------------

@dataclass
class Marts:
    customers: pd.DataFrame
    profiles: pd.DataFrame
    monthly: pd.DataFrame
    rules: pd.DataFrame
    validation: pd.DataFrame
    changes: pd.DataFrame
    models: pd.DataFrame
    chosen_model: pd.DataFrame
    ledger: pd.DataFrame
    rejections: pd.DataFrame
    embeddings: pd.DataFrame
    refreshes: pd.DataFrame
    last_leavers: pd.DataFrame

    @property
    def insiders(self) -> pd.DataFrame:
        return self.customers[self.customers.is_insider]

    @property
    def others(self) -> pd.DataFrame:
        return self.customers[~self.customers.is_insider]

    @property
    def insider_profiles(self) -> pd.DataFrame:
        return self.profiles[self.profiles.is_insiders_cluster]

    @property
    def as_of_date(self) -> date:
        return pd.Timestamp(self.customers.as_of_date.max()).date()


QUERIES = {
    "customers": "select * from marts.customers",
    "profiles": "select * from marts.cluster_profiles order by cluster_id",
    "monthly": "select * from marts.monthly_revenue order by revenue_month, segment",
    "rules": "select * from marts.insiders_rules order by rule_id",
    "validation": "select * from marts.insiders_validation",
    "changes": "select * from marts.insiders_membership_changes",
    "models": "select * from marts.model_selection order by model_id",
    "chosen_model": """
        select distinct clusters.model_id, clusters.space, clusters.algorithm, models.n_clusters, models.silhouette
        from clustering.customer_clusters as clusters
        left join marts.model_selection as models on models.model_id = clusters.model_id""",
    "ledger": "select * from marts.ledger_reconciliation",
    "refreshes": "select * from marts.membership_refreshes order by refresh_date",
    "last_leavers": """
        select customer_id, reason from marts.membership_replay
        where membership_change = 'left' and refresh_date = (select max(refresh_date) from marts.membership_replay)
        order by customer_id""",
    "rejections": """
        select rejection_reason, count(*) as lines, sum(revenue) as revenue
        from marts.rejected_invoice_lines group by rejection_reason order by lines desc""",
    # Coordinates as float: JSON of the 4 scatter plots stays small.
    "embeddings": """
        select embeddings.space, embeddings.customer_id, cast(embeddings.x as float) as x,
               cast(embeddings.y as float) as y, clusters.cluster_id
        from clustering.customer_embeddings as embeddings
        inner join clustering.customer_clusters as clusters using (customer_id)
        order by embeddings.space, clusters.cluster_id, embeddings.customer_id""",
}


def load(database: Path) -> Marts:
    """Every table the report reads, read-only, as DataFrames (DECIMAL arrives as float)."""
    with duckdb.connect(str(database), read_only=True) as con:
        frames = {name: con.sql(sql).df() for name, sql in QUERIES.items()}
    # Plain booleans: they select rows (a nullable one would not).
    frames["customers"]["is_insider"] = frames["customers"].is_insider.fillna(False).astype(bool)
    frames["profiles"]["is_insiders_cluster"] = frames["profiles"].is_insiders_cluster.fillna(False).astype(bool)
    return Marts(**frames)


# --- Computations -------------------------------------------------------------

def complete_months(marts: Marts) -> pd.Series:
    """Insiders' revenue of each complete month (the month ended before as_of_date)."""
    insiders = marts.monthly[marts.monthly.segment == "Insiders"].set_index("revenue_month").revenue
    months = pd.to_datetime(marts.monthly.revenue_month.unique())
    complete = sorted(m for m in months if (m + pd.offsets.MonthBegin(1)).date() <= marts.as_of_date)
    return insiders.reindex(complete, fill_value=0.0).astype(float)


@dataclass
class Forecast:
    months: list  # The last 3 complete months: the forecast.
    window: list  # The last 6: the spread.
    point: float
    sd: float
    low: float
    high: float


def forecast(marts: Marts) -> Forecast:
    """Naive: the next 3 months repeat the last 3 complete months. Interval:
    point ± 1.96 × sd × √3, sd of monthly revenue over the last 6 complete months
    (3 independent months add their variances)."""
    series = complete_months(marts)
    last3, last6 = series.iloc[-3:], series.iloc[-6:]
    point, sd = float(last3.sum()), float(last6.std(ddof=1))  # sd is NaN (shown n/a) under 2 months.
    half = Z95 * sd * math.sqrt(3)
    return Forecast(list(last3.index), list(last6.index), point, sd, point - half, point + half)


def bootstrap_difference(insiders: np.ndarray, others: np.ndarray, resamples: int = RESAMPLES,
                         seed: int = SEED) -> tuple[float, float, float, np.ndarray]:
    """Difference of mean gross revenue (Insiders − others) and its 95% percentile
    bootstrap interval: each group resampled with replacement, on its own."""
    rng = np.random.default_rng(seed)
    differences = np.array([rng.choice(insiders, insiders.size).mean() - rng.choice(others, others.size).mean()
                            for _ in range(resamples)])
    low, high = np.percentile(differences, [2.5, 97.5])
    return float(insiders.mean() - others.mean()), float(low), float(high), differences


def permutation_p_value(insiders: np.ndarray, others: np.ndarray, permutations: int = RESAMPLES,
                        seed: int = SEED) -> float:
    """Two-sided: how often shuffled labels give a difference of means as large."""
    rng = np.random.default_rng(seed)
    pooled, size = np.concatenate([insiders, others]), insiders.size
    observed = abs(insiders.mean() - others.mean())
    hits = 0
    for _ in range(permutations):
        shuffled = rng.permutation(pooled)
        hits += abs(shuffled[:size].mean() - shuffled[size:].mean()) >= observed
    return (hits + 1) / (permutations + 1)


def validation_value(marts: Marts, metric: str) -> float | None:
    rows = marts.validation[marts.validation.metric == metric]
    return None if rows.empty or missing(rows.value.iloc[0]) else float(rows.value.iloc[0])


# --- Sections -----------------------------------------------------------------

def eligible_section(marts: Marts, csv_link: str) -> str:
    """1. Who is eligible: the top 50 Insiders, and the whole list as CSV."""
    top = marts.insiders.sort_values("net_revenue", ascending=False).head(50)
    rows = [[rank, int(c.customer_id), money(c.gross_revenue), money(c.net_revenue), number(c.invoices),
             number(c.recency_days), money(c.avg_ticket), c.rfm_segment]
            for rank, c in enumerate(top.itertuples(), start=1)]
    clusters = marts.insider_profiles.cluster_name
    link = (f'<a href="{html.escape(csv_link, quote=True)}" data-testid="insiders-csv-link">'
            f"the full list of {len(marts.insiders):,} Insiders (CSV)</a>")
    return section(
        "eligible", "1. Who is eligible for the Insiders program?",
        paragraph(f"Insiders are the customers of the best cluster(s) by revenue per customer: "
                  f"{html.escape(', '.join(clusters))}, computed from purchases before "
                  f"{tagged('as-of-date', day_label(marts.as_of_date))}. Download {link}. "
                  f"The 50 largest by gross revenue:"),
        table(rows, ["#", "Customer", "Gross revenue", "Net revenue", "Invoices", "Days since last purchase",
                     "Average ticket", "RFM segment"], testid="top-insiders"),
    )


def how_many_section(marts: Marts) -> str:
    """2. How many: count and share of customers."""
    count, total = len(marts.insiders), len(marts.customers)
    return section(
        "how-many", "2. How many customers are in the group?",
        paragraph(f"{tagged('insiders-count', number(count))} Insiders out of "
                  f"{tagged('customers-count', number(total))} identified customers: "
                  f"{tagged('insiders-share-of-customers', percent(count / total))} of the customer base."),
    )


def profile_section(marts: Marts) -> str:
    """3. Main characteristics: mean of each feature, Insiders against the rest."""
    insiders, others = marts.insiders[list(FEATURES)].mean(), marts.others[list(FEATURES)].mean()
    rows = [[label, formatted(insiders[c], kind), formatted(others[c], kind),
             f"{insiders[c] / others[c]:.2f}×" if others[c] else "n/a"] for c, (label, kind) in FEATURES.items()]
    figure = make_subplots(rows=2, cols=5, subplot_titles=[label for label, _ in FEATURES.values()],
                           vertical_spacing=0.18)
    for i, column in enumerate(FEATURES):
        figure.add_bar(x=["Insiders", "Others"], y=[insiders[column], others[column]], row=i // 5 + 1,
                       col=i % 5 + 1, marker_color=[INSIDERS_COLOR, OTHERS_COLOR], showlegend=False,
                       hovertemplate="%{x}: %{y:,.2f}<extra></extra>")
        if FEATURES[column][1] == "money":
            figure.update_yaxes(tickprefix="£", row=i // 5 + 1, col=i % 5 + 1)
    figure.update_layout(title="Mean per customer: Insiders vs other customers")
    return section(
        "profile", "3. What are the Insiders' main characteristics?",
        paragraph(f"An average Insider spent {tagged('insiders-mean-gross-revenue', money(insiders.gross_revenue))} "
                  f"against {money(others.gross_revenue)} for the other customers, over "
                  f"{number(insiders.invoices, 1)} invoices against {number(others.invoices, 1)}, and last bought "
                  f"{number(insiders.recency_days)} days before the data ends (others: "
                  f"{number(others.recency_days)})."),
        chart(figure, 520),
        table(rows, ["Feature (mean per customer)", "Insiders", "Other customers", "Insiders ÷ others"]),
    )


def revenue_share_section(marts: Marts) -> str:
    """4. Share of revenue: gross revenue of the customers; monthly revenue by segment."""
    share = marts.insiders.gross_revenue.sum() / marts.customers.gross_revenue.sum()
    monthly = marts.monthly.pivot_table(index="revenue_month", columns="segment", values="revenue", aggfunc="sum",
                                        fill_value=0.0)
    all_share = monthly.get("Insiders", pd.Series(0.0)).sum() / monthly.to_numpy().sum()
    figure = go.Figure()
    for segment, color in [("Insiders", INSIDERS_COLOR), ("Other customers", OTHERS_COLOR),
                           ("Guests", GUESTS_COLOR)]:
        if segment in monthly:
            figure.add_bar(x=[month_label(m) for m in monthly.index], y=monthly[segment], name=segment,
                           marker_color=color, hovertemplate="%{x}: £%{y:,.0f}<extra>" + segment + "</extra>")
    figure.update_layout(barmode="stack", title="Revenue per month by segment (sales less returns)",
                         yaxis_title="£", yaxis_tickprefix="£", legend_orientation="h", legend_y=-0.15)
    last = marts.monthly.revenue_month.max()
    profiles = marts.profiles
    shares = go.Figure([
        go.Bar(y=profiles.cluster_name, x=profiles.share_of_customers, name="Share of customers", orientation="h",
               marker_color=OTHERS_COLOR, hovertemplate="%{x:.1%}<extra>customers</extra>"),
        go.Bar(y=profiles.cluster_name, x=profiles.share_of_revenue, name="Share of gross revenue", orientation="h",
               marker_color=INSIDERS_COLOR, hovertemplate="%{x:.1%}<extra>revenue</extra>"),
    ])
    shares.update_layout(title="Each cluster's share of customers and of gross revenue", xaxis_tickformat=".0%",
                         legend_orientation="h", legend_y=-0.2)
    return section(
        "revenue-share", "4. What share of revenue comes from the Insiders?",
        paragraph(f"Insiders bring {tagged('insiders-share-of-revenue', percent(share))} of the identified "
                  f"customers' gross revenue ({money(marts.insiders.gross_revenue.sum())} of "
                  f"{money(marts.customers.gross_revenue.sum())}). Counting guest invoices and net of returns, "
                  f"they bring {tagged('insiders-share-of-all-revenue', percent(all_share))} of all revenue "
                  f"from {month_label(marts.monthly.revenue_month.min())} to {month_label(last)} "
                  f"({month_label(last)} ends with the data, so it is partial)."),
        chart(figure, 440),
        chart(shares, 300),
    )


def forecast_section(marts: Marts) -> str:
    """5. Revenue in the coming months: naive forecast and how it did out of time."""
    result = forecast(marts)
    before = validation_value(marts, "insiders.revenue_before_cutoff")
    after = validation_value(marts, "insiders.revenue_after_cutoff")
    error = (before - after) / after if before is not None and after else None
    cutoff = marts.validation.cutoff_date.min()
    horizon = marts.validation.horizon_end_date.max()
    months = ", ".join(month_label(m) for m in result.months)
    window = f"{month_label(result.window[0])} to {month_label(result.window[-1])}" if result.window else "n/a"
    figure = go.Figure([
        go.Bar(x=["Forecast made at the cutoff", "Actual after the cutoff"], y=[before, after],
               marker_color=[OTHERS_COLOR, "#0f766e"], text=[money(before), money(after)]),
        go.Bar(x=["Forecast: next 3 months"], y=[result.point], marker_color=INSIDERS_COLOR,
               text=[money(result.point)], error_y=dict(type="data", array=[result.high - result.point])),
    ])
    figure.update_traces(textposition="inside", hovertemplate="%{x}: £%{y:,.0f}<extra></extra>", showlegend=False)
    figure.update_layout(title="Insiders' revenue over 3 months: out-of-time check and the forecast",
                         yaxis_tickprefix="£", barmode="overlay")
    return section(
        "forecast", "5. How much revenue will the Insiders bring in the coming months?",
        paragraph(f"Forecast for the next 3 months: {tagged('forecast-next-3-months', money(result.point))}, "
                  f"95% interval {tagged('forecast-low', money(result.low))} to "
                  f"{tagged('forecast-high', money(result.high))}."),
        paragraph(f"Method (naive): the next 3 months repeat the Insiders' revenue of the last 3 complete months "
                  f"({html.escape(months)}). The interval is the forecast ± 1.96 × sd × √3, where sd "
                  f"({money(result.sd)}) is the standard deviation of the monthly revenue over the last 6 complete "
                  f"months ({window}), taking the 3 months as independent. It ignores trend and seasonality."),
        paragraph(f"Out of time, the same method made at the cutoff {day_label(cutoff)} (the Insiders of that day, "
                  f"their revenue of the 3 months before) forecast {tagged('oot-forecast', money(before))}; "
                  f"they actually brought {tagged('oot-actual', money(after))} up to {day_label(horizon)}: an "
                  f"error of {tagged('oot-error', percent(error))} (forecast − actual, over actual)."),
        chart(figure, 400),
        paragraph("The same forecast made at every monthly refresh for the members of that refresh, beside "
                  "what came (mart membership_refreshes; where the data holds the 3 months):"),
        table([[day_label(r.refresh_date), money(r.forecast_next_3_months), money(r.forecast_low),
                money(r.forecast_high), money(r.members_revenue_next_3_months), percent(r.forecast_error),
                "yes" if r.forecast_interval_held else "no"]
               for r in marts.refreshes.itertuples()
               if pd.notna(r.forecast_error)],
              ["Refresh", "Forecast", "95% low", "95% high", "Actual", "Error", "Inside the interval"],
              testid="forecast-backtest"),
    )


def rule_rows(rules: pd.DataFrame) -> list[list]:
    return [[int(r.rule_id), r.rule, number(r.customers), number(r.insiders), percent(r.precision),
             percent(r.recall)] for r in rules.itertuples()]


RULE_HEADERS = ["Rule", "Condition", "Customers", "Insiders", "Precision", "Recall"]


def rules_section(marts: Marts) -> str:
    """6. What makes a customer eligible: entry rules and the other leaves."""
    rules = marts.rules
    entries = rules[rules.predicts_insider]
    covered = entries.insiders.sum() / max(len(marts.insiders), 1)
    precision = entries.insiders.sum() / max(entries.customers.sum(), 1)
    labels = [f"Rule {r.rule_id}" + (" (entry)" if r.predicts_insider else "") for r in rules.itertuples()]
    figure = go.Figure([
        go.Bar(y=labels, x=rules.precision, name="Precision", orientation="h", marker_color=INSIDERS_COLOR),
        go.Bar(y=labels, x=rules.recall, name="Recall", orientation="h", marker_color=OTHERS_COLOR),
    ])
    figure.update_layout(title="Precision and recall of every leaf", xaxis_tickformat=".0%",
                         yaxis_autorange="reversed", legend_orientation="h", legend_y=-0.15)
    return section(
        "rules", "6. What makes a customer eligible?",
        paragraph(f"A decision tree fitted to the membership writes it as rules. A customer who meets an entry "
                  f"rule ({tagged('entry-rules-count', number(len(entries)))} in all) is an Insider with precision "
                  f"{tagged('entry-rules-precision', percent(precision))}; together they cover "
                  f"{tagged('entry-rules-recall', percent(covered))} of the Insiders. Precision: the share of the "
                  f"leaf's customers who are Insiders; recall: the share of all Insiders the leaf holds."),
        "<h3>Entry rules</h3>", table(rule_rows(entries), RULE_HEADERS, testid="entry-rules"),
        "<h3>The other leaves (not Insiders)</h3>", table(rule_rows(rules[~rules.predicts_insider]), RULE_HEADERS),
        chart(figure, 380),
    )


def exit_section(marts: Marts) -> str:
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
    return section(
        "exit", "7. How does a customer enter, and when do they leave the Insiders?",
        paragraph(f"Insiders is a membership, refreshed on the 15th of every month. <b>Entry:</b> a customer "
                  f"enters when they qualify as an Insider (question 6) and the program has room: it holds at "
                  f"most {percent(rules.max_member_share)} of the customers, newcomers with the highest net "
                  f"revenue first; whoever returned more than {percent(rules.max_return_share)} of what they "
                  f"bought does not qualify."),
        paragraph(f"<b>Exit:</b> a member stays, even when they no longer qualify, until one of these holds at "
                  f"a refresh: (1) <b>lapsed</b>: no purchase for more than "
                  f"{number(rules.exit_lapse_multiple, 1)} times their own usual time between purchases, and at "
                  f"least {number(rules.exit_min_lapse_days)} days; (2) <b>low value</b>: their net revenue of "
                  f"the last 12 months fell below the {percent(rules.exit_value_quantile)} quantile of all "
                  f"customers'; (3) <b>returns</b>: they have now returned more than "
                  f"{percent(rules.max_return_share)} of what they bought. Entry is strict and exit loose, so "
                  f"a good customer who skips a month stays a member."),
        paragraph(f"At the last refresh ({day_label(last.refresh_date)}): "
                  f"{tagged('members-last-refresh', number(last.members))} members, "
                  f"{tagged('joined-last-run-count', number(last.joiners))} joined, "
                  f"{tagged('left-last-run-count', number(last.leavers))} left, retention "
                  f"{tagged('retention-last-refresh', percent(last.retention))}."),
        leavers,
        paragraph("The program replayed over every refresh of the data, membership carried forward "
                  "(mart membership_refreshes):"),
        table(rows, ["Refresh", "Customers", "Members", "Share", "Joined", "Left", "Re-joined", "Waiting",
                     "Retention", "Members' share of the next 3 months"], testid="membership-refreshes"),
        chart(figure, 380),
    )


def guarantee_section(marts: Marts) -> str:
    """8. What guarantees that Insiders are better: bootstrap, permutation test, out-of-time validation."""
    insiders = marts.insiders.gross_revenue.to_numpy(float)
    others = marts.others.gross_revenue.to_numpy(float)
    difference, low, high, differences = bootstrap_difference(insiders, others)
    p_value = permutation_p_value(insiders, others)
    histogram = go.Figure(go.Histogram(x=differences, nbinsx=60, marker_color=INSIDERS_COLOR,
                                       hovertemplate="£%{x:,.0f}: %{y}<extra></extra>"))
    for x, name in [(low, "2.5%"), (high, "97.5%")]:
        histogram.add_vline(x=x, line_dash="dash", annotation_text=f"{name}: {money(x)}")
    histogram.update_layout(title=f"Bootstrap of the difference in mean gross revenue ({RESAMPLES:,} resamples)",
                            xaxis_title="Insiders − others, £ per customer", xaxis_tickprefix="£",
                            yaxis_title="resamples")
    validation = validation_table(marts)
    return section(
        "guarantee", "8. What guarantees that the Insiders are better?",
        paragraph(f"An Insider spends {tagged('revenue-difference', money(difference))} more than another customer "
                  f"on average (mean gross revenue per customer). 95% bootstrap interval: "
                  f"{tagged('revenue-difference-low', money(low))} to "
                  f"{tagged('revenue-difference-high', money(high))} ({RESAMPLES:,} resamples, seed {SEED}). "
                  f"Permutation test ({RESAMPLES:,} shuffles of the labels): p = "
                  f"{tagged('permutation-p-value', f'{p_value:.4f}')}"
                  + (f" (no shuffle reached the observed difference: p is the smallest possible, 1/{RESAMPLES + 1:,})."
                     if p_value == 1 / (RESAMPLES + 1) else ".")),
        chart(histogram, 360),
        validation,
    )


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


def marketing_section(marts: Marts) -> str:
    """9. What marketing can do: one action per cluster, written from its numbers."""
    customers = marts.customers
    mean_recency, mean_revenue = customers.recency_days.mean(), customers.gross_revenue.mean()
    insider_profiles = marts.insider_profiles
    insider_revenue = insider_profiles.avg_gross_revenue.mean() if not insider_profiles.empty else float("nan")
    items = []
    for p in marts.profiles.sort_values("gross_revenue", ascending=False).itertuples():
        facts = (f"{number(p.customers)} customers ({percent(p.share_of_customers)}) bring "
                 f"{percent(p.share_of_revenue)} of gross revenue; on average {money(p.avg_gross_revenue)} each "
                 f"over {number(p.avg_invoices, 1)} invoices, average ticket {money(p.avg_ticket)}, last purchase "
                 f"{number(p.avg_recency_days)} days ago (all customers: {number(mean_recency)} days)")
        return_share = p.avg_returned_items / p.avg_items if p.avg_items else float("nan")
        if p.is_insiders_cluster:
            action = (f"<b>Retain and reward.</b> Early access, a loyalty tier and a personal contact for the top "
                      f"accounts: each brought {money(p.avg_gross_revenue)} on average. They send back "
                      f"{percent(return_share)} of the items they buy: review the returns of the largest buyers.")
        elif p.avg_recency_days > mean_recency:
            action = (f"<b>Win back.</b> Lapsed: a reactivation campaign with a time-limited offer. At "
                      f"{money(p.avg_gross_revenue)} per customer the incentive must stay small (e.g. 10% of the "
                      f"{money(p.avg_ticket)} ticket); {money(p.gross_revenue)} of past revenue is at stake.")
        else:
            gap = p.avg_gross_revenue / insider_revenue if insider_revenue else float("nan")
            action = (f"<b>Grow.</b> Still buying but spending {percent(gap)} of an Insider's revenue: cross-sell "
                      f"bundles ({number(p.avg_distinct_products)} distinct products against "
                      f"{number(insider_profiles.avg_distinct_products.mean())} for Insiders) and second-purchase "
                      f"reminders, so that they meet an entry rule at the next refresh.")
        level = "above" if p.avg_gross_revenue > mean_revenue else "below"
        items.append(f"<li><b>{html.escape(p.cluster_name)}</b>: {facts}; revenue per customer {level} the "
                     f"mean of {money(mean_revenue)}. {action}</li>")
    bubbles = go.Figure(go.Scatter(
        x=marts.profiles.avg_recency_days, y=marts.profiles.avg_gross_revenue, mode="markers+text",
        text=marts.profiles.cluster_name, textposition="top center",
        marker=dict(size=marts.profiles.share_of_customers * 120 + 10, sizemode="diameter",
                    color=[INSIDERS_COLOR if i else OTHERS_COLOR for i in marts.profiles.is_insiders_cluster]),
        hovertemplate="%{text}<br>%{x:.0f} days, £%{y:,.0f}<extra></extra>"))
    bubbles.update_layout(title="Clusters: days since last purchase vs revenue per customer (size: customers)",
                          xaxis_title="Mean days since last purchase", yaxis_title="Mean gross revenue",
                          yaxis_tickprefix="£", xaxis_range=[0, marts.profiles.avg_recency_days.max() * 1.25],
                          yaxis_range=[-marts.profiles.avg_gross_revenue.max() * 0.15,
                                       marts.profiles.avg_gross_revenue.max() * 1.25])
    return section(
        "marketing", "9. What can marketing do to grow revenue?",
        f'<ul class="actions" data-testid="marketing-actions">{"".join(items)}</ul>',
        chart(bubbles, 420),
    )


def hypotheses_section(marts: Marts) -> str:
    """Three hypotheses about the customers, each tested on the data."""
    insiders, others = marts.insiders, marts.others
    insider_returns = insiders.returned_items.sum() / insiders["items"].sum()
    other_returns = others.returned_items.sum() / others["items"].sum()
    ticket_ratio = insiders.avg_ticket.mean() / others.avg_ticket.mean()
    recent = (insiders.recency_days < 30).mean()
    hypotheses = [
        ("Insiders return a larger share of what they buy than the other customers.",
         insider_returns > other_returns,
         f"Items returned ÷ items bought: Insiders {percent(insider_returns)}, others {percent(other_returns)}."),
        ("Insiders' average ticket is at least twice the other customers'.", ticket_ratio >= 2,
         f"Mean average ticket: Insiders {money(insiders.avg_ticket.mean())}, others "
         f"{money(others.avg_ticket.mean())}: {ticket_ratio:.2f}×."),
        ("More than half of the Insiders bought in the last 30 days.", recent > 0.5,
         f"{percent(recent)} of the Insiders bought in the last 30 days of data (recency under 30 days)."),
    ]
    rows = [[i, html.escape(text), tagged(f"hypothesis-{i}", "TRUE" if bool(result) else "FALSE"),
             html.escape(evidence)] for i, (text, result, evidence) in enumerate(hypotheses, start=1)]
    return section("hypotheses", "Three hypotheses about the customers",
                   table(rows, ["#", "Hypothesis", "Verdict", "Evidence"], raw=True, testid="hypotheses"))


def model_selection_section(marts: Marts) -> str:
    """The grid of models: best silhouette per space × algorithm, beside the seed's table."""
    models = marts.models.dropna(subset=["silhouette"])
    best = models.loc[models.groupby(["space", "algorithm"]).silhouette.idxmax()].sort_values(["space", "algorithm"])
    best_rows = [[m.space, m.algorithm, number(m.silhouette, 3),
                  number(m.n_clusters) if not missing(m.n_clusters)
                  else f"eps quantile {m.dbscan_eps_quantile}, min samples {number(m.dbscan_min_samples)}",
                  number(m.clusters_found), percent(m.noise_share)] for m in best.itertuples()]
    lookup = {(m.space, m.algorithm, int(m.n_clusters)): m.silhouette for m in models.itertuples()
              if not missing(m.n_clusters)}
    seed_rows = [[space, algorithm, k, f"{seed:.3f}", number(lookup.get((space, algorithm, k)), 3)]
                 for (space, algorithm, k), seed in SEED_SILHOUETTES.items()]
    chosen = marts.chosen_model.iloc[0] if not marts.chosen_model.empty else None
    chosen_text = (f"The model in use: model {int(chosen.model_id)}, {chosen.algorithm} on the {chosen.space} space "
                   f"with {number(chosen.n_clusters)} clusters, silhouette {number(chosen.silhouette, 3)}."
                   if chosen is not None else "No model in use.")
    spaces = list(pd.unique(marts.models.space))  # The grid's spaces (var embedding_spaces), in its order.
    figure = make_subplots(rows=1, cols=len(spaces), subplot_titles=spaces, shared_yaxes=True)
    colors = {"kmeans": INSIDERS_COLOR, "gmm": "#0f766e", "hierarchical": "#1d4ed8"}
    for col, space in enumerate(spaces, start=1):
        for algorithm, color in colors.items():
            grid = models[(models.space == space) & (models.algorithm == algorithm)].sort_values("n_clusters")
            figure.add_scatter(x=grid.n_clusters, y=grid.silhouette, mode="lines+markers", name=algorithm,
                               line_color=color, legendgroup=algorithm, showlegend=col == 1, row=1, col=col)
        seed = [(k, s) for (sp, algorithm, k), s in SEED_SILHOUETTES.items() if sp == space]
        if seed:
            figure.add_scatter(x=[k for k, _ in seed], y=[s for _, s in seed], mode="markers", name="seed notebooks",
                               marker=dict(symbol="x", size=9, color="black"), legendgroup="seed",
                               showlegend=space == "features", row=1, col=col)
    figure.update_layout(title="Silhouette by number of clusters (crosses: the seed's published values)",
                         legend_orientation="h", legend_y=-0.2)
    return section(
        "model-selection", "Model selection",
        paragraph(html.escape(chosen_text) + " DBSCAN's silhouette counts only the customers it does not call "
                  "noise, so it is not comparable with the others when noise is large. The seed's values come "
                  "from its own features and scaling: read them as a reference, not as the same measurement."),
        '<div class="columns"><div><h3>This project: best silhouette per space × algorithm</h3>'
        + table(best_rows, ["Space", "Algorithm", "Best silhouette", "Clusters (or DBSCAN setting)",
                            "Clusters found", "Noise"], testid="model-selection")
        + "</div><div><h3>The seed notebooks' published table</h3>"
        + table(seed_rows, ["Space", "Algorithm", "k", "Seed silhouette", "This project, same k"])
        + "</div></div>",
        chart(figure, 420),
    )


def embeddings_section(marts: Marts) -> str:
    """Customers in each embedding space, coloured by cluster, one space at a time (dropdown)."""
    embeddings = marts.embeddings
    names = dict(zip(marts.profiles.cluster_id, marts.profiles.cluster_name))
    insider_clusters = set(marts.insider_profiles.cluster_id)
    palette = ["#64748b", "#0f766e", "#1d4ed8", "#a16207", "#7c3aed", "#be185d", "#15803d", "#0369a1"]
    spaces = list(pd.unique(embeddings.space))
    figure, trace_space = go.Figure(), []
    for space in spaces:
        points = embeddings[embeddings.space == space]
        for i, (cluster, group) in enumerate(points.groupby("cluster_id")):
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
    return section(
        "embeddings", "The customers in each space",
        paragraph(f"{number(embeddings.customer_id.nunique())} customers, coloured by their cluster; choose the space "
                  f"(rescaled features, tree embedding, t-SNE, UMAP) in the menu."),
        chart(figure, 560),
    )


def ledger_section(marts: Marts) -> str:
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
    return section(
        "ledger", "The ledger: every raw line accounted for",
        paragraph(f"{tagged('raw-lines', number(raw_lines))} lines in the raw file "
                  f"({money(ledger.raw_revenue.max() if not ledger.empty else 0)}); "
                  f"{tagged('ledger-lines-total', number(ledger.lines.sum()))} are accounted for below."),
        '<div class="columns"><div>'
        + table(rows, ["Disposition", "Lines", "Share of lines", "Revenue", "Customers"], raw=True, testid="ledger")
        + "</div><div>" + table(reason_rows, ["Rejection reason", "Lines", "Revenue"], testid="rejections")
        + "</div></div>",
        chart(figure, 380),
    )


# --- The page -----------------------------------------------------------------

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Insiders report</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 24px 48px;
         color: #1e293b; line-height: 1.5; }
  header { border-bottom: 3px solid #c2410c; margin-bottom: 8px; }
  nav a { margin-right: 12px; white-space: nowrap; }
  section { border-top: 1px solid #e2e8f0; padding-top: 8px; margin-top: 24px; }
  h2 { color: #9a3412; }
  .key { font-weight: 700; }
  table.data { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
  table.data th, table.data td { border-bottom: 1px solid #e2e8f0; padding: 4px 10px; text-align: left; }
  table.data th { background: #f8fafc; }
  table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
  .columns { display: flex; gap: 32px; flex-wrap: wrap; }
  .ok { color: #15803d; font-weight: 700; } .ko { color: #b91c1c; font-weight: 700; } .na { color: #64748b; }
  figure.chart { margin: 8px 0; }
  ul.actions li { margin-bottom: 8px; }
</style>
<script>$plotlyjs</script>
</head>
<body data-figures="$figures">
<header><h1>Insiders: the loyalty program's customers</h1>
<p>Data as of $as_of_date. Built from the marts of the dbt project.</p>
<nav>$nav</nav></header>
$body
</body>
</html>
""")

NAV = [("eligible", "Who"), ("how-many", "How many"), ("profile", "Profile"), ("revenue-share", "Revenue share"),
       ("forecast", "Forecast"), ("rules", "Entry rules"), ("exit", "Exit"), ("guarantee", "Guarantee"),
       ("marketing", "Actions"), ("hypotheses", "Hypotheses"), ("model-selection", "Models"),
       ("embeddings", "Embeddings"), ("ledger", "Ledger")]


def build_page(marts: Marts, csv_link: str) -> str:
    body = "\n".join([
        eligible_section(marts, csv_link), how_many_section(marts), profile_section(marts),
        revenue_share_section(marts), forecast_section(marts), rules_section(marts), exit_section(marts),
        guarantee_section(marts), marketing_section(marts), hypotheses_section(marts),
        model_selection_section(marts), embeddings_section(marts), ledger_section(marts),
    ])
    nav = "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in NAV)
    return PAGE.substitute(plotlyjs=plotly.offline.get_plotlyjs(), figures=body.count('<figure class="chart">'),
                           as_of_date=day_label(marts.as_of_date), nav=nav, body=body)


def render(database: Path, output: Path, csv_link: str) -> Path:
    """Writes the report of the marts in `database` to `output`; returns its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never opens half a page, and a failure keeps the last one.
    partial = output.with_name(output.name + ".partial")
    partial.write_text(build_page(load(Path(database)), csv_link), encoding="utf-8")
    os.replace(partial, output)
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="the built DuckDB file (opened read-only)")
    parser.add_argument("--output", type=Path, default=Path("output/report.html"))
    parser.add_argument("--csv-link", default="insiders.csv", help="where the page links the Insiders CSV")
    args = parser.parse_args(argv)
    path = render(args.database, args.output, args.csv_link)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
