{# One row per disposition, with the raw file's totals beside for the check. #}
with invoice_lines as (

    select * from {{ ref('invoice_lines') }}

),

raw_lines as (

    select * from {{ ref('stg_online_retail__invoice_lines') }}

),

raw_totals as (

    select
        count(*) as raw_lines,
        cast(sum(line_revenue) as decimal(18, 3)) as raw_revenue
    from raw_lines

),

all_dispositions as (

    select 'sale' as disposition
    union all
    select 'return' as disposition
    union all
    select 'rejected' as disposition

),

dispositions as (

    select
        disposition,
        count(*) as lines,
        cast(sum(revenue) as decimal(18, 3)) as revenue,
        count(distinct customer_id) as customers
    from invoice_lines
    group by disposition

),

final as (

    select
        all_dispositions.disposition,
        coalesce(dispositions.lines, 0) as lines,
        coalesce(dispositions.revenue, 0) as revenue,
        coalesce(dispositions.customers, 0) as customers,
        {{ dbt.cast('coalesce(dispositions.lines, 0)', 'double precision') }}
        / raw_totals.raw_lines as share_of_lines,
        raw_totals.raw_lines,
        raw_totals.raw_revenue
    from all_dispositions
    cross join raw_totals
    left join dispositions
        on all_dispositions.disposition = dispositions.disposition

)

select * from final
