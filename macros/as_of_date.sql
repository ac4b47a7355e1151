{#
  The date the customer base is computed at (exclusive): var as_of_date, or
  the day after the last invoice of the ledger (lines rejected for a date out
  of range do not count).
#}
{% macro as_of_date() %}
    {% if var('as_of_date') %}
        {{ return(sql_date('as_of_date', var('as_of_date'))) }}
    {% endif %}
    {{ return(
        "(select cast(" ~ dbt.dateadd('day', 1, 'max(invoice_date)') ~ " as date)"
        ~ " from " ~ ref('int_invoice_lines_classified')
        ~ " where rejection_reason is distinct from 'date_out_of_range')"
    ) }}
{% endmacro %}
