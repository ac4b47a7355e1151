-- Every cluster: size, revenue and the means that name it.
select
    cluster_id,
    cluster_name,
    customers,
    share_of_customers,
    share_of_revenue,
    avg_gross_revenue,
    avg_recency_days,
    avg_invoices,
    avg_ticket
from {{ ref('cluster_profiles') }}
order by cluster_id
