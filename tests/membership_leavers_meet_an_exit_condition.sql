-- Every member who left the program at a refresh met an exit condition
-- there, recomputed from the customer's features: no purchase for longer
-- than the lapse limit, 12-month net revenue below the value threshold, or
-- more returned than the entry rule allows.
{{ config(enabled=target.type == 'duckdb') }}

{% set exit_rules = var('membership')['exit'] %}

with membership as (

    select * from {{ ref('membership_replay') }}

),

customers as (

    select * from {{ ref('int_customers_at_refreshes') }}

),

thresholds as (

    select
        refresh_date,
        percentile_cont({{ exit_rules['value_quantile'] }}) within group (
            order by cast(net_revenue_12m as double precision)
        ) as threshold
    from customers
    group by refresh_date

),

leavers as (

    select
        membership.refresh_date,
        membership.customer_id,
        customers.recency_days > greatest(
            {{ exit_rules['min_lapse_days'] }},
            coalesce(
                {{ exit_rules['lapse_multiple'] }}
                * customers.avg_days_between_purchases,
                0
            )
        ) as is_lapsed,
        cast(customers.net_revenue_12m as double precision)
        < thresholds.threshold - 1e-6 as is_low_value,
        customers.net_revenue
        < (1 - {{ var('insiders_max_return_share') }}) * customers.gross_revenue
            as is_returner
    from membership
    inner join customers
        on
            membership.customer_id = customers.customer_id
            and membership.refresh_date = customers.refresh_date
    inner join thresholds
        on membership.refresh_date = thresholds.refresh_date
    where membership.membership_change = 'left'

)

select * from leavers
where not (is_lapsed or is_low_value or is_returner)
