{#
  What each identified customer spent (sales less returns) in the
  var('validation_months') months from the validation cutoff on.
#}
with ledger_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

horizon as (

    select
        {{ validation_cutoff() }} as cutoff_date,
        cast(
            {{ dbt.dateadd(
                'month', var('validation_months'), validation_cutoff()
            ) }} as date
        ) as horizon_end_date

),

revenue as (

    select
        ledger_lines.customer_id,
        cast(sum(ledger_lines.line_revenue) as decimal(18, 3))
            as revenue_after_cutoff
    from ledger_lines
    cross join horizon
    where
        ledger_lines.disposition in ('sale', 'return')
        and ledger_lines.customer_id is not null
        and ledger_lines.invoice_date >= horizon.cutoff_date
        and ledger_lines.invoice_date < horizon.horizon_end_date
    group by ledger_lines.customer_id

),

final as (

    select
        revenue.customer_id,
        revenue.revenue_after_cutoff,
        horizon.cutoff_date,
        horizon.horizon_end_date
    from revenue
    cross join horizon

)

select * from final
