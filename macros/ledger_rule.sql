{#
  The value of one cleaning rule: a var of the rule's own name if given,
  else the rule of the active profile (vars ledger_rules and profile).
#}
{% macro ledger_rule(name) %}
    {% set profiles = var('ledger_rules') %}
    {% if var('profile') not in profiles %}
        {{ exceptions.raise_compiler_error(
            "Unknown profile '" ~ var('profile') ~ "': use one of "
            ~ (profiles.keys() | join(', ')) ~ "."
        ) }}
    {% endif %}
    {{ return(var(name, profiles[var('profile')][name])) }}
{% endmacro %}


{# `column in (values)` that stays valid SQL when the list is empty. #}
{% macro in_list(column, values) %}
    {% if values | length == 0 %}
        {{ return('false') }}
    {% endif %}
    {% set literals = [] %}
    {% for value in values %}
        {% do literals.append(
            dbt.string_literal(value) if value is string else value | string
        ) %}
    {% endfor %}
    {{ return(column ~ ' in (' ~ (literals | join(', ')) ~ ')') }}
{% endmacro %}
