"""Question 8's statistics: is an Insider's mean gross revenue really above the
other customers'? A bootstrap interval and a permutation test, through scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from insiders.clustering import read_frame

CONFIDENCE_LEVEL = 0.95


def read_customers(customers) -> pd.DataFrame:
    """What question 8's models read of the customers mart (a DuckDB relation), in customer_id order: the
    resamples, and so the interval and the p-value, depend on the order of the rows, and the mart's stored
    order changes from build to build."""
    return read_frame(customers.select("customer_id, as_of_date, is_insider, gross_revenue").order("customer_id"))


def revenue_by_group(customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The Insiders' gross revenues and the other customers', in the frame's order."""
    is_insider = customers["is_insider"].fillna(False).astype(bool)
    return (customers.loc[is_insider, "gross_revenue"].to_numpy(float),
            customers.loc[~is_insider, "gross_revenue"].to_numpy(float))


def mean_difference(first: np.ndarray, second: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(first, axis=axis) - np.mean(second, axis=axis)


def absolute_mean_difference(first: np.ndarray, second: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.abs(mean_difference(first, second, axis))


def bootstrap_difference(insiders: np.ndarray, others: np.ndarray, resamples: int, seed: int):
    """95% percentile bootstrap of the difference of means, each group resampled
    on its own. batch=1 draws one resample at a time (Insiders, then others), so
    the same seed gives the same resamples as a plain loop over rng.choice."""
    return stats.bootstrap((insiders, others), mean_difference, n_resamples=resamples, batch=1,
                           method="percentile", confidence_level=CONFIDENCE_LEVEL, vectorized=True,
                           rng=np.random.default_rng(seed))


def percentile_interval(distribution: np.ndarray) -> tuple[float, float]:
    """The percentile interval of a stored bootstrap distribution, computed as
    scipy's bootstrap computes it from the same resamples."""
    alpha = (1 - CONFIDENCE_LEVEL) / 2
    low, high = stats.quantile(distribution, np.array([alpha, 1 - alpha]))
    return float(low), float(high)


def permutation_p_value(insiders: np.ndarray, others: np.ndarray, permutations: int, seed: int) -> float:
    """Two-sided: the share of label shuffles whose absolute difference of means
    reaches the observed one, counting the observed labelling ((hits + 1) / (n + 1))."""
    result = stats.permutation_test((insiders, others), absolute_mean_difference, permutation_type="independent",
                                    n_resamples=permutations, batch=1, alternative="greater", vectorized=True,
                                    rng=np.random.default_rng(seed))
    return float(result.pvalue)
