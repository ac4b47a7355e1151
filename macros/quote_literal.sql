{# A value as an SQL string literal, its quotes doubled. #}
{% macro quote_literal(value) %}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{% endmacro %}
