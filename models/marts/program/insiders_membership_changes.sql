{#
  Who joined and who left the Insiders, at each run that saw a change: the
  membership snapshot's versions of each customer, compared with the
  version before.
#}
with versions as (

    select * from {{ ref('insiders_membership_snapshot') }}

),

compared as (

    select
        customer_id,
        cluster_id,
        is_insider,
        as_of_date,
        dbt_valid_from as changed_at,
        lag(cluster_id) over (
            partition by customer_id order by dbt_valid_from
        ) as previous_cluster_id,
        lag(is_insider) over (
            partition by customer_id order by dbt_valid_from
        ) as was_insider
    from versions

),

final as (

    select
        customer_id,
        case when is_insider then 'joined' else 'left' end as membership_change,
        as_of_date,
        changed_at,
        cluster_id,
        previous_cluster_id
    from compared
    where is_insider != coalesce(was_insider, false)

)

select * from final
