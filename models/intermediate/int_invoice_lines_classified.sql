{#
  The ledger: every raw line gets exactly one disposition (sale, return or
  rejected) and, when rejected, the first cleaning rule that rejects it.
  Rules come from the active profile (macro ledger_rule, var profile).
  The post-hook ledger_quality_gate stops the build, before anything
  downstream is built, when too many lines are rejected or too few customers
  are left for the clustering.
#}
{{ config(post_hook="{{ ledger_quality_gate() }}") }}

{% set synthetic_guest_ids =
    'true' if ledger_rule('guest_lines') == 'synthetic_ids' else 'false' %}

with invoice_lines as {{ not_materialized() }} (

    select * from {{ ref('stg_online_retail__invoice_lines') }}

),

non_product_stock_codes as (

    select stock_code from {{ ref('non_product_stock_codes') }}
    where {{ ledger_rule('non_product_rule') }}

),

-- Seed profile only: each guest invoice becomes a customer from 19000 on.
guest_invoices as (

    select
        invoice_no,
        cast(
            18999 + row_number() over (order by min(line_number)) as integer
        ) as synthetic_customer_id
    from invoice_lines
    where is_guest
    group by invoice_no

),

-- A duplicate repeats an earlier line of the same invoice in every column
-- but the time, which belongs to the invoice and which some formats drop.
-- Numbering every line would sort all of them (it runs out of memory at 100
-- times the data): only lines that share an invoice and a fingerprint (a
-- hash) with another line are numbered, by their exact values.
{% set duplicate_key = [
    'stock_code', 'description', 'quantity', 'unit_price', 'customer_id',
    'country'
] %}

fingerprinted as (

    select
        invoice_no,
        {{ line_fingerprint(duplicate_key) }} as fingerprint
    from invoice_lines

),

shared_fingerprints as (

    select
        invoice_no,
        fingerprint
    from fingerprinted
    group by invoice_no, fingerprint
    having count(*) > 1

),

-- Each line, and whether it shares its invoice and fingerprint with another:
-- a join to the small table of shared pairs, which no estimate can turn
-- into a hash table of all the lines.
flagged as {{ not_materialized() }} (

    select
        invoice_lines.*,
        shared_fingerprints.invoice_no is not null as may_repeat
    from invoice_lines
    left join shared_fingerprints
        on
            invoice_lines.invoice_no = shared_fingerprints.invoice_no
            and {{ line_fingerprint(duplicate_key) }}
            = shared_fingerprints.fingerprint

),

occurrences as (

    select
        *,
        1 as occurrence
    from flagged
    where not may_repeat

    union all

    select
        *,
        row_number() over (
            partition by
                invoice_no,
                stock_code,
                description,
                quantity,
                unit_price,
                customer_id,
                country
            order by line_number
        ) as occurrence
    from flagged
    where may_repeat

),

numbered as (

    select
        occurrences.*,
        non_product_stock_codes.stock_code is not null as is_non_product

    from occurrences
    left join non_product_stock_codes
        on occurrences.stock_code = non_product_stock_codes.stock_code

),

reasoned as (

    select
        numbered.*,
        case
            when
                numbered.invoice_date < {{ invoice_date_range()[0] }}
                or numbered.invoice_date > {{ invoice_date_range()[1] }}
                then 'date_out_of_range'
            when numbered.is_non_product then 'non_product_stock_code'
            when numbered.unit_price < {{ ledger_rule('min_unit_price') }}
                then 'below_price_floor'
            when {{ in_list('country', 'excluded_countries') }}
                then 'excluded_country'
            when {{ in_list('customer_id', 'excluded_customer_ids') }}
                then 'excluded_customer'
            {% if ledger_rule('duplicate_lines') == 'reject' %}
                when numbered.occurrence > 1 then 'duplicate_line'
            {% endif %}
            when numbered.quantity = 0 then 'zero_quantity'
            when numbered.is_cancellation and numbered.quantity > 0
                then 'cancellation_with_positive_quantity'
        end as rejection_reason

    from numbered

),

final as (

    select
        reasoned.line_number,
        reasoned.invoice_no,
        reasoned.stock_code,
        reasoned.description,
        reasoned.quantity,
        reasoned.invoiced_at,
        reasoned.invoice_date,
        reasoned.unit_price,
        case
            when {{ synthetic_guest_ids }}
                then coalesce(
                    reasoned.customer_id, guest_invoices.synthetic_customer_id
                )
            else reasoned.customer_id
        end as customer_id,
        reasoned.is_guest,
        reasoned.country,
        reasoned.line_revenue,
        reasoned.occurrence > 1 as is_duplicate,
        case
            when reasoned.rejection_reason is not null then 'rejected'
            when reasoned.quantity < 0 then 'return'
            else 'sale'
        end as disposition,
        reasoned.rejection_reason

    from reasoned
    left join guest_invoices
        on reasoned.invoice_no = guest_invoices.invoice_no

)

select * from final
