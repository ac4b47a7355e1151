-- The customers of the clustering sample in one embedding space (change the
-- space: features, tree, tsne, umap), for a scatter coloured by cluster.
select
    customer_id,
    x,
    y,
    cluster_id
from {{ ref('customer_embedding_points') }}
where space = 'umap'
order by customer_id
