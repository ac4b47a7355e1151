{#
  What the membership needs to know of each customer at each refresh date
  (int_membership_refresh_dates), from the days before it: value (gross,
  returned, net, net of the last 12 months), invoices, recency, the usual
  interval between purchases, and the seed profile's clustering features. One row per customer with a sale before the
  date, per date; the formulas are those of int_customers_featurized.
#}
with customer_days as (

    select * from {{ ref('int_customer_days') }}

),

refresh_dates as (

    select * from {{ ref('int_membership_refresh_dates') }}

),

totals as (

    select
        d.customer_id,
        r.refresh_date,
        min(case when d.invoices > 0 then d.invoice_date end)
            as first_purchase_date,
        max(case when d.invoices > 0 then d.invoice_date end)
            as last_purchase_date,
        cast(sum(d.gross_revenue) as decimal(18, 3)) as gross_revenue,
        cast(sum(d.returned_revenue) as decimal(18, 3)) as returned_revenue,
        cast(sum(d.net_revenue) as decimal(18, 3)) as net_revenue,
        cast(sum(
            case
                when
                    d.invoice_date
                    >= {{ dbt.dateadd('month', -12, 'r.refresh_date') }}
                    then d.net_revenue
                else 0
            end
        ) as decimal(18, 3)) as net_revenue_12m,
        sum(d.invoices) as invoices,
        sum(d.purchase_lines) as purchase_lines,
        sum(d.returned_items) as returned_items
    from customer_days as d
    inner join refresh_dates as r
        on d.invoice_date < r.refresh_date
    group by d.customer_id, r.refresh_date
    having sum(d.invoices) > 0

),

final as (

    select
        customer_id,
        refresh_date,
        first_purchase_date,
        last_purchase_date,
        gross_revenue,
        returned_revenue,
        net_revenue,
        net_revenue_12m,
        cast(invoices as bigint) as invoices,
        cast(purchase_lines as bigint) as purchase_lines,
        cast(returned_items as bigint) as returned_items,
        cast(invoices as double precision) / (
            {{ dbt.datediff(
                'first_purchase_date', 'last_purchase_date', 'day'
            ) }} + 1
        ) as purchase_frequency,
        {{ dbt.datediff(
            'last_purchase_date', 'refresh_date', 'day'
        ) }} - 1 as recency_days,
        case
            when invoices > 1
                then cast({{ dbt.datediff(
                    'first_purchase_date', 'last_purchase_date', 'day'
                ) }} as double precision) / (invoices - 1)
        end as avg_days_between_purchases
    from totals

)

select * from final
