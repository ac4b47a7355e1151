{#
  on-run-end: what users read changes only when the whole run passed.
  - Target prod: the marts were built and tested in PostgreSQL schema
    <published_schema>_build; insiders.publish.publish_marts swaps it in as
    <published_schema> and grants Metabase's read-only role. A run that did
    not build every mart publishes nothing.
  - The Insiders CSV, written aside by the model insiders_csv, replaces the
    one marketing reads (after the publish, so that it never lists Insiders
    the marts did not publish).
  Both run in Python (functions of the dbt-duckdb plugin): no password is
  part of any statement here.
#}
{% macro publish_marts(results) %}
    {% if not execute or target.type != 'duckdb' %}
        {{ return('') }}
    {% endif %}
    {% set kept = "nothing that users read was changed ("
        ~ ("PostgreSQL schema " ~ published_schema() ~ ", " if target.name == 'prod' else "")
        ~ insiders_csv_path() ~ ")." %}
    {% set failures = results | selectattr('status', 'in', ['error', 'fail', 'skipped']) | list %}
    {% if failures %}
        {{ log("Not publishing: " ~ failures | length ~ " model(s) or test(s) failed; " ~ kept, info=true) }}
        {{ return('') }}
    {% endif %}
    {% set built = results | selectattr('status', 'equalto', 'success')
        | map(attribute='node.unique_id') | list %}
    {% if target.name == 'prod' %}
        {% set served = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
            | selectattr('database', 'equalto', 'warehouse') | map(attribute='unique_id') | list %}
        {% set missing = served | reject('in', built) | list %}
        {% if missing %}
            {{ log("Not publishing: this run did not build every mart (" ~ missing | length
                ~ " of " ~ served | length ~ " not built); " ~ kept, info=true) }}
            {{ return('') }}
        {% endif %}
        {{ log(run_query(
            "select insiders_publish_marts("
            ~ sql_string('INSIDERS_PG_SCHEMA', published_schema()) ~ ", "
            ~ sql_string('reader_role', reader_role()) ~ ", "
            ~ sql_string('INSIDERS_METABASE_USER', metabase_login()) ~ ", "
            ~ positive_var('publish_lock_timeout_seconds') ~ ", "
            ~ positive_var('publish_tries') ~ ", "
            ~ positive_var('reader_statement_timeout_seconds') ~ ", "
            ~ positive_var('reader_idle_in_transaction_timeout_seconds') ~ ")"
        ).rows[0][0], info=true) }}
    {% endif %}
    {% if 'model.insiders.insiders_csv' in built %}
        {{ log(run_query(
            "select insiders_promote_file("
            ~ sql_string('INSIDERS_CSV_PATH', insiders_csv_build_path()) ~ ", "
            ~ sql_string('INSIDERS_CSV_PATH', insiders_csv_path()) ~ ")"
        ).rows[0][0], info=true) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
