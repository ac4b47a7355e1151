{#
  The days an invoice line can plausibly carry, as two SQL date expressions:
  from var min_invoice_date (default 2000-01-01: earlier dates are typos or
  spreadsheet zero dates such as 1899-12-30 or 1900-01-01) to var
  max_invoice_date (default: the day of the run, since no invoice is dated in
  the future). Lines outside are rejected with reason date_out_of_range.
#}
{% macro invoice_date_range() %}
    {% set earliest = ledger_rule('min_invoice_date') %}
    {% set latest = ledger_rule('max_invoice_date') %}
    {{ return([
        sql_date('min_invoice_date', earliest),
        sql_date('max_invoice_date', latest) if latest else "current_date",
    ]) }}
{% endmacro %}
