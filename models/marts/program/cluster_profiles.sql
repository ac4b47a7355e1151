{#
  One row per cluster of the trained model: size, shares of customers and
  revenue, the mean of every feature, and a name read off the profile.
#}
with clusters as (

    select * from {{ ref('customer_clusters') }}

),

customers as (

    select * from {{ ref('int_customers_featurized') }}

),

clustered_customers as (

    select
        clusters.cluster_id,
        clusters.is_insider,
        customers.*
    from clusters
    inner join customers on clusters.customer_id = customers.customer_id

),

overall as (

    select
        count(*) as customers,
        sum(gross_revenue) as gross_revenue,
        avg(recency_days) as avg_recency_days,
        avg(invoices) as avg_invoices,
        avg(gross_revenue) as avg_gross_revenue
    from clustered_customers

),

profiles as (

    select
        cluster_id,
        {{ dbt.bool_or('is_insider') }} as is_insiders_cluster,
        count(*) as customers,
        cast(sum(gross_revenue) as decimal(18, 3)) as gross_revenue,
        cast(sum(net_revenue) as decimal(18, 3)) as net_revenue,
        avg(cast(gross_revenue as double precision)) as avg_gross_revenue,
        avg(cast(net_revenue as double precision)) as avg_net_revenue,
        avg(cast(recency_days as double precision)) as avg_recency_days,
        avg(cast(invoices as double precision)) as avg_invoices,
        avg(cast(purchase_lines as double precision)) as avg_purchase_lines,
        avg(cast(items as double precision)) as avg_items,
        avg(cast(distinct_products as double precision))
            as avg_distinct_products,
        avg(avg_ticket) as avg_ticket,
        avg(avg_days_between_purchases) as avg_days_between_purchases,
        avg(purchase_frequency) as avg_purchase_frequency,
        avg(cast(returned_items as double precision)) as avg_returned_items,
        avg(avg_basket_size) as avg_basket_size,
        avg(avg_unique_basket_size) as avg_unique_basket_size,
        avg(cast(rfm_score as double precision)) as avg_rfm_score
    from clustered_customers
    group by cluster_id

),

final as (

    select
        profiles.cluster_id,
        case
            when profiles.is_insiders_cluster then 'Insiders'
            else
                case
                    when profiles.avg_recency_days <= overall.avg_recency_days
                        then 'Recent'
                    else 'Lapsed'
                end
                || case
                    when profiles.avg_invoices >= overall.avg_invoices
                        then ' frequent'
                    else ' occasional'
                end
                || case
                    when profiles.avg_gross_revenue >= overall.avg_gross_revenue
                        then ' big spenders'
                    else ' small spenders'
                end
        end
        || ' (' || cast(profiles.cluster_id as varchar) || ')' as cluster_name,
        profiles.is_insiders_cluster,
        profiles.customers,
        cast(profiles.customers as double precision) / overall.customers
            as share_of_customers,
        profiles.gross_revenue,
        cast(profiles.gross_revenue as double precision)
        / overall.gross_revenue as share_of_revenue,
        profiles.net_revenue,
        profiles.avg_gross_revenue,
        profiles.avg_net_revenue,
        profiles.avg_recency_days,
        profiles.avg_invoices,
        profiles.avg_purchase_lines,
        profiles.avg_items,
        profiles.avg_distinct_products,
        profiles.avg_ticket,
        profiles.avg_days_between_purchases,
        profiles.avg_purchase_frequency,
        profiles.avg_returned_items,
        profiles.avg_basket_size,
        profiles.avg_unique_basket_size,
        profiles.avg_rfm_score,
        profiles.avg_returned_items
        / nullif(profiles.avg_items, 0) as share_of_items_returned,
        profiles.avg_gross_revenue / avg(
            case
                when profiles.is_insiders_cluster
                    then profiles.avg_gross_revenue
            end
        ) over () as avg_gross_revenue_to_insiders
    from profiles
    cross join overall

)

select * from final
