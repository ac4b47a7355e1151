{#
  The value of one cleaning rule, checked: a var of the rule's own name if
  given, else the rule of the active profile (vars ledger_rules and profile).
#}
{% macro ledger_rule(name) %}
    {% set profiles = var('ledger_rules') %}
    {% do checked_choice('profile', var('profile'), profiles.keys() | list) %}
    {% set value = var(name, profiles[var('profile')][name]) %}
    {% if name == 'min_unit_price' %}
        {% do checked_number(name, value, 0) %}
    {% elif name == 'duplicate_lines' %}
        {% do checked_choice(name, value, ['reject', 'keep']) %}
    {% elif name == 'guest_lines' %}
        {% do checked_choice(name, value, ['guest', 'synthetic_ids']) %}
    {% elif name == 'non_product_rule' %}
        {# A column of seeds/non_product_stock_codes.csv. #}
        {% do checked_choice(name, value, ['removed_by_default', 'removed_by_seed']) %}
    {% elif name in ['min_invoice_date', 'max_invoice_date'] and value %}
        {% do sql_date(name, value) %}
    {% elif name == 'excluded_customer_ids' %}
        {% for customer_id in value %}
            {% do checked_number(name, customer_id, 0, whole=true) %}
        {% endfor %}
    {% elif name == 'excluded_countries' %}
        {% for country in value %}
            {% do sql_string(name, country) %}
        {% endfor %}
    {% endif %}
    {{ return(value) }}
{% endmacro %}


{# `column in (the rule's values)`, valid SQL when the list is empty. #}
{% macro in_list(column, rule) %}
    {% set values = ledger_rule(rule) %}
    {% if values | length == 0 %}
        {{ return('false') }}
    {% endif %}
    {% set literals = [] %}
    {% for value in values %}
        {% do literals.append(
            sql_string(rule, value) if value is string else value | string
        ) %}
    {% endfor %}
    {{ return(column ~ ' in (' ~ (literals | join(', ')) ~ ')') }}
{% endmacro %}
