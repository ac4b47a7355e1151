{# One cluster per customer: the same customers in the base, the clusters and dim_customers. #}
with customers as (

    select customer_id from {{ ref('int_customers_featurized') }}

),

clusters as (

    select customer_id from {{ ref('customer_clusters') }}

),

dim_customers as (

    select customer_id from {{ ref('dim_customers') }}

),

counts as (

    select
        (select count(*) from customers) as customers,
        (select count(*) from clusters) as clustered,
        (select count(*) from dim_customers) as dim_customers,
        (
            select count(*)
            from customers
            inner join clusters on customers.customer_id = clusters.customer_id
        ) as matched

)

select *
from counts
where
    clustered != customers
    or dim_customers != customers
    or matched != customers
