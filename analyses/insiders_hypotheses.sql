-- Three hypotheses about the customers: the figures and the verdict.
select
    hypothesis_id,
    hypothesis,
    measure,
    insiders_value,
    others_value,
    insiders_to_others,
    is_true
from {{ ref('insiders_hypotheses') }}
order by hypothesis_id
