{#
  The rejected lines per rejection reason: how many, and their revenue.
#}
with rejected_invoice_lines as (

    select * from {{ ref('rejected_invoice_lines') }}

),

final as (

    select
        rejection_reason,
        count(*) as lines,
        -- DuckDB sums decimal(18, 3) to decimal(38, 3), Spark to (28, 3).
        cast(sum(revenue) as decimal(38, 3)) as revenue
    from rejected_invoice_lines
    group by rejection_reason

)

select * from final
