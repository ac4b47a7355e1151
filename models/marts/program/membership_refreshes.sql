{#
  The Insiders program at every refresh of the replay: members, joiners,
  leavers, re-joiners, retention, the members' share of the next three
  months' revenue, and question 5's naive forecast made at the refresh
  (the next 3 months repeat the last 3 complete months; 95 % interval from
  the spread of the last 6) beside what came, where the data has it.
#}
{% set exit_rules = var('membership')['exit'] %}

with membership as (

    select * from {{ ref('membership_replay') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

customers_at_refreshes as (

    select * from {{ ref('int_customers_at_refreshes') }}

),

refresh_dates as (

    select refresh_date from {{ ref('int_membership_refresh_dates') }}
    where is_monthly_refresh or is_current

),

analysis_dates as (

    select * from {{ ref('int_analysis_dates') }}

),

data_bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(invoice_date)') }} as date)
            as first_month
    from customer_days

),

customers as (

    select
        refresh_date,
        count(*) as customers
    from customers_at_refreshes
    group by refresh_date

),

counts as (

    select
        refresh_date,
        cast(sum(case when is_member then 1 else 0 end) as bigint) as members,
        cast(sum(
            case when membership_change = 'joined' then 1 else 0 end
        ) as bigint) as joiners,
        cast(sum(
            case when membership_change = 'stayed' then 1 else 0 end
        ) as bigint) as stayers,
        cast(sum(
            case when membership_change = 'left' then 1 else 0 end
        ) as bigint) as leavers,
        cast(sum(case when is_rejoin then 1 else 0 end) as bigint) as rejoiners,
        cast(sum(
            case when membership_change = 'waiting' then 1 else 0 end
        ) as bigint) as waiting
    from membership
    group by refresh_date

),

members as (

    select
        refresh_date,
        customer_id
    from membership
    where is_member

),

members_next_revenue as (

    select
        members.refresh_date,
        sum(customer_days.net_revenue) as revenue
    from members
    inner join customer_days
        on
            members.customer_id = customer_days.customer_id
            and members.refresh_date <= customer_days.invoice_date
            and customer_days.invoice_date
            < {{ dbt.dateadd('month', 3, 'members.refresh_date') }}
    group by members.refresh_date

),

customers_next_revenue as (

    select
        refresh_dates.refresh_date,
        sum(customer_days.net_revenue) as revenue
    from refresh_dates
    inner join customer_days
        on
            refresh_dates.refresh_date <= customer_days.invoice_date
            and customer_days.invoice_date
            < {{ dbt.dateadd('month', 3, 'refresh_dates.refresh_date') }}
    group by refresh_dates.refresh_date

),

months_back as (

    {{ dbt.generate_series(6) }}

),

-- The 6 complete months before each refresh that lie inside the data.
forecast_months as (

    select
        refresh_dates.refresh_date,
        months_back.generated_number as months_back,
        cast({{ dbt.dateadd(
            'month',
            '-months_back.generated_number',
            dbt.date_trunc('month', 'refresh_dates.refresh_date')
        ) }} as date) as month_start
    from refresh_dates
    cross join months_back

),

member_month_revenue as (

    select
        forecast_months.refresh_date,
        forecast_months.months_back,
        coalesce(sum(customer_days.net_revenue), 0) as revenue
    from forecast_months
    cross join data_bounds
    left join members
        on forecast_months.refresh_date = members.refresh_date
    left join customer_days
        on
            members.customer_id = customer_days.customer_id
            and forecast_months.month_start <= customer_days.invoice_date
            and customer_days.invoice_date
            < {{ dbt.dateadd('month', 1, 'forecast_months.month_start') }}
    where forecast_months.month_start >= data_bounds.first_month
    group by forecast_months.refresh_date, forecast_months.months_back

),

forecasts as (

    select
        refresh_date,
        count(*) as complete_months,
        sum(case when months_back <= 3 then revenue end) as point_forecast,
        stddev_samp(cast(revenue as double precision)) as monthly_sd
    from member_month_revenue
    group by refresh_date

),

final as (

    select
        refresh_dates.refresh_date,
        customers.customers,
        counts.members,
        cast(counts.members as double precision) / customers.customers
            as member_share,
        counts.joiners,
        counts.leavers,
        counts.rejoiners,
        counts.waiting,
        cast(counts.stayers as double precision)
        / nullif(lag(counts.members) over (
            order by refresh_dates.refresh_date
        ), 0) as retention,
        {{ dbt.dateadd('month', 3, 'refresh_dates.refresh_date') }}
        <= {{ dbt.dateadd(
            'day', 1, 'analysis_dates.last_valid_invoice_date'
        ) }}
            as next_3_months_in_data,
        cast(
            coalesce(members_next_revenue.revenue, 0) as decimal(18, 3)
        ) as members_revenue_next_3_months,
        cast(
            coalesce(customers_next_revenue.revenue, 0) as decimal(18, 3)
        ) as customers_revenue_next_3_months,
        cast(coalesce(members_next_revenue.revenue, 0) as double precision)
        / nullif(customers_next_revenue.revenue, 0)
            as members_share_next_3_months,
        case
            when forecasts.complete_months >= 3
                then cast(forecasts.point_forecast as double precision)
        end as forecast_next_3_months,
        case
            when forecasts.complete_months >= 3
                then
                    cast(forecasts.point_forecast as double precision)
                    - 1.96 * forecasts.monthly_sd * sqrt(3)
        end as forecast_low,
        case
            when forecasts.complete_months >= 3
                then
                    cast(forecasts.point_forecast as double precision)
                    + 1.96 * forecasts.monthly_sd * sqrt(3)
        end as forecast_high
    from refresh_dates
    cross join analysis_dates
    inner join customers on refresh_dates.refresh_date = customers.refresh_date
    inner join counts on refresh_dates.refresh_date = counts.refresh_date
    left join members_next_revenue
        on refresh_dates.refresh_date = members_next_revenue.refresh_date
    left join customers_next_revenue
        on refresh_dates.refresh_date = customers_next_revenue.refresh_date
    left join forecasts
        on refresh_dates.refresh_date = forecasts.refresh_date

)

select
    refresh_date,
    customers,
    members,
    member_share,
    joiners,
    leavers,
    rejoiners,
    waiting,
    retention,
    next_3_months_in_data,
    members_revenue_next_3_months,
    customers_revenue_next_3_months,
    case
        when next_3_months_in_data then members_share_next_3_months
    end as members_share_next_3_months,
    forecast_next_3_months,
    forecast_low,
    forecast_high,
    case
        when next_3_months_in_data and forecast_next_3_months is not null
            then
                (
                    forecast_next_3_months
                    - cast(members_revenue_next_3_months as double precision)
                )
                / nullif(
                    cast(members_revenue_next_3_months as double precision), 0
                )
    end as forecast_error,
    case
        when next_3_months_in_data and forecast_next_3_months is not null
            then
                members_revenue_next_3_months
                between forecast_low and forecast_high
    end as forecast_interval_held,
    -- The rules in force, so that the dashboard and the report can state them.
    cast(
    {{ checked_number(
        'membership.max_member_share', var('membership')['max_member_share'], 0
    ) }}
        as double precision
    ) as max_member_share,
    cast(
    {{ checked_number(
        'insiders_max_return_share', var('insiders_max_return_share'), 0
    ) }}
        as double precision
    ) as max_return_share,
    cast(
    {{ checked_number(
        'membership.exit.lapse_multiple', exit_rules['lapse_multiple'], 0
    ) }}
        as double precision
    ) as exit_lapse_multiple,
    {{ checked_number(
        'membership.exit.min_lapse_days', exit_rules['min_lapse_days'], 0
    ) }} as exit_min_lapse_days,
    cast(
    {{ checked_number(
        'membership.exit.value_quantile', exit_rules['value_quantile'], 0
    ) }}
        as double precision
    ) as exit_value_quantile
from final
