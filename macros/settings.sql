{#
  The one place where values from the environment and from vars become SQL.
  Names are checked against a strict pattern and folded to lower case (as
  PostgreSQL folds unquoted names, so that the build and the publish agree);
  strings are escaped; dates must be calendar dates; numbers must be in range.
  A bad value stops the run before anything is loaded, built or published,
  with an error that names the setting and the value.
#}

{% macro setting_error(name, value, expected) %}
    {{ exceptions.raise_compiler_error(
        "Setting " ~ name ~ " = " ~ ("'" ~ value ~ "'" if value is string else value)
        ~ " is not valid: " ~ expected
        ~ ". Nothing was built or published."
    ) }}
{% endmacro %}


{# A PostgreSQL/DuckDB name (schema, role), lower-cased. #}
{% macro sql_name(name, value) %}
    {% if value is not string
        or not modules.re.match('^[A-Za-z_][A-Za-z0-9_]{0,62}$', value) %}
        {% do setting_error(name, value,
            "a name must start with a letter or _ and hold only letters, digits"
            ~ " and _ (at most 63)") %}
    {% endif %}
    {{ return(value | lower) }}
{% endmacro %}


{# A string literal, its quotes doubled; control characters are refused. #}
{% macro sql_string(name, value) %}
    {% if value is not string or modules.re.search('[\\x00-\\x1f]', value) %}
        {% do setting_error(name, value, "expected text without control characters") %}
    {% endif %}
    {{ return("'" ~ value | replace("'", "''") ~ "'") }}
{% endmacro %}


{# A date given as YYYY-MM-DD, as an SQL date expression. #}
{% macro sql_date(name, value) %}
    {% set text = value | string %}
    {% set valid = modules.re.match('^(\\d{4})-(\\d{2})-(\\d{2})$', text) %}
    {% if valid %}
        {% set year, month, day = valid.groups() | map('int') %}
        {# Built from the first of the month, so that 2011-02-30 cannot raise. #}
        {% set valid = year >= 1 and month in range(1, 13) and day in range(1, 32)
            and (modules.datetime.date(year, month, 1)
                 + modules.datetime.timedelta(days=day - 1)).isoformat() == text %}
    {% endif %}
    {% if not valid %}
        {% do setting_error(name, value, "expected a date as YYYY-MM-DD") %}
    {% endif %}
    {{ return("cast('" ~ text ~ "' as date)") }}
{% endmacro %}


{# A number within [minimum, maximum] (or above minimum when exclusive). #}
{% macro checked_number(name, value, minimum, maximum=none, whole=false, exclusive=false) %}
    {% set is_number = value is number and value is not sameas true
        and value is not sameas false %}
    {% set ok = is_number and (value > minimum if exclusive else value >= minimum)
        and (maximum is none or value <= maximum)
        and (not whole or value == (value | int)) %}
    {% if not ok %}
        {% do setting_error(name, value,
            "expected " ~ ("a whole number" if whole else "a number")
            ~ (" above " if exclusive else " of at least ") ~ minimum
            ~ (" and at most " ~ maximum if maximum is not none else "")) %}
    {% endif %}
    {{ return(value) }}
{% endmacro %}


{% macro positive_var(name) %}
    {{ return(checked_number(name, var(name), 1, whole=true)) }}
{% endmacro %}


{# The clustering sample: var clustering_sample_size, else the profile's. #}
{% macro clustering_sample_size() %}
    {% set size = var('clustering_sample_size') %}
    {% if size is none %}
        {% set size = var('clustering_sample_sizes')[var('profile')] %}
    {% endif %}
    {{ return(checked_number('clustering_sample_size', size, 1, whole=true)) }}
{% endmacro %}


{% macro checked_choice(name, value, choices) %}
    {% if value not in choices %}
        {% do setting_error(name, value, "expected one of " ~ (choices | join(', '))) %}
    {% endif %}
    {{ return(value) }}
{% endmacro %}


{# --- The settings -------------------------------------------------------- #}

{# The PostgreSQL schema Metabase reads (target prod); the build goes to <it>_build. #}
{% macro published_schema() %}
    {{ return(sql_name('INSIDERS_PG_SCHEMA', env_var('INSIDERS_PG_SCHEMA', 'insiders'))) }}
{% endmacro %}

{% macro metabase_login() %}
    {{ return(sql_name('INSIDERS_METABASE_USER', env_var('INSIDERS_METABASE_USER', 'metabase'))) }}
{% endmacro %}

{% macro reader_role() %}
    {{ return(sql_name('reader_role', var('reader_role'))) }}
{% endmacro %}

{# The Insiders CSV, and the file it is written to before a good build promotes it. #}
{% macro insiders_csv_path() %}
    {% set path = var('insiders_csv_path') %}
    {% do sql_string('INSIDERS_CSV_PATH', path) %}
    {% if "'" in path or not path.endswith('.csv') %}
        {% do setting_error('INSIDERS_CSV_PATH', path,
            "expected a path ending in .csv, without quotes") %}
    {% endif %}
    {{ return(path) }}
{% endmacro %}

{% macro insiders_csv_build_path() %}
    {{ return(insiders_csv_path() ~ '.build') }}
{% endmacro %}


{#
  on-run-start: every var is checked before the raw file is read; the dates
  against the data once it is loaded (check_dates_inside_data). The loader's
  own settings (raw_path, raw_encoding, ...) are checked by the loader,
  insiders/loader.py, before it reads anything.
#}
{% macro check_vars() %}
    {% if not execute %}
        {{ return('') }}
    {% endif %}
    {% do checked_choice('profile', var('profile'), var('ledger_rules').keys() | list) %}
    {% for share in ['max_rejected_share', 'insiders_max_customer_share'] %}
        {% do checked_number(share, var(share), 0, 1, exclusive=true) %}
    {% endfor %}
    {% do clustering_sample_size() %}
    {% for count in ['min_customers', 'validation_months',
                     'validation_bootstrap_resamples', 'insiders_rules_depth',
                     'publish_lock_timeout_seconds', 'publish_tries',
                     'reader_statement_timeout_seconds',
                     'reader_idle_in_transaction_timeout_seconds'] %}
        {% do positive_var(count) %}
    {% endfor %}
    {% do checked_number('random_state', var('random_state'), 0, whole=true) %}
    {% for state in var('validation_random_states') %}
        {% do checked_number('validation_random_states', state, 0, whole=true) %}
    {% endfor %}
    {% set counts = var('cluster_counts') %}
    {% do checked_number('cluster_counts.min', counts.min, 2, whole=true) %}
    {% do checked_number('cluster_counts.max', counts.max, counts.min, whole=true) %}
    {% for quantile in var('dbscan').eps_quantiles %}
        {% do checked_number('dbscan.eps_quantiles', quantile, 0, 1, exclusive=true) %}
    {% endfor %}
    {% for samples in var('dbscan').min_samples %}
        {% do checked_number('dbscan.min_samples', samples, 1, whole=true) %}
    {% endfor %}
    {% set membership = var('membership') %}
    {% do checked_number('membership.max_member_share', membership.max_member_share, 0, 1, exclusive=true) %}
    {% do checked_number('membership.exit.lapse_multiple', membership.exit.lapse_multiple, 0, exclusive=true) %}
    {% do checked_number('membership.exit.min_lapse_days', membership.exit.min_lapse_days, 1, whole=true) %}
    {% do checked_number('membership.exit.value_quantile', membership.exit.value_quantile, 0, 1) %}
    {% do checked_number('insiders_max_return_share', var('insiders_max_return_share'), 0, 1) %}
    {% for rule in var('ledger_rules')[var('profile')] %}
        {% do ledger_rule(rule) %}
    {% endfor %}
    {% for date in ['as_of_date', 'validation_cutoff'] if var(date) %}
        {% do sql_date(date, var(date)) %}
    {% endfor %}
    {% do reader_role() %}
    {% do insiders_csv_path() %}
    {% if target.name == 'prod' %}
        {% do published_schema() %}
        {% do metabase_login() %}
    {% endif %}
    {{ return('') }}
{% endmacro %}


{#
  After the load: as_of_date and validation_cutoff must fall inside the data
  (after its first invoice day, at most the day after its last), or the
  customer base would be empty or would pretend to know the future.
#}
{% macro check_dates_inside_data() %}
    {% if not execute or not (var('as_of_date') or var('validation_cutoff')) %}
        {{ return('') }}
    {% endif %}
    {% set bounds = run_query(
        valid_invoice_days(source('online_retail', 'invoice_lines'))
    ).rows[0] %}
    {% for name in ['as_of_date', 'validation_cutoff'] if var(name) %}
        {% set value = modules.datetime.date.fromisoformat(var(name) | string) %}
        {% if bounds[0] is none or value <= bounds[0] %}
            {% do setting_error(name, var(name),
                "it is not after the first invoice day of the data ("
                ~ bounds[0] ~ "): no customer would have bought before it") %}
        {% elif value > bounds[1] + modules.datetime.timedelta(days=1) %}
            {% do setting_error(name, var(name),
                "it is in the future of the data: the last invoice day is "
                ~ bounds[1] ~ ", so the latest " ~ name ~ " is "
                ~ (bounds[1] + modules.datetime.timedelta(days=1))) %}
        {% endif %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}
