with customers as (

    select * from {{ ref('int_customers_featurized') }}

),

clusters as (

    select * from {{ ref('customer_clusters') }}

),

cluster_profiles as (

    select * from {{ ref('cluster_profiles') }}

),

final as (

    select
        customers.*,
        clusters.cluster_id,
        cluster_profiles.cluster_name,
        clusters.is_insider
    from customers
    inner join clusters on customers.customer_id = clusters.customer_id
    inner join cluster_profiles
        on clusters.cluster_id = cluster_profiles.cluster_id

)

select * from final
