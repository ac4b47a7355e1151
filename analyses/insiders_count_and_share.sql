-- How many Insiders, and what share of the customers they are.
select
    count(*) filter (where is_insider) as insiders,
    count(*) as customers,
    cast(count(*) filter (where is_insider) as double precision)
    / count(*) as share_of_customers
from {{ ref('customers') }}
