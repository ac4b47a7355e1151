-- Does the model-selection grid reproduce the seed notebooks' published
-- silhouettes? Their value beside this project's at the same k.
select
    space,
    algorithm,
    n_clusters,
    seed_silhouette,
    silhouette
from {{ ref('model_selection_seed_comparison') }}
order by reference_order
