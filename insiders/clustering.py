"""Customer segmentation: the plain functions behind the dbt Python models.

Every function takes and returns NumPy / pandas objects, so that pytest can
call it without dbt. Random states are always explicit.
"""

import contextlib
import os
import sys
import warnings
from itertools import combinations

# dbt runs two models at once on two cores, each in a thread of its own:
# OpenMP threads on top of that oversubscribe the cores, and K-Means then runs
# many times slower. threadpool_limits below sets OpenMP's limit for the
# calling thread only; the environment sets it for every thread, when
# scikit-learn loads OpenMP (below, the first time in the process).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pyarrow as pa
from joblib import Parallel, delayed
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from sklearn.cluster import DBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.manifold import TSNE
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

def read_frame(relation) -> pd.DataFrame:
    """A model's input (a DuckDB relation) through Arrow; DECIMAL as float64, which pandas would hold as objects."""
    table = relation.to_arrow_table()
    schema = pa.schema([f.with_type(pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema])
    return table.cast(schema).to_pandas(date_as_object=False)


# BLAS's limit holds for every thread; OpenMP's for this one (see OMP_NUM_THREADS above).
threadpool_limits(limits=1)

ALGORITHMS = ("kmeans", "gmm", "hierarchical", "dbscan")
UMAP_SPACES = ("tree", "umap")  # the embedding spaces that UMAP lays out
SCALERS = {"minmax": MinMaxScaler, "standard": StandardScaler, "robust": RobustScaler}


def feature_matrix(customers: pd.DataFrame, features: list[str], log_features: list[str], scaler: str) -> np.ndarray:
    """The selected features, log1p-transformed where listed (negatives
    clipped to 0), then rescaled."""
    unknown = set(features) - set(customers.columns) or set(log_features) - set(features)
    if unknown:
        raise ValueError(f"unknown clustering feature(s) {sorted(unknown)}; columns: {list(customers.columns)}")
    if scaler not in SCALERS:
        raise ValueError(f"unknown scaler {scaler!r}; use one of {sorted(SCALERS)}")
    values = customers[features].astype(float)
    for column in log_features:
        values[column] = np.log1p(values[column].clip(lower=0))
    return SCALERS[scaler]().fit_transform(values.to_numpy())


def embed(space: str, scaled: pd.DataFrame, target: np.ndarray, random_state: int) -> np.ndarray:
    """2-D coordinates of each customer in one space, from the scaled features.

    features: the first two principal components (for pictures only; the
    grid clusters on all the features). tree: a random forest predicts the
    target (gross revenue) from the features that are not revenue; customers
    that share leaves are neighbours (Hamming distance between leaf vectors),
    laid out by UMAP. tsne, umap: the features laid out by t-SNE or UMAP.
    """
    data = scaled.to_numpy(dtype=float)
    if space == "features":
        return PCA(n_components=2, random_state=random_state).fit_transform(data)
    if space == "tree":
        predictors = scaled[[column for column in scaled if not column.endswith("revenue")]].to_numpy(dtype=float)
        forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=5, random_state=random_state, n_jobs=1)
        leaves = forest.fit(predictors, target).apply(predictors)
        # Many customers share every leaf: spectral initialisation fails there.
        return umap_layout(leaves, "hamming", random_state, init="random",
                           distance_matrix=leaf_hamming_distances(leaves))
    if space == "tsne":
        return TSNE(n_components=2, init="pca", perplexity=30, max_iter=500, random_state=random_state).fit_transform(data)
    if space == "umap":
        return umap_layout(data, "euclidean", random_state)
    raise ValueError(f"unknown space {space!r} in var embedding_spaces; known: features, tree, tsne, umap")


def embed_all(spaces: list[str], scaled: pd.DataFrame, target: np.ndarray, random_state: int) -> dict[str, np.ndarray]:
    """embed() for every space, two processes at a time (t-SNE and UMAP are
    single-threaded). The spaces laid out by UMAP go to one process together:
    numba compiles UMAP's layout in every new process, which costs seconds."""
    by_umap = [space for space in spaces if space in UMAP_SPACES]
    others = sorted((space for space in spaces if space not in UMAP_SPACES), key=lambda space: space != "tsne")
    # Longest first: the UMAP spaces, then t-SNE, then the others.
    groups = ([by_umap] if by_umap else []) + [[space] for space in others]
    layouts = Parallel(n_jobs=2)(delayed(embed_each)(group, scaled, target, random_state) for group in groups)
    found = {space: xy for group_layouts in layouts for space, xy in group_layouts.items()}
    return {space: found[space] for space in spaces}


def embed_each(spaces: list[str], scaled: pd.DataFrame, target: np.ndarray, random_state: int) -> dict[str, np.ndarray]:
    return {space: embed(space, scaled, target, random_state) for space in spaces}


def umap_layout(data: np.ndarray, metric: str, random_state: int, neighbours: int = 15,
                init: str = "spectral", distance_matrix: np.ndarray | None = None) -> np.ndarray:
    """UMAP on neighbours found by scikit-learn (in distance_matrix, the
    metric's distances between data's rows, when given): pynndescent's index
    would spend over a minute compiling in every new process."""
    import umap  # Imported here: loading numba costs seconds that other spaces need not pay.

    cache_umap_compilation()
    if distance_matrix is None:
        distances, indices = NearestNeighbors(n_neighbors=neighbours, metric=metric).fit(data).kneighbors(data)
    else:
        search = NearestNeighbors(n_neighbors=neighbours, metric="precomputed").fit(distance_matrix)
        distances, indices = search.kneighbors(distance_matrix)
    reducer = umap.UMAP(n_neighbors=neighbours, metric=metric, precomputed_knn=(indices, distances),
                        init=init, random_state=random_state)
    with warnings.catch_warnings():
        # Expected: a fixed random state runs single-threaded, and neither
        # transform() nor inverse_transform() is needed.
        warnings.filterwarnings("ignore", message=".*(n_jobs value|knn_search_index|gradient function).*")
        return reducer.fit_transform(data)


def leaf_hamming_distances(leaves: np.ndarray) -> np.ndarray:
    """scipy's Hamming distances between the rows of leaves (one leaf per tree:
    the share of trees in which two customers fall in different leaves), bit
    for bit, from the number of leaves each pair shares: a sparse product of
    customers by (tree, leaf), five times faster than comparing every tree of
    every pair."""
    customers, trees = leaves.shape
    _, tree_leaf = np.unique((leaves + np.arange(trees) * (leaves.max() + 1)).ravel(), return_inverse=True)
    in_leaf = csr_matrix((np.ones(leaves.size), (np.repeat(np.arange(customers), trees), tree_leaf)))
    return (trees - (in_leaf @ in_leaf.T).toarray()) / trees


def cache_umap_compilation() -> None:
    """numba compiles UMAP's functions in every new process, about 5 s of each
    build, and umap-learn keeps few of them in numba's on-disk cache: keep them
    all (in the library's __pycache__, or numba's user-wide cache when that is
    read-only), so that the next build loads them. The code compiled is the same."""
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    for module in [module for name, module in sys.modules.items() if name.startswith("umap.")]:
        for function in vars(module).values():
            if isinstance(function, Dispatcher) and isinstance(function._cache, NullCache):
                with contextlib.suppress(RuntimeError):  # No cache folder can be written: compile as before.
                    function.enable_caching()


def centroid_model(algorithm: str, n_clusters: int, random_state: int) -> KMeans | GaussianMixture:
    """The models that can label customers they were not fitted on."""
    if algorithm == "kmeans":
        return KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    return GaussianMixture(n_components=n_clusters, random_state=random_state)


def cluster_labels(algorithm: str, data: np.ndarray, n_clusters: int | None, random_state: int,
                   eps: float | None = None, min_samples: int | None = None,
                   ward_tree: np.ndarray | None = None) -> np.ndarray:
    """Labels from one algorithm; DBSCAN marks noise with -1. ward_tree: the
    data's Ward linkage when already built (the grid cuts one tree at every k)."""
    if algorithm in ("kmeans", "gmm"):
        return centroid_model(algorithm, n_clusters, random_state).fit_predict(data)
    if algorithm == "hierarchical":
        tree = linkage(data, "ward") if ward_tree is None else ward_tree
        return fcluster(tree, n_clusters, criterion="maxclust") - 1
    if algorithm == "dbscan":
        return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(data)
    raise ValueError(f"unknown algorithm {algorithm!r}; use one of {ALGORITHMS}")


# A labelling with more clusters than this gets its distance sums from a sparse
# product, one pass over the distance matrix; below, from dense one-hot columns,
# which cost about a thirtieth of a pass each (measured on the grid's matrices).
SPARSE_ABOVE_CLUSTERS = 30


def silhouettes(distances: np.ndarray, labellings: list[np.ndarray]) -> list[float | None]:
    """scikit-learn's silhouette_score of each labelling, from one euclidean
    distance matrix, over the customers that are not noise (-1); None when
    fewer than two clusters remain. What each customer's distances sum to in
    every cluster comes from products with one-hot matrices: one dense product
    for every labelling with few clusters (the grid scores about fifty
    labellings of the same customers: one product reads the matrix once, ten
    times faster than scikit-learn's row-by-row reduction), and a sparse one
    for each labelling with many (DBSCAN finds hundreds in an embedding)."""
    one_hots = [one_hot_clusters(labels) for labels in labellings]
    few = [one_hot for one_hot in one_hots if one_hot.shape[1] <= SPARSE_ABOVE_CLUSTERS]
    dense_sums = iter(np.hsplit(distances @ np.hstack([one_hot.toarray() for one_hot in few]),
                                np.cumsum([one_hot.shape[1] for one_hot in few])[:-1]) if few else [])
    # distances is symmetric (to rounding): a sparse product reads its rows, not its columns.
    return [cluster_silhouette(next(dense_sums) if one_hot.shape[1] <= SPARSE_ABOVE_CLUSTERS
                               else (one_hot.T @ distances).T, one_hot)
            for one_hot in one_hots]


def one_hot_clusters(labels: np.ndarray) -> csr_matrix:
    """One column per cluster; noise rows (-1) are all zero, so add nothing to the sums."""
    kept = labels != -1
    clusters, members = np.unique(labels[kept], return_inverse=True)
    return csr_matrix((np.ones(len(members)), (np.flatnonzero(kept), members)), shape=(len(labels), len(clusters)))


def cluster_silhouette(sums: np.ndarray, one_hot: csr_matrix) -> float | None:
    """The mean silhouette from each customer's distance sums to each cluster."""
    if one_hot.shape[1] < 2:
        return None
    kept = one_hot.getnnz(axis=1) > 0
    members = one_hot[kept].indices
    sizes = np.bincount(members, minlength=one_hot.shape[1])
    sums = sums[kept]
    own = sums[np.arange(len(members)), members]
    inner = own / np.maximum(sizes[members] - 1, 1)
    sums[np.arange(len(members)), members] = np.inf
    nearest = (sums / sizes).min(axis=1)
    scores = np.where(sizes[members] > 1, (nearest - inner) / np.maximum(inner, nearest), 0.0)
    return float(np.nan_to_num(scores).mean())


def dbscan_settings(data: np.ndarray, quantiles: list[float], min_samples: list[int]) -> list[tuple[float, float, int]]:
    """(quantile, eps, min_samples): eps is the quantile of each customer's
    distance to its min_samples-th neighbour, so that it suits every space's scale."""
    settings = []
    for samples in min_samples:
        distances = NearestNeighbors(n_neighbors=samples).fit(data).kneighbors(data)[0][:, -1]
        settings += [(q, float(np.quantile(distances, q)), samples) for q in quantiles]
    return settings


def model_selection(spaces: dict[str, np.ndarray], cluster_counts: range, dbscan_quantiles: list[float],
                    dbscan_min_samples: list[int], random_state: int) -> pd.DataFrame:
    """The grid: every space x algorithm x number of clusters (DBSCAN: x eps
    and min_samples), with the silhouette and what was found."""
    # One process per space (two at a time): GMM's many small NumPy steps
    # hold the GIL, so threads would take turns.
    jobs = (delayed(space_grid)(space, data, cluster_counts, dbscan_quantiles, dbscan_min_samples, random_state)
            for space, data in spaces.items())
    return pd.DataFrame([row for rows in Parallel(n_jobs=2)(jobs) for row in rows])


def space_grid(space: str, data: np.ndarray, cluster_counts: range, dbscan_quantiles: list[float],
               dbscan_min_samples: list[int], random_state: int) -> list[dict]:
    """model_selection's rows of one space."""
    distances = pairwise_distances(data)  # Once per space: every silhouette reads it.
    tree = linkage(data, "ward")  # One Ward tree per space, cut at every k.
    settings = [(algorithm, k, None, None, None) for k in cluster_counts for algorithm in ("kmeans", "gmm", "hierarchical")]
    settings += [("dbscan", None, *setting) for setting in dbscan_settings(data, dbscan_quantiles, dbscan_min_samples)]
    labellings = [cluster_labels(algorithm, data, k, random_state, eps, samples, ward_tree=tree)
                  for algorithm, k, _, eps, samples in settings]
    return [
        grid_row(space, algorithm, k, quantile, eps, samples, labels, score)
        for (algorithm, k, quantile, eps, samples), labels, score
        in zip(settings, labellings, silhouettes(distances, labellings), strict=True)
    ]


def grid_row(space, algorithm, k, quantile, eps, samples, labels, silhouette) -> dict:
    return {
        "space": space,
        "algorithm": algorithm,
        "n_clusters": k,
        "dbscan_eps_quantile": quantile,
        "dbscan_eps": eps,
        "dbscan_min_samples": samples,
        "clusters_found": int(len(np.unique(labels[labels != -1]))),
        "noise_share": float(np.mean(labels == -1)),
        "silhouette": silhouette,
    }


def choose_model(grid: pd.DataFrame, spaces: list[str], algorithms: list[str],
                 min_clusters: int, max_clusters: int) -> pd.Series:
    """The row with the best silhouette among the allowed spaces and
    algorithms whose clusters found lie in [min_clusters, max_clusters];
    ties go to fewer clusters."""
    allowed = grid[
        grid.space.isin(spaces)
        & grid.algorithm.isin(algorithms)
        & grid.clusters_found.between(min_clusters, max_clusters)
        & grid.silhouette.notna()
    ]
    if allowed.empty:
        raise ValueError(f"no model in the grid fits the choice rule: spaces {spaces}, algorithms {algorithms}, "
                         f"{min_clusters} to {max_clusters} clusters")
    return allowed.sort_values(["silhouette", "clusters_found"], ascending=[False, True]).iloc[0]


def sample_rows(customers: int, size: int, random_state: int) -> np.ndarray:
    """The clustering sample, defined here only: `size` row numbers of the
    customer base (in customer_id order) drawn without replacement (seeded),
    in ascending order; every row when there are no more."""
    if customers <= size:
        return np.arange(customers)
    return np.sort(np.random.default_rng(random_state).choice(customers, size=size, replace=False))


def sample_embeddings(feature_space: pd.DataFrame, sample: np.ndarray, embeddings: pd.DataFrame) -> dict[str, np.ndarray]:
    """The sample's 2-D coordinates in every embedding space of
    customer_embeddings, rows in the sample's order. Not `features`: its rows
    there are a picture (PCA), the models cluster all the scaled features."""
    sample_ids = feature_space["customer_id"].to_numpy()[sample]
    coordinates = {}
    for space, rows in embeddings[embeddings.space != "features"].groupby("space"):
        rows = rows.sort_values("customer_id")
        if not np.array_equal(rows["customer_id"].to_numpy(), sample_ids):
            raise ValueError(f"customer_embeddings (space {space}) does not hold the clustering sample "
                             f"({len(sample_ids)} customers): build it again with the same vars")
        coordinates[space] = rows[["x", "y"]].to_numpy(dtype=float)
    return coordinates


def label_everyone(choice: pd.Series, features: np.ndarray, sample: np.ndarray, random_state: int,
                   coordinates: np.ndarray | None = None) -> np.ndarray:
    """Every row's label from the chosen model fitted on the sample.

    features: every customer's scaled features; sample: the sample's row
    numbers in it (a bootstrap draw may repeat rows); coordinates: the
    sample's rows in the chosen embedding space, None when the model
    clusters the features. K-Means and GMM on the features predict every
    row. Otherwise (Ward and DBSCAN have no predict; embeddings exist for the
    sample only) a row takes the label of its nearest sampled row in the
    features.
    """
    if coordinates is None and choice.algorithm in ("kmeans", "gmm"):
        model = centroid_model(choice.algorithm, int(choice.n_clusters), random_state)
        return model.fit(features[sample]).predict(features)
    k = None if pd.isna(choice.n_clusters) else int(choice.n_clusters)
    min_samples = None if pd.isna(choice.dbscan_min_samples) else int(choice.dbscan_min_samples)
    fitted = features[sample] if coordinates is None else coordinates
    labels = cluster_labels(choice.algorithm, fitted, k, random_state, choice.dbscan_eps, min_samples)
    if np.array_equal(sample, np.arange(len(features))):
        return labels
    return KNeighborsClassifier(n_neighbors=1).fit(features[sample], labels).predict(features)


def rank_clusters(labels: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    """Renumbers clusters 1, 2, ... by revenue per customer, highest first,
    so that the same data gives the same numbers on every run."""
    frame = pd.DataFrame({"label": labels, "revenue": revenue})
    per_customer = frame.groupby("label").revenue.mean().sort_values(ascending=False, kind="stable")
    order = {label: rank for rank, label in enumerate(per_customer.index, start=1)}
    return frame.label.map(order).to_numpy()


def insider_clusters(cluster_ids: np.ndarray, max_customer_share: float) -> set[int]:
    """The best clusters (lowest ids) while together they hold at most
    max_customer_share of the customers; always at least cluster 1."""
    shares = pd.Series(cluster_ids).value_counts(normalize=True).sort_index()
    chosen = shares.index[shares.cumsum() <= max_customer_share + 1e-12]
    return set(chosen.tolist()) | {int(shares.index[0])}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def min_pairwise_jaccard(sets: list[set]) -> float:
    return min(jaccard(a, b) for a, b in combinations(sets, 2))


def bootstrap_ari(choice: pd.Series, data: np.ndarray, reference: np.ndarray, resamples: int,
                  random_state: int) -> list[float]:
    """Adjusted Rand index between the reference labels of the rows of data
    (the sample in the chosen space) and the labels of the same model fitted
    on each bootstrap resample of these rows."""
    generator = np.random.default_rng(random_state)
    draws = [generator.choice(len(data), size=len(data), replace=True) for _ in range(resamples)]
    # Two processes: each fit holds one core (threadpool_limits above).
    labellings = Parallel(n_jobs=2)(delayed(label_everyone)(choice, data, draw, random_state) for draw in draws)
    return [adjusted_rand_score(reference, labels) for labels in labellings]


def is_eligible(net_revenue: np.ndarray, gross_revenue: np.ndarray, max_return_share: float) -> np.ndarray:
    """Whoever returned more than max_return_share of what they bought cannot
    enter, whatever their cluster: value is what a customer keeps."""
    return net_revenue >= (1 - max_return_share) * gross_revenue


def select_insiders(scaled: pd.DataFrame, revenue: np.ndarray, choice: pd.Series,
                    max_customer_share: float, random_state: int, sample_size: int) -> np.ndarray:
    """The whole rule on one customer base: the chosen space, algorithm and
    number of clusters fitted on a sample of sample_size customers (the
    sample drawn with random_state), every customer labelled, clusters
    ranked by (net) revenue per customer, the Insiders clusters. Returns a boolean
    mask of Insiders."""
    sample = sample_rows(len(scaled), sample_size, random_state)
    coordinates = None if choice.space == "features" else embed(
        choice.space, scaled.iloc[sample], revenue[sample], random_state)
    labels = label_everyone(choice, scaled.to_numpy(dtype=float), sample, random_state, coordinates)
    cluster_ids = rank_clusters(labels, revenue)
    return np.isin(cluster_ids, list(insider_clusters(cluster_ids, max_customer_share)))


def next_period_groups(insiders: np.ndarray, rfm_score: np.ndarray, gross_revenue: np.ndarray,
                       baseline_share: float, random_state: int) -> dict[str, np.ndarray]:
    """Insiders and the baselines as masks over the same customers: the top
    baseline_share by RFM score (ties by gross revenue), a random
    baseline_share, and the top by RFM score of the Insiders' own size."""
    size = int(round(baseline_share * len(insiders)))
    by_rfm = np.lexsort((-gross_revenue, -rfm_score))
    randomly = np.random.default_rng(random_state).choice(len(insiders), size=size, replace=False)
    rows = np.arange(len(insiders))
    return {
        "insiders": insiders,
        "rfm_top": np.isin(rows, by_rfm[:size]),
        "random": np.isin(rows, randomly),
        "rfm_top_same_size": np.isin(rows, by_rfm[:int(insiders.sum())]),
    }


def entry_rules(features: pd.DataFrame, is_insider: np.ndarray, max_depth: int, random_state: int) -> pd.DataFrame:
    """Readable rules that reproduce is_insider: one row per leaf of a
    decision tree on the original features, with the leaf's precision (share
    of Insiders among its customers) and recall (share of all Insiders)."""
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state).fit(features, is_insider)
    structure, leaves = tree.tree_, tree.apply(features)
    rows = []

    def walk(node, bounds):
        if structure.children_left[node] == -1:
            in_leaf = leaves == node
            insiders = int(is_insider[in_leaf].sum())
            rows.append({
                "rule": " and ".join(describe_bound(name, low, high) for name, (low, high) in bounds.items()) or "everyone",
                "predicts_insider": bool(tree.classes_[structure.value[node][0].argmax()]),
                "customers": int(in_leaf.sum()),
                "insiders": insiders,
                "precision": insiders / in_leaf.sum(),
                "recall": insiders / max(int(is_insider.sum()), 1),
            })
            return
        name, threshold = features.columns[structure.feature[node]], float(structure.threshold[node])
        low, high = bounds.get(name, (None, None))
        walk(structure.children_left[node], {**bounds, name: (low, threshold if high is None else min(high, threshold))})
        walk(structure.children_right[node], {**bounds, name: (threshold if low is None else max(low, threshold), high)})

    walk(0, {})
    frame = pd.DataFrame(rows).sort_values(["predicts_insider", "insiders"], ascending=False, ignore_index=True)
    frame.insert(0, "rule_id", frame.index + 1)
    return frame


def describe_bound(name: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:,.2f} < {name} <= {high:,.2f}"
    return f"{name} > {low:,.2f}" if low is not None else f"{name} <= {high:,.2f}"
