-- Revenue by month: Insiders, other customers, guests.
select
    revenue_month,
    segment,
    revenue,
    share_of_month_revenue
from {{ ref('monthly_revenue') }}
order by revenue_month, segment
