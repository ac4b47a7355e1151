"""The plain functions behind the clustering models, without dbt."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from insiders import clustering
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, pairwise_distances, silhouette_score


@pytest.fixture(scope="module")
def blobs():
    data, truth = make_blobs(n_samples=300, centers=[[0, 0], [6, 0], [0, 6]], cluster_std=0.5, random_state=1)
    return data, truth


def test_feature_matrix_logs_then_scales():
    customers = pd.DataFrame({"gross_revenue": [0.0, np.e - 1, -5.0], "invoices": [1, 2, 3]})
    scaled = clustering.feature_matrix(customers, ["gross_revenue", "invoices"], ["gross_revenue"], "minmax")
    np.testing.assert_allclose(scaled, [[0, 0], [1, 0.5], [0, 1]])


def test_feature_matrix_names_an_unknown_feature():
    with pytest.raises(ValueError, match="unknown clustering feature"):
        clustering.feature_matrix(pd.DataFrame({"a": [1.0]}), ["b"], [], "minmax")


def test_grid_has_a_row_per_setting_and_finds_three_blobs(blobs):
    data, _ = blobs
    grid = clustering.model_selection({"features": data}, range(2, 6), [0.5, 0.9], [5], random_state=0)
    assert len(grid) == 3 * 4 + 2
    assert grid.silhouette.dropna().between(-1, 1).all()
    best = clustering.choose_model(grid, ["features"], ["kmeans", "gmm", "hierarchical"], 2, 5)
    assert best.clusters_found == 3


def test_choice_respects_the_range_and_breaks_ties_to_fewer_clusters():
    grid = pd.DataFrame({
        "space": ["features"] * 4, "algorithm": ["kmeans"] * 4, "n_clusters": [2, 3, 4, 5],
        "clusters_found": [2, 3, 4, 5], "silhouette": [0.9, 0.5, 0.5, 0.4],
    })
    assert clustering.choose_model(grid, ["features"], ["kmeans"], 3, 5).n_clusters == 3
    with pytest.raises(ValueError, match="no model in the grid"):
        clustering.choose_model(grid, ["umap"], ["kmeans"], 3, 5)


def test_fit_on_a_sample_labels_everyone(blobs):
    data, truth = blobs
    sample = np.random.default_rng(0).choice(len(data), size=100, replace=False)
    for algorithm in ("kmeans", "gmm", "hierarchical"):
        choice = pd.Series({"algorithm": algorithm, "n_clusters": 3, "dbscan_eps": None, "dbscan_min_samples": None})
        labels = clustering.label_everyone(choice, data, sample, 0)
        assert adjusted_rand_score(truth, labels) == 1.0, algorithm


def test_the_sample_is_seeded_sorted_and_everyone_when_small():
    sample = clustering.sample_rows(1000, 100, random_state=3)
    assert len(sample) == len(set(sample)) == 100
    assert (np.diff(sample) > 0).all()
    assert (sample == clustering.sample_rows(1000, 100, random_state=3)).all()
    assert not (sample == clustering.sample_rows(1000, 100, random_state=4)).all()
    assert (clustering.sample_rows(80, 100, random_state=3) == np.arange(80)).all()


@pytest.mark.parametrize("space, algorithm", [("features", "kmeans"), ("features", "gmm"),
                                              ("features", "hierarchical"), ("features", "dbscan"),
                                              ("umap", "kmeans")])
def test_a_model_fitted_on_the_sample_labels_every_customer(blobs, space, algorithm):
    """The blobs are the features; an embedding space is a rotated copy of the
    sample only: customers outside the sample still get their blob."""
    data, truth = blobs
    sample = clustering.sample_rows(len(data), 90, random_state=0)
    coordinates = data[sample] @ np.array([[0, 1], [-1, 0]]) if space == "umap" else None
    choice = pd.Series({"space": space, "algorithm": algorithm, "n_clusters": None if algorithm == "dbscan" else 3,
                        "dbscan_eps": 2.0, "dbscan_min_samples": 3})
    labels = clustering.label_everyone(choice, data, sample, random_state=0, coordinates=coordinates)
    assert len(labels) == len(data)
    assert adjusted_rand_score(truth, labels) == 1.0


def test_the_stored_embeddings_must_hold_the_sample():
    """customer_embeddings gives the sample's coordinates in sample order; built for another sample, it is refused."""
    feature_space = pd.DataFrame({"customer_id": [10, 11, 12, 13], "recency_days": [0.0, 1.0, 2.0, 3.0]})
    embeddings = pd.DataFrame({"customer_id": [13, 11, 13, 11], "space": ["features", "features", "umap", "umap"],
                               "x": [0.0, 0.0, 3.0, 1.0], "y": [0.0, 0.0, 30.0, 10.0]})
    coordinates = clustering.sample_embeddings(feature_space, np.array([1, 3]), embeddings)
    assert list(coordinates) == ["umap"]
    assert coordinates["umap"].tolist() == [[1.0, 10.0], [3.0, 30.0]]
    with pytest.raises(ValueError, match="does not hold the clustering sample"):
        clustering.sample_embeddings(feature_space, np.array([0, 3]), embeddings)


def test_clusters_are_numbered_by_revenue_per_customer():
    labels = np.array([7, 7, 3, 3, 3, 9])
    revenue = np.array([10.0, 30.0, 5.0, 5.0, 5.0, 100.0])
    assert clustering.rank_clusters(labels, revenue).tolist() == [2, 2, 3, 3, 3, 1]


@pytest.mark.parametrize(
    "sizes, expected",
    [([10, 15, 75], {1}), ([5, 10, 85], {1, 2}), ([50, 50], {1}), ([20, 80], {1})],
)
def test_insiders_are_the_best_clusters_within_the_share(sizes, expected):
    cluster_ids = np.repeat(np.arange(1, len(sizes) + 1), sizes)
    assert clustering.insider_clusters(cluster_ids, 0.2) == expected


def test_jaccard():
    assert clustering.jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)
    assert clustering.min_pairwise_jaccard([{1, 2}, {1, 2}, {1}]) == 0.5


def test_entry_rules_reproduce_a_threshold():
    features = pd.DataFrame({"invoices": np.arange(1, 101, dtype=float), "noise": np.zeros(100)})
    insider = features.invoices.to_numpy() > 80
    rules = clustering.entry_rules(features, insider, max_depth=3, random_state=0)
    first = rules.iloc[0]
    assert first.predicts_insider and first.rule == "invoices > 80.50"
    assert (first.precision, first.recall, first.customers) == (1.0, 1.0, 20)
    assert rules.customers.sum() == 100


def test_baselines_have_the_asked_sizes():
    rfm = np.array([15, 3, 12, 12, 4, 9, 8, 7, 6, 5])
    revenue = np.arange(10, dtype=float)
    insiders = np.zeros(10, dtype=bool)
    insiders[[0, 2, 3]] = True
    groups = clustering.next_period_groups(insiders, rfm, revenue, 0.2, random_state=0)
    assert np.flatnonzero(groups["rfm_top"]).tolist() == [0, 3]
    assert groups["random"].sum() == 2
    assert np.flatnonzero(groups["rfm_top_same_size"]).tolist() == [0, 2, 3]


@pytest.mark.parametrize("with_noise", [False, True])
# Both products: few clusters (dense one-hot columns) and many (a sparse product).
@pytest.mark.parametrize("clusters", [5, clustering.SPARSE_ABOVE_CLUSTERS + 10])
def test_silhouette_equals_scikit_learn(blobs, with_noise, clusters):
    data, _ = blobs
    labels = clustering.cluster_labels("kmeans", data, clusters, random_state=0)
    labels[:3] = clusters  # A cluster of three, and a singleton below.
    labels[3] = clusters + 1
    if with_noise:
        labels[10:20] = -1
    kept = labels != -1
    expected = silhouette_score(data[kept], labels[kept])
    assert clustering.silhouettes(pairwise_distances(data), [labels]) == pytest.approx([expected], abs=1e-12)


def test_silhouettes_keep_the_order_of_the_labellings(blobs):
    # Labellings with few and many clusters, mixed: each score comes back in its place.
    data, _ = blobs
    labellings = [clustering.cluster_labels("kmeans", data, k, random_state=0)
                  for k in (3, clustering.SPARSE_ABOVE_CLUSTERS + 5, 2, clustering.SPARSE_ABOVE_CLUSTERS + 1)]
    expected = [silhouette_score(data, labels) for labels in labellings]
    assert clustering.silhouettes(pairwise_distances(data), labellings) == pytest.approx(expected, abs=1e-12)


def test_every_thread_fits_on_one_openmp_thread():
    """dbt runs Python models in two threads: scikit-learn's OpenMP must use one thread in each, not only in
    the thread that imported insiders.clustering (K-Means oversubscribed the cores from the other)."""
    check = ("import threading, insiders.clustering\n"
             "from sklearn.utils._openmp_helpers import _openmp_effective_n_threads as threads\n"
             "seen = []\n"
             "worker = threading.Thread(target=lambda: seen.append(threads()))\n"
             "worker.start(); worker.join()\n"
             "print(threads(), seen[0])\n")
    environment = {name: value for name, value in os.environ.items() if name != "OMP_NUM_THREADS"}
    shown = subprocess.run([sys.executable, "-c", check], env=environment, cwd=Path(clustering.__file__).parents[1],
                           capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["1", "1"]


def test_leaf_hamming_distances_are_scipys_bit_for_bit():
    from scipy.spatial.distance import cdist
    from sklearn.ensemble import RandomForestRegressor

    data, _ = make_blobs(n_samples=400, centers=4, n_features=3, random_state=3)
    forest_leaves = RandomForestRegressor(n_estimators=30, min_samples_leaf=5, random_state=0).fit(
        data[:, :2], data[:, 2]).apply(data[:, :2])
    random_leaves = np.random.default_rng(0).integers(0, 7, size=(200, 13))
    for leaves in (forest_leaves, random_leaves):
        assert np.array_equal(clustering.leaf_hamming_distances(leaves), cdist(leaves, leaves, "hamming"))
