{#
  One cluster per customer: the same customers in the customer base, the
  clusters and customers.
#}
with customer_base as (

    select customer_id from {{ ref('int_customers_featurized') }}

),

customer_clusters as (

    select customer_id from {{ ref('customer_clusters') }}

),

customers as (

    select customer_id from {{ ref('customers') }}

),

counts as (

    select
        (select count(*) from customer_base) as customers,
        (select count(*) from customer_clusters) as clustered_customers,
        (select count(*) from customers) as mart_customers,
        (
            select count(*)
            from customer_base
            inner join customer_clusters
                on customer_base.customer_id = customer_clusters.customer_id
        ) as matched_customers

)

select *
from counts
where
    clustered_customers != customers
    or mart_customers != customers
    or matched_customers != customers
