-- Question 8's bootstrap distribution, for a histogram of the difference of
-- mean gross revenue (Insiders - others) over the resamples.
select
    resample_id,
    difference
from {{ ref('insiders_revenue_difference_bootstrap') }}
order by resample_id
