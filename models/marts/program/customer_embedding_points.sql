{#
  Every sampled customer in every embedding space, with the cluster of the
  trained model: the points of the report's embedding chart.
#}
with customer_embeddings as (

    select * from {{ ref('customer_embeddings') }}

),

customer_clusters as (

    select * from {{ ref('customer_clusters') }}

),

final as (

    select
        customer_embeddings.space,
        customer_embeddings.customer_id,
        customer_embeddings.x,
        customer_embeddings.y,
        customer_clusters.cluster_id
    from customer_embeddings
    inner join customer_clusters
        on customer_embeddings.customer_id = customer_clusters.customer_id

)

select * from final
