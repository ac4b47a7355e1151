{#
  What each identified customer bought and returned each day: the small
  table that the customer features at each date (their sums), the
  membership's revenue windows and figures at each refresh read
  instead of the invoice lines.
#}
with ledger_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

final as (

    select
        customer_id,
        invoice_date,
        cast(sum(
            case when disposition = 'sale' then line_revenue else 0 end
        ) as decimal(18, 3)) as gross_revenue,
        cast(-sum(
            case when disposition = 'return' then line_revenue else 0 end
        ) as decimal(18, 3)) as returned_revenue,
        cast(sum(line_revenue) as decimal(18, 3)) as net_revenue,
        count(distinct case when disposition = 'sale' then invoice_no end)
            as invoices,
        sum(case when disposition = 'sale' then 1 else 0 end) as purchase_lines,
        cast(sum(
            case when disposition = 'sale' then quantity else 0 end
        ) as bigint) as items,
        cast(-sum(
            case when disposition = 'return' then quantity else 0 end
        ) as bigint) as returned_items
    from ledger_lines
    where
        disposition in ('sale', 'return')
        and customer_id is not null
    group by customer_id, invoice_date

)

select * from final
