{#
  Spark spells two of the project's types differently: Spark 4 refuses a bare
  varchar (its text type is string) and has no double precision (double).
  dbt's cross-database cast (dbt.cast), which the models use for these types
  and the model contracts use to check declared column types, maps them on
  Spark; every other adapter gets the type as written.
#}
{% macro spark_type(type) %}
    {% set spark_types = {'varchar': 'string', 'double precision': 'double'} %}
    {{ return(spark_types.get(type | trim | lower, type)) }}
{% endmacro %}

{% macro spark__cast(field, type) %}
    cast({{ field }} as {{ spark_type(type) }})
{% endmacro %}
