{#
  What each identified customer spent (sales less returns) in the
  var('validation_months') months after the validation cutoff, and in as
  many months before it: the revenue the out-of-time check measures, and
  the naive forecast it is held against.
#}
with ledger_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

analysis_dates as (

    select * from {{ ref('int_analysis_dates') }}

),

windows as (

    select
        cast(
            {{ dbt.dateadd(
                'month', -var('validation_months'), 'validation_cutoff'
            ) }} as date
        ) as window_start_date,
        validation_cutoff as cutoff_date,
        cast(
            {{ dbt.dateadd(
                'month', var('validation_months'), 'validation_cutoff'
            ) }} as date
        ) as horizon_end_date
    from analysis_dates

),

revenue as (

    select
        ledger_lines.customer_id,
        cast(sum(
            case
                when ledger_lines.invoice_date < windows.cutoff_date
                    then ledger_lines.line_revenue
                else 0
            end
        ) as decimal(18, 3)) as revenue_before_cutoff,
        cast(sum(
            case
                when ledger_lines.invoice_date >= windows.cutoff_date
                    then ledger_lines.line_revenue
                else 0
            end
        ) as decimal(18, 3)) as revenue_after_cutoff
    from ledger_lines
    cross join windows
    where
        ledger_lines.disposition in ('sale', 'return')
        and ledger_lines.customer_id is not null
        and ledger_lines.invoice_date >= windows.window_start_date
        and ledger_lines.invoice_date < windows.horizon_end_date
    group by ledger_lines.customer_id

),

final as (

    select
        revenue.customer_id,
        revenue.revenue_before_cutoff,
        revenue.revenue_after_cutoff,
        windows.cutoff_date,
        windows.horizon_end_date
    from revenue
    cross join windows

)

select * from final
