{#
  The dates the program is (re)computed at: the 15th of every month of the
  data before the as-of date (the monthly refresh), the as-of date itself
  (this run) and the out-of-time validation cutoff (both from
  int_analysis_dates). int_customers_featurized_at_dates computes the
  customer base at each.
#}
with customer_days as (

    select * from {{ ref('int_customer_days') }}

),

analysis_dates as (

    select * from {{ ref('int_analysis_dates') }}

),

first_days as (

    select min(invoice_date) as first_day
    from customer_days

),

bounds as (

    select
        first_days.first_day,
        analysis_dates.as_of_date,
        analysis_dates.validation_cutoff as cutoff_date
    from first_days
    cross join analysis_dates

),

monthly as (

    select distinct
        cast({{ dbt.dateadd(
            'day', 14, dbt.date_trunc('month', 'invoice_date')
        ) }} as date) as refresh_date
    from customer_days

),

refresh_dates as (

    select monthly.refresh_date
    from monthly
    cross join bounds
    where
        monthly.refresh_date > bounds.first_day
        and monthly.refresh_date < bounds.as_of_date
    union
    select as_of_date from bounds
    union
    select cutoff_date from bounds

),

final as (

    select
        refresh_dates.refresh_date,
        refresh_dates.refresh_date = bounds.as_of_date as is_current,
        refresh_dates.refresh_date = bounds.cutoff_date
            as is_validation_cutoff,
        (
            refresh_dates.refresh_date in (
                select monthly.refresh_date from monthly
            )
            and refresh_dates.refresh_date < bounds.as_of_date
        ) as is_monthly_refresh
    from refresh_dates
    cross join bounds

)

select * from final
