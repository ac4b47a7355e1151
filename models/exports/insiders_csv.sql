{{ config(
    materialized='external',
    location=insiders_csv_build_path(),
    format='csv',
) }}
{#
  output/insiders.csv for marketing: every Insider with their cluster, RFM
  segment, features and the refresh since which they are members, in
  customer order.
  Written beside it as insiders.csv.build; the on-run-end hook (macro
  publish_marts) replaces the CSV with it only when the whole build passed.
#}
with customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        customers.customer_id,
        customers.cluster_id,
        customers.cluster_name,
        customers.rfm_segment,
        customers.member_since,
        customers.as_of_date,
        customers.recency_days,
        customers.invoices,
        customers.gross_revenue,
        customers.net_revenue,
        customers.avg_ticket,
        customers.purchase_frequency,
        customers.items,
        customers.distinct_products,
        customers.returned_items,
        customers.avg_basket_size,
        customers.avg_unique_basket_size
    from customers
    where customers.is_insider
    order by customers.customer_id

)

select * from final
