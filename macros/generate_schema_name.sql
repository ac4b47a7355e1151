{# Custom schemas are used as named (staging, intermediate, marts, seeds). #}
{% macro generate_schema_name(custom_schema_name, node) %}
    {{ return((custom_schema_name or target.schema) | trim) }}
{% endmacro %}
