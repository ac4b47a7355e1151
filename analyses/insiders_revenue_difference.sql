-- Question 8: how much more an Insider spends than another customer, its 95 %
-- bootstrap interval and the permutation test's p-value.
select
    as_of_date,
    insiders_mean_gross_revenue,
    others_mean_gross_revenue,
    difference,
    difference_low,
    difference_high,
    permutation_p_value,
    resamples
from {{ ref('insiders_revenue_difference') }}
