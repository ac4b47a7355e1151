{#
  Revenue of every month, split between today's Insiders, the other
  identified customers and guests: one row per month and segment.
#}
with invoice_lines as (

    select * from {{ ref('invoice_lines') }}

),

customers as (

    select * from {{ ref('customers') }}

),

segmented as (

    select
        cast(
            {{ dbt.date_trunc('month', 'invoice_lines.invoice_date') }} as date
        ) as revenue_month,
        case
            when invoice_lines.customer_id is null then 'Guests'
            when customers.is_insider then 'Insiders'
            else 'Other customers'
        end as segment,
        invoice_lines.customer_id,
        invoice_lines.invoice_no,
        invoice_lines.disposition,
        invoice_lines.revenue
    from invoice_lines
    left join customers
        on invoice_lines.customer_id = customers.customer_id
    where invoice_lines.disposition in ('sale', 'return')

),

monthly as (

    select
        revenue_month,
        segment,
        cast(sum(revenue) as decimal(18, 3)) as revenue,
        cast(
            sum(case when disposition = 'sale' then revenue else 0 end)
            as decimal(18, 3)
        ) as sale_revenue,
        cast(
            sum(case when disposition = 'return' then revenue else 0 end)
            as decimal(18, 3)
        ) as return_revenue,
        count(distinct customer_id) as customers,
        count(distinct invoice_no) as invoices
    from segmented
    group by revenue_month, segment

),

final as (

    select
        monthly.*,
        cast(monthly.revenue as double precision)
        / sum(monthly.revenue) over (partition by monthly.revenue_month)
            as share_of_month_revenue
    from monthly

)

select * from final
