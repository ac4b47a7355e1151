{#
  The run's dates, one row, defined once for every model: the last valid
  invoice day of the ledger, the as-of date and the validation cutoff
  (macros/analysis_dates.sql, which apply and check the vars as_of_date,
  validation_cutoff and validation_months).
#}
with valid_invoice_days as (

    {{ valid_invoice_days(ref('int_invoice_lines_classified')) }}

),

final as (

    select
        last_valid_invoice_date,
        {{ as_of_date_from('last_valid_invoice_date') }} as as_of_date,
        {{ validation_cutoff_from('last_valid_invoice_date') }}
            as validation_cutoff
    from valid_invoice_days

)

select * from final
