-- What share of the customers' revenue the Insiders bring.
with customers as (

    select
        gross_revenue,
        case when is_insider then gross_revenue else 0 end as insiders_revenue
    from {{ ref('customers') }}

)

select
    sum(insiders_revenue) as insiders_revenue,
    sum(gross_revenue) as customers_revenue,
    cast(sum(insiders_revenue) as double precision)
    / sum(gross_revenue) as share_of_revenue
from customers
