"""The clustering's two worker processes (joblib's loky pool), started early."""

import threading

from joblib import Parallel, delayed


def start_workers() -> None:
    """Starts the pool that the clustering's Parallel calls share and imports
    insiders.clustering in both workers, in the background: a new process
    takes about 1.5 s to import scikit-learn, which then overlaps with the
    caller's own work instead of holding up the first Parallel call."""
    threading.Thread(target=Parallel(n_jobs=2), args=([delayed(import_clustering)()] * 2,), daemon=True).start()


def import_clustering() -> None:
    import insiders.clustering  # noqa: F401
