{#
  Three hypotheses about the customers, each with the figures that test it
  and its verdict on this run's data.
#}
with customers as (

    select * from {{ ref('customers') }}

),

measures as (

    select
        cast(
            sum(case when is_insider then returned_items else 0 end)
            as double precision
        )
        / nullif(sum(case when is_insider then items else 0 end), 0)
            as insiders_return_share,
        cast(
            sum(case when not is_insider then returned_items else 0 end)
            as double precision
        )
        / nullif(sum(case when not is_insider then items else 0 end), 0)
            as others_return_share,
        avg(
            case when is_insider then cast(avg_ticket as double precision) end
        ) as insiders_mean_ticket,
        avg(
            case
                when not is_insider then cast(avg_ticket as double precision)
            end
        ) as others_mean_ticket,
        avg(
            case
                when is_insider
                    then case when recency_days < 30 then 1.0 else 0.0 end
            end
        ) as insiders_recent_share
    from customers

),

hypotheses as (

    select
        1 as hypothesis_id,
        'Insiders return a larger share of what they buy '
        || 'than the other customers.' as hypothesis,
        'items returned / items bought' as measure,
        insiders_return_share as insiders_value,
        others_return_share as others_value,
        insiders_return_share > others_return_share as is_true
    from measures
    union all
    select
        2 as hypothesis_id,
        'Insiders'' average ticket is at least twice the other customers''.'
            as hypothesis,
        'mean average ticket (pounds)' as measure,
        insiders_mean_ticket as insiders_value,
        others_mean_ticket as others_value,
        insiders_mean_ticket / others_mean_ticket >= 2 as is_true
    from measures
    union all
    select
        3 as hypothesis_id,
        'More than half of the Insiders bought in the last 30 days.'
            as hypothesis,
        'share with a purchase in the last 30 days (recency under 30 days)'
            as measure,
        insiders_recent_share as insiders_value,
        null as others_value,
        insiders_recent_share > 0.5 as is_true
    from measures

),

final as (

    select
        hypothesis_id,
        hypothesis,
        measure,
        insiders_value,
        cast(others_value as double precision) as others_value,
        insiders_value / nullif(others_value, 0) as insiders_to_others,
        is_true
    from hypotheses

)

select * from final
