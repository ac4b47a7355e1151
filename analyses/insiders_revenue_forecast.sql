-- Question 5: the Insiders' revenue of the next 3 months (naive forecast,
-- 95 % interval), and the same method made at the validation cutoff beside
-- what came.
select
    as_of_date,
    first_forecast_month,
    last_forecast_month,
    forecast_next_3_months,
    forecast_low,
    forecast_high,
    cutoff_date,
    forecast_at_cutoff,
    actual_after_cutoff,
    forecast_at_cutoff_error
from {{ ref('insiders_revenue_forecast') }}
