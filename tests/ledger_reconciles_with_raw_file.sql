{#
  Every raw line ends in exactly one disposition: lines and revenue of the
  ledger add up to the raw file, as loaded and as counted by the loader.
#}
with raw_lines as (

    select
        count(*) as lines,
        cast(sum(quantity * unit_price) as decimal(18, 3)) as revenue
    from {{ source('online_retail', 'invoice_lines') }}

),

last_load as (

    select lines
    from {{ source('online_retail', 'invoice_line_loads') }}
    order by loaded_at desc
    limit 1

),

ledger as (

    select
        sum(lines) as lines,
        cast(sum(revenue) as decimal(18, 3)) as revenue,
        min(raw_lines) as raw_lines,
        max(raw_revenue) as raw_revenue
    from {{ ref('ledger_reconciliation') }}

),

fact_lines as (

    select count(*) as lines from {{ ref('invoice_lines') }}

)

select
    raw_lines.lines as raw_lines,
    last_load.lines as loaded_lines,
    ledger.lines as ledger_lines,
    fact_lines.lines as fact_lines,
    raw_lines.revenue as raw_revenue,
    ledger.revenue as ledger_revenue
from raw_lines
cross join last_load
cross join ledger
cross join fact_lines
where
    ledger.lines != raw_lines.lines
    or fact_lines.lines != raw_lines.lines
    or last_load.lines != raw_lines.lines
    or ledger.raw_lines != raw_lines.lines
    or ledger.revenue != raw_lines.revenue
    or ledger.raw_revenue != raw_lines.revenue
