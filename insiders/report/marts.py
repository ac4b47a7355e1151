"""What the report reads: marts only, read-only, as DataFrames (DECIMAL arrives as float)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

# The one place that names the schema of the marts (dbt's `+schema: marts` on DuckDB).
SCHEMA = "marts"

QUERIES = {
    "summary": "select * from {marts}.insiders_summary",
    "top_insiders": "select * from {marts}.customers where is_insider order by net_revenue desc, customer_id limit 50",
    "features": "select * from {marts}.insiders_feature_comparison order by feature_order",
    "profiles": "select * from {marts}.cluster_profiles order by cluster_id",
    "monthly": "select * from {marts}.monthly_revenue order by revenue_month, segment",
    "forecast": "select * from {marts}.insiders_revenue_forecast",
    "rules": "select * from {marts}.insiders_rules order by rule_id",
    "refreshes": "select * from {marts}.membership_refreshes order by refresh_date",
    "last_leavers": """
        select customer_id, reason from {marts}.membership_replay
        where membership_change = 'left' and refresh_date = (select max(refresh_date) from {marts}.membership_replay)
        order by customer_id""",
    "difference": "select * from {marts}.insiders_revenue_difference",
    "bootstrap": "select * from {marts}.insiders_revenue_difference_bootstrap order by resample_id",
    "validation": "select * from {marts}.insiders_validation",
    "hypotheses": "select * from {marts}.insiders_hypotheses order by hypothesis_id",
    "models": "select * from {marts}.model_selection order by model_id",
    "seed_models": "select * from {marts}.model_selection_seed_comparison order by reference_order",
    # Coordinates as float: JSON of the 4 scatter plots stays small.
    "embeddings": """
        select space, customer_id, cast(x as float) as x, cast(y as float) as y, cluster_id
        from {marts}.customer_embedding_points order by space, cluster_id, customer_id""",
    "ledger": "select * from {marts}.ledger_reconciliation",
    "rejections": "select * from {marts}.rejection_reasons order by lines desc, rejection_reason",
}

# One-row marts: read as a row (a Series), not a table.
ONE_ROW = {"summary", "forecast", "difference"}


@dataclass
class Marts:
    summary: pd.Series
    top_insiders: pd.DataFrame
    features: pd.DataFrame
    profiles: pd.DataFrame
    monthly: pd.DataFrame
    forecast: pd.Series
    rules: pd.DataFrame
    refreshes: pd.DataFrame
    last_leavers: pd.DataFrame
    difference: pd.Series
    bootstrap: pd.DataFrame
    validation: pd.DataFrame
    hypotheses: pd.DataFrame
    models: pd.DataFrame
    seed_models: pd.DataFrame
    embeddings: pd.DataFrame
    ledger: pd.DataFrame
    rejections: pd.DataFrame

    @property
    def insider_profiles(self) -> pd.DataFrame:
        return self.profiles[self.profiles.is_insiders_cluster]


def load(database: Path) -> Marts:
    """Every mart the report reads (see the exposure insiders_report)."""
    with duckdb.connect(str(database), read_only=True) as con:
        frames = {name: con.sql(sql.format(marts=SCHEMA)).df() for name, sql in QUERIES.items()}
    for name in ONE_ROW:
        if len(frames[name]) != 1:
            raise ValueError(f"{database}: mart {SCHEMA}.{QUERIES[name].split('.')[-1]} holds "
                             f"{len(frames[name])} rows, expected one")
        frames[name] = frames[name].iloc[0]
    # Plain booleans: they select rows (a nullable one would not).
    frames["profiles"]["is_insiders_cluster"] = frames["profiles"].is_insiders_cluster.fillna(False).astype(bool)
    return Marts(**frames)
