with customers as (

    select * from {{ ref('int_customers_featurized') }}

),

clusters as (

    select * from {{ ref('customer_clusters') }}

),

cluster_profiles as (

    select * from {{ ref('cluster_profiles') }}

),

membership as (

    select * from {{ ref('membership_replay') }}

),

-- The program's state at this run: the last refresh of the replay.
current_membership as (

    select
        customer_id,
        is_member,
        membership_change,
        reason
    from membership
    where
        refresh_date = (
            select max(replay.refresh_date) from membership as replay
        )

),

-- The day the current membership began: the last time the customer joined.
member_since as (

    select
        customer_id,
        max(refresh_date) as member_since
    from membership
    where membership_change = 'joined'
    group by customer_id

),

final as (

    select
        customers.*,
        clusters.cluster_id,
        cluster_profiles.cluster_name,
        clusters.is_insider as qualifies_as_insider,
        coalesce(current_membership.is_member, false) as is_insider,
        case
            when current_membership.is_member then member_since.member_since
        end as member_since,
        current_membership.membership_change,
        current_membership.reason as membership_reason
    from customers
    inner join clusters on customers.customer_id = clusters.customer_id
    inner join cluster_profiles
        on clusters.cluster_id = cluster_profiles.cluster_id
    left join current_membership
        on customers.customer_id = current_membership.customer_id
    left join member_since
        on customers.customer_id = member_since.customer_id

)

select * from final
