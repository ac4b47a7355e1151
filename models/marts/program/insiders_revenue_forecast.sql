{#
  Question 5 at this run, one row: the Insiders' revenue of the next three
  months by the naive method (they repeat the last 3 complete months; 95 %
  interval: forecast +- 1.96 x sd x sqrt(3), sd of the monthly revenue over
  the last 6 complete months, the 3 months taken as independent), and the
  same method made at the validation cutoff beside what came.
#}
with customers as (

    select * from {{ ref('customers') }}

),

monthly_revenue as (

    select * from {{ ref('monthly_revenue') }}

),

insiders_validation as (

    select * from {{ ref('insiders_validation') }}

),

as_of as (

    select max(as_of_date) as as_of_date from customers

),

-- Every month of the data, 0 where no Insider bought.
months as (

    select
        revenue_month,
        sum(
            case
                when segment = 'Insiders'
                    then cast(revenue as double precision)
                else 0
            end
        ) as revenue
    from monthly_revenue
    group by revenue_month

),

-- Complete months: the month ended before the as-of date.
complete_months as (

    select
        months.revenue_month,
        months.revenue,
        row_number() over (order by months.revenue_month desc) as months_back
    from months
    cross join as_of
    where
        {{ dbt.dateadd('month', 1, 'months.revenue_month') }}
        <= as_of.as_of_date

),

forecast as (

    select
        min(case when months_back <= 3 then revenue_month end)
            as first_forecast_month,
        max(case when months_back <= 3 then revenue_month end)
            as last_forecast_month,
        min(case when months_back <= 6 then revenue_month end)
            as first_window_month,
        max(case when months_back <= 6 then revenue_month end)
            as last_window_month,
        sum(case when months_back <= 3 then revenue end)
            as forecast_next_3_months,
        stddev_samp(case when months_back <= 6 then revenue end) as monthly_sd
    from complete_months

),

out_of_time as (

    select
        cast(min(cutoff_date) as date) as cutoff_date,
        cast(max(horizon_end_date) as date) as horizon_end_date,
        max(
            case when metric = 'insiders.revenue_before_cutoff' then value end
        ) as forecast_at_cutoff,
        max(
            case when metric = 'insiders.revenue_after_cutoff' then value end
        ) as actual_after_cutoff
    from insiders_validation

),

final as (

    select
        as_of.as_of_date,
        forecast.first_forecast_month,
        forecast.last_forecast_month,
        forecast.first_window_month,
        forecast.last_window_month,
        forecast.forecast_next_3_months,
        forecast.monthly_sd,
        forecast.forecast_next_3_months
        - 1.96 * forecast.monthly_sd * sqrt(3) as forecast_low,
        forecast.forecast_next_3_months
        + 1.96 * forecast.monthly_sd * sqrt(3) as forecast_high,
        out_of_time.cutoff_date,
        out_of_time.horizon_end_date,
        out_of_time.forecast_at_cutoff,
        out_of_time.actual_after_cutoff,
        (out_of_time.forecast_at_cutoff - out_of_time.actual_after_cutoff)
        / nullif(out_of_time.actual_after_cutoff, 0) as forecast_at_cutoff_error
    from as_of
    cross join forecast
    cross join out_of_time

)

select * from final
