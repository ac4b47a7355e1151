{#
  `dbt run-operation replicate_raw --target prod`: loads the raw file and
  copies the raw tables to the attached PostgreSQL, where the `postgres`
  target (dbt-postgres, which cannot read files) builds the SQL layer.
#}
{% macro replicate_raw() %}
    {% do load_online_retail() %}
    {% do run_query("create schema if not exists warehouse.raw") %}
    {% for table in ['invoice_lines', 'invoice_line_loads'] %}
        {% do run_query(
            "create or replace table warehouse.raw." ~ table
            ~ " as select * from raw." ~ table
        ) %}
    {% endfor %}
    {{ log("Copied the raw tables to the warehouse's schema raw.", info=true) }}
{% endmacro %}
