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
-- times the data): only lines that share an invoice and a fingerprint with
-- another line are numbered, exactly.
{% set duplicate_key = [
    'stock_code', 'description', 'quantity', 'unit_price', 'customer_id',
    'country'
] %}

fingerprinted as (

    select
        line_number,
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

occurrences as (

    select
        invoice_lines.line_number,
        row_number() over (
            partition by
                invoice_lines.invoice_no,
                invoice_lines.stock_code,
                invoice_lines.description,
                invoice_lines.quantity,
                invoice_lines.unit_price,
                invoice_lines.customer_id,
                invoice_lines.country
            order by invoice_lines.line_number
        ) as occurrence
    from invoice_lines
    inner join fingerprinted
        on invoice_lines.line_number = fingerprinted.line_number
    inner join shared_fingerprints
        on
            fingerprinted.invoice_no = shared_fingerprints.invoice_no
            and fingerprinted.fingerprint = shared_fingerprints.fingerprint

),

numbered as (

    select
        invoice_lines.*,
        non_product_stock_codes.stock_code is not null as is_non_product,
        coalesce(occurrences.occurrence, 1) as occurrence

    from invoice_lines
    left join occurrences
        on invoice_lines.line_number = occurrences.line_number
    left join non_product_stock_codes
        on invoice_lines.stock_code = non_product_stock_codes.stock_code

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
