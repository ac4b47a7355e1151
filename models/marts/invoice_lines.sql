with ledger_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

final as (

    select
        line_number,
        invoice_no,
        stock_code,
        description,
        quantity,
        invoiced_at,
        invoice_date,
        unit_price,
        customer_id,
        is_guest,
        country,
        disposition,
        rejection_reason,
        line_revenue as revenue
    from ledger_lines

)

select * from final
