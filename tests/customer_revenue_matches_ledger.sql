{# dim_customers' revenue adds up to the identified customers' ledger lines. #}
with customers as (

    select
        cast(sum(gross_revenue) as decimal(18, 3)) as gross_revenue,
        cast(sum(returned_revenue) as decimal(18, 3)) as returned_revenue
    from {{ ref('dim_customers') }}

),

ledger as (

    select
        cast(sum(case when disposition = 'sale' then revenue end)
            as decimal(18, 3)) as gross_revenue,
        cast(-sum(case when disposition = 'return' then revenue end)
            as decimal(18, 3)) as returned_revenue
    from {{ ref('fct_invoice_lines') }}
    where
        customer_id in (select customer_id from {{ ref('dim_customers') }})
        and invoice_date < {{ as_of_date() }}

)

select *
from customers
cross join ledger
where
    customers.gross_revenue != ledger.gross_revenue
    or customers.returned_revenue != coalesce(ledger.returned_revenue, 0)
