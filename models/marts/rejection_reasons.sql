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
        sum(revenue) as revenue
    from rejected_invoice_lines
    group by rejection_reason

)

select * from final
