{#
  Question 3: the mean of each feature per customer, Insiders against the
  other identified customers, in the order the report shows them.
#}
{% set features = [
    'gross_revenue', 'net_revenue', 'recency_days', 'invoices', 'items',
    'distinct_products', 'avg_ticket', 'avg_basket_size', 'purchase_frequency',
    'returned_items'
] %}

with customers as (

    select * from {{ ref('customers') }}

),

means as (

    {% for feature in features %}
        select
            '{{ feature }}' as feature,
            {{ loop.index }} as feature_order,
            avg(
                case
                    when is_insider
                        then cast({{ feature }} as double precision)
                end
            ) as insiders_mean,
            avg(
                case
                    when not is_insider
                        then cast({{ feature }} as double precision)
                end
            ) as others_mean
        from customers
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        feature,
        feature_order,
        insiders_mean,
        others_mean,
        insiders_mean / nullif(others_mean, 0) as insiders_to_others
    from means

)

select * from final
