"""The model-selection grid: silhouette of every space x algorithm x number of clusters."""

from insiders.clustering import model_selection, read_frame, space_matrices


def model(dbt, session):
    counts = dbt.config.get("cluster_counts")
    dbscan = dbt.config.get("dbscan")
    spaces = space_matrices(
        read_frame(dbt.ref("customer_feature_space")), read_frame(dbt.ref("customer_embeddings"))
    )
    grid = model_selection(
        spaces,
        range(counts["min"], counts["max"] + 1),
        dbscan["eps_quantiles"],
        dbscan["min_samples"],
        dbt.config.get("random_state"),
    )
    grid.insert(0, "model_id", grid.index + 1)
    return grid
