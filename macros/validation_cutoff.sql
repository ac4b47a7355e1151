{#
  The date the out-of-time validation rebuilds the customer base at: var
  validation_cutoff, or the last invoice day minus var validation_months
  (2011-09-09 on the real file), so that shifted data sets work too.
#}
{% macro validation_cutoff() %}
    {% if var('validation_cutoff') %}
        {{ return(sql_date('validation_cutoff', var('validation_cutoff'))) }}
    {% endif %}
    {{ return(
        "(select cast(" ~ dbt.dateadd('month', -var('validation_months'), 'max(invoice_date)')
        ~ " as date) from " ~ ref('int_invoice_lines_classified')
        ~ " where rejection_reason is distinct from 'date_out_of_range')"
    ) }}
{% endmacro %}
