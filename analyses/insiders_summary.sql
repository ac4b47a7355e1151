-- The headline numbers of this run: Insiders, their shares, the entry rules
-- taken together and the model in use.
select
    as_of_date,
    customers,
    insiders,
    insiders_share_of_customers,
    insiders_share_of_gross_revenue,
    insiders_share_of_all_revenue,
    entry_rules,
    entry_rules_precision,
    entry_rules_recall,
    model_algorithm,
    model_space,
    model_clusters,
    model_silhouette
from {{ ref('insiders_summary') }}
