{#
  Custom schemas are used as named (staging, intermediate, marts, seeds),
  except the marts on prod: they are built in the PostgreSQL schema
  <published_schema>_build, which the publish swaps in.
#}
{% macro generate_schema_name(custom_schema_name, node) %}
    {% if custom_schema_name == 'marts' and target.name == 'prod' %}
        {{ return(published_schema() ~ '_build') }}
    {% endif %}
    {{ return((custom_schema_name or target.schema) | trim) }}
{% endmacro %}
