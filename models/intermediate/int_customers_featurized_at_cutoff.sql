{# The customer base at the validation cutoff (int_analysis_dates). #}
with customers_at_dates as (

    select * from {{ ref('int_customers_featurized_at_dates') }}

),

analysis_dates as (

    select * from {{ ref('int_analysis_dates') }}

),

final as (

    select customers_at_dates.*
    from customers_at_dates
    inner join analysis_dates
        on customers_at_dates.as_of_date = analysis_dates.validation_cutoff

)

select * from final
