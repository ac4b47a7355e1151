"""The model-selection grid: silhouette of every space x algorithm x number of clusters, on the clustering sample."""

from insiders.clustering import model_selection, read_frame, sample_embeddings, sample_rows


def model(dbt, session):
    counts = dbt.config.get("cluster_counts")
    dbscan = dbt.config.get("dbscan")
    random_state = dbt.config.get("random_state")
    feature_space = read_frame(dbt.ref("customer_feature_space").order("customer_id"))
    sample = sample_rows(len(feature_space), dbt.config.get("sample_size"), random_state)
    spaces = {
        "features": feature_space.iloc[sample].drop(columns="customer_id").to_numpy(dtype=float),
        **sample_embeddings(feature_space, sample, read_frame(dbt.ref("customer_embeddings"))),
    }
    grid = model_selection(
        spaces,
        range(counts["min"], counts["max"] + 1),
        dbscan["eps_quantiles"],
        dbscan["min_samples"],
        random_state,
    )
    grid.insert(0, "model_id", grid.index + 1)
    return grid
