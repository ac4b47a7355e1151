{#
  Production (target prod): the marts are built and tested in the
  PostgreSQL schema `insiders_build`; when the whole run succeeded, one
  PostgreSQL transaction swaps it in as `insiders` (env INSIDERS_PG_SCHEMA)
  and grants the read-only role. Metabase never sees a half-built schema, and a
  failed model or test leaves the last good marts in place.
#}
{% macro publish_marts(results) %}
    {% if not execute or target.name != 'prod' %}
        {{ return('') }}
    {% endif %}
    {% set failures = results | selectattr('status', 'in', ['error', 'fail', 'skipped']) | list %}
    {% if failures %}
        {{ log("Not publishing: " ~ failures | length ~ " model(s) or test(s) failed; "
            ~ env_var('INSIDERS_PG_SCHEMA', 'insiders') ~ " keeps its last good state.", info=true) }}
        {{ return('') }}
    {% endif %}
    {% set live, reader = env_var('INSIDERS_PG_SCHEMA', 'insiders'), var('reader_role') %}
    {% set build = live ~ '_build' %}
    {% set statements = [
        ensure_reader_role(),
        "drop schema if exists " ~ live ~ "_previous cascade",
        "alter schema " ~ live ~ " rename to " ~ live ~ "_previous",
        "alter schema " ~ build ~ " rename to " ~ live,
        "drop schema " ~ live ~ "_previous cascade",
        "revoke all on schema " ~ live ~ " from public",
        "grant usage on schema " ~ live ~ " to " ~ reader,
        "grant select on all tables in schema " ~ live ~ " to " ~ reader,
    ] %}
    {% do run_query(
        "create schema if not exists warehouse." ~ live
    ) %}
    {% do run_query(
        "call postgres_execute('warehouse', " ~ quote_literal(statements | join(';\n')) ~ ")"
    ) %}
    {{ log("Published the marts to PostgreSQL schema " ~ live ~ ".", info=true) }}
    {{ return('') }}
{% endmacro %}


{# The NOLOGIN group role Metabase's login belongs to, and that login. #}
{% macro ensure_reader_role() %}
    {% set reader = var('reader_role') %}
    {% set login = env_var('INSIDERS_METABASE_USER', 'metabase') %}
    {% set password = env_var('INSIDERS_METABASE_PASSWORD', '') %}
    {% set sql %}
do $$
begin
    if not exists (select from pg_roles where rolname = '{{ reader }}') then
        create role {{ reader }} nologin;
    end if;
    {% if password %}
    if not exists (select from pg_roles where rolname = '{{ login }}') then
        create role {{ login }} login in role {{ reader }};
    end if;
    alter role {{ login }} with login password {{ quote_literal(password) }};
    {% endif %}
end
$$
    {% endset %}
    {{ return(sql) }}
{% endmacro %}
