{#
  The headline numbers of this run, one row: how many Insiders and their
  share of customers and revenue (questions 2 and 4), the customers'
  means that the actions of question 9 compare with, the entry rules
  together (question 6), the model in use and how many customers the
  embeddings show.
#}
with customers as (

    select * from {{ ref('customers') }}

),

monthly_revenue as (

    select * from {{ ref('monthly_revenue') }}

),

insiders_rules as (

    select * from {{ ref('insiders_rules') }}

),

cluster_profiles as (

    select * from {{ ref('cluster_profiles') }}

),

customer_clusters as (

    select * from {{ ref('customer_clusters') }}

),

model_selection as (

    select * from {{ ref('model_selection') }}

),

customer_embeddings as (

    select * from {{ ref('customer_embeddings') }}

),

customer_totals as (

    select
        max(as_of_date) as as_of_date,
        count(*) as customers,
        cast(sum(case when is_insider then 1 else 0 end) as bigint) as insiders,
        sum(case when is_insider then gross_revenue else 0 end)
            as insiders_gross_revenue,
        sum(gross_revenue) as customers_gross_revenue,
        avg(cast(recency_days as double precision))
            as customers_mean_recency_days,
        avg(cast(gross_revenue as double precision))
            as customers_mean_gross_revenue
    from customers

),

all_revenue as (

    select
        min(revenue_month) as first_revenue_month,
        max(revenue_month) as last_revenue_month,
        cast(
            sum(case when segment = 'Insiders' then revenue else 0 end)
            as double precision
        )
        / nullif(sum(revenue), 0) as insiders_share_of_all_revenue
    from monthly_revenue

),

entry_rules as (

    select
        count(*) as entry_rules,
        coalesce(sum(insiders), 0) as insiders_meeting_an_entry_rule,
        coalesce(sum(customers), 0) as customers_meeting_an_entry_rule
    from insiders_rules
    where predicts_insider

),

insiders_clusters as (

    select
        avg(avg_gross_revenue) as insiders_clusters_avg_gross_revenue,
        avg(avg_distinct_products) as insiders_clusters_avg_distinct_products
    from cluster_profiles
    where is_insiders_cluster

),

model_in_use as (

    select distinct
        customer_clusters.model_id,
        customer_clusters.space,
        customer_clusters.algorithm,
        cast(model_selection.n_clusters as integer) as n_clusters,
        model_selection.silhouette
    from customer_clusters
    left join model_selection
        on customer_clusters.model_id = model_selection.model_id

),

embedded as (

    select count(distinct customer_id) as embedded_customers
    from customer_embeddings

),

final as (

    select
        customer_totals.as_of_date,
        customer_totals.customers,
        customer_totals.insiders,
        cast(customer_totals.insiders as double precision)
        / nullif(customer_totals.customers, 0) as insiders_share_of_customers,
        customer_totals.insiders_gross_revenue,
        customer_totals.customers_gross_revenue,
        cast(customer_totals.insiders_gross_revenue as double precision)
        / nullif(customer_totals.customers_gross_revenue, 0)
            as insiders_share_of_gross_revenue,
        all_revenue.insiders_share_of_all_revenue,
        all_revenue.first_revenue_month,
        all_revenue.last_revenue_month,
        customer_totals.customers_mean_recency_days,
        customer_totals.customers_mean_gross_revenue,
        insiders_clusters.insiders_clusters_avg_gross_revenue,
        insiders_clusters.insiders_clusters_avg_distinct_products,
        entry_rules.entry_rules,
        cast(entry_rules.insiders_meeting_an_entry_rule as double precision)
        / greatest(entry_rules.customers_meeting_an_entry_rule, 1)
            as entry_rules_precision,
        cast(entry_rules.insiders_meeting_an_entry_rule as double precision)
        / greatest(customer_totals.insiders, 1) as entry_rules_recall,
        model_in_use.model_id,
        model_in_use.space as model_space,
        model_in_use.algorithm as model_algorithm,
        model_in_use.n_clusters as model_clusters,
        model_in_use.silhouette as model_silhouette,
        embedded.embedded_customers
    from customer_totals
    cross join all_revenue
    cross join entry_rules
    cross join insiders_clusters
    cross join embedded
    left join model_in_use on true

)

select * from final
