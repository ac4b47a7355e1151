with invoice_lines as (

    select * from {{ ref('invoice_lines') }}

),

final as (

    select
        line_number,
        rejection_reason,
        invoice_no,
        stock_code,
        description,
        quantity,
        invoiced_at,
        unit_price,
        customer_id,
        country,
        revenue
    from invoice_lines
    where disposition = 'rejected'

)

select * from final
