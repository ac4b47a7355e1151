{#
  The dates a run analyses at, each defined once. Model int_analysis_dates
  holds them for every model; the checks that run before that model exists
  (check_dates_inside_data on the raw lines, the ledger's customer gate)
  call the same macros.
#}

{#
  The first and last valid invoice days of `relation` (the raw lines or the
  ledger), as a one-row query: days inside invoice_date_range, the range
  whose other lines the ledger rejects as date_out_of_range.
#}
{% macro valid_invoice_days(relation) %}
    {% set earliest, latest = invoice_date_range() %}
    {{ return(
        "select cast(min(invoice_date) as date) as first_valid_invoice_date,"
        ~ " cast(max(invoice_date) as date) as last_valid_invoice_date"
        ~ " from " ~ relation
        ~ " where invoice_date >= " ~ earliest
        ~ " and invoice_date < " ~ dbt.dateadd('day', 1, latest)
    ) }}
{% endmacro %}


{#
  The date the customer base is computed at (exclusive): var as_of_date, or
  the day after the last valid invoice day.
#}
{% macro as_of_date_from(last_valid_invoice_date) %}
    {% if var('as_of_date') %}
        {{ return(sql_date('as_of_date', var('as_of_date'))) }}
    {% endif %}
    {{ return("cast(" ~ dbt.dateadd('day', 1, last_valid_invoice_date) ~ " as date)") }}
{% endmacro %}


{#
  The date the out-of-time validation rebuilds the customer base at: var
  validation_cutoff, or the last valid invoice day minus var
  validation_months (2011-09-09 on the real file), so that shifted data sets
  work too.
#}
{% macro validation_cutoff_from(last_valid_invoice_date) %}
    {% if var('validation_cutoff') %}
        {{ return(sql_date('validation_cutoff', var('validation_cutoff'))) }}
    {% endif %}
    {{ return("cast(" ~ dbt.dateadd(
        'month', -var('validation_months'), last_valid_invoice_date
    ) ~ " as date)") }}
{% endmacro %}
