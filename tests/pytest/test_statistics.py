"""Question 8's statistics through scipy.stats give the numbers of the plain loops
the report used before (same seed, same resamples, drawn in the same order)."""

import numpy as np
import pandas as pd
import pytest

from insiders.statistics import bootstrap_difference, percentile_interval, permutation_p_value, revenue_by_group

RESAMPLES, SEED = 500, 42


def loop_bootstrap(insiders, others):
    rng = np.random.default_rng(SEED)
    differences = np.array([rng.choice(insiders, insiders.size).mean() - rng.choice(others, others.size).mean()
                            for _ in range(RESAMPLES)])
    return differences, np.percentile(differences, [2.5, 97.5])


def loop_p_value(insiders, others):
    rng = np.random.default_rng(SEED)
    pooled, observed = np.concatenate([insiders, others]), abs(insiders.mean() - others.mean())
    hits = 0
    for _ in range(RESAMPLES):
        shuffled = rng.permutation(pooled)
        hits += abs(shuffled[:insiders.size].mean() - shuffled[insiders.size:].mean()) >= observed
    return (hits + 1) / (RESAMPLES + 1)


@pytest.mark.parametrize("shift", [0.0, 0.2, 3.0])
def test_scipy_equals_the_plain_loops(shift):
    rng = np.random.default_rng(1)
    insiders, others = rng.lognormal(6 + shift, 1, 80), rng.lognormal(6, 1.2, 300)
    differences, (low, high) = loop_bootstrap(insiders, others)
    result = bootstrap_difference(insiders, others, RESAMPLES, SEED)
    np.testing.assert_allclose(result.bootstrap_distribution, differences, rtol=1e-12)
    assert result.confidence_interval.low == pytest.approx(low, rel=1e-12)
    assert result.confidence_interval.high == pytest.approx(high, rel=1e-12)
    # insiders_revenue_difference takes the interval from the stored distribution: scipy's own numbers.
    assert percentile_interval(result.bootstrap_distribution) == (result.confidence_interval.low,
                                                                  result.confidence_interval.high)
    assert permutation_p_value(insiders, others, RESAMPLES, SEED) == pytest.approx(loop_p_value(insiders, others))


def test_p_value_is_two_sided_and_smallest_when_no_shuffle_reaches_it():
    rng = np.random.default_rng(2)
    low, high = rng.normal(0, 1, 100), rng.normal(5, 1, 100)
    assert permutation_p_value(high, low, RESAMPLES, SEED) == permutation_p_value(low, high, RESAMPLES, SEED)
    assert permutation_p_value(high, low, RESAMPLES, SEED) == pytest.approx(1 / (RESAMPLES + 1))


def test_customers_split_in_their_order_and_unflagged_ones_are_others():
    customers = pd.DataFrame({"is_insider": [True, None, False, True], "gross_revenue": [5.0, 1.0, 2.0, 3.0]})
    insiders, others = revenue_by_group(customers)
    assert insiders.tolist() == [5.0, 3.0]
    assert others.tolist() == [1.0, 2.0]
