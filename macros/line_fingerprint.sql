{#
  A hash of the columns, to find lines that may be equal without comparing
  every column of every line: equal lines always share it; a rare collision
  only adds a candidate, which the exact comparison then clears.
#}
{% macro line_fingerprint(columns) %}
    {{ return(adapter.dispatch('line_fingerprint')(columns)) }}
{% endmacro %}

{% macro duckdb__line_fingerprint(columns) %}
    hash({{ columns | join(', ') }})
{% endmacro %}

{% macro default__line_fingerprint(columns) %}
    md5(concat_ws('|', {{ columns | join(', ') }}))
{% endmacro %}
