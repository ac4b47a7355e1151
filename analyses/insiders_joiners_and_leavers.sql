-- Who joined and who left the Insiders at the latest run that changed anything.
with changes as (

    select * from {{ ref('insiders_membership_changes') }}

),

latest_run as (

    select max(changed_at) as changed_at from changes

)

select
    changes.customer_id,
    changes.membership_change,
    changes.as_of_date,
    changes.cluster_id,
    changes.previous_cluster_id
from changes
inner join latest_run on changes.changed_at = latest_run.changed_at
order by changes.membership_change, changes.customer_id
