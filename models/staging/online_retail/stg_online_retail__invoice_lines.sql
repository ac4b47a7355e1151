with source as (

    select * from {{ source('online_retail', 'invoice_lines') }}

),

renamed as (

    select
        line_number,
        invoice_no,
        stock_code,
        description,
        quantity,
        invoice_date as invoiced_at,
        cast(invoice_date as date) as invoice_date,
        unit_price,
        customer_id,
        country,
        cast(quantity * unit_price as decimal(18, 3)) as line_revenue,
        invoice_no like 'C%' as is_cancellation,
        customer_id is null as is_guest

    from source

)

select * from renamed
