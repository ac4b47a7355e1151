{#
  What the membership needs to know of each customer at each refresh date
  (int_membership_refresh_dates), from the days before it: the features of
  int_customers_featurized_at_dates (same formulas) and the net revenue of
  the last 12 months. One row per customer with a sale before the date, per
  date.
#}
with customers_at_dates as (

    select * from {{ ref('int_customers_featurized_at_dates') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

last_12_months as (

    select
        customers_at_dates.customer_id,
        customers_at_dates.as_of_date,
        sum(customer_days.net_revenue) as net_revenue_12m
    from customers_at_dates
    inner join customer_days
        on
            customers_at_dates.customer_id = customer_days.customer_id
            and customers_at_dates.as_of_date > customer_days.invoice_date
            and customer_days.invoice_date >= {{ dbt.dateadd(
                'month', -12, 'customers_at_dates.as_of_date'
            ) }}
    group by customers_at_dates.customer_id, customers_at_dates.as_of_date

),

final as (

    select
        customers_at_dates.customer_id,
        customers_at_dates.as_of_date as refresh_date,
        customers_at_dates.first_purchase_date,
        customers_at_dates.last_purchase_date,
        customers_at_dates.gross_revenue,
        customers_at_dates.returned_revenue,
        customers_at_dates.net_revenue,
        cast(coalesce(last_12_months.net_revenue_12m, 0) as decimal(18, 3))
            as net_revenue_12m,
        customers_at_dates.invoices,
        customers_at_dates.purchase_lines,
        customers_at_dates.returned_items,
        customers_at_dates.purchase_frequency,
        customers_at_dates.recency_days,
        customers_at_dates.avg_days_between_purchases
    from customers_at_dates
    left join last_12_months
        on
            customers_at_dates.customer_id = last_12_months.customer_id
            and customers_at_dates.as_of_date = last_12_months.as_of_date

)

select * from final
