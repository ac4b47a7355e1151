-- Question 3: the mean of each feature, Insiders against the other customers.
select
    feature,
    insiders_mean,
    others_mean,
    insiders_to_others
from {{ ref('insiders_feature_comparison') }}
order by feature_order
