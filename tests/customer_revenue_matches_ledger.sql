{# customers' revenue adds up to the identified customers' ledger lines. #}
with customers as (

    select
        cast(sum(gross_revenue) as decimal(18, 3)) as gross_revenue,
        cast(sum(returned_revenue) as decimal(18, 3)) as returned_revenue
    from {{ ref('customers') }}

),

ledger as (

    select
        cast(
            sum(
                case
                    when
                        invoice_lines.disposition = 'sale'
                        then invoice_lines.revenue
                end
            )
            as decimal(18, 3)
        ) as gross_revenue,
        cast(
            -sum(
                case
                    when invoice_lines.disposition = 'return'
                        then invoice_lines.revenue
                end
            )
            as decimal(18, 3)
        ) as returned_revenue
    from {{ ref('invoice_lines') }} as invoice_lines
    where
        invoice_lines.invoice_date < (
            select analysis_dates.as_of_date
            from {{ ref('int_analysis_dates') }} as analysis_dates
        )
        and invoice_lines.customer_id in (
            select customers.customer_id
            from {{ ref('customers') }} as customers
        )

)

select
    customers.gross_revenue,
    customers.returned_revenue,
    ledger.gross_revenue as ledger_gross_revenue,
    ledger.returned_revenue as ledger_returned_revenue
from customers
cross join ledger
where
    customers.gross_revenue != ledger.gross_revenue
    or customers.returned_revenue != coalesce(ledger.returned_revenue, 0)
