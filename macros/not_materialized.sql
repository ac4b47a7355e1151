{#
  The hint that inlines a common table expression in each query that reads
  it. DuckDB materializes a CTE read more than once; for the invoice lines
  that copies every column of every line (a third of the ledger's time at
  100 times the data) where each reader needs a few columns.
#}
{% macro not_materialized() %}
    {{ return(adapter.dispatch('not_materialized')()) }}
{% endmacro %}

{% macro default__not_materialized() %}
{% endmacro %}

{% macro duckdb__not_materialized() %}
    not materialized
{% endmacro %}

{% macro postgres__not_materialized() %}
    not materialized
{% endmacro %}
