{#
  Extract-and-load step, run as on-run-start: the raw Online Retail file into
  the source table raw.invoice_lines, by insiders/loader.py (formats, checks,
  errors naming file, line and column). dbt-duckdb's adapter.store_relation
  hands the settings to the project's plugin (insiders/duckdb_plugin.py),
  which runs the loader in dbt's own process; the loader checks them.
#}

{% macro load_online_retail() %}
    {{ return(adapter.dispatch('load_online_retail')()) }}
{% endmacro %}

{% macro default__load_online_retail() %}
    {# Other targets read the raw table that a DuckDB load wrote. #}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__load_online_retail() %}
    {% if execute %}
        {% do adapter.store_relation(
            'duckdb_plugin', source('online_retail', 'invoice_lines'), [],
            env_var('INSIDERS_RAW_PATH', ''), 'online_retail_raw_file', {
                'raw_path': var('raw_path', none),
                'raw_encoding': var('raw_encoding', 'auto'),
                'raw_date_format': var('raw_date_format', 'auto'),
                'load_raw': var('load_raw', true),
                'raw_reload': var('raw_reload', false),
            }) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}
