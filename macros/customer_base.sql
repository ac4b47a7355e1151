{#
  The customer base as of a date: one row per customer with a sale before
  `as_of_date` (exclusive), the features computed from the ledger's sale and
  return lines before that date, RFM scores and the RFM segment. One macro so
  that customers and the out-of-time validation use the same formulas.
#}
{% macro customer_base(as_of_date) %}

with ledger_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

-- Only the columns used: DuckDB materializes a CTE read three times, and
-- carrying the descriptions made it two thirds of the model's time.
kept_lines as (

    select
        customer_id,
        invoice_no,
        stock_code,
        disposition,
        invoice_date,
        quantity,
        line_revenue
    from ledger_lines
    where
        disposition in ('sale', 'return')
        and customer_id is not null
        and invoice_date < {{ as_of_date }}

),

sale_invoices as (

    select
        customer_id,
        invoice_no,
        count(distinct stock_code) as distinct_products
    from kept_lines
    where disposition = 'sale'
    group by customer_id, invoice_no

),

basket_sizes as (

    select
        customer_id,
        avg(cast(distinct_products as double precision)) as avg_unique_basket_size
    from sale_invoices
    group by customer_id

),

sales as (

    select
        customer_id,
        min(invoice_date) as first_purchase_date,
        max(invoice_date) as last_purchase_date,
        cast(sum(line_revenue) as decimal(18, 3)) as gross_revenue,
        count(distinct invoice_no) as invoices,
        count(*) as purchase_lines,
        cast(sum(quantity) as bigint) as items,
        count(distinct stock_code) as distinct_products
    from kept_lines
    where disposition = 'sale'
    group by customer_id

),

returns as (

    select
        customer_id,
        cast(-sum(quantity) as bigint) as returned_items,
        cast(-sum(line_revenue) as decimal(18, 3)) as returned_revenue
    from kept_lines
    where disposition = 'return'
    group by customer_id

),

features as (

    select
        sales.customer_id,
        sales.first_purchase_date,
        sales.last_purchase_date,
        sales.gross_revenue,
        cast(coalesce(returns.returned_revenue, 0) as decimal(18, 3))
            as returned_revenue,
        cast(
            sales.gross_revenue - coalesce(returns.returned_revenue, 0)
            as decimal(18, 3)
        ) as net_revenue,
        {{ dbt.datediff('sales.last_purchase_date', as_of_date, 'day') }} - 1
            as recency_days,
        sales.invoices,
        sales.purchase_lines,
        sales.items,
        sales.distinct_products,
        cast(sales.gross_revenue as double precision) / sales.invoices
            as avg_ticket,
        case
            when sales.invoices > 1
                then cast({{ dbt.datediff(
                    'sales.first_purchase_date', 'sales.last_purchase_date', 'day'
                ) }} as double precision) / (sales.invoices - 1)
        end as avg_days_between_purchases,
        cast(sales.invoices as double precision) / (
            {{ dbt.datediff(
                'sales.first_purchase_date', 'sales.last_purchase_date', 'day'
            ) }} + 1
        ) as purchase_frequency,
        coalesce(returns.returned_items, 0) as returned_items,
        cast(sales.items as double precision) / sales.invoices as avg_basket_size,
        basket_sizes.avg_unique_basket_size

    from sales
    left join returns on sales.customer_id = returns.customer_id
    left join basket_sizes on sales.customer_id = basket_sizes.customer_id

),

-- Quintile scores: tied customers share a score (cumulative distribution).
scored as (

    select
        features.*,
        cast(ceil(5 * cume_dist() over (order by recency_days desc)) as integer)
            as recency_score,
        cast(ceil(5 * cume_dist() over (order by invoices)) as integer)
            as frequency_score,
        cast(ceil(5 * cume_dist() over (order by gross_revenue)) as integer)
            as monetary_score

    from features

),

segmented as (

    select
        scored.*,
        scored.recency_score + scored.frequency_score + scored.monetary_score
            as rfm_score,
        rfm_segments.segment as rfm_segment,
        row_number() over (
            partition by scored.customer_id order by rfm_segments.priority
        ) as segment_rank

    from scored
    inner join rfm_segments
        on
            scored.recency_score between rfm_segments.recency_min
            and rfm_segments.recency_max
            and scored.frequency_score between rfm_segments.frequency_min
            and rfm_segments.frequency_max
            and scored.monetary_score between rfm_segments.monetary_min
            and rfm_segments.monetary_max

)

select
    customer_id,
    {{ as_of_date }} as as_of_date,
    first_purchase_date,
    last_purchase_date,
    gross_revenue,
    returned_revenue,
    net_revenue,
    recency_days,
    invoices,
    purchase_lines,
    items,
    distinct_products,
    avg_ticket,
    avg_days_between_purchases,
    purchase_frequency,
    returned_items,
    avg_basket_size,
    avg_unique_basket_size,
    recency_score,
    frequency_score,
    monetary_score,
    rfm_score,
    rfm_segment
from segmented
where segment_rank = 1

{% endmacro %}
