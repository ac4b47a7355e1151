{#
  The customer base at each date of int_membership_refresh_dates (the
  monthly refreshes, the as-of date and the validation cutoff): one row per
  customer with a sale before the date (exclusive), with the features of the
  ledger's sale and return lines before it, RFM quintile scores and the RFM
  segment. int_customers_featurized, int_customers_featurized_at_cutoff and
  int_customers_at_refreshes select their dates from it: one set of formulas.

  Each date reads running totals of small rows per customer and day rather
  than the lines.
  Distinct counts do not add up over days, so an invoice, a product, and a
  product within an invoice each count on the day the customer first bought
  it: summed over the days before a date, they give the distinct counts of
  the lines before it.
#}
with ledger_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

-- The sums per customer and day (sales and returns).
daily_lines as (

    select * from {{ ref('int_customer_days') }}

),

as_of_dates as (

    select refresh_date as as_of_date
    from {{ ref('int_membership_refresh_dates') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

-- The sale lines, only the columns of the distinct counts: the lines are
-- read once, as they stream into the group-by below.
sale_lines as (

    select
        customer_id,
        invoice_no,
        stock_code,
        invoice_date
    from ledger_lines
    where
        disposition = 'sale'
        and customer_id is not null

),

invoice_products as (

    select
        customer_id,
        invoice_no,
        stock_code,
        min(invoice_date) as first_bought_on
    from sale_lines
    group by customer_id, invoice_no, stock_code

),

first_invoice_products as (

    select
        customer_id,
        first_bought_on,
        count(*) as invoice_products
    from invoice_products
    group by customer_id, first_bought_on

),

invoice_first_days as (

    select
        customer_id,
        invoice_no,
        min(first_bought_on) as first_bought_on
    from invoice_products
    group by customer_id, invoice_no

),

first_invoices as (

    select
        customer_id,
        first_bought_on,
        count(*) as invoices
    from invoice_first_days
    group by customer_id, first_bought_on

),

product_first_days as (

    select
        customer_id,
        stock_code,
        min(first_bought_on) as first_bought_on
    from invoice_products
    group by customer_id, stock_code

),

first_products as (

    select
        customer_id,
        first_bought_on,
        count(*) as products
    from product_first_days
    group by customer_id, first_bought_on

),

-- A first purchase is a sale line, so its day is a day of daily_lines.
customer_days as (

    select
        daily_lines.customer_id,
        daily_lines.invoice_date,
        daily_lines.gross_revenue,
        daily_lines.returned_revenue,
        daily_lines.purchase_lines,
        daily_lines.items,
        daily_lines.returned_items,
        coalesce(first_invoices.invoices, 0) as new_invoices,
        coalesce(first_products.products, 0) as new_products,
        coalesce(first_invoice_products.invoice_products, 0)
            as new_invoice_products
    from daily_lines
    left join first_invoices
        on
            daily_lines.customer_id = first_invoices.customer_id
            and daily_lines.invoice_date = first_invoices.first_bought_on
    left join first_products
        on
            daily_lines.customer_id = first_products.customer_id
            and daily_lines.invoice_date = first_products.first_bought_on
    left join first_invoice_products
        on
            daily_lines.customer_id = first_invoice_products.customer_id
            and daily_lines.invoice_date
            = first_invoice_products.first_bought_on

),

-- Running totals up to each day, and the next day with lines: a date's
-- totals are those of the customer's last day before it. Joining each day to
-- every later date and summing there grows with days x dates.
running_totals as (

    select
        customer_id,
        invoice_date,
        coalesce(
            lead(invoice_date) over (
                partition by customer_id order by invoice_date
            ),
            cast('9999-12-31' as date)
        ) as next_invoice_date,
        min(
            case when purchase_lines > 0 then invoice_date end
        ) over running as first_purchase_date,
        max(
            case when purchase_lines > 0 then invoice_date end
        ) over running as last_purchase_date,
        sum(gross_revenue) over running as gross_revenue,
        sum(returned_revenue) over running as returned_revenue,
        sum(new_invoices) over running as invoices,
        sum(purchase_lines) over running as purchase_lines,
        sum(items) over running as items,
        sum(new_products) over running as distinct_products,
        sum(new_invoice_products) over running as invoice_products,
        sum(returned_items) over running as returned_items
    from customer_days
    window running as (
        partition by customer_id
        order by invoice_date
        rows between unbounded preceding and current row
    )

),

totals as (

    select
        running_totals.customer_id,
        as_of_dates.as_of_date,
        running_totals.first_purchase_date,
        running_totals.last_purchase_date,
        cast(running_totals.gross_revenue as decimal(18, 3)) as gross_revenue,
        cast(running_totals.returned_revenue as decimal(18, 3))
            as returned_revenue,
        cast(running_totals.invoices as bigint) as invoices,
        cast(running_totals.purchase_lines as bigint) as purchase_lines,
        cast(running_totals.items as bigint) as items,
        cast(running_totals.distinct_products as bigint) as distinct_products,
        cast(running_totals.invoice_products as bigint) as invoice_products,
        cast(running_totals.returned_items as bigint) as returned_items
    from running_totals
    inner join as_of_dates
        on
            running_totals.invoice_date < as_of_dates.as_of_date
            and running_totals.next_invoice_date >= as_of_dates.as_of_date
    where running_totals.purchase_lines > 0

),

features as (

    select
        customer_id,
        as_of_date,
        first_purchase_date,
        last_purchase_date,
        gross_revenue,
        returned_revenue,
        cast(gross_revenue - returned_revenue as decimal(18, 3))
            as net_revenue,
        -- bigint on every engine (Spark's datediff gives an int).
        cast({{ dbt.datediff(
            'last_purchase_date', 'as_of_date', 'day'
        ) }} - 1 as bigint) as recency_days,
        invoices,
        purchase_lines,
        items,
        distinct_products,
        {{ dbt.cast('gross_revenue', 'double precision') }} / invoices
            as avg_ticket,
        case
            when invoices > 1
                then {{ dbt.cast(dbt.datediff(
                    'first_purchase_date', 'last_purchase_date', 'day'
                ), 'double precision') }} / (invoices - 1)
        end as avg_days_between_purchases,
        {{ dbt.cast('invoices', 'double precision') }} / (
            {{ dbt.datediff(
                'first_purchase_date', 'last_purchase_date', 'day'
            ) }} + 1
        ) as purchase_frequency,
        returned_items,
        {{ dbt.cast('items', 'double precision') }} / invoices
            as avg_basket_size,
        -- The mean over invoices of the distinct products of each.
        {{ dbt.cast('invoice_products', 'double precision') }} / invoices
            as avg_unique_basket_size
    from totals

),

-- Quintile scores among the customers of the same date: tied customers
-- share a score (cumulative distribution).
scored as (

    select
        features.*,
        cast(ceil(5 * cume_dist() over (
            partition by features.as_of_date
            order by features.recency_days desc
        )) as integer) as recency_score,
        cast(ceil(5 * cume_dist() over (
            partition by features.as_of_date order by features.invoices
        )) as integer) as frequency_score,
        cast(ceil(5 * cume_dist() over (
            partition by features.as_of_date order by features.gross_revenue
        )) as integer) as monetary_score

    from features

),

segmented as (

    select
        scored.*,
        scored.recency_score + scored.frequency_score + scored.monetary_score
            as rfm_score,
        rfm_segments.segment as rfm_segment,
        row_number() over (
            partition by scored.customer_id, scored.as_of_date
            order by rfm_segments.priority
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

),

final as (

    select
        customer_id,
        as_of_date,
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

)

select * from final
