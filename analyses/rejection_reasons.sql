-- Rejected lines per rejection reason, largest first.
select
    rejection_reason,
    lines,
    revenue
from {{ ref('rejection_reasons') }}
order by lines desc, rejection_reason asc
